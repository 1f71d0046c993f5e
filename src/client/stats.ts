/**
 * What the client reports about itself: counters, a frame rate over a sliding
 * window, and py-mjpeg's `print_stats` block.
 *
 * @module
 */

/** What the client is doing. */
export type ClientState = "connecting" | "streaming" | "waiting" | "stopped";

/** A snapshot of the client's counters. */
export interface MjpegClientStats {
  /** The stream URL, password redacted. */
  url: string;
  /** `connecting`, `streaming`, `waiting` (to reconnect) or `stopped`. */
  state: ClientState;
  /** Complete frames per second over the last two seconds, not rounded. */
  fps: number;
  /** How often the client ran out of free buffers (entries into that state). */
  overruns: number;
  /** Connection attempts after the first one. */
  reconnects: number;
  /** Complete frames received, delivered or not. */
  frames: number;
  /**
   * Complete frames nobody got: no free buffer, larger than the buffer, or
   * replaced in the `frames()` queue by a newer one.
   */
  discardedFrames: number;
  /** Frames given up mid-way: cut off by a disconnect, oversized, or corrupt. */
  abortedFrames: number;
  /** Buffers enqueued and waiting to be filled (py-mjpeg's "Buffer queue"). */
  queued: number;
  /** Filled buffers waiting for `dequeueBuffer()`. */
  ready: number;
  /** Body bytes received, over all connections. */
  bytes: number;
  /** The last thing that went wrong, saying what was expected and what came. */
  lastError: string | undefined;
}

/**
 * Formats stats the way py-mjpeg's `print_stats()` does, plus state, bytes
 * and the last error.
 *
 * @param stats A stats snapshot.
 * @returns A multi-line block without a trailing newline.
 *
 * @example
 * ```ts ignore
 * console.log(formatStats(client.stats));
 * ```
 */
export function formatStats(stats: MjpegClientStats): string {
  const rows: [string, string | number][] = [
    ["URL", stats.url],
    ["State", stats.state],
    ["FPS", stats.fps.toFixed(2)],
    ["Buffer overruns", stats.overruns],
    ["Reconnects", stats.reconnects],
    ["Total frames", stats.frames],
    ["Discarded frames", stats.discardedFrames],
    ["Aborted frames", stats.abortedFrames],
    ["Buffer queue", stats.queued],
    ["Bytes", stats.bytes],
    ["Last error", stats.lastError ?? "-"],
  ];
  return ["MjpegClient:", ...rows.map(([k, v]) => `  ${k.padEnd(16)}: ${v}`)].join("\n");
}

const WINDOW_MS = 2000;
const BUCKETS = 20;
const BUCKET_MS = WINDOW_MS / BUCKETS;
const MIN_SPAN_MS = 500;

/**
 * Frames per second over a sliding two-second window, in 100 ms buckets, so
 * a tick costs a few arithmetic operations even at tens of thousands of fps.
 */
export class FpsMeter {
  #counts = new Float64Array(BUCKETS);
  #bucket = -1;
  #first = -1;

  /**
   * Counts one frame.
   *
   * @param now A time in milliseconds (the client passes the frame's timestamp).
   */
  tick(now: number): void {
    const bucket = Math.floor(now / BUCKET_MS);
    if (bucket !== this.#bucket) this.#advance(bucket);
    this.#counts[bucket % BUCKETS]!++;
    if (this.#first < 0) this.#first = now;
  }

  /**
   * The frame rate over the window ending at `now`.
   *
   * @param now The same clock as `tick`.
   * @returns Frames per second, not rounded.
   */
  fps(now: number): number {
    if (this.#first < 0) return 0;
    const bucket = Math.floor(now / BUCKET_MS);
    if (bucket > this.#bucket) this.#advance(bucket);
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) sum += this.#counts[i]!;
    const windowStart = Math.max((bucket - BUCKETS + 1) * BUCKET_MS, this.#first);
    // A floor on the span, so one frame just after the first is not "1000 fps".
    const span = Math.max(now - windowStart, MIN_SPAN_MS);
    return (sum * 1000) / span;
  }

  #advance(bucket: number): void {
    if (this.#bucket < 0 || bucket - this.#bucket >= BUCKETS) this.#counts.fill(0);
    else for (let b = this.#bucket + 1; b <= bucket; b++) this.#counts[b % BUCKETS] = 0;
    this.#bucket = bucket;
  }
}
