/**
 * The client's read rate next to curl's and ffmpeg's, from the same local
 * multipart server in the same run: the pipe's speed as a ratio to the
 * fastest reader there is. The server is its own process
 * (bench/client_upstream.ts), writing pre-built parts as fast as the socket
 * takes them, so it costs little and every reader gets the same one.
 *
 * Rounds go through every reader in turn (curl, ffmpeg, the client on Deno,
 * Bun and Node), so a busy spell on the shared machine slows all alike; the
 * table gives each reader's median and the median of its per-round ratios
 * to curl. Each client run also reports its RSS and heap growth after warm-up
 * (with a full garbage collection before and after), to show memory flat.
 *
 * Over http and https (a certificate made by openssl for the run; curl and
 * the client are given it as their CA, ffmpeg does not check).
 *
 * Run: node --import tsx bench/client_vs_curl.ts [ROUNDS] [SECONDS] [FRAME_BYTES,…] [http,https]
 * (each runtime runs this file again with --child URL SECONDS [CA_FILE])
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import { MjpegClient } from "../mod.ts";
import {
  cpuSeconds,
  curl,
  makeCertificate,
  MB,
  median,
  type Reading,
  startServer,
} from "./upstream_readers.ts";

interface ClientResult {
  megabytesPerSecond: number;
  cpuSecondsPerGigabyte: number;
  rssGrowthMegabytes: number;
  heapGrowthMegabytes: number;
}

/** A full garbage collection where the runtime allows it, so memory shows what is retained. */
function collectGarbage(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

/** One client run: 1 s of warm-up, then `seconds` measured. */
async function child(url: string, seconds: number, caFile: string | undefined): Promise<void> {
  const client = new MjpegClient(url, {
    stallTimeout: 30_000,
    ...(caFile ? { ca: readFileSync(caFile, "utf8") } : {}),
  });
  for (const buffer of client.requestBuffers(1 << 20, 64)) client.enqueueBuffer(buffer);
  client.start();
  // What an application's loop does: take a frame, give the buffer back.
  const readFor = async (ms: number) => {
    const end = performance.now() + ms;
    let frames = 0;
    while (performance.now() < end || frames === 0) {
      client.enqueueBuffer(await client.dequeueBuffer());
      frames++;
    }
  };
  await readFor(1000);
  collectGarbage();
  const { rss, heapUsed } = process.memoryUsage();
  const bytes = client.stats.bytes;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await readFor(seconds * 1000);
  const elapsed = (performance.now() - started) / 1000;
  const read = client.stats.bytes - bytes;
  const used = process.cpuUsage(cpu);
  await client.stop();
  collectGarbage();
  const after = process.memoryUsage();
  const result: ClientResult = {
    megabytesPerSecond: read / MB / elapsed,
    cpuSecondsPerGigabyte: (used.user + used.system) / 1e6 / (read / 1e9),
    rssGrowthMegabytes: (after.rss - rss) / MB,
    heapGrowthMegabytes: (after.heapUsed - heapUsed) / MB,
  };
  console.log(JSON.stringify(result));
}

/**
 * ffmpeg copying the stream (no decoding) to nothing: frames counted from its
 * progress reports as they arrive, between the first and the last report,
 * so its start-up is not counted.
 */
function ffmpeg(
  url: string,
  seconds: number,
  partBytes: number,
  curlRate: number,
): Promise<Reading> {
  // Enough frames for about `seconds` at a third of curl's rate; it stops by itself.
  const frames = Math.max(100, Math.round((curlRate * MB * seconds) / 3 / partBytes));
  const child = spawn("/usr/bin/time", [
    "-f",
    "%U %S",
    "ffmpeg",
    "-hide_banner",
    "-nostats",
    "-loglevel",
    "error",
    "-f",
    "mpjpeg",
    "-i",
    url,
    "-c",
    "copy",
    "-frames:v",
    String(frames),
    "-f",
    "null",
    "-stats_period",
    "0.2",
    "-progress",
    "pipe:1",
    "-",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => stderr += chunk.toString());
  const reports: { at: number; frames: number }[] = [];
  let text = "";
  child.stdout.on("data", (chunk: Buffer) => {
    text += chunk.toString();
    for (const match of text.matchAll(/^frame=(\d+)$/gm)) {
      reports.push({ at: performance.now(), frames: Number(match[1]) });
    }
    text = text.slice(text.lastIndexOf("\n") + 1);
  });
  return new Promise((resolve) => {
    child.on("close", () => {
      const first = reports[0], last = reports.at(-1);
      const rate = first && last && last.at > first.at
        ? ((last.frames - first.frames) * partBytes) / MB / ((last.at - first.at) / 1000)
        : NaN;
      resolve({
        megabytesPerSecond: rate,
        cpuSecondsPerGigabyte: cpuSeconds(stderr) / ((frames * partBytes) / 1e9),
      });
    });
  });
}

const CLIENTS: Record<string, string[]> = {
  deno: ["deno", "run", "-A", "--v8-flags=--expose-gc", "bench/client_vs_curl.ts"],
  bun: ["bun", "bench/client_vs_curl.ts"],
  node: ["node", "--expose-gc", "--import", "tsx", "bench/client_vs_curl.ts"],
};

function client(
  name: string,
  url: string,
  seconds: number,
  caFile: string | undefined,
): ClientResult {
  const [exe, ...args] = CLIENTS[name]!;
  const r = spawnSync(
    exe!,
    [...args, "--child", url, String(seconds), ...(caFile ? [caFile] : [])],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const line = r.stdout.trim().split("\n").pop();
  if (r.status !== 0 || !line) throw new Error(`${name} failed: ${r.stdout}`);
  return JSON.parse(line);
}

async function parent(
  rounds: number,
  seconds: number,
  sizes: number[],
  schemes: string[],
): Promise<void> {
  console.log(
    `Readers of one local multipart server (a separate Node process), ${rounds} rounds of about ${seconds} s each, ` +
      "readers in turn within a round; medians; MB = 10^6 bytes. Ratios are the median of the per-round ratios " +
      "to curl: of the rates, and of curl's CPU time per GB to the reader's (what the rates would be if both " +
      "were held back by their own CPU alone). RSS and heap growth: the client's, over its measured run.\n",
  );
  console.log(
    "| scheme | JPEG size | reader | MB/s | MB/s (min–max) | rate ÷ curl's | CPU s per GB | curl's CPU ÷ reader's | RSS growth | heap growth |",
  );
  console.log("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const tls = schemes.includes("https") ? makeCertificate() : undefined;
  for (const scheme of schemes) {
    for (const frameBytes of sizes) {
      const https = scheme === "https";
      const caFile = https ? tls!.certFile : undefined;
      const server = await startServer(frameBytes, https ? tls : undefined);
      const url = `${scheme}://127.0.0.1:${server.port}/`;
      const readings: Record<string, Reading[]> = {};
      const rateRatios: Record<string, number[]> = {};
      const cpuRatios: Record<string, number[]> = {};
      const memory: Record<string, ClientResult[]> = {};
      for (let round = 0; round < rounds; round++) {
        const base = curl(url, seconds, caFile);
        const note = (name: string, reading: Reading) => {
          (readings[name] ??= []).push(reading);
          (rateRatios[name] ??= []).push(reading.megabytesPerSecond / base.megabytesPerSecond);
          (cpuRatios[name] ??= []).push(base.cpuSecondsPerGigabyte / reading.cpuSecondsPerGigabyte);
        };
        note("curl", base);
        note(
          "ffmpeg -c copy",
          await ffmpeg(url, seconds, server.partBytes, base.megabytesPerSecond),
        );
        for (const name of Object.keys(CLIENTS)) {
          const result = client(name, url, seconds, caFile);
          note(`MjpegClient (${name})`, result);
          (memory[name] ??= []).push(result);
        }
      }
      server.stop();
      for (const [name, list] of Object.entries(readings)) {
        const rates = list.map((r) => r.megabytesPerSecond);
        const m = memory[/\((\w+)\)/.exec(name)?.[1] ?? ""];
        console.log(
          `| ${scheme} | ${(server.jpegBytes / 1000).toFixed(1)} kB | ${name} | ${
            median(rates).toFixed(0)
          } | ${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)} | ${
            median(rateRatios[name]!).toFixed(2)
          } | ${median(list.map((r) => r.cpuSecondsPerGigabyte)).toFixed(2)} | ${
            median(cpuRatios[name]!).toFixed(2)
          } | ${m ? `${median(m.map((x) => x.rssGrowthMegabytes)).toFixed(1)} MB` : ""} | ${
            m ? `${median(m.map((x) => x.heapGrowthMegabytes)).toFixed(2)} MB` : ""
          } |`,
        );
      }
    }
  }
  if (tls) rmSync(dirname(tls.certFile), { recursive: true });
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") {
  await child(argv[1]!, Number(argv[2]), argv[3]);
  process.exit(0);
} else {
  await parent(
    Number(argv[0] ?? 5),
    Number(argv[1] ?? 4),
    (argv[2] ?? "40000").split(",").map(Number),
    (argv[3] ?? "http,https").split(","),
  );
}
