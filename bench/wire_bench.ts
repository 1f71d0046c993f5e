/**
 * Wire-format throughput: how fast the decoder splits ~50 KB JPEG frames fed
 * in 64 KiB chunks, for the three shapes MJPEG takes, and how fast the encoder
 * writes parts. Runs unchanged on Deno, Bun and Node; prints one markdown
 * table for the runtime it runs on.
 *
 *   deno run -A bench/wire_bench.ts     bun bench/wire_bench.ts
 */
import { readFileSync } from "node:fs";
import {
  encodeMjpegPart,
  type FrameSink,
  MjpegDecoderStream,
  MjpegParser,
} from "../src/wire/mod.ts";

const runtime = "Deno" in globalThis
  ? `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
  : "Bun" in globalThis
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : `Node ${process.version}`;

const jpegs = [1, 2, 3, 4].map((i) =>
  new Uint8Array(readFileSync(new URL(`./fixtures/hd-${i}.jpg`, import.meta.url)))
);
const FRAMES = 200; // ~10 MB per pass
const CHUNK = 64 * 1024;
const text = new TextEncoder();

function build(part: (jpeg: Uint8Array) => Uint8Array[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < FRAMES; i++) pieces.push(...part(jpegs[i % jpegs.length]!));
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    all.set(p, at);
    at += p.length;
  }
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < total; i += CHUNK) chunks.push(all.slice(i, i + CHUNK));
  return chunks;
}

const withLength = build((j) => [
  text.encode(
    `--boundarydonotcross\r\nContent-Type: image/jpeg\r\nContent-Length: ${j.length}\r\n\r\n`,
  ),
  j,
  text.encode("\r\n"),
]);
const withoutLength = build((j) => [
  text.encode("--boundarydonotcross\r\nContent-Type: image/jpeg\r\n\r\n"),
  j,
  text.encode("\r\n"),
]);
const raw = build((j) => [j]);

const bytesOf = (chunks: Uint8Array[]) => chunks.reduce((n, c) => n + c.length, 0);

/** Runs `pass` for at least `ms` per round, 7 rounds; returns the median seconds per pass. */
async function measure(pass: () => Promise<void> | void, ms = 400): Promise<number> {
  for (let i = 0; i < 3; i++) await pass(); // warm up the JIT
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      await pass();
      n++;
      now = performance.now();
    }
    rounds.push((now - start) / 1000 / n);
  }
  rounds.sort((a, b) => a - b);
  return rounds[3]!;
}

const nullSink: FrameSink = {
  frameStart() {},
  frameData() {},
  frameEnd() {},
  frameAbort() {},
};

function parserPass(chunks: Uint8Array[], contentType: string) {
  return () => {
    const parser = new MjpegParser(nullSink, { contentType });
    for (const c of chunks) parser.push(c);
    parser.end();
    if (parser.stats.frames !== FRAMES) throw new Error(`parsed ${parser.stats.frames} frames`);
  };
}

function streamPass(chunks: Uint8Array[], contentType: string) {
  return async () => {
    const decoder = new MjpegDecoderStream({ contentType });
    const writer = decoder.writable.getWriter();
    const reader = decoder.readable.getReader();
    const reading = (async () => {
      let n = 0;
      while (!(await reader.read()).done) n++;
      return n;
    })();
    for (const c of chunks) await writer.write(c);
    await writer.close();
    const n = await reading;
    if (n !== FRAMES) throw new Error(`decoded ${n} frames`);
  };
}

const rows: string[][] = [];
const cases: [string, Uint8Array[], string, number][] = [
  [
    "(a) multipart, Content-Length",
    withLength,
    "multipart/x-mixed-replace;boundary=boundarydonotcross",
    2,
  ],
  [
    "(b) multipart, no Content-Length",
    withoutLength,
    "multipart/x-mixed-replace;boundary=boundarydonotcross",
    1,
  ],
  ["(c) raw JPEGs (marker walk)", raw, "image/jpeg", 0.5],
];
for (const [name, chunks, contentType, target] of cases) {
  const bytes = bytesOf(chunks);
  for (
    const [api, pass] of [
      ["MjpegDecoderStream", streamPass(chunks, contentType)],
      ["MjpegParser (no copy)", parserPass(chunks, contentType)],
    ] as const
  ) {
    const seconds = await measure(pass);
    rows.push([
      name,
      api,
      (bytes / seconds / 1e9).toFixed(2),
      Math.round(FRAMES / seconds).toLocaleString("en-US"),
      api === "MjpegDecoderStream" ? `≥ ${target}` : "",
    ]);
  }
}

{
  const frame = {
    data: jpegs[0]!,
    headers: new Headers({ "X-Timestamp": "1700000000.000" }),
    sequence: 0,
    timestamp: 0,
  };
  const seconds = await measure(() => {
    for (let i = 0; i < FRAMES; i++) encodeMjpegPart(frame, "b");
  });
  rows.push([
    "encoder: encodeMjpegPart",
    "one buffer per part",
    (jpegs[0]!.length * FRAMES / seconds / 1e9).toFixed(2),
    Math.round(FRAMES / seconds).toLocaleString("en-US"),
    "",
  ]);
}

console.log(
  `${runtime}; ~50 KB frames (1280x720 testsrc2), ${CHUNK / 1024} KiB chunks, median of 7 rounds\n`,
);
console.log("| case | API | GB/s | frames/s | target GB/s |");
console.log("| --- | --- | ---: | ---: | ---: |");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
