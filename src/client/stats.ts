/**
 * What the client reports about itself: counters and py-mjpeg's
 * `print_stats` block.
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
  /**
   * Parts an upstream marked `X-Frame-Kind: keepalive` or `offline` (its last
   * frame again, or its offline card, during its camera's outage): they keep
   * the connection alive but are not frames, so they are neither delivered
   * nor counted in `frames` or `fps`.
   */
  keepalives: number;
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
    ["Keepalives", stats.keepalives],
    ["Buffer queue", stats.queued],
    ["Bytes", stats.bytes],
    ["Last error", stats.lastError ?? "-"],
  ];
  return ["MjpegClient:", ...rows.map(([k, v]) => `  ${k.padEnd(16)}: ${v}`)].join("\n");
}
