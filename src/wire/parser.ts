/**
 * The incremental MJPEG parser: bytes in, frame events out, no I/O.
 *
 * It reads both shapes MJPEG takes on the wire: `multipart/x-mixed-replace`
 * (with or without Content-Length, delimiter before or after each part) and raw
 * concatenated JPEGs (what `rpicam-vid --codec mjpeg -o -` and
 * `ffmpeg -f mjpeg -` write). Frames are delivered to a {@linkcode FrameSink}
 * piece by piece as bytes arrive, so a consumer can copy them straight into
 * buffers of its own; {@linkcode MjpegDecoderStream} is the sink that builds
 * whole {@linkcode Frame}s.
 *
 * Memory is bounded: only a partial header block or delimiter line is ever
 * held back (at most `maxHeaderSize` bytes); frame bytes are passed on at once.
 *
 * @module
 */
import { excerpt, MjpegProtocolError } from "../errors.ts";
import { concatBytes } from "./bytes.ts";
import { parseContentType } from "./content_type.ts";
import { JpegWalker, MORE, RESTART } from "./jpeg.ts";
import { LineReader } from "./line_reader.ts";
import { type DelimiterMatch, MultipartSyntax } from "./multipart.ts";
import { checkOptionKeys, checkOptionType } from "./options.ts";

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

/** Options for {@linkcode MjpegParser} and {@linkcode MjpegDecoderStream}. */
export interface MjpegParserOptions {
  /**
   * The HTTP Content-Type the bytes came with. Without it, the first bytes
   * decide: FF D8 means raw JPEGs, anything else a multipart stream whose
   * boundary is learnt from its first delimiter line.
   */
  contentType?: string | null | undefined;
  /**
   * The largest frame passed on; larger ones are skipped without being
   * buffered and counted in `oversizedFrames`.
   *
   * @default {16777216}
   */
  maxFrameSize?: number | undefined;
  /**
   * The largest part header block (or preamble line) accepted.
   *
   * @default {16384}
   */
  maxHeaderSize?: number | undefined;
  /** Called for every problem the parser recovered from by resynchronising. */
  onError?: ((error: MjpegProtocolError) => void) | undefined;
}

/** What a parser has seen so far. */
export interface MjpegParserStats {
  /** Image frames delivered whole. */
  frames: number;
  /** Bytes read. */
  bytes: number;
  /** Parts that were not images (e.g. `text/plain`), skipped. */
  skippedParts: number;
  /** Frames larger than `maxFrameSize`, skipped. */
  oversizedFrames: number;
  /** Frames cut short by the end of the stream or by a new frame starting. */
  truncatedFrames: number;
  /** Times the parser met bytes it could not read and skipped to the next frame. */
  resyncs: number;
}

/** The largest frame accepted by default: 16 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
/** The largest part header block accepted by default: 16 KiB. */
export const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;
// Bytes of preamble tolerated before the first delimiter of a multipart stream.
const MAX_PREAMBLE = 64 * 1024;
const SOI = new Uint8Array([0xff, 0xd8]);
// #partLength when the part has no Content-Length, or one that is not a number.
const NO_LENGTH = -1;
const BAD_LENGTH = -2;
// How many of a stream's first bytes an error message quotes.
const EXCERPT = 32;

const enum Mode {
  /** Nothing read yet, and no Content-Type said what to expect. */
  Detect,
  /** Raw JPEGs: looking for the next SOI. */
  JpegSeek,
  /** Raw JPEGs: inside a frame. */
  JpegFrame,
  /** Multipart: expecting a delimiter line (or skipping preamble/garbage). */
  Delimiter,
  /** Multipart: reading part headers. */
  Headers,
  /** Multipart: reading a body of known length. */
  BodyLength,
  /** Multipart: reading a body up to the next delimiter. */
  BodyScan,
}

/**
 * An incremental MJPEG parser. Feed it chunks with {@linkcode push}; it calls
 * the sink as frames start, grow and end.
 *
 * @example
 * ```ts
 * import { MjpegParser } from "@mjpeg/stream";
 *
 * let count = 0;
 * const parser = new MjpegParser({
 *   frameStart() {},
 *   frameData() {},
 *   frameEnd() { count++; },
 *   frameAbort() {},
 * }, { contentType: "image/jpeg" });
 * parser.push(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
 * parser.end();
 * ```
 */
