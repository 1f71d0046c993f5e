/**
 * A Raspberry Pi camera server in a dozen lines: rpicam-vid → FrameHub → HTTP.
 * Falls back to the test pattern where there is no camera, so it runs anywhere.
 *
 *   deno run -A examples/sources_camera_server.ts
 *   bun examples/sources_camera_server.ts
 *   npx tsx examples/sources_camera_server.ts
 */
import process from "node:process";
import { cameraSource, findProgram, FrameHub, pipeToHub, serve, testPattern } from "../mod.ts";
import { mjpegApp } from "../src/hono/mjpeg_app.ts";

const hub = new FrameHub();
const source = findProgram("rpicam-vid") || findProgram("libcamera-vid")
  ? cameraSource({ width: 1280, height: 720, fps: 15 })
  : testPattern();
const stop = new AbortController();
pipeToHub(source, hub, stop.signal).catch((error) =>
  console.error(`source failed: ${error.message}`)
);

const server = await serve(mjpegApp({ streams: hub }), {
  port: 8080,
  hostname: "127.0.0.1",
  signal: stop.signal,
});
console.log(`${source.description}: open ${server.url}/`);
// Ctrl-C stops the camera (SIGINT, then SIGKILL) and the server.
process.once("SIGINT", () => stop.abort());
await server.finished;
