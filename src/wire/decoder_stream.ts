/**
 * Bytes to frames: a `TransformStream` over {@linkcode MjpegParser} that builds
 * each frame in one buffer of its own.
 *
 * @module
 */
import type { Frame } from "../frame.ts";
import {
  checkParserOptions,
  type FrameSink,
  MjpegParser,
  type MjpegParserOptions,
  type MjpegParserStats,
} from "./parser.ts";

/** Options for {@linkcode MjpegDecoderStream}: the parser's options. */
export type MjpegDecoderStreamOptions = MjpegParserOptions;
/** What a decoder has seen so far. */
export type MjpegDecoderStats = MjpegParserStats;

// A frame without Content-Length starts in a buffer this big, or as big as
// the previous frame, so most frames never regrow.
const INITIAL_CAPACITY = 64 * 1024;

/** Assembles each frame's pieces into one Uint8Array the frame owns. */
class FrameAssembler implements FrameSink {
  #data = new Uint8Array(0);
  #used = 0;
  #headers = new Headers();
  #sequence = 0;
  #timestamp = 0;
  #lastSize = INITIAL_CAPACITY;
  readonly #deliver: (frame: Frame) => void;

  constructor(deliver: (frame: Frame) => void) {
    this.#deliver = deliver;
  }

  frameStart(headers: Headers, length: number | undefined, timestamp: number, sequence: number) {
    // With a Content-Length the buffer is exact; without, start at the last
    // frame's size plus a margin.
    this.#data = new Uint8Array(length ?? Math.ceil(this.#lastSize * 1.25));
    this.#used = 0;
    this.#headers = headers;
    this.#sequence = sequence;
    this.#timestamp = timestamp;
  }

  frameData(bytes: Uint8Array) {
    const need = this.#used + bytes.length;
    if (need > this.#data.length) {
      const grown = new Uint8Array(Math.max(need, this.#data.length * 2));
      grown.set(this.#data.subarray(0, this.#used));
      this.#data = grown;
    }
    this.#data.set(bytes, this.#used);
    this.#used = need;
  }

  frameEnd() {
    const used = this.#used;
    // Give back spare capacity beyond an eighth, so frames don't pin memory.
    const data = this.#data.length - used > this.#data.length / 8
      ? this.#data.slice(0, used)
      : this.#data.subarray(0, used);
    this.#lastSize = Math.max(used, 1024);
    this.#data = new Uint8Array(0);
    this.#deliver({
      data,
      headers: this.#headers,
      sequence: this.#sequence,
      timestamp: this.#timestamp,
    });
  }

  frameAbort() {
    this.#data = new Uint8Array(0);
    this.#used = 0;
  }
}

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
