/**
 * Where frames come from. Every source is a {@linkcode FrameSource}: the
 * Raspberry Pi camera, a USB webcam through ffmpeg, any program writing MJPEG
 * to stdout, a JPEG file another program rewrites or a folder of JPEGs,
 * another server's stream, a camera's snapshot URL polled, or a built-in
 * test pattern. Programs that die or hang are restarted with backoff.
 * {@linkcode pipeToHub} feeds a source into a `FrameHub`.
 *
 * @example The test pattern, served
 * ```ts ignore
 * import { FrameHub, serve } from "@mjpeg/stream/server";
 * import { mjpegApp } from "@mjpeg/stream/hono";
 * import { pipeToHub, testPattern } from "@mjpeg/stream/sources";
 *
 * const hub = new FrameHub();
 * pipeToHub(testPattern({ fps: 15 }), hub, new AbortController().signal);
 * await serve(mjpegApp({ streams: hub }), { port: 8080 });
 * ```
 *
 * @module
 */
export type { Frame } from "../wire/mod.ts";
export type { Credentials, FetchLike, MjpegClientOptions } from "../client/mod.ts";
export {
  type FramePublisher,
  type FrameSource,
  type LogLine,
  pipeToHub,
  type PipeToHubOptions,
  type SourceReport,
  type StatusListener,
} from "./source.ts";
export type { DemandHub } from "./on_demand.ts";
export { type CameraOptions, cameraSource } from "./camera.ts";
export type { CameraSettings } from "./camera_settings.ts";
export {
  type ControlChange,
  type ControlDescription,
  type ControlDescriptions,
  ControlError,
  type ControlValue,
  type StreamControls,
} from "../internal/controls.ts";
export { type CommandOptions, commandSource, type WebcamOptions, webcamSource } from "./command.ts";
export { fileSource, type FileSourceOptions } from "./file.ts";
export { httpSource, type HttpSourceOptions } from "./http.ts";
export { pollSource, type PollSourceOptions, type PollStatus } from "./poll.ts";
export { testPattern, type TestPatternOptions } from "./test_pattern.ts";
export { type RestartPolicy, SourceError } from "./process.ts";
export type { BackoffOptions } from "../internal/backoff.ts";
