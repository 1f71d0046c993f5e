/**
 * MJPEG over HTTP for Deno, Bun and Node, on web-standard streams.
 *
 * - **Wire format**: {@linkcode MjpegDecoderStream} turns bytes (multipart or
 *   raw concatenated JPEGs) into {@linkcode Frame}s; {@linkcode MjpegEncoderStream}
 *   turns frames into a `multipart/x-mixed-replace` body.
 * - **Client**: {@linkcode MjpegClient} reads any MJPEG URL into a fixed pool of
 *   {@linkcode FrameBuffer}s the application lends it (py-mjpeg's API), with
 *   reconnects, stall detection and stats; `client.frames()` for the newest frames.
 *
 * @example Decode an MJPEG stream from any URL
 * ```ts ignore
 * import { MjpegDecoderStream } from "@mjpeg/stream";
 *
 * const response = await fetch("http://127.0.0.1:8080/stream.mjpg");
 * const frames = response.body!.pipeThrough(
 *   new MjpegDecoderStream({ contentType: response.headers.get("content-type") }),
 * );
 * for await (const frame of frames) {
 *   console.log(frame.sequence, frame.data.length);
 * }
 * ```
 *
 * @module
 */

// Wire format
export type { Frame } from "./src/frame.ts";
export { isFrame } from "./src/frame.ts";
export { excerpt, MjpegProtocolError } from "./src/errors.ts";
export { parseContentType, type StreamType, validateBoundary } from "./src/wire/content_type.ts";
export {
  DEFAULT_BOUNDARY,
  encodeMjpegPart,
  encodeOpening,
  MjpegEncoderStream,
  type MjpegEncoderStreamOptions,
  multipartContentType,
} from "./src/wire/encoder_stream.ts";
export type { FrameAbortReason, FrameSink } from "./src/wire/parser.ts";
export {
  type MjpegDecoderStats,
  MjpegDecoderStream,
  type MjpegDecoderStreamOptions,
} from "./src/wire/decoder_stream.ts";
export {
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_HEADER_SIZE,
  MjpegParser,
  type MjpegParserOptions,
  type MjpegParserStats,
} from "./src/wire/parser.ts";
export { jpegLength } from "./src/wire/jpeg.ts";

// Client
export { MjpegClient } from "./src/client/client.ts";
export { FrameBuffer } from "./src/client/frame_buffer.ts";
export type { FetchLike, MjpegClientOptions, ReconnectOptions } from "./src/client/options.ts";
export { type ClientState, formatStats, type MjpegClientStats } from "./src/client/stats.ts";

// Server
export {
  FrameHub,
  type FrameHubOptions,
  type FrameHubStats,
  type ViewerEvent,
} from "./src/server/frame_hub.ts";
export { HubViewer, type HubViewerOptions, type HubViewerStats } from "./src/server/hub_viewer.ts";
export { formatTimestamp, PublishedFrame } from "./src/server/published_frame.ts";
export {
  mjpegResponse,
  type MjpegResponseOptions,
  STREAM_HEADERS,
} from "./src/server/mjpeg_response.ts";
export { snapshotResponse, type SnapshotResponseOptions } from "./src/server/snapshot_response.ts";
export { type Authenticator, type AuthOptions, createAuth } from "./src/hono/auth.ts";
export { type StreamStats, streamStats } from "./src/hono/stream_stats.ts";
export { type RequestLimits, requestLimits } from "./src/hono/request_limits.ts";
export {
  viewerPage,
  type ViewerPageOptions,
  type ViewerPageStream,
} from "./src/hono/viewer_page.ts";
export { type FetchApp, type MjpegServer, serve, type ServeOptions } from "./src/runtime/serve.ts";

// Sources
export {
  type FramePublisher,
  type FrameSource,
  type LogLine,
  logToStderr,
  pipeToHub,
  sleep,
} from "./src/sources/source.ts";
export { cameraArgs, type CameraOptions, cameraSource } from "./src/sources/camera.ts";
export {
  type CommandOptions,
  commandSource,
  webcamArgs,
  type WebcamOptions,
  webcamSource,
} from "./src/sources/command.ts";
export { fileSource, type FileSourceOptions } from "./src/sources/file.ts";
export { httpSource, type HttpSourceOptions } from "./src/sources/http.ts";
export {
  testPattern,
  type TestPatternOptions,
  TestPatternRenderer,
} from "./src/sources/test_pattern.ts";
export { type ProgramCandidate, type RestartPolicy, SourceError } from "./src/sources/process.ts";
export {
  findProgram,
  type ProcessExit,
  type RunningProcess,
  SpawnError,
  type SpawnOptions,
  spawnProcess,
} from "./src/runtime/spawn.ts";
