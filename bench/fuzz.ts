/**
 * The decoder fuzzer, a million inputs: the mutation fuzzer of
 * tests/reliability_fuzz.test.ts (tests/helpers/fuzz.ts) run in worker
 * threads that a watchdog in the main thread can stop, so even an input that
 * loops forever is caught and named. Prints a markdown table; exits 1 on any
 * violation or hang, 3 when the wall-clock bound stops it short.
 *
 *   deno run -A bench/fuzz.ts [--inputs 1000000] [--seconds 1200] [--seed N]
 *     [--workers 1] [--verify bytes|sha256] [--hang-ms 10000] [--hang-at N]
 *   bun bench/fuzz.ts ...        node --import tsx bench/fuzz.ts ...
 *
 * To reproduce a failure: the seed and the input number it prints, e.g.
 * `--seed 123 --from 4567 --inputs 1`.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { Fuzzer, type Outcome } from "../tests/helpers/fuzz.ts";
import { loadCorpus } from "../tests/helpers/fuzz_corpus.ts";

/** What the main thread asks of a worker. */
interface Job {
  seed: number;
  from: number;
  inputs: number;
  step: number;
  seconds: number;
  verify: "bytes" | "sha256";
  /** An input to spin on forever instead of running (to see the watchdog work), or -1. */
  hangAt: number;
  /** [0]: the input being run now, [1]: 1 while running. */
  shared: Int32Array;
}

/** What a worker reports when it stops. */
interface Report {
  done: number;
  ms: number;
  slowest: number;
  slowestInput: number;
  held: number;
  largest: number;
  required: number;
  delivered: number;
  gaveUp: number;
  bytes: number;
  violation: string | undefined;
}

const limits = { maxFrameSize: 32768, maxHeaderSize: 4096, timeLimitMs: 1000 };

async function work(job: Job): Promise<Report> {
  const fuzzer = new Fuzzer(await loadCorpus(), { ...limits, verify: job.verify });
  const report: Report = {
    done: 0,
    ms: 0,
    slowest: 0,
    slowestInput: -1,
    held: 0,
    largest: 0,
    required: 0,
    delivered: 0,
    gaveUp: 0,
    bytes: 0,
    violation: undefined,
  };
  const t0 = performance.now();
  const end = job.from + job.inputs;
  for (let i = job.from; i < end; i += job.step) {
    Atomics.store(job.shared, 0, i);
    while (i === job.hangAt) Atomics.load(job.shared, 0);
    const o: Outcome = fuzzer.run(job.seed, i);
    report.done++;
    report.bytes += o.inputBytes;
    report.required += o.required;
    report.delivered += o.delivered;
    if (o.protocolError) report.gaveUp++;
    if (o.ms > report.slowest) {
      report.slowest = o.ms;
      report.slowestInput = i;
    }
    report.held = Math.max(report.held, o.held);
    report.largest = Math.max(report.largest, o.largestFrame);
    if (o.violation) {
      report.violation = o.violation;
      break;
    }
    if ((report.done & 1023) === 0 && performance.now() - t0 > job.seconds * 1000) break;
  }
  report.ms = performance.now() - t0;
  Atomics.store(job.shared, 1, 0);
  return report;
}

function option(name: string, fallback: number): number {
  const args = globalThis.process?.argv ?? [];
  const at = args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`expected --${name} to be a whole number, got ${args[at + 1]}`);
    process.exit(2);
  }
  return value;
}

function runtime(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun) return `Bun ${g.Bun.version}`;
  return `Node ${process.version}`;
}

