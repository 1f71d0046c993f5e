/**
 * py-mjpeg's client example, in TypeScript: lend the client 50 buffers of
 * 64 KiB, take filled ones, give them back, and print stats every 5 seconds.
 * Memory stays fixed however fast the camera sends.
 *
 *   deno run -A examples/client.ts http://127.0.0.1:8080/stream.mjpg
 *   bun examples/client.ts http://127.0.0.1:8080/stream.mjpg
 *   npx tsx examples/client.ts http://127.0.0.1:8080/stream.mjpg [seconds]
 *
 * Ctrl-C (or the optional run time in seconds) stops it.
 */
import process from "node:process";
import { MjpegClient } from "../src/client/mod.ts";

const url = process.argv[2] ?? "http://127.0.0.1:8080/stream.mjpg";
const seconds = Number(process.argv[3] ?? 0);
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
if (seconds > 0) setTimeout(() => stop.abort(), seconds * 1000);

await using client = new MjpegClient(url, { signal: stop.signal });

// Allocate buffers for frames and hand them all to the client.
for (const buf of client.requestBuffers(65536, 50)) client.enqueueBuffer(buf);
client.start();
const printer = setInterval(() => client.printStats(), 5000);

let largest = 0;
try {
  for (;;) {
    const buf = await client.dequeueBuffer();
    // The JPEG is buf.data.subarray(0, buf.used): do your work here.
    largest = Math.max(largest, buf.used);
    client.enqueueBuffer(buf); // back to the client; do not touch it after this
  }
} catch (error) {
  // stop() (Ctrl-C, the run time) rejects the pending dequeue with an AbortError.
  if ((error as Error).name !== "AbortError") throw error;
} finally {
  clearInterval(printer);
  client.printStats();
  console.log(`largest frame: ${largest} bytes`);
}
