/**
 * FrameBuffer: one JPEG's worth of memory that the application lends the
 * client. The client fills it and hands it back through `dequeueBuffer()`.
 *
 * @module
 */

/** Where a buffer is: with the application, waiting to be filled, being filled, or filled. */
export type BufferState = "application" | "free" | "filling" | "ready";

/** Who lent a buffer and where it is; symbol-keyed so it stays out of the public shape. */
export const OWNER: unique symbol = Symbol("MjpegClient buffer owner");
/** The buffer's current {@linkcode BufferState}. */
export const STATE: unique symbol = Symbol("MjpegClient buffer state");

/**
 * A fixed-size buffer the client copies one frame into. The JPEG is
 * `buf.data.subarray(0, buf.used)`; it stays valid until you give the buffer
 * back with `enqueueBuffer()`.
 *
 * @example
 * ```ts ignore
 * const buf = await client.dequeueBuffer();
 * const jpeg = buf.data.subarray(0, buf.used);
 * console.log(buf.sequence, buf.timestamp, jpeg.length);
 * client.enqueueBuffer(buf);
 * ```
 */
export class FrameBuffer {
  /** How many bytes fit in `data`. */
  readonly length: number;
  /** The memory; `data.subarray(0, used)` is the frame. */
  readonly data: Uint8Array;
  /** How many bytes of `data` the frame occupies. */
  used: number = 0;
  /** Milliseconds since the epoch when the frame's first byte arrived. */
  timestamp: number = 0;
  /**
   * The frame's number in the stream, counting dropped frames too, so a gap
   * between two dequeued buffers shows how many frames were missed.
   */
  sequence: number = -1;
  /** The multipart part headers the frame came with (empty for raw JPEG streams). */
  headers: Headers = EMPTY_HEADERS;
  /** @internal */
  [OWNER]: object;
  /** @internal */
  [STATE]: BufferState = "application";

  /**
   * Buffers come from `client.requestBuffers()`; this is not called directly.
   *
   * @param length How many bytes the buffer holds.
   * @param owner The pool the buffer belongs to.
   */
  constructor(length: number, owner: object) {
    this.length = length;
    this.data = new Uint8Array(length);
    this[OWNER] = owner;
  }
}

const EMPTY_HEADERS = new Headers();
