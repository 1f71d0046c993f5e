/**
 * The incremental MJPEG parser: bytes in, frame events out, no I/O.
 * Placeholder contract; the implementation lands with the decoder.
 *
 * @module
 */

/** Where the parser delivers a frame, piece by piece, as its bytes arrive. */
export interface FrameSink {
  /**
   * A new image part (or raw JPEG) begins.
   *
   * @param headers The part headers (empty for raw JPEG streams).
   * @param expectedLength The Content-Length when the part declared one.
   * @param timestamp Milliseconds since the epoch when the part's first byte arrived.
   * @param sequence The frame's number in the stream (counts skipped frames too).
   */
  frameStart(
    headers: Headers,
    expectedLength: number | undefined,
    timestamp: number,
    sequence: number,
  ): void;
  /** More of the current frame. `bytes` is only valid during the call: copy it. */
  frameData(bytes: Uint8Array): void;
  /** The current frame is complete. */
  frameEnd(): void;
  /** The current frame will not complete: it was too large, cut short or corrupt. */
  frameAbort(reason: FrameAbortReason): void;
}

/** Why a started frame was given up. */
export type FrameAbortReason = "oversized" | "truncated" | "corrupt";
