/**
 * The MJPEG wire format, with no dependencies: bytes to frames and frames to
 * bytes, on web-standard streams. Nothing here does I/O, imports `node:`
 * modules or zod, so it runs in a browser, a Worker, Deno Deploy or
 * Cloudflare Workers as well as on Deno, Bun and Node.
 *
 * - {@linkcode MjpegDecoderStream} turns bytes (multipart or raw concatenated
 *   JPEGs) into {@linkcode Frame}s; {@linkcode MjpegParser} is the I/O-free
 *   parser under it, for consumers that copy frames into buffers of their own.
 * - {@linkcode MjpegEncoderStream} turns frames into a
 *   `multipart/x-mixed-replace` body; {@linkcode encodeMjpegPart} encodes one
 *   part for servers that encode each frame once for many viewers.
 * - {@linkcode MjpegDemuxStream} splits a multiplexed stream (several cameras
 *   over one connection, each part named by an `X-Stream` header) into named
 *   frames; {@linkcode MjpegDemuxer} is the I/O-free demuxer under it.
 *
 * @example Decode an MJPEG stream in a browser or a Worker
 * ```ts ignore
 * import { MjpegDecoderStream } from "@mjpeg/stream/wire";
 *
 * const response = await fetch("/stream.mjpg");
 * const decoder = new MjpegDecoderStream({
 *   contentType: response.headers.get("content-type"),
 * });
 * for await (const frame of response.body!.pipeThrough(decoder)) {
 *   const blob = new Blob([frame.data], { type: "image/jpeg" });
 *   console.log(frame.sequence, blob.size);
 * }
 * ```
 *
 * @module
 */
export type { Frame } from "../frame.ts";
export { MjpegProtocolError } from "../errors.ts";
export { parseContentType, type StreamType, validateBoundary } from "./content_type.ts";
export {
  DEFAULT_BOUNDARY,
  encodeMjpegPart,
  encodeOpening,
  MjpegEncoderStream,
  type MjpegEncoderStreamOptions,
  multipartContentType,
} from "./encoder_stream.ts";
export {
  type MjpegDecoderStats,
  MjpegDecoderStream,
  type MjpegDecoderStreamOptions,
} from "./decoder_stream.ts";
export {
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_HEADER_SIZE,
  type FrameAbortReason,
  type FrameSink,
  MjpegParser,
  type MjpegParserOptions,
  type MjpegParserStats,
} from "./parser.ts";
export { jpegLength } from "./jpeg.ts";
export {
  MjpegDemuxer,
  type MjpegDemuxerOptions,
  type MjpegDemuxerStats,
  type MuxFrame,
  STREAM_HEADER,
  validateStreamName,
} from "./demuxer.ts";
export { MjpegDemuxStream } from "./demux_stream.ts";
