/**
 * What the built-in test pattern costs: drawing plus JPEG encoding per frame,
 * with our encoder and with jpeg-js (which rebuilds its tables on every call),
 * at three sizes; then the default source (640x480 at 10 fps) run for a few
 * seconds: frames delivered and CPU used. Prints a markdown table.
 *
 *   deno run -A bench/sources_test_pattern.ts
 *   bun bench/sources_test_pattern.ts
 *   node --import tsx bench/sources_test_pattern.ts
 */
import process from "node:process";
import * as jpeg from "jpeg-js";
import { testPattern, TestPatternRenderer } from "../src/sources/test_pattern.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function time(fn: () => void, runs: number): number {
  for (let i = 0; i < 5; i++) fn(); // warm up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

console.log(`runtime: ${runtime}\n`);
console.log(
  "| size | render + encode (ms, median) | frame size | jpeg-js, a same-size image (ms, median) | ratio |",
);
console.log("| --- | --- | --- | --- | --- |");
for (const [width, height] of [[320, 240], [640, 480], [1280, 720]] as const) {
  const renderer = new TestPatternRenderer({ width, height, quality: 75 });
  let n = 0, bytes = 0;
  const ours = time(() => bytes = renderer.render(n++, Date.now()).length, 30);
  // jpeg-js on a same-size image: its cost is mostly the tables it rebuilds per call.
  const rgba = new Uint8Array(width * height * 4).map((
    _,
    i,
  ) => (i % 4 === 3 ? 255 : (i * 7) & 0xff));
  const theirs = time(() => jpeg.encode({ data: rgba, width, height }, 75), 10);
  console.log(
    `| ${width}x${height} | ${ours.toFixed(1)} | ${(bytes / 1024).toFixed(0)} KiB | ${
      theirs.toFixed(1)
    } | ${(theirs / ours).toFixed(1)}x |`,
  );
}

// The default source, paced: does it keep 10 fps, and what does it cost?
const seconds = 5;
const before = process.cpuUsage();
const started = performance.now();
let frames = 0;
for await (const _ of testPattern().frames(AbortSignal.timeout(seconds * 1000))) frames++;
const elapsed = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(before);
const cpuPercent = ((cpu.user + cpu.system) / 1e6 / elapsed) * 100;
console.log(
  `\ndefault source (640x480 at 10 fps) for ${seconds} s: ${
    (frames / elapsed).toFixed(1)
  } fps delivered, ${cpuPercent.toFixed(0)}% of one core`,
);
