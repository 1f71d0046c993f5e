/**
 * Events per second over roughly the last second, for stats (publish fps,
 * per-viewer fps). O(1) memory and O(1) work per event.
 *
 * @module
 */

const WINDOW_MS = 1000;

/** Counts events in one-second windows and reports the rate of the last full one. */
export class RateMeter {
  #windowStart: number;
  #count = 0;
  #rate = 0;

  /** @param now The current time in milliseconds (monotonic). */
  constructor(now: number = performance.now()) {
    this.#windowStart = now;
  }

  /**
   * Records one event.
   *
   * @param now The current time in milliseconds (monotonic).
   */
  tick(now: number = performance.now()): void {
    this.#roll(now);
    this.#count++;
  }

  /**
   * The events per second.
   *
   * @param now The current time in milliseconds (monotonic).
   * @returns The rate over the last full window (at most two seconds old).
   */
  rate(now: number = performance.now()): number {
    this.#roll(now);
    return Math.round(this.#rate * 10) / 10;
  }

  #roll(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed < WINDOW_MS) return;
    // A long gap with no reads spreads the window's events over the whole gap,
    // so a stalled stream reads as slow, then as zero.
    this.#rate = this.#count * 1000 / elapsed;
    this.#windowStart = now;
    this.#count = 0;
  }
}