async function main(): Promise<void> {
  const inputs = option("inputs", 1_000_000);
  const seconds = option("seconds", 1200);
  const workers = Math.max(1, option("workers", 1));
  const seed = option("seed", Math.floor(Math.random() * 2 ** 31));
  const from = option("from", 0);
  const hangMs = option("hang-ms", 10_000);
  const hangAt = option("hang-at", -1 >>> 0);
  const verify = process.argv.includes("sha256") ? "sha256" : "bytes";
  console.error(
    `fuzz: ${runtime()}, seed ${seed}, ${inputs} inputs, ${workers} worker(s), bound ${seconds} s`,
  );
  const t0 = performance.now();
  const jobs = Array.from({ length: workers }, (_, w) => {
    const shared = new Int32Array(new SharedArrayBuffer(8));
    Atomics.store(shared, 0, from + w);
    Atomics.store(shared, 1, 1);
    const job: Job = {
      seed,
      from: from + w,
      inputs: Math.max(0, inputs - w),
      step: workers,
      seconds,
      verify,
      hangAt,
      shared,
    };
    const worker = new Worker(new URL("./fuzz_worker.mjs", import.meta.url), { workerData: job });
    const report = new Promise<Report>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    return { job, worker, report };
  });
  // The watchdog: an input running longer than --hang-ms is a hang.
  const seen = jobs.map(() => ({ input: -1, since: performance.now() }));
  const hung = await new Promise<string | undefined>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      jobs.forEach((j, w) => {
        const input = Atomics.load(j.job.shared, 0);
        if (input !== seen[w]!.input) seen[w] = { input, since: now };
        else if (Atomics.load(j.job.shared, 1) === 1 && now - seen[w]!.since > hangMs) {
          clearInterval(timer);
          resolve(`seed ${seed} input ${input} ran over ${hangMs} ms: a hang`);
        }
      });
      if (now - t0 > (seconds + 60) * 1000) {
        clearInterval(timer);
        resolve(`the run passed its bound of ${seconds} s by a minute`);
      }
    }, 200);
    Promise.all(jobs.map((j) => j.report)).then(() => {
      clearInterval(timer);
      resolve(undefined);
    }, (error) => {
      clearInterval(timer);
      resolve(`a worker failed: ${error?.stack ?? error}`);
    });
  });
  if (hung) {
    for (const j of jobs) await j.worker.terminate();
    console.error(`fuzz: FAILED: ${hung}`);
    process.exit(1);
  }
  const reports = await Promise.all(jobs.map((j) => j.report));
  const wall = (performance.now() - t0) / 1000;
  const sum = (f: (r: Report) => number) => reports.reduce((n, r) => n + f(r), 0);
  const max = (f: (r: Report) => number) => Math.max(...reports.map(f));
  const done = sum((r) => r.done);
  const slowest = reports.reduce((a, b) => (b.slowest > a.slowest ? b : a));
  console.log(
    "| runtime | inputs | seconds | inputs/s | MB fed | slowest input | most held back | largest frame out | frames out | frames recovered after damage | gave up (MjpegProtocolError) | violations |",
  );
  console.log("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
  const violations = reports.filter((r) => r.violation).length;
  console.log(
    `| ${runtime()}${workers > 1 ? ` (${workers} workers)` : ""} | ${done.toLocaleString("en")} | ${
      wall.toFixed(0)
    } | ${Math.round(done / wall).toLocaleString("en")} | ${
      (sum((r) => r.bytes) / 1e6).toFixed(0)
    } | ${slowest.slowest.toFixed(1)} ms (input ${slowest.slowestInput}) | ${
      max((r) => r.held)
    } B | ${max((r) => r.largest)} B | ${sum((r) => r.delivered).toLocaleString("en")} | ${
      sum((r) => r.required).toLocaleString("en")
    } | ${sum((r) => r.gaveUp).toLocaleString("en")} | ${violations} |`,
  );
  console.log(
    `\nseed ${seed}; maxFrameSize ${limits.maxFrameSize}, maxHeaderSize ${limits.maxHeaderSize}; ` +
      `frames identified by ${verify === "sha256" ? "SHA-256" : "byte compare"}`,
  );
  for (const r of reports) if (r.violation) console.error(`fuzz: FAILED: ${r.violation}`);
  if (violations > 0) process.exit(1);
  if (done < inputs) {
    console.error(`fuzz: the ${seconds} s bound stopped the run after ${done} of ${inputs} inputs`);
    process.exit(3);
  }
  process.exit(0);
}

if (isMainThread) {
  await main();
} else {
  parentPort!.postMessage(await work(workerData as Job));
}
