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
console.log(
  "| runtime | duration | RSS after warm-up | RSS max | RSS growth | lowest viewer fps (10 s window) | result |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
const growth = ((result.rssMax / result.rssBaseline - 1) * 100).toFixed(1);
console.log(
  `| ${result.runtime} | ${seconds} s | ${result.rssBaseline} MB | ${result.rssMax} MB | ${growth} % | ${fpsMin} | ${
    result.failures.length ? "FAIL" : "pass"
  } |`,
);
for (const failure of result.failures) console.error(`soak: ${failure}`);
process.exit(result.failures.length ? 1 : 0);
