/**
 * The one abort-aware wait of the module: reconnect and restart backoffs,
 * pacing a source, the CLI's intervals. Aborting cuts it short, so stopping
 * never waits out a 30 s backoff.
 *
 * @module
 */

/**
 * Waits `ms` milliseconds, or less when `signal` aborts first. Resolves in
 * both cases, never rejects, so a stopping loop needs no try/catch; it checks
 * its signal after the wait.
 *
 * @param ms How long to wait; a negative time is no wait.
 * @param signal Cuts the wait short.
 * @returns Resolves when the time is up or the signal aborted.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });
}
