/**
 * Your own source: anything with `frames(signal)` yielding JPEG frames. Here,
 * snapshots polled from a camera that only offers single JPEGs over HTTP.
 *
 *   npx tsx examples/sources_custom.ts http://10.0.0.7/snapshot.jpg [--port N]
 */
import process from "node:process";
import type { Frame } from "../src/wire/mod.ts";
import { FrameHub, serve } from "../src/server/mod.ts";
import { mjpegApp } from "../src/hono/mod.ts";
import { type FrameSource, pipeToHub } from "../src/sources/mod.ts";
import { argsWithoutPort, examplePort } from "./port.ts";

function pollingSource(url: string, fps: number): FrameSource {
  return {
    description: `polling ${url} at ${fps} fps`,
    async *frames(signal: AbortSignal): AsyncGenerator<Frame> {
      for (let sequence = 0; !signal.aborted; sequence++) {
        const started = Date.now();
        try {
          const response = await fetch(url, { signal });
          const data = new Uint8Array(await response.arrayBuffer());
          if (response.ok) yield { data, headers: new Headers(), sequence, timestamp: started };
        } catch (error) {
          if (!signal.aborted) console.error(`poll failed: ${(error as Error).message}`);
        }
        await sleep(1000 / fps - (Date.now() - started), signal);
      }
    },
  };
}

const hub = new FrameHub();
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
pipeToHub(
  pollingSource(argsWithoutPort()[0] ?? "http://127.0.0.1:8080/snapshot.jpg", 2),
  hub,
  stop.signal,
);
const server = await serve(mjpegApp({ streams: hub }), {
  port: examplePort(),
  hostname: "127.0.0.1",
  signal: stop.signal,
});
console.log(`open ${server.url}/`);
await server.finished;

/** Waits `ms` milliseconds, or less when `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
