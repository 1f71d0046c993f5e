/**
 * Fan-out benchmark: one 30 fps source of ~50 KB frames served to N viewers
 * (N = 10, 100, 500, 1000) on loopback, the viewers in a separate load process.
 * Measures delivered fps per viewer, p50/p99 latency (X-Timestamp → part fully
 * received), and the server's CPU (% of one core) and peak RSS from /proc.
 * Prints a markdown table.
 *
 * With `outage` the source stops 2 s after the server starts, so the window
 * (from 3 s) is all outage: the keepalive (one part a second) until the
 * offline card takes over at 7 s. Its fps column is then parts per viewer
 * per second, and latency is meaningless (a keepalive is an old frame).
 * `outage-quiet` is the same outage with the keepalive and the card off:
 * viewers get nothing, the baseline of what the keepalive costs.
 *
 *   bun bench/fanout_run.ts [runtimes=bun,deno] [viewers=10,100,500,1000] [seconds=10] [outage|outage-quiet]
 *   (runtimes: bun, deno, deno-semi2 = Deno with a 2 MB V8 semi-space, node)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";

const runtimes = (process.argv[2] ?? "bun,deno").split(",");
const counts = (process.argv[3] ?? "10,100,500,1000").split(",").map(Number);
const seconds = Number(process.argv[4] ?? 10);
const mode = process.argv[5] ?? "";
const outage = mode === "outage" || mode === "outage-quiet";
const commands: Record<string, string[]> = {
  bun: ["bun", "bench/fanout_server.ts"],
  deno: ["deno", "run", "-A", "bench/fanout_server.ts"],
  // V8 grows its young generation under this allocation rate; capping it trades
  // nothing measurable here for ~45 MB less RSS (worth it on a Raspberry Pi).
  "deno-semi2": [
    "deno",
    "run",
    "-A",
    "--v8-flags=--max-semi-space-size=2",
    "bench/fanout_server.ts",
  ],
  node: ["node", "--import", "tsx", "bench/fanout_server.ts"],
};
const TICKS = 100; // USER_HZ on Linux

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Resolves with each stdout line of `child` until `until` returns true for one. */
function waitLine(child: ChildProcess, until: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (until(line)) {
          child.stdout!.off("data", onData);
          return resolve(line);
        }
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${child.spawnargs.join(" ")} exited ${code}`)));
  });
}

interface Row {
  runtime: string;
  viewers: number;
  fpsP50: number;
  fpsMin: number;
  latencyP50: number;
  latencyP99: number;
  cpu: number;
  rss: number;
  loadCpu: number;
}

async function measure(runtime: string, viewers: number): Promise<Row> {
  const [command, ...args] = commands[runtime]!;
  const server = spawn(command!, [
    ...args,
    ...(outage ? ["50000", "30", "2", mode === "outage-quiet" ? "quiet" : ""] : []),
  ], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const port = Number((await waitLine(server, (l) => l.startsWith("port "))).slice(5));
    const load = spawn("bun", [
      "bench/fanout_load.ts",
      String(port),
      String(viewers),
      "3",
      String(seconds),
    ], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await waitLine(load, (l) => l === "measuring");
    const cpuStart = cpuTicks(server.pid!);
    const loadStart = cpuTicks(load.pid!);
    const started = performance.now();
    let rss = rssMb(server.pid!);
    const sampler = setInterval(() => rss = Math.max(rss, rssMb(server.pid!)), 250);
    const line = await waitLine(load, (l) => l.startsWith("{"));
    clearInterval(sampler);
    const window = (performance.now() - started) / 1000;
    const cpu = (cpuTicks(server.pid!) - cpuStart) / TICKS / window * 100;
    const loadCpu = (cpuTicks(load.pid!) - loadStart) / TICKS / window * 100;
    return { runtime, viewers, ...JSON.parse(line), cpu, rss, loadCpu };
  } finally {
    server.kill("SIGKILL");
  }
}

const rows: Row[] = [];
for (const runtime of runtimes) {
  for (const viewers of counts) rows.push(await measure(runtime, viewers));
}
console.log(
  outage
    ? `fan-out during an outage: the source stopped 1 s before a ${seconds} s window, ${
      mode === "outage-quiet" ? "keepalive and card off" : "keepalive then offline card"
    }\n`
    : `fan-out: one 30 fps source of ~50 KB frames, viewers in a separate Bun process, ${seconds} s window\n`,
);
console.log(
  "| runtime | viewers | fps per viewer (p50 / min) | latency p50 | latency p99 | server CPU | server RSS | load CPU |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(
    `| ${r.runtime} | ${r.viewers} | ${r.fpsP50.toFixed(1)} / ${r.fpsMin.toFixed(1)} | ` +
      // During an outage a part is an old frame or a card: no latency to tell.
      `${outage ? "-" : `${r.latencyP50.toFixed(0)} ms`} | ${
        outage ? "-" : `${r.latencyP99.toFixed(0)} ms`
      } | ${r.cpu.toFixed(0)} % | ${r.rss.toFixed(0)} MB | ${r.loadCpu.toFixed(0)} % |`,
  );
}
