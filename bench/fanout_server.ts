/**
 * The server side of the fan-out benchmark: one FrameHub fed ~50 KB JPEGs at
 * 30 fps, served by serve() on whatever runtime runs this file, with the
 * defaults of `mjpeg serve` (keepalive 1 s, offline card after 5 s, viewers
 * dropped after 30 s without taking bytes). With `outageAfter` the source
 * stops after that many seconds, so what viewers get is the keepalive, then
 * the offline card; `quiet` turns both off (the baseline of what they cost).
 * Prints `port <n>` once listening; runs until killed.
 *
 *   bun bench/fanout_server.ts [frameSize] [fps] [outageAfter] [quiet]
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import { FrameHub } from "../src/server/frame_hub.ts";
import { mjpegApp } from "../src/hono/mjpeg_app.ts";
import { serve } from "../src/runtime/serve.ts";
import { paddedJpeg } from "../tests/helpers/jpeg.ts";

const frameSize = Number(process.argv[2] ?? 50_000);
const fps = Number(process.argv[3] ?? 30);
const outageAfter = process.argv[4] === undefined ? Infinity : Number(process.argv[4]) * 1000;
const frames = [1, 2, 3, 4, 5, 6, 7, 8].map((i) =>
  paddedJpeg(
    new Uint8Array(readFileSync(new URL(`../tests/fixtures/frames/00${i}.jpg`, import.meta.url))),
    frameSize,
  )
);
const hub = new FrameHub(process.argv[5] === "quiet" ? { keepalive: 0, offlineAfter: 0 } : {});
const server = await serve(mjpegApp({ streams: hub }), { port: 0, hostname: "127.0.0.1" });
// Publish on a fixed schedule (not setInterval drift), like a camera would.
let next = performance.now();
const start = next;
let i = 0;
const tick = () => {
  if (performance.now() - start > outageAfter) return; // the camera goes quiet
  hub.publish(frames[i++ % frames.length]!);
  next += 1000 / fps;
  setTimeout(tick, Math.max(0, next - performance.now()));
};
tick();
console.log(`port ${server.port}`);
