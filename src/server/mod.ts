/**
 * Serving MJPEG: one source, many viewers. A {@linkcode FrameHub} takes the
 * source's frames and hands each viewer the newest one when its connection is
 * ready, so a slow viewer skips frames instead of slowing anyone else;
 * {@linkcode mjpegResponse} and {@linkcode snapshotResponse} turn a hub into
 * web-standard `Response`s for any handler ({@linkcode muxResponse}: several
 * hubs over one connection); {@linkcode serve} runs a handler
 * on Deno, Bun or Node with a graceful shutdown that ends every stream.
 *
 * For the ready-made routes (viewer page, stream, snapshot, stats, auth) use
 * `mjpegApp` from `@mjpeg/stream/hono`.
 *
 * @example A stream from any `fetch` handler
 * ```ts ignore
 * import { FrameHub, mjpegResponse, serve } from "@mjpeg/stream/server";
 *
 * const hub = new FrameHub();
 * setInterval(() => hub.publish(nextJpeg()), 100);
 * await serve({ fetch: (request) => mjpegResponse(hub, { signal: request.signal }) }, {
 *   port: 8080,
 * });
 * ```
 *
 * @module
 */
export type { Frame } from "../wire/mod.ts";
export {
  FrameHub,
  type FrameHubOptions,
  type FrameHubStats,
  type ViewerEvent,
} from "./frame_hub.ts";
export type {
  HubViewer,
  HubViewerOptions,
  HubViewerStats,
  ViewerLeaveReason,
} from "./hub_viewer.ts";
export type { HubStatus, SourceStatus } from "./hub_status.ts";
export type { FrameKind, PublishedFrame } from "./published_frame.ts";
export { mjpegResponse, type MjpegResponseOptions } from "./mjpeg_response.ts";
export { muxResponse, type MuxResponseOptions } from "./mux_response.ts";
export { snapshotResponse, type SnapshotResponseOptions } from "./snapshot_response.ts";
export { type FetchApp, type MjpegServer, serve, type ServeOptions } from "../runtime/serve.ts";
export type { TlsOptions } from "../runtime/tls.ts";
