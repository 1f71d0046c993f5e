/**
 * The HTTP routes as a Hono app: {@linkcode mjpegApp} serves one camera or
 * several named ones — a viewer page, the stream, a snapshot and JSON stats,
 * plus mjpg-streamer's `/?action=stream` and `/?action=snapshot` that
 * OctoPrint, Home Assistant and many apps expect — with optional Basic or
 * token auth, CORS and a viewer limit. Mount it under a prefix with
 * `app.route("/webcam", mjpegApp(…))`.
 *
 * @example
 * ```ts ignore
 * import { FrameHub, serve } from "@mjpeg/stream/server";
 * import { mjpegApp } from "@mjpeg/stream/hono";
 *
 * const hub = new FrameHub();
 * await serve(mjpegApp({ streams: hub, auth: { token: "s3cret-token" } }), { port: 8080 });
 * ```
 *
 * @module
 */
export { type CorsOptions, mjpegApp, type MjpegAppOptions } from "./mjpeg_app.ts";
export type { AuthOptions } from "./auth.ts";
export type { RequestLimits } from "./request_limits.ts";
export type { StreamStats } from "./stream_stats.ts";
export {
  type ControlChange,
  type ControlDescription,
  type ControlDescriptions,
  ControlError,
  type ControlValue,
  type StreamControls,
} from "../internal/controls.ts";
