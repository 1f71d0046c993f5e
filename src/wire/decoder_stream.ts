/**
 * Bytes to frames: a `TransformStream` over {@linkcode MjpegParser} that builds
 * each frame in one buffer of its own.
 *
 * @module
 */
import type { Frame } from "../frame.ts";
import { FrameAssembler } from "./frame_assembler.ts";
import {
  checkParserOptions,
  MjpegParser,
  type MjpegParserOptions,
  type MjpegParserStats,
} from "./parser.ts";

/** Options for {@linkcode MjpegDecoderStream}: the parser's options. */
export type MjpegDecoderStreamOptions = MjpegParserOptions;
/** What a decoder has seen so far. */
export type MjpegDecoderStats = MjpegParserStats;

/**
 * Decodes an MJPEG byte stream into {@linkcode Frame}s.
 *
 * It reads `multipart/x-mixed-replace` (and any multipart/* type), with or
 * without Content-Length, whatever the boundary style, as well as raw
 * concatenated JPEGs (`rpicam-vid --codec mjpeg -o -`, `ffmpeg -f mjpeg -`).
 * Parts that are not images are skipped; bad bytes are skipped up to the next
 * frame and counted in {@linkcode MjpegDecoderStream.stats}. Bytes that are not
 * MJPEG at all error the stream with an `MjpegProtocolError`.
 *
 * @example Decode a camera's stream
 * ```ts ignore
 * import { MjpegDecoderStream } from "@mjpeg/stream";
 *
 * const response = await fetch("http://camera.local/?action=stream");
 * const decoder = new MjpegDecoderStream({
 *   contentType: response.headers.get("content-type"),
 * });
 * for await (const frame of response.body!.pipeThrough(decoder)) {
 *   console.log(`frame ${frame.sequence}: ${frame.data.length} bytes`);
 * }
 * ```
 *
 * @example Split raw JPEGs from a subprocess
 * ```ts
 * import { MjpegDecoderStream } from "@mjpeg/stream";
 *
 * const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xd9]);
 * const bytes = ReadableStream.from([jpeg, jpeg]);
 * for await (const frame of bytes.pipeThrough(new MjpegDecoderStream())) {
 *   console.log(frame.sequence, frame.data.length); // 0 4, then 1 4
 * }
 * ```
 */
export class MjpegDecoderStream extends TransformStream<Uint8Array, Frame> {
  readonly #parser: MjpegParser;

  /**
   * Makes a decoder.
   *
   * @param options Content-Type, size limits and the error callback.
   * @throws {TypeError} When an option is unknown or of the wrong type.
   * @throws {RangeError} When a size limit is not a positive whole number.
   */
  constructor(options: MjpegDecoderStreamOptions = {}) {
    checkParserOptions(options, "MjpegDecoderStream");
    let enqueue: (frame: Frame) => void = () => {};
    const parser = new MjpegParser(new FrameAssembler((frame) => enqueue(frame)), options);
    super({
      start(controller) {
        enqueue = (frame) => controller.enqueue(frame);
      },
      transform(chunk) {
        parser.push(chunk);
      },
      flush() {
        parser.end();
      },
    });
    this.#parser = parser;
  }

  /** Counters of frames read, parts skipped and problems recovered from. */
  get stats(): Readonly<MjpegDecoderStats> {
    return this.#parser.stats;
  }
}
