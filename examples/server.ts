/**
 * Serving cameras to many viewers: two named streams, a token, a viewer cap,
 * and a clean Ctrl-C. The frames here are JPEG files played in a loop; put
 * your camera's frames into `hub.publish()` instead (any source works: a
 * decoder, a client of another camera, a program's stdout).
 *
 *   deno run -A examples/server.ts [--port N]   then open the URL it prints
 *   bun examples/server.ts
 *   npx tsx examples/server.ts
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import { FrameHub, serve } from "../src/server/mod.ts"; // "@mjpeg/stream/server" once installed
import { mjpegApp } from "../src/hono/mod.ts"; // "@mjpeg/stream/hono"
import { examplePort } from "./port.ts";

const jpegs = [1, 2, 3, 4, 5, 6, 7, 8].map((i) =>
  new Uint8Array(readFileSync(new URL(`../tests/fixtures/frames/00${i}.jpg`, import.meta.url)))
);

// One hub per camera. publish() never waits, whatever the viewers do.
const front = new FrameHub();
const back = new FrameHub();
let n = 0;
const timer = setInterval(() => {
  front.publish(jpegs[n % 8]!);
  if (n % 3 === 0) back.publish(jpegs[(n / 3) % 8]!); // a slower camera
  n++;
}, 1000 / 30);

const app = mjpegApp({
  streams: { front, back }, // /front/stream.mjpg, /back/snapshot.jpg, /stats …; front is also at /
  auth: { token: "let-me-in-please" }, // or { username, password } for a browser login prompt
  maxViewers: 100,
});
const stop = new AbortController();
const server = await serve(app, {
  port: examplePort(),
  hostname: "127.0.0.1",
  signal: stop.signal,
});
console.log(`open ${server.url}/?token=let-me-in-please`);
console.log(
  `ffmpeg -i "${server.url}/front/stream.mjpg?token=let-me-in-please" -frames:v 1 front.jpg`,
);

// Ctrl-C: stop accepting, end every stream cleanly, then stop the "camera".
process.once("SIGINT", () => stop.abort());
await server.finished;
clearInterval(timer);
console.log("stopped");
