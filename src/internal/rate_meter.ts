/**
 * Events per second over a sliding two-second window, the one rate meter of
 * the module: a hub's publish rate, each viewer's hand-over rate, a client's
 * frame rate. Counts go into 100 ms buckets, so a tick costs a few arithmetic
 * operations even at tens of thousands of events a second, and memory is
 * fixed (20 counters).
 *
 * @module
 */

const WINDOW_MS = 2000;
const BUCKETS = 20;
const BUCKET_MS = WINDOW_MS / BUCKETS;
// A floor on the measured span, so one event just after the first is not "1000 per second".
const MIN_SPAN_MS = 500;

/** Counts events and reports their rate over the last two seconds. */
export class RateMeter {
  #counts = new Uint32Array(BUCKETS);
  #bucket = -1;
  #first = -1;

  /**
   * Records one event.
   *
   * @param now The time in milliseconds; any clock, as long as `rate` gets the same one.
   */
  tick(now: number = performance.now()): void {
    const bucket = Math.floor(now / BUCKET_MS);
    if (bucket !== this.#bucket) this.#advance(bucket);
    this.#counts[bucket % BUCKETS]!++;
    if (this.#first < 0) this.#first = now;
  }

  /**
   * The events per second over the window ending at `now`: a stream that
   * stalls reads as slowing, then as zero once the window has passed.
   *
   * @param now The same clock as `tick`.
   * @returns Events per second, not rounded.
   */
  rate(now: number = performance.now()): number {
    if (this.#first < 0) return 0;
    const bucket = Math.floor(now / BUCKET_MS);
    if (bucket > this.#bucket) this.#advance(bucket);
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) sum += this.#counts[i]!;
    const windowStart = Math.max((bucket - BUCKETS + 1) * BUCKET_MS, this.#first);
    const span = Math.max(now - windowStart, MIN_SPAN_MS);
    return (sum * 1000) / span;
  }

  #advance(bucket: number): void {
    if (this.#bucket < 0 || bucket - this.#bucket >= BUCKETS) this.#counts.fill(0);
    else for (let b = this.#bucket + 1; b <= bucket; b++) this.#counts[b % BUCKETS] = 0;
    this.#bucket = bucket;
  }
}
