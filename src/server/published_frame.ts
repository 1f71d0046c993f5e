/**
 * A frame as a {@linkcode FrameHub} holds it: the JPEG by reference plus its
 * multipart part, encoded at most once however many viewers get it.
 *
 * @module
 */
import type { Frame } from "../frame.ts";
import { encodeMjpegPart } from "../wire/encoder_stream.ts";

/**
 * Formats a time as mjpg-streamer and µStreamer write `X-Timestamp`: Unix
 * seconds with six decimals.
 *
 * @param milliseconds Milliseconds since the Unix epoch.
 * @returns E.g. `1732227473.123456`.
 */
export function formatTimestamp(milliseconds: number): string {
  return (milliseconds / 1000).toFixed(6);
}

/**
 * What a part a hub hands out is: a camera `frame`, a `keepalive` (the last
 * frame again, while no new one comes) or the `offline` card. The latter two
 * carry the `X-Frame-Kind` part header.
 */
export type FrameKind = "frame" | "keepalive" | "offline";

/** A frame published to a {@linkcode FrameHub}. Treat it as read-only. */
export class PublishedFrame implements Frame {
  /** The JPEG bytes, shared with every viewer (never copied). */
  readonly data: Uint8Array;
  /** Part headers sent with the frame (including `X-Timestamp` when enabled). */
  readonly headers: Headers;
  /** The hub's frame number, from 0. */
  readonly sequence: number;
  /** When it was published, in milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** A camera frame, or a part the hub made during an outage. */
  readonly kind: FrameKind;
  readonly #boundary: string;
  #part: Uint8Array | undefined;

  /**
   * Made by {@linkcode FrameHub.publish}.
   *
   * @param data The JPEG bytes.
   * @param headers The part headers.
   * @param sequence The hub's frame number.
   * @param timestamp The publish time in milliseconds since the Unix epoch.
   * @param boundary The hub's multipart boundary.
   * @param kind A camera frame (the default), a keepalive or the offline card.
   */
  constructor(
    data: Uint8Array,
    headers: Headers,
    sequence: number,
    timestamp: number,
    boundary: string,
    kind: FrameKind = "frame",
  ) {
    this.data = data;
    this.headers = headers;
    this.sequence = sequence;
    this.timestamp = timestamp;
    this.#boundary = boundary;
    this.kind = kind;
  }

  /**
   * The whole multipart part: headers, JPEG, and the next delimiter line,
   * encoded on first use and then shared, so each viewer costs one write.
   */
  get part(): Uint8Array {
    return this.#part ??= encodeMjpegPart(this, this.#boundary);
  }
}
