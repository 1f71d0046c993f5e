/**
 * The unit everything in this module passes around: one JPEG image with the
 * multipart part headers it came with.
 *
 * @module
 */

/** One JPEG frame of an MJPEG stream. */
export interface Frame {
  /** The JPEG bytes, from SOI (FF D8) to EOI (FF D9) for well-formed input. */
  data: Uint8Array;
  /** The part headers the frame arrived with (empty for raw JPEG streams). */
  headers: Headers;
  /** The frame's number in its stream, starting at 0; skipped frames leave a gap. */
  sequence: number;
  /** Milliseconds since the Unix epoch when the frame's first byte arrived. */
  timestamp: number;
}

/**
 * Returns true when `value` looks like a {@linkcode Frame} rather than bare bytes.
 *
 * @param value A frame or a byte array.
 * @returns Whether `value` is a frame.
 */
export function isFrame(value: Uint8Array | Frame): value is Frame {
  return !(value instanceof Uint8Array) && value.data instanceof Uint8Array;
}
