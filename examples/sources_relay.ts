/**
 * Relay: re-serve another MJPEG server's stream (a camera behind a firewall,
 * an IP camera that allows only one viewer) to many viewers.
 *
 *   npx tsx examples/sources_relay.ts http://camera.local:8080/stream.mjpg [--port N]
 */
import process from "node:process";
import { FrameHub, serve } from "../src/server/mod.ts";
import { mjpegApp } from "../src/hono/mod.ts";
import { httpSource, pipeToHub } from "../src/sources/mod.ts";
import { argsWithoutPort, examplePort } from "./port.ts";

const upstream = argsWithoutPort()[0] ?? "http://127.0.0.1:8080/stream.mjpg";
const hub = new FrameHub();
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
pipeToHub(httpSource(upstream), hub, stop.signal).catch((error) => console.error(error.message));
const server = await serve(mjpegApp({ streams: hub }), {
  port: examplePort(),
  hostname: "127.0.0.1",
  signal: stop.signal,
});
console.log(`relaying ${upstream} at ${server.url}/stream.mjpg`);
await server.finished;
