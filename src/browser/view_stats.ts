/**
 * What a `<mjpeg-view>` counts: frames painted and skipped, the frame rate,
 * reconnects, and latency from the `X-Timestamp` part header.
 *
 * @module
 */

/** What a view is doing. */
export type ViewState =
  /** Not started: not in a document, or no `src`. */
  | "idle"
  /** A request is under way, no frame yet on it. */
  | "connecting"
  /** Frames are arriving. */
  | "live"
  /** The connection ended or failed; a reconnect is scheduled. */
  | "reconnecting"
  /** Hidden tab, off screen, or frozen: no request open. */
  | "paused";

/** A view's counters, as `view.stats` returns them (a copy; it does not change). */
export interface MjpegViewStats {
  /** What the view is doing now. */
  state: ViewState;
  /** Frames painted. */
  frames: number;
  /** Frames received but not painted: a newer one came while decoding, or over the fps cap. */
  dropped: number;
  /** Frames that would not decode as images. */
  decodeErrors: number;
  /** JPEG bytes received. */
  bytes: number;
  /** Frames painted per second over the last two seconds, to one decimal. */
  fps: number;
  /**
   * Milliseconds from the server's `X-Timestamp` of the last painted frame to
   * its painting, or null when the server sends none (or one on another clock
   * than the wall clock). It assumes the server's clock and the browser's
   * agree, as NTP keeps them to a few milliseconds; a skew adds to it.
   */
  latency: number | null;
  /** Reconnects after a failure, a stall or the end of the stream (not resuming after a pause). */
  reconnects: number;
  /** Times the stall watchdog fired. */
  stalls: number;
  /** Failures reported in `error` events. */
  errors: number;
  /** The last failure's message, or null. */
  lastError: string | null;
  /** The last frame's size in pixels (0 before the first). */
  width: number;
  /** The last frame's height in pixels (0 before the first). */
  height: number;
  /** ImageBitmaps made and not yet closed (0, or 1 while a frame is being drawn). */
  openBitmaps: number;
}

/** A fresh set of counters. */
export function emptyStats(): MjpegViewStats {
  return {
    state: "idle",
    frames: 0,
    dropped: 0,
    decodeErrors: 0,
    bytes: 0,
    fps: 0,
    latency: null,
    reconnects: 0,
    stalls: 0,
    errors: 0,
    lastError: null,
    width: 0,
    height: 0,
    openBitmaps: 0,
  };
}

// A timestamp further than this from the wall clock is on another clock
// (mjpg-streamer sends the capture's monotonic time): no latency from it.
const MAX_CLOCK_GAP = 24 * 3600 * 1000;

/**
 * The latency of a frame from its `X-Timestamp` (Unix seconds, as our server,
 * mjpg-streamer and µStreamer write it).
 *
 * @param header The header's value, if any.
 * @param now The wall clock in milliseconds.
 * @returns Milliseconds, or null when there is no usable timestamp.
 */
export function latencyFrom(header: string | null, now: number): number | null {
  if (header === null) return null;
  const sent = Number(header) * 1000;
  if (!Number.isFinite(sent) || Math.abs(now - sent) > MAX_CLOCK_GAP) return null;
  return Math.round(now - sent);
}

const WINDOW = 2000;
const SLOTS = 128;

/** Counts events over the last two seconds in a fixed ring, so memory never grows. */
export class RateMeter {
  readonly #times = new Float64Array(SLOTS);
  #next = 0;
  #count = 0;

  /** Records an event now. */
  tick(now: number = performance.now()): void {
    this.#times[this.#next] = now;
    this.#next = (this.#next + 1) % SLOTS;
    if (this.#count < SLOTS) this.#count++;
  }

  /** Events per second over the last two seconds (or since the first, if sooner), one decimal. */
  rate(now: number = performance.now()): number {
    let n = 0;
    let oldest = now;
    for (let i = 1; i <= this.#count; i++) {
      const t = this.#times[(this.#next - i + SLOTS) % SLOTS]!;
      if (now - t > WINDOW) break;
      n++;
      oldest = t;
    }
    if (n < 2) return 0;
    // Over the full window when it is full, else over the span seen so far.
    const span = this.#count === n ? Math.max(now - oldest, 1) : WINDOW;
    return Math.round((n / span) * 10000) / 10;
  }
}
