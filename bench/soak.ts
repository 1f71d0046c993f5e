/**
 * The hour-long soak (not in CI): a 30 fps source, 50 viewers, RSS and each
 * viewer's delivered fps logged every 10 s; exits 1 if RSS grows more than
 * 10 % over its warm-up maximum or a viewer's fps drops below 90 % of the source.
 *
 *   bun bench/soak.ts [--duration=3600] [--viewers=50] [--fps=30] [--interval=10]
 *   (also: deno run -A bench/soak.ts, node --import tsx bench/soak.ts)
 */
import process from "node:process";
import { runSoak } from "./soak_run.ts";

const flags = new Map(
  process.argv.slice(2).map((a) => {
    const match = /^--(\w+)=(\d+(?:\.\d+)?)$/.exec(a);
    if (!match) {
      console.error(`soak: expected flags like --duration=3600, got ${JSON.stringify(a)}`);
      process.exit(2);
    }
    return [match[1]!, Number(match[2])] as const;
  }),
);
for (const name of flags.keys()) {
  if (!["duration", "viewers", "fps", "interval"].includes(name)) {
    console.error(`soak: expected --duration, --viewers, --fps or --interval, got --${name}`);
    process.exit(2);
  }
}
const seconds = flags.get("duration") ?? 3600;
const result = await runSoak({
  seconds,
  viewers: flags.get("viewers") ?? 50,
  fps: flags.get("fps") ?? 30,
  interval: flags.get("interval") ?? 10,
});
const fpsMin = Math.min(...result.samples.map((s) => s.fpsMin));
console.log(
  `\nsoak on ${result.runtime}, ${seconds} s, 30 fps source of ~50 KB frames, 50 viewers\n`,
);
const ratio = Math.min(...result.samples.map((s) => s.fpsMin / s.publishedFps));
const published = result.samples.map((s) => s.publishedFps);
const last = result.samples[result.samples.length - 1];
console.log(
  "| runtime | duration | RSS warm-up max → max → last | JS heap warm-up max → max | source fps (min / median) | lowest viewer fps | lowest viewer / published | result |",
);
console.log("| --- | ---: | --- | --- | --- | ---: | ---: | --- |");
const growth = ((result.rssMax / result.rssBaseline - 1) * 100).toFixed(1);
console.log(
  `| ${result.runtime} | ${seconds} s | ${result.rssBaseline} → ${result.rssMax} → ${last?.rssMb} MB (+${growth} %) | ` +
    `${result.heapBaseline} → ${result.heapMax} MB | ${Math.min(...published)} / ${
      published.sort((a, b) => a - b)[published.length >> 1]
    } | ${fpsMin} | ${(ratio * 100).toFixed(1)} % | ${result.failures.length ? "FAIL" : "pass"} |`,
);
for (const failure of result.failures) console.error(`soak: ${failure}`);
process.exit(result.failures.length ? 1 : 0);
