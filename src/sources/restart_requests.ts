/**
 * Restarting a program source on request, at once and with its arguments
 * read afresh: how a camera takes new settings while it streams. The owner of
 * the settings asks; the program loop (`processFrames`) stops the running
 * program and, once it has exited, starts the next run — so there are never
 * two camera processes at once, and requests that arrive together share one
 * restart.
 *
 * @module
 */

/** The link between whoever asks for restarts and the loop that runs the program. */
export class RestartRequests {
  #listeners = new Set<() => Promise<void>>();

  /** Whether a program loop is running (the source is being read). */
  get running(): boolean {
    return this.#listeners.size > 0;
  }

  /**
   * Asks for a restart with the arguments as they are now.
   *
   * @returns Resolves once no program that read the old arguments runs any
   * more; the next run has the new ones (at once, while the source is read).
   */
  async request(): Promise<void> {
    await Promise.all([...this.#listeners].map((listener) => listener()));
  }

  /**
   * The loop's side: `listener` is called for each request, and stops what the
   * loop is doing now (the run, or the wait before the next one).
   *
   * @param listener Resolves once the program that was running has exited.
   * @returns Detaches the listener when the loop ends.
   */
  listen(listener: () => Promise<void>): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
}
