/**
 * What viewers that never read cost the server, and whether it gives the
 * memory back when they leave. Runs the real `mjpeg serve` (test pattern,
 * 640x480 at 10 fps) on each runtime, opens N connections that send a stream
 * request and never read a byte, holds them, closes them, and reads the
 * server's RSS from /proc before, while held, and after.
 *
 *   bun bench/stalled_viewers.ts [runtimes=deno,bun,node] [viewers=2000] [holdSeconds=20] [-- extra serve flags]
 *
 * Pass `-- --viewer-timeout 0` to keep stalled viewers for the whole hold
 * (the default timeout of 30 s would close them during a longer one).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import process from "node:process";

const dash = process.argv.indexOf("--");
const args = dash < 0 ? process.argv.slice(2) : process.argv.slice(2, dash);
const extra = dash < 0 ? [] : process.argv.slice(dash + 1);
const runtimes = (args[0] ?? "deno,bun,node").split(",");
const viewers = Number(args[1] ?? 2000);
const holdSeconds = Number(args[2] ?? 20);

const commands: Record<string, string[]> = {
  deno: ["deno", "run", "-A", "src/cli.ts"],
  bun: ["bun", "src/cli.ts"],
  node: ["node", "--import", "tsx", "src/cli.ts"],
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

function listening(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(log);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code}:\n${log}`)));
  });
}

async function stats(port: number): Promise<{ viewers: number; viewersStalled?: number }> {
  const response = await fetch(`http://127.0.0.1:${port}/stats?summary=1`);
  return await response.json() as { viewers: number; viewersStalled?: number };
}

function stalledViewer(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write("GET /stream.mjpg HTTP/1.1\r\nHost: bench\r\n\r\n");
      resolve(socket);
    });
    // Never read: the kernel's buffers fill, then the server's writes stall.
    socket.pause();
    socket.on("error", () => {});
  });
}

interface Row {
  runtime: string;
  before: number;
  held: number;
  perViewerKb: number;
  connected: number;
  after: number;
  left: number;
}

async function measure(runtime: string): Promise<Row> {
  const [command, ...rest] = commands[runtime]!;
  const server = spawn(command!, [...rest, "serve", "--port", "0", ...extra], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  try {
    const port = await listening(server);
    await sleep(3000);
    const before = rssMb(server.pid!);
    const sockets: Socket[] = [];
    for (let i = 0; i < viewers; i += 100) {
      const batch = Math.min(100, viewers - i);
      sockets.push(...await Promise.all(Array.from({ length: batch }, () => stalledViewer(port))));
    }
    await sleep(holdSeconds * 1000);
    const held = rssMb(server.pid!);
    const connected = (await stats(port)).viewers;
    for (const socket of sockets) socket.destroy();
    await sleep(10_000);
    return {
      runtime,
      before,
      held,
      perViewerKb: (held - before) * 1024 / viewers,
      connected,
      after: rssMb(server.pid!),
      left: (await stats(port)).viewers,
    };
  } finally {
    server.kill("SIGKILL");
  }
}

const rows: Row[] = [];
for (const runtime of runtimes) rows.push(await measure(runtime));
console.log(
  `${viewers} stalled viewers held ${holdSeconds} s` +
    (extra.length ? ` (${extra.join(" ")})` : ""),
);
console.log(
  "| runtime | RSS before | RSS held | per viewer | viewers at end of hold | RSS 10 s after they left | viewers left |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(
    `| ${r.runtime} | ${r.before.toFixed(0)} MB | ${r.held.toFixed(0)} MB | ${
      r.perViewerKb.toFixed(0)
    } KB | ${r.connected} | ${r.after.toFixed(0)} MB | ${r.left} |`,
  );
}
