/**
 * Churn benchmark: the full 20,000 joins (the test does 5,000), 1000 viewers at
 * once, with 5 steady, 20 stalled and 20 slow viewers, against a server on the
 * runtime running this script; the viewers in a separate Bun process. Prints
 * a markdown row: joins per second, the fps steady viewers got while the
 * source published, RSS before / peak / after (forced GC), and what was left.
 *
 *   bun bench/churn.ts [joins=20000] [concurrency=1000] [rounds=3]
 *   deno run -A bench/churn.ts;  node --import tsx bench/churn.ts
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { FrameHub } from "../src/server/frame_hub.ts";
import { mjpegApp } from "../src/hono/mjpeg_app.ts";
import { serve } from "../src/runtime/serve.ts";
import { fixtureFrames } from "../tests/helpers/fixtures.ts";
import { paddedJpeg } from "../tests/helpers/jpeg.ts";
import { exited } from "../tests/helpers/processes.ts";
import { runtimeName } from "../tests/helpers/runtime.ts";
import { publishFixtures } from "../tests/helpers/stack.ts";
import { sleep } from "../tests/helpers/wait.ts";
import { gcMethod, onLines, settledRssMb, trackLeaks } from "../tests/helpers/reliability_leaks.ts";

const joins = Number(process.argv[2] ?? 20_000);
const concurrency = Number(process.argv[3] ?? 1000);
const rounds = Number(process.argv[4] ?? 3);

const leaks = trackLeaks();
const hub = new FrameHub();
const publisher = publishFixtures(hub, 30, fixtureFrames.map((f) => paddedJpeg(f, 50_000)));
const server = await serve(mjpegApp({ streams: hub }), { port: 0, hostname: "127.0.0.1" });

/** One run of the load process; resolves with its JSON line once it has exited. */
async function load(args: number[], onReady: () => void = () => {}) {
  const child = spawn("bun", ["bench/churn_load.ts", String(server.port), ...args.map(String)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    onLines(child, (l) => {
      if (l === "ready") onReady();
      if (l.startsWith("{")) resolve(l);
    });
    child.once("exit", (code) => reject(new Error(`churn_load exited with ${code}`)));
  });
  child.stdin!.end("exit\n");
  await exited(child);
  return JSON.parse(line) as {
    joined: number;
    seconds: number;
    joinsPerSecond: number;
    watcherFps: number[];
    cut: number[];
    errors: number;
    errorCodes: Record<string, number>;
  };
}

async function idle(): Promise<void> {
  for (let i = 0; i < 200 && (hub.stats.viewers > 0 || server.activeStreams > 0); i++) {
    await sleep(50);
  }
}

await load([1000, concurrency, 0, 0, 0]); // warm-up
await idle();
const rssStart = await settledRssMb();
let rssPeak = rssStart;
const sampler = setInterval(
  () => rssPeak = Math.max(rssPeak, process.memoryUsage().rss / 1e6),
  200,
);
let published = 0;
const result = await load(
  [joins, concurrency, 5, 20, 20, 100_000],
  () => published = hub.stats.framesPublished,
);
const sourceFps = (hub.stats.framesPublished - published) / result.seconds;
clearInterval(sampler);
if (result.errors) console.error(`churn: connection errors ${JSON.stringify(result.errorCodes)}`);
await idle();
const rssEnd = await settledRssMb(1500);
// More rounds of the same churn (no stalled or slow viewers) tell a leak, which
// keeps growing, from memory the allocator kept after the peak, which does not.
const rssRounds = [rssEnd];
const heapRounds = [process.memoryUsage().heapUsed / 1e6];
for (let i = 1; i < rounds; i++) {
  await load([joins, concurrency, 0, 0, 0]);
  await idle();
  rssRounds.push(await settledRssMb(1500));
  heapRounds.push(process.memoryUsage().heapUsed / 1e6);
}
const left =
  `${hub.stats.viewers} viewers, ${server.activeStreams} streams, ${leaks.pendingTimers} timers, ${leaks.abortListeners} abort listeners`;
publisher.stop();
await server.close();
leaks.restore();

console.log(
  `churn on ${runtimeName}: ${joins} joins, ${concurrency} at once, 30 fps source of ~50 KB frames, ` +
    `5 steady + 20 stalled + 20 slow viewers, load in a Bun process; GC: ${gcMethod.how}\n`,
);
console.log(
  "| runtime | joins | joins/s | source fps during churn | steady viewers fps | RSS before | RSS peak | RSS after | RSS (JS heap) after each round | left after | cut / errors |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |");
console.log(
  `| ${runtimeName} | ${result.joined} | ${result.joinsPerSecond} | ${sourceFps.toFixed(1)} | ${
    Math.min(...result.watcherFps)
  } | ${rssStart.toFixed(0)} MB | ${rssPeak.toFixed(0)} MB | ${rssEnd.toFixed(0)} MB (${
    ((rssEnd / rssStart - 1) * 100).toFixed(1)
  } %) | ${
    rssRounds.map((r, i) => `${r.toFixed(0)} (${heapRounds[i]!.toFixed(0)})`).join(", ")
  } MB | ${left} | ${result.cut.join("/")} / ${result.errors} |`,
);
process.exit(0);
