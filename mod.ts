/**
 * MJPEG over HTTP for Deno, Bun and Node, on web-standard streams: what the
 * quick start uses, re-exported from the subpaths where each thing lives.
 *
 * | subpath | holds |
 * | --- | --- |
 * | `@mjpeg/stream/wire` | decoder, encoder, parser, `Frame` — no dependencies, runs in a browser |
 * | `@mjpeg/stream/client` | `MjpegClient` (py-mjpeg's API), its options and stats |
 * | `@mjpeg/stream/server` | `FrameHub`, `mjpegResponse`, `snapshotResponse`, `serve` |
 * | `@mjpeg/stream/sources` | camera, webcam, command, file, relay, test pattern |
 * | `@mjpeg/stream/hono` | `mjpegApp`: viewer page, stream, snapshot, stats, auth |
 * | `@mjpeg/stream/cli` | the `mjpeg` command |
 *
 * @example Serve a camera (or the test pattern) to many viewers
 * ```ts ignore
 * import { cameraSource, FrameHub, mjpegApp, pipeToHub, serve } from "@mjpeg/stream";
 *
 * const hub = new FrameHub();
 * pipeToHub(cameraSource({ width: 1280, height: 720 }), hub, new AbortController().signal);
 * await serve(mjpegApp({ streams: hub }), { port: 8080 });
 * ```
 *
 * @example Read any MJPEG stream
 * ```ts ignore
 * import { MjpegClient } from "@mjpeg/stream";
 *
 * await using client = new MjpegClient("http://127.0.0.1:8080/stream.mjpg");
 * for await (const frame of client.frames()) console.log(frame.sequence, frame.data.length);
 * ```
 *
 * @example Decode bytes into frames
 * ```ts ignore
 * import { MjpegDecoderStream } from "@mjpeg/stream";
 *
 * const response = await fetch("http://127.0.0.1:8080/stream.mjpg");
 * const frames = response.body!.pipeThrough(
 *   new MjpegDecoderStream({ contentType: response.headers.get("content-type") }),
 * );
 * for await (const frame of frames) console.log(frame.sequence, frame.data.length);
 * ```
 *
 * @module
 */
export {
  type Frame,
  MjpegDecoderStream,
  MjpegEncoderStream,
  MjpegProtocolError,
} from "./src/wire/mod.ts";
export { type Credentials, MjpegClient, type MjpegClientOptions } from "./src/client/mod.ts";
export { FrameHub, mjpegResponse, serve, snapshotResponse } from "./src/server/mod.ts";
export {
  cameraSource,
  commandSource,
  fileSource,
  type FrameSource,
  httpSource,
  pipeToHub,
  pollSource,
  testPattern,
  webcamSource,
} from "./src/sources/mod.ts";
export { mjpegApp } from "./src/hono/mod.ts";
