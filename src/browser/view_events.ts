/**
 * What the events of `<mjpeg-view>` carry in their `detail`. The connection
 * below the element makes the `reconnect` one, so it lives here, apart from
 * the element.
 *
 * @module
 */

/** What a `frame` event carries. */
export interface FrameEventDetail {
  /** The frame's number in its stream (in the multiplexed stream, for a shared one). */
  sequence: number;
  /** Its size in pixels. */
  width: number;
  /** Its height in pixels. */
  height: number;
  /** JPEG bytes. */
  size: number;
  /** Milliseconds from the server's `X-Timestamp` to painting, or null (see `stats.latency`). */
  latency: number | null;
}

/** What a `stall` event carries. */
export interface StallEventDetail {
  /** The stall timeout that passed without a part, in milliseconds. */
  timeout: number;
}

/** What a `reconnect` event carries: why a connection is being made again. */
export interface ReconnectEventDetail {
  /** Failed attempts in a row, from 1. */
  attempt: number;
  /** Milliseconds until the next request. */
  delay: number;
  /** What ended the last one. */
  reason: string;
}

/** What an `error` event carries. */
export interface ErrorEventDetail {
  /** Why, e.g. `expected multipart/x-mixed-replace or image/jpeg from …, got text/html`. */
  message: string;
  /** The error itself. */
  error: Error;
}
