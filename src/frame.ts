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

/**
 * The part header that marks a part that is not a new camera frame: `keepalive`
 * (the last frame sent again while no new one comes) or `offline` (the
 * offline card). Readers that count camera frames skip such parts, and a
 * relay never publishes them as its own frames.
 */
export const FRAME_KIND_HEADER = "X-Frame-Kind";

/**
 * Whether a part's headers mark it as a keepalive repeat or an offline card.
 *
 * @param headers The part headers.
 * @returns True for `X-Frame-Kind: keepalive` or `offline`.
 */
export function isOutagePart(headers: Headers): boolean {
  const kind = headers.get(FRAME_KIND_HEADER);
  return kind === "keepalive" || kind === "offline";
}
