/**
 * The client's per-frame cost without a network: multipart bytes in 1 MiB
 * chunks (as the socket transport reads them) through MjpegParser, the
 * client's BufferSink (one copy into a lent buffer) and the application's
 * dequeue/enqueue loop, in stages, so each stage's share shows. CPU only, so
 * the minimum of several rounds is steady even on a busy machine.
 *
 * Run: deno run -A bench/client_in_memory.ts | bun … | node --import tsx …
 * (optional argument: the JPEG size in bytes, default 40000)
 */
import process from "node:process";
import { BufferPool } from "../src/client/buffer_pool.ts";
import { BufferSink } from "../src/client/buffer_sink.ts";
import { encodeMjpegPart } from "../src/wire/encoder_stream.ts";
import { MjpegParser } from "../src/wire/parser.ts";

const jpegBytes = Number(process.argv[2] ?? 40_000);
const jpeg = new Uint8Array(jpegBytes).fill(0x20);
jpeg.set([0xff, 0xd8], 0);
jpeg.set([0xff, 0xd9], jpegBytes - 2);
const part = encodeMjpegPart(jpeg, "bench");
const perChunk = Math.floor((1 << 20) / part.length);
const stream = new Uint8Array(part.length * perChunk * 4);
for (let i = 0; i < perChunk * 4; i++) stream.set(part, i * part.length);
const chunks: Uint8Array[] = [];
for (let i = 0; i < stream.length; i += 1 << 20) chunks.push(stream.subarray(i, i + (1 << 20)));
const framesPerPass = perChunk * 4;
const contentType = "multipart/x-mixed-replace;boundary=bench";

const noSink = { frameStart() {}, frameData() {}, frameEnd() {}, frameAbort() {} };

async function stage(name: string, run: (passes: number) => Promise<void> | void) {
  const passes = Math.max(1, Math.round(200_000_000 / stream.length));
  await run(2); // warm-up
  const times: number[] = [];
  for (let round = 0; round < 7; round++) {
    const started = performance.now();
    await run(passes);
    times.push((performance.now() - started) / (passes * framesPerPass));
  }
  const best = Math.min(...times);
  console.log(
    `| ${name} | ${(best * 1000).toFixed(2)} µs | ${(part.length / best / 1e6).toFixed(2)} GB/s |`,
  );
}

console.log(`${jpegBytes}-byte JPEGs in 1 MiB chunks; per frame, the best of 7 rounds:\n`);
console.log("| stage | per frame | rate |\n| --- | ---: | ---: |");
await stage("MjpegParser, a sink that copies nothing", (passes) => {
  const parser = new MjpegParser(noSink, { contentType });
  for (let p = 0; p < passes; p++) for (const chunk of chunks) parser.push(chunk);
});
await stage("MjpegParser, a sink that copies each frame once", (passes) => {
  const target = new Uint8Array(1 << 20);
  let used = 0;
  const parser = new MjpegParser({
    frameStart() {
      used = 0;
    },
    frameData(bytes) {
      target.set(bytes, used);
      used += bytes.length;
    },
    frameEnd() {},
    frameAbort() {},
  }, { contentType });
  for (let p = 0; p < passes; p++) for (const chunk of chunks) parser.push(chunk);
});
// Made once: lending 64 MiB of buffers is not a per-frame cost.
const pool = new BufferPool();
const clientParser = new MjpegParser(new BufferSink(pool), { contentType });
for (const buffer of pool.request(1 << 20, 64)) pool.enqueue(buffer);
await stage("the client: BufferSink, lent buffers, the dequeue/enqueue loop", async (passes) => {
  for (let p = 0; p < passes; p++) {
    for (const chunk of chunks) {
      clientParser.push(chunk);
      while (pool.counts().ready > 0) pool.enqueue(await pool.dequeue());
    }
  }
});
