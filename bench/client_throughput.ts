/**
 * MjpegClient throughput: frames/s and MB/s received from a local server
 * that writes as fast as it can, on Deno, Bun and Node, next to a bare
 * `fetch` body read of the same server as the ceiling; plus RSS growth over
 * 100k frames (the buffers are lent, so memory should stay flat).
 *
 * Run all runtimes: node --import tsx bench/client_throughput.ts
 * (each runtime runs this file again with --child PORT FRAME_BYTES)
 */
import { spawn, spawnSync } from "node:child_process";
import process from "node:process";
import { MjpegClient } from "../mod.ts";

interface Result {
  runtime: string;
  jpegBytes: number;
  framesPerSecond: number;
  megabytesPerSecond: number;
  fetchMegabytesPerSecond: number;
  rssGrowthMegabytes: number;
  heapGrowthMegabytes: number;
  frames: number;
  discardedFrames: number;
}

const REPS = 3;
const MEMORY_FRAMES = 100_000;
const BYTES_PER_REP = 1024 ** 3;
const MB = 1e6;

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** A full garbage collection where the runtime allows it, so RSS shows what is retained. */
function collectGarbage(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Reads `bytes` of the body with nothing but fetch: the ceiling for this runtime. */
async function fetchOnly(url: string, bytes: number): Promise<number> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const reader = response.body!.getReader();
  let got = 0;
  const started = performance.now();
  while (got < bytes) {
    const { value, done } = await reader.read();
    if (done) break;
    got += value.length;
  }
  const seconds = (performance.now() - started) / 1000;
  controller.abort();
  await reader.cancel().catch(() => {});
  return got / MB / seconds;
}

/** Runs the client for `frames` frames after a warm-up; returns rates and RSS growth. */
async function clientRun(url: string, frames: number) {
  const client = new MjpegClient(url, { stallTimeout: 30_000 });
  for (const b of client.requestBuffers(1 << 20, 64)) client.enqueueBuffer(b);
  client.start();
  // Long enough for heaps and socket buffers to reach their working size.
  const warmup = Math.min(20_000, frames);
  while (client.stats.frames < warmup) client.enqueueBuffer(await client.dequeueBuffer());
  collectGarbage();
  const before = client.stats;
  const { rss: rssBefore, heapUsed: heapBefore } = process.memoryUsage();
  const started = performance.now();
  const target = before.frames + frames;
  while (client.stats.frames < target) client.enqueueBuffer(await client.dequeueBuffer());
  const seconds = (performance.now() - started) / 1000;
  const after = client.stats;
  collectGarbage();
  const memory = process.memoryUsage();
  const rssGrowth = (memory.rss - rssBefore) / MB;
  const heapGrowth = (memory.heapUsed - heapBefore) / MB;
  await client.stop();
  return {
    framesPerSecond: (after.frames - before.frames) / seconds,
    megabytesPerSecond: (after.bytes - before.bytes) / MB / seconds,
    rssGrowth,
    heapGrowth,
    discarded: after.discardedFrames - before.discardedFrames,
  };
}

async function child(port: number, jpegBytes: number, partBytes: number): Promise<void> {
  const url = `http://127.0.0.1:${port}/`;
  const frames = Math.min(MEMORY_FRAMES, Math.floor(BYTES_PER_REP / partBytes));
  const fps: number[] = [], mbps: number[] = [], fetchMbps: number[] = [];
  const rss: number[] = [], heap: number[] = [];
  let discarded = 0;
  for (let rep = 0; rep < REPS; rep++) {
    fetchMbps.push(await fetchOnly(url, frames * partBytes));
    const r = await clientRun(url, frames);
    fps.push(r.framesPerSecond);
    mbps.push(r.megabytesPerSecond);
    rss.push(r.rssGrowth);
    heap.push(r.heapGrowth);
    discarded += r.discarded;
  }
  const result: Result = {
    runtime,
    jpegBytes,
    framesPerSecond: median(fps),
    megabytesPerSecond: median(mbps),
    fetchMegabytesPerSecond: median(fetchMbps),
    rssGrowthMegabytes: median(rss),
    heapGrowthMegabytes: median(heap),
    frames,
    discardedFrames: discarded,
  };
  console.log(JSON.stringify(result));
}

/** Starts the server process; resolves with its port and sizes. */
function startServer(frameBytes: number) {
  const server = spawn(
    "node",
    ["--import", "tsx", "bench/client_upstream.ts", String(frameBytes)],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  return new Promise<{ port: number; jpegBytes: number; partBytes: number; stop: () => void }>(
    (resolve) => {
      server.stdout.once("data", (line: Buffer) => {
        const info = JSON.parse(line.toString());
        resolve({ ...info, stop: () => server.stdin.end() });
      });
    },
  );
}

async function parent(): Promise<void> {
  const commands: Record<string, string[]> = {
    deno: ["deno", "run", "-A", "--v8-flags=--expose-gc", "bench/client_throughput.ts"],
    bun: ["bun", "bench/client_throughput.ts"],
    node: ["node", "--expose-gc", "--import", "tsx", "bench/client_throughput.ts"],
  };
  const rows: Result[] = [];
  // A 320x240 fixture frame, a typical 640x480-ish size, and a large 1080p-ish frame.
  for (const frameBytes of [0, 50_000, 250_000]) {
    const server = await startServer(frameBytes);
    for (const [name, command] of Object.entries(commands)) {
      const [exe, ...args] = command;
      const r = spawnSync(
        exe!,
        [
          ...args,
          "--child",
          String(server.port),
          String(server.jpegBytes),
          String(server.partBytes),
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
      );
      const line = r.stdout.trim().split("\n").pop();
      if (r.status !== 0 || !line) throw new Error(`${name} failed: ${r.stdout}`);
      rows.push(JSON.parse(line));
    }
    server.stop();
  }
  console.log(
    `MjpegClient reading a local server that writes as fast as it can; median of ${REPS} runs; MB = 10^6 bytes;\n` +
      "memory growth is measured after a garbage collection, over the frames of one run, after 20k frames of warm-up.\n",
  );
  console.log(
    "| runtime | JPEG size | frames/s | MB/s | runtime's fetch MB/s | client / fetch | RSS growth | heap growth | frames per run |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    console.log(
      `| ${r.runtime} | ${(r.jpegBytes / 1000).toFixed(1)} kB | ${
        Math.round(r.framesPerSecond)
      } | ${Math.round(r.megabytesPerSecond)} | ${Math.round(r.fetchMegabytesPerSecond)} | ${
        (r.megabytesPerSecond / r.fetchMegabytesPerSecond).toFixed(2)
      } | ${r.rssGrowthMegabytes.toFixed(1)} MB | ${
        r.heapGrowthMegabytes.toFixed(2)
      } MB | ${r.frames} |`,
    );
  }
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") {
  await child(Number(argv[1]), Number(argv[2]), Number(argv[3]));
  process.exit(0);
} else {
  await parent();
}
