/**
 * Frames to multipart/x-mixed-replace bytes.
 *
 * Each part is written whole, followed at once by the next delimiter line:
 * Chrome paints a part only when it sees the delimiter after it, so holding the
 * delimiter back until the next frame exists would show every frame one frame
 * late. py-mjpeg's client insists on an exact `--boundary` line, Content-Type
 * `image/jpeg` and a Content-Length, so every part carries all three.
 *
 * @module
 */
import { type Frame, isFrame } from "../frame.ts";
import { validateBoundary } from "./content_type.ts";
import { checkOptionKeys, checkOptionType } from "./options.ts";

/** The boundary used when none is given: short, and never found in JPEG headers. */
export const DEFAULT_BOUNDARY = "mjpegstream";

/** Options for {@linkcode MjpegEncoderStream}. */
export interface MjpegEncoderStreamOptions {
  /**
   * The multipart boundary, without the leading `--`.
   *
   * @default {"mjpegstream"}
   */
  boundary?: string;
}

const encoder = new TextEncoder();
// Headers the encoder writes itself; a frame's own copies of them are dropped.
const OWN_HEADERS = new Set(["content-type", "content-length"]);

/**
 * The bytes that open a stream: the first delimiter line. Send once, before the
 * first part.
 *
 * @param boundary The boundary, without the leading `--`.
 * @returns `--boundary\r\n` as bytes.
 */
export function encodeOpening(boundary: string = DEFAULT_BOUNDARY): Uint8Array {
  return encoder.encode(`--${boundary}\r\n`);
}

/**
 * Encodes one frame as a complete multipart part in a single buffer: part
 * headers, the JPEG, and the next delimiter line. A server encodes each frame
 * once and hands the same bytes to every viewer.
 *
 * @param frame The JPEG bytes, or a frame whose extra headers (e.g. `X-Timestamp`) are kept.
 * @param boundary The boundary, without the leading `--`.
 * @param extraHeaders More headers for this part.
 * @returns The part's bytes, ending with `\r\n--boundary\r\n`.
 *
 * @example
 * ```ts
 * import { encodeMjpegPart, encodeOpening } from "@mjpeg/stream";
 * const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xd9]);
 * const bytes = [encodeOpening("b"), encodeMjpegPart(jpeg, "b")];
 * ```
 */
export function encodeMjpegPart(
  frame: Uint8Array | Frame,
  boundary: string = DEFAULT_BOUNDARY,
  extraHeaders?: HeadersInit,
): Uint8Array {
  const data = isFrame(frame) ? frame.data : frame;
  let head = `Content-Type: image/jpeg\r\nContent-Length: ${data.length}\r\n`;
  if (isFrame(frame)) head += headerLines(frame.headers);
  if (extraHeaders) {
    head += headerLines(extraHeaders instanceof Headers ? extraHeaders : new Headers(extraHeaders));
  }
  head += "\r\n";
  const tail = `\r\n--${boundary}\r\n`;
  // Part headers are ASCII, so string length equals byte length.
  const out = new Uint8Array(head.length + data.length + tail.length);
  encoder.encodeInto(head, out);
  out.set(data, head.length);
  encoder.encodeInto(tail, out.subarray(head.length + data.length));
  return out;
}

function headerLines(headers: Headers): string {
  let lines = "";
  headers.forEach((value, name) => {
    if (!OWN_HEADERS.has(name)) lines += `${name}: ${value.replace(/[\r\n]+/g, " ")}\r\n`;
  });
  return lines;
}

/**
 * The Content-Type header value for a multipart MJPEG response, quoting the
 * boundary when it holds characters a bare parameter value may not.
 *
 * @param boundary The boundary, without the leading `--`.
 * @returns E.g. `multipart/x-mixed-replace;boundary=mjpegstream`.
 */
export function multipartContentType(boundary: string = DEFAULT_BOUNDARY): string {
  const value = /^[0-9A-Za-z'+_\-.]+$/.test(boundary) ? boundary : `"${boundary}"`;
  return `multipart/x-mixed-replace;boundary=${value}`;
}

/**
 * Turns JPEG frames into a multipart/x-mixed-replace byte stream, ready to be
 * a `Response` body. Use {@linkcode MjpegEncoderStream.contentType} as the
 * response's Content-Type.
 *
 * @example
 * ```ts
 * import { MjpegEncoderStream } from "@mjpeg/stream";
 *
 * const jpegs = ReadableStream.from([new Uint8Array([0xff, 0xd8, 0xff, 0xd9])]);
 * const encoder = new MjpegEncoderStream({ boundary: "frame" });
 * const response = new Response(jpegs.pipeThrough(encoder), {
 *   headers: { "Content-Type": encoder.contentType },
 * });
 * ```
 */
export class MjpegEncoderStream extends TransformStream<Uint8Array | Frame, Uint8Array> {
  /** The boundary between parts, without the leading `--`. */
  readonly boundary: string;
  /** The Content-Type header for the response: `multipart/x-mixed-replace;boundary=…`. */
  readonly contentType: string;

  /**
   * Makes an encoder; the boundary is checked here.
   *
   * @param options The boundary to use.
   * @throws {TypeError} When the boundary is not a valid RFC 2046 boundary, or an option is unknown.
   */
  constructor(options: MjpegEncoderStreamOptions = {}) {
    const o = checkOptionKeys(options, ["boundary"], "MjpegEncoderStream");
    checkOptionType(o, "boundary", ["string"], "MjpegEncoderStream");
    const boundary = validateBoundary(options.boundary ?? DEFAULT_BOUNDARY);
    let opened = false;
    super({
      transform(frame, controller) {
        if (!opened) {
          controller.enqueue(encodeOpening(boundary));
          opened = true;
        }
        controller.enqueue(encodeMjpegPart(frame, boundary));
      },
    });
    this.boundary = boundary;
    this.contentType = multipartContentType(boundary);
  }
}
