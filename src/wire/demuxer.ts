/**
 * The multiplexed MJPEG stream, read without I/O: one `multipart/x-mixed-replace`
 * body carrying the frames of several streams, each part naming its stream
 * in an `X-Stream` header. A page with more cameras than the browser's six
 * connections per host reads them all over one connection this way.
 *
 * The format is plain multipart MJPEG, so {@linkcode MjpegParser} reads it;
 * the demuxer only builds each frame and routes it by that header. Parts
 * without the header are skipped and counted, never handed out unnamed.
 *
 * @module
 */
import { MjpegProtocolError } from "../errors.ts";
import type { Frame } from "../frame.ts";
import { FrameAssembler } from "./frame_assembler.ts";
import {
  checkParserOptions,
  MjpegParser,
  type MjpegParserOptions,
  type MjpegParserStats,
} from "./parser.ts";

/** The part header that names the stream a part of a multiplexed stream belongs to. */
export const STREAM_HEADER = "X-Stream";

/** A frame of a multiplexed stream, with the name of the stream it belongs to. */
export interface MuxFrame extends Frame {
  /** The stream's name, from the part's `X-Stream` header. */
  stream: string;
}

/** What a demuxer has seen so far: the parser's counters and the parts it could not route. */
export interface MjpegDemuxerStats extends MjpegParserStats {
  /** Image parts with no `X-Stream` header (or an empty one), skipped. */
  unnamedFrames: number;
}

/** Options for {@linkcode MjpegDemuxer} and `MjpegDemuxStream`: the parser's options. */
export type MjpegDemuxerOptions = MjpegParserOptions;

// A name is printable ASCII without spaces: what a header value can carry
// unescaped and what a server can list in a query.
const NAME = /^[\x21-\x7e]{1,64}$/;

/**
 * Checks a stream name before a server sends it in an `X-Stream` header.
 *
 * @param name The stream's name.
 * @returns The same name.
 * @throws {TypeError} When it is empty, longer than 64 characters, or holds
 *   anything but printable ASCII without spaces.
 */
export function validateStreamName(name: string): string {
  if (!NAME.test(name)) {
    throw new TypeError(
      `expected a stream name of 1 to 64 printable ASCII characters without spaces, got ${
        JSON.stringify(name)
      }`,
    );
  }
  return name;
}

/**
 * Splits a multiplexed MJPEG stream into frames named by stream. Feed it
 * chunks with {@linkcode MjpegDemuxer.push}; it calls `onFrame` for each
 * whole frame, in the order the parts arrived. Frames keep the sequence
 * numbers of the whole multiplexed stream.
 *
 * @example
 * ```ts
 * import { MjpegDemuxer } from "@mjpeg/stream/wire";
 *
 * const demuxer = new MjpegDemuxer((frame) => console.log(frame.stream, frame.data.length), {
 *   contentType: "multipart/x-mixed-replace; boundary=b",
 * });
 * const part = "--b\r\nX-Stream: door\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\n";
 * demuxer.push(new TextEncoder().encode(part));
 * demuxer.push(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
 * demuxer.push(new TextEncoder().encode("\r\n--b\r\n")); // door 4
 * ```
 */
export class MjpegDemuxer {
  readonly #parser: MjpegParser;
  readonly #onError: ((error: MjpegProtocolError) => void) | undefined;
  #unnamed = 0;

  /**
   * Makes a demuxer.
   *
   * @param onFrame Gets each frame with its stream's name.
   * @param options Content-Type, size limits and the error callback.
   * @throws {TypeError} When an option is unknown or of the wrong type.
   */
  constructor(onFrame: (frame: MuxFrame) => void, options: MjpegDemuxerOptions = {}) {
    checkParserOptions(options, "MjpegDemuxer");
    if (typeof onFrame !== "function") {
      throw new TypeError(`MjpegDemuxer: expected onFrame as a function, got ${typeof onFrame}`);
    }
    this.#onError = options.onError;
    const route = (frame: Frame) => {
      const stream = frame.headers.get(STREAM_HEADER)?.trim();
      if (stream) {
        (frame as MuxFrame).stream = stream;
        onFrame(frame as MuxFrame);
        return;
      }
      this.#unnamed++;
      this.#onError?.(
        new MjpegProtocolError(
          `expected an ${STREAM_HEADER} header naming the part's stream, got none (frame ${frame.sequence})`,
        ),
      );
    };
    this.#parser = new MjpegParser(new FrameAssembler(route), options);
  }

  /** Counters of frames read, parts skipped and problems recovered from. */
  get stats(): Readonly<MjpegDemuxerStats> {
    return { ...this.#parser.stats, unnamedFrames: this.#unnamed };
  }

  /**
   * Reads the next chunk of the stream.
   *
   * @param chunk Any number of bytes; the demuxer does not keep a reference.
   * @throws {MjpegProtocolError} When the bytes are not an MJPEG stream at all.
   */
  push(chunk: Uint8Array): void {
    this.#parser.push(chunk);
  }

  /**
   * Ends the stream; a frame still open is dropped and counted as truncated.
   *
   * @throws {MjpegProtocolError} When the stream held no MJPEG at all.
   */
  end(): void {
    this.#parser.end();
  }

  /**
   * Starts over for a new connection (see {@linkcode MjpegParser.reset}).
   *
   * @param contentType The new connection's Content-Type.
   */
  reset(contentType?: string | null): void {
    this.#parser.reset(contentType);
  }
}