export class MjpegParser {
  readonly #sink: FrameSink;
  readonly #maxFrameSize: number;
  readonly #maxHeaderSize: number;
  readonly #onError: ((error: MjpegProtocolError) => void) | undefined;
  readonly #stats: MjpegParserStats = {
    frames: 0,
    bytes: 0,
    skippedParts: 0,
    oversizedFrames: 0,
    truncatedFrames: 0,
    resyncs: 0,
  };
  readonly #walker = new JpegWalker();
  readonly #lines: LineReader;
  #syntax!: MultipartSyntax;
  #mode: Mode = Mode.Detect;
  #sequence = 0;
  #now = 0;
  // The frame being delivered: whether the sink has it, and its size so far.
  #emitting = false;
  #frameBytes = 0;
  // The last two bytes delivered, to tell a whole JPEG (ending FF D9) at the end.
  #tail = 0;
  #partTimestamp = 0;
  #bodyRemaining = 0;
  #partIsImage = false;
  #headers = new Headers();
  #headerBytes = 0;
  #partType: string | undefined;
  #partLength = NO_LENGTH;
  // Raw JPEG mode: an FF ended the previous chunk while seeking an SOI.
  #pendingFF = false;
  // Garbage skipped since the last good frame, to bound a stream of junk.
  #garbage = 0;
  #garbageReported = false;
  #sawPart = false;
  #closed = false;
  #first = new Uint8Array(0);

  /**
   * Makes a parser that delivers to `sink`.
   *
   * @param sink Receives the frames.
   * @param options Content-Type, size limits and the error callback.
   */
  constructor(sink: FrameSink, options: MjpegParserOptions = {}) {
    checkParserOptions(options, "MjpegParser");
    this.#sink = sink;
    this.#maxFrameSize = positive(options.maxFrameSize, DEFAULT_MAX_FRAME_SIZE, "maxFrameSize");
    this.#maxHeaderSize = positive(options.maxHeaderSize, DEFAULT_MAX_HEADER_SIZE, "maxHeaderSize");
    this.#onError = options.onError;
    this.#lines = new LineReader(this.#maxHeaderSize);
    this.reset(options.contentType);
  }

  /** Counters of what was read, skipped and recovered from. */
  get stats(): Readonly<MjpegParserStats> {
    return this.#stats;
  }

  /**
   * Bytes held back between chunks: at most a partial delimiter line or part
   * header block (about `maxHeaderSize`), since frame bytes are passed on at
   * once. Lets a caller (or a fuzzer) check that memory stays bounded.
   */
  get buffered(): number {
    return this.#lines.available;
  }

  /**
   * Starts over for a new connection: drops any partial frame (counted as
   * truncated) and reads the Content-Type afresh. Frame numbers go on.
   *
   * @param contentType The new connection's Content-Type.
   */
  reset(contentType?: string | null): void {
    if (this.#emitting) this.#abort("truncated");
    this.#lines.clear();
    this.#pendingFF = false;
    this.#garbage = 0;
    this.#garbageReported = false;
    this.#sawPart = false;
    this.#closed = false;
    this.#first = new Uint8Array(0);
    const type = parseContentType(contentType);
    this.#syntax = new MultipartSyntax(type.boundary);
    this.#mode = type.kind === "jpeg"
      ? Mode.JpegSeek
      : type.kind === "multipart"
      ? Mode.Delimiter
      : Mode.Detect;
  }

  /**
   * Reads the next chunk of the stream.
   *
   * @param chunk Any number of bytes; the parser does not keep a reference.
   * @throws {MjpegProtocolError} When the bytes are not an MJPEG stream at all.
   */
  push(chunk: Uint8Array): void {
    this.#stats.bytes += chunk.length;
    this.#now = 0;
    if (this.#first.length < EXCERPT) {
      // Keep the stream's first bytes to quote if it turns out not to be MJPEG.
      this.#first = concatBytes(this.#first, chunk.subarray(0, EXCERPT - this.#first.length));
    }
    if (this.#mode === Mode.JpegSeek || this.#mode === Mode.JpegFrame) {
      this.#pushJpeg(chunk);
    } else {
      this.#pushText(chunk);
    }
  }

  /**
   * Ends the stream: a frame still open is counted as truncated (or, when a
   * multipart part without Content-Length ends in a complete JPEG, delivered).
   *
   * @throws {MjpegProtocolError} When the stream held no MJPEG at all.
   */
  end(): void {
    if (this.#mode === Mode.BodyScan && this.#emitting) {
      // A last part with no delimiter after it (delimiter-before servers
      // that close): deliver it if what we hold is a whole JPEG.
      this.#data(trimLineEnd(this.#lines.takeAll()));
      if (this.#emitting && this.#tail === 0xffd9) this.#finishFrame();
    }
    if (this.#emitting) this.#abort("truncated");
    if (!this.#sawPart && this.#stats.bytes > 0 && this.#stats.frames === 0) {
      if (this.#mode === Mode.Detect || this.#mode === Mode.Delimiter) {
        throw this.#notMjpeg();
      }
    }
    this.#lines.clear();
  }

  // ---- raw JPEG ------------------------------------------------------------

  #pushJpeg(chunk: Uint8Array): void {
    let i = 0;
    const end = chunk.length;
    while (i < end) {
      if (this.#mode === Mode.JpegSeek) {
        const soi = this.#seekSoi(chunk, i);
        if (soi < 0) return;
        this.#startFrame(new Headers(), undefined);
        this.#walker.reset();
        this.#data(SOI);
        this.#mode = Mode.JpegFrame;
        i = soi;
        continue;
      }
      const result = this.#walker.walk(chunk, i);
      if (result === MORE) {
        this.#data(chunk.subarray(i));
        return;
      }
      if (result >= 0) {
        this.#data(chunk.subarray(i, result));
        if (this.#emitting) this.#finishFrame();
        this.#mode = Mode.JpegSeek;
        i = result;
        continue;
      }
      const at = this.#walker.problemAt;
      if (this.#emitting) this.#abort(result === RESTART ? "truncated" : "corrupt");
      this.#problem(this.#walker.problem);
      if (result === RESTART) {
        // The FF D8 just read starts the next frame.
        this.#startFrame(new Headers(), undefined);
        this.#walker.reset();
        this.#data(SOI);
        i = at;
      } else {
        this.#mode = Mode.JpegSeek;
        i = at;
      }
    }
  }

  /** Finds the byte after the next SOI, or -1 if the chunk has none. */
  #seekSoi(chunk: Uint8Array, from: number): number {
    let i = from;
    if (this.#pendingFF) {
      this.#pendingFF = false;
      if (chunk[i] === 0xd8) return i + 1;
      this.#skipped(1);
    }
    while (i < chunk.length) {
      const ff = chunk.indexOf(0xff, i);
      if (ff < 0) {
        this.#skipped(chunk.length - i, chunk, i);
        return -1;
      }
      this.#skipped(ff - i, chunk, i);
      if (ff + 1 === chunk.length) {
        this.#pendingFF = true;
        return -1;
      }
      if (chunk[ff + 1] === 0xd8) return ff + 2;
      this.#skipped(1, chunk, ff);
      i = ff + 1;
    }
    return -1;
  }

  // ---- multipart -----------------------------------------------------------

  #pushText(chunk: Uint8Array): void {
    const lines = this.#lines;
    lines.feed(chunk);
    loop: while (lines.available > 0) {
      switch (this.#mode) {
        case Mode.Detect:
          if (!this.#detect()) break loop;
          if ((this.#mode as Mode) === Mode.JpegSeek) {
            // Hand everything held so far to the JPEG reader.
            this.#pushJpeg(lines.takeAll());
            return;
          }
          continue;
        case Mode.Delimiter:
          if (!this.#readDelimiter()) break loop;
          continue;
        case Mode.Headers:
          if (!this.#readHeaders()) break loop;
          continue;
        case Mode.BodyLength: {
          const piece = lines.take(this.#bodyRemaining);
          this.#bodyRemaining -= piece.length;
          this.#data(piece);
          if (this.#bodyRemaining === 0) this.#endPart();
          continue;
        }
        case Mode.BodyScan: {
          const found: DelimiterMatch = this.#syntax.scanBody(lines);
          this.#data(found.body);
          if (found.kind === "none") break loop; // need more bytes
          this.#endPart();
          continue;
        }
        default:
          this.#pushJpeg(lines.takeAll());
          return;
      }
    }
    lines.retain();
  }

  /** Decides raw JPEG or multipart from the first non-blank bytes. */
  #detect(): boolean {
    const lines = this.#lines;
    lines.skipWhitespace();
    if (lines.available < 2) return false;
    const [a, b] = lines.peek2();
    this.#mode = a === 0xff && b === 0xd8 ? Mode.JpegSeek : Mode.Delimiter;
    return true;
  }

  #readDelimiter(): boolean {
    if (this.#lines.midLine) {
      this.#skipLine(this.#lines.skipLine());
      return true;
    }
    const line = this.#lines.readLine(this.#syntax.maxDelimiterProbe);
    if (line === undefined) return false; // need more bytes
    if (line === null) {
      // A line too long to be a delimiter: garbage, skipped without keeping it.
      this.#skipLine(this.#lines.skipLine());
      return true;
    }
    const kind = this.#syntax.classifyLine(line, !this.#sawPart);
    if (this.#syntax.note) {
      this.#problem(this.#syntax.note);
      this.#syntax.note = "";
    }
    if (kind === "part") {
      this.#sawPart = true;
      this.#closed = false;
      this.#garbage = 0;
      this.#garbageReported = false;
      this.#newPart();
      this.#headerBytes = 0;
      this.#partTimestamp = 0;
      this.#mode = Mode.Headers;
    } else if (kind === "close") {
      this.#sawPart = true;
      this.#closed = true; // the epilogue that may follow is skipped silently
    } else if (kind === "other") {
      this.#skipLine(line.length + 1, line);
    }
    return true;
  }

  #skipLine(length: number, line?: Uint8Array): void {
    if (this.#closed) return;
    if (!this.#sawPart) {
      this.#garbage += length;
      if (this.#garbage > MAX_PREAMBLE) throw this.#notMjpeg();
      return;
    }
    this.#skipped(length, line, 0);
  }

  #readHeaders(): boolean {
    const lines = this.#lines;
    if (this.#partTimestamp === 0) this.#partTimestamp = this.#time();
    const line = lines.readLine(this.#maxHeaderSize - this.#headerBytes);
    if (line === undefined) return false;
    if (line === null) {
      this.#problem(`expected part headers of at most ${this.#maxHeaderSize} bytes, got more`);
      this.#mode = Mode.Delimiter;
      return true;
    }
    this.#headerBytes += line.length + 1;
    if (line.length === 0) {
      this.#beginBody();
      return true;
    }
    if (line[0] === 0x2d && this.#syntax.classifyLine(line, false) === "part") {
      // The delimiter again (a repeated delimiter line, or an empty part
      // without its blank line): the part starts over here, so the frame
      // after it is not lost.
      this.#problem(`expected part headers, got another ${excerpt(line)} delimiter`);
      this.#newPart();
      this.#headerBytes = 0;
      return true;
    }
    const header = MultipartSyntax.parseHeader(line);
    if (!header) {
      this.#problem(`expected a part header "Name: value", got ${excerpt(line)}`);
      this.#mode = Mode.Delimiter;
      return true;
    }
    const [name, value] = header;
    this.#headers.append(name, value);
    // Remember the two headers that shape the body, so #beginBody need not
    // look them up again (a second Content-Length makes the length unknown).
    if (name === "content-length") {
      this.#partLength = this.#partLength === NO_LENGTH && /^\d{1,15}$/.test(value)
        ? Number(value)
        : BAD_LENGTH;
    } else if (name === "content-type" && this.#partType === undefined) {
      this.#partType = value;
    }
    return true;
  }

  #newPart(): void {
    this.#headers = new Headers();
    this.#partType = undefined;
    this.#partLength = NO_LENGTH;
  }

  #beginBody(): void {
    const headers = this.#headers;
    const type = this.#partType;
    // A part without Content-Type is taken for a JPEG: some cameras omit it.
    this.#partIsImage = type === undefined || /^image\//i.test(type);
    const length = this.#partLength >= 0 ? this.#partLength : undefined;
    if (this.#partIsImage) {
      const sequence = this.#sequence++;
      if (length !== undefined && length > this.#maxFrameSize) {
        this.#stats.oversizedFrames++;
      } else {
        this.#emitting = true;
        this.#frameBytes = 0;
        this.#sink.frameStart(headers, length, this.#partTimestamp || this.#time(), sequence);
      }
    } else {
      this.#stats.skippedParts++;
    }
    if (length !== undefined && length <= this.#maxFrameSize) {
      this.#bodyRemaining = length;
      this.#mode = Mode.BodyLength;
      if (length === 0) this.#endPart();
    } else {
      // No Content-Length, or one beyond maxFrameSize: that is a frame to skip
      // anyway, and skipping by the delimiter instead of by the length means a
      // corrupt or absurd length cannot swallow the rest of the stream.
      this.#mode = Mode.BodyScan;
    }
  }

  #endPart(): void {
    if (this.#emitting) this.#finishFrame();
    this.#mode = Mode.Delimiter;
  }

  // ---- shared --------------------------------------------------------------

  #startFrame(headers: Headers, length: number | undefined): void {
    this.#emitting = true;
    this.#frameBytes = 0;
    this.#garbage = 0;
    this.#garbageReported = false;
    this.#sawPart = true;
    this.#sink.frameStart(headers, length, this.#time(), this.#sequence++);
  }

  #data(bytes: Uint8Array): void {
    if (!this.#emitting || bytes.length === 0) return;
    this.#frameBytes += bytes.length;
    if (this.#frameBytes > this.#maxFrameSize) {
      this.#abort("oversized");
      return;
    }
    const n = bytes.length;
    this.#tail = n > 1
      ? (bytes[n - 2]! << 8) | bytes[n - 1]!
      : ((this.#tail & 0xff) << 8) | bytes[0]!;
    this.#sink.frameData(bytes);
  }

  #finishFrame(): void {
    this.#emitting = false;
    this.#stats.frames++;
    this.#sink.frameEnd();
  }

  #abort(reason: FrameAbortReason): void {
    this.#emitting = false;
    if (reason === "oversized") this.#stats.oversizedFrames++;
    else if (reason === "truncated") this.#stats.truncatedFrames++;
    this.#sink.frameAbort(reason);
  }

  /** Counts skipped garbage; one resync per run of it, and an error if it never ends. */
  #skipped(count: number, chunk?: Uint8Array, at = 0): void {
    if (count === 0) return;
    this.#garbage += count;
    if (!this.#garbageReported) {
      this.#garbageReported = true;
      const what = chunk ? excerpt(chunk.subarray(at, at + 32)) : `${count} bytes`;
      this.#problem(
        `expected ${this.#syntax.expectation(this.#mode === Mode.JpegSeek)}, got ${what}`,
      );
    }
    if (this.#garbage > this.#maxFrameSize) {
      throw new MjpegProtocolError(
        `expected ${
          this.#syntax.expectation(this.#mode === Mode.JpegSeek)
        } within ${this.#maxFrameSize} bytes, got only bytes that are not MJPEG`,
      );
    }
  }

  #problem(message: string): void {
    this.#stats.resyncs++;
    this.#onError?.(new MjpegProtocolError(message));
  }

  #notMjpeg(): MjpegProtocolError {
    return new MjpegProtocolError(
      `expected ${this.#syntax.expectation(false)}, got ${excerpt(this.#first)}`,
    );
  }

  #time(): number {
    return this.#now || (this.#now = Date.now());
  }
}

const PARSER_OPTIONS = ["contentType", "maxFrameSize", "maxHeaderSize", "onError"] as const;

/**
 * Checks the parser's options by hand (no zod in the wire layer); the size
 * limits are checked where they are read.
 *
 * @param options What the caller passed.
 * @param what Who is checking, for the message.
 * @throws {TypeError} For an unknown option or one of the wrong type.
 */
export function checkParserOptions(options: unknown, what: string): void {
  const o = checkOptionKeys(options, PARSER_OPTIONS, what);
  checkOptionType(o, "contentType", ["string", "null"], what);
  checkOptionType(o, "maxFrameSize", ["number"], what);
  checkOptionType(o, "maxHeaderSize", ["number"], what);
  checkOptionType(o, "onError", ["function"], what);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`expected ${name} to be a positive integer, got ${value}`);
  }
  return value;
}

function trimLineEnd(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  return bytes.subarray(0, end);
}
