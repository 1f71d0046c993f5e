/**
 * A Raspberry Pi camera server in a dozen lines: rpicam-vid → FrameHub → HTTP.
 * Falls back to the test pattern where there is no camera, so it runs anywhere.
 *
 *   deno run -A examples/sources_camera_server.ts [--port N]   (or PORT=N; a free port by default)
 *   bun examples/sources_camera_server.ts
 *   npx tsx examples/sources_camera_server.ts
 */
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { FrameHub, serve } from "../src/server/mod.ts";
import { mjpegApp } from "../src/hono/mod.ts";
import { cameraSource, pipeToHub, testPattern } from "../src/sources/mod.ts";
import { examplePort } from "./port.ts";

const hub = new FrameHub();
const source = onPath("rpicam-vid") || onPath("libcamera-vid")
  ? cameraSource({ width: 1280, height: 720, fps: 15 })
  : testPattern();
const stop = new AbortController();
pipeToHub(source, hub, stop.signal).catch((error) =>
  console.error(`source failed: ${error.message}`)
);

const server = await serve(mjpegApp({ streams: hub }), {
  port: examplePort(),
  hostname: "127.0.0.1",
  signal: stop.signal,
});
console.log(`${source.description}: open ${server.url}/`);
// Ctrl-C stops the camera (SIGINT, then SIGKILL) and the server.
process.once("SIGINT", () => stop.abort());
await server.finished;

/** Whether `program` is an executable on PATH. */
function onPath(program: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
