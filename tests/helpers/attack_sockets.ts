/**
 * Hostile clients over raw node:net sockets, for the server attack tests:
 * idle floods, request heads dripped a byte at a time, raw requests with odd
 * Hosts, pipelined requests, viewers that never read and viewers that read
 * slowly; plus `mjpeg serve` started under a low open-file limit and its RSS.
 * A probe's socket is destroyed when the test's block ends: `using viewer = probe(…)`,
 * `using flood = await idleFlood(…)`.
 */
import "./dispose.ts";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { cliCommand, type ServeProcess, startServe } from "./cli_run.ts";
import { sleep } from "./wait.ts";

/** A running `mjpeg serve`, as `startServe` gives it. */
export type Served = ServeProcess;

/** The port a served command listens on. */
export function portOf(served: Served): number {
  return Number(new URL(served.url).port);
}

/** Stops a served command with SIGTERM; resolves with its log. */
export async function stopServe(served: Served): Promise<string> {
  return (await served.stop("SIGTERM")).stderr;
}

/** The served command's `/stats?summary=1`. */
export async function statsOf(served: Served): Promise<Record<string, number>> {
  const response = await fetch(`${served.url}/stats?summary=1`);
  return await response.json() as Record<string, number>;
}

/** `mjpeg serve` with `args`, its open-file limit set to `nofile` by the shell first. */
export function startServeWithFileLimit(args: string[], nofile: number) {
  return startServe(args, {
    command: ["sh", "-c", `ulimit -n ${nofile} && exec "$@"`, "sh", ...cliCommand()],
  });
}

/** A process's resident memory in MB, from /proc. */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** A connection and what happened to it; disposing it destroys the socket. */
export interface Probe extends Disposable {
  socket: Socket;
  /** Everything received, one char per byte. */
  received(): string;
  bytes(): number;
  /** Milliseconds from connecting to the close, or undefined while open. */
  closedAfter(): number | undefined;
  closed: Promise<void>;
}

/**
 * Opens a connection to 127.0.0.1:`port` and sends `request` (if any) once connected.
 *
 * @param read False to never read: the kernel's buffers fill and the server's writes stall.
 */
export function probe(port: number, request?: string, read = true): Probe {
  const started = Date.now();
  const socket = connect(port, "127.0.0.1");
  let text = "";
  let count = 0;
  let closedAt: number | undefined;
  if (request !== undefined) socket.once("connect", () => socket.write(request));
  if (read) {
    socket.on("data", (chunk: Uint8Array) => {
      count += chunk.length;
      if (text.length < 1 << 16) text += String.fromCharCode(...chunk.subarray(0, 1 << 16));
    });
  } else socket.pause();
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => {
      closedAt = Date.now() - started;
      resolve();
    })
  );
  return {
    socket,
    received: () => text,
    bytes: () => count,
    closedAfter: () => closedAt,
    closed,
    [Symbol.dispose]: () => socket.destroy(),
  };
}

/** Probes destroyed together when the block ends. */
export type Probes = Probe[] & Disposable;

/** Makes `list` (empty by default) destroy every probe in it when the block ends. */
export function probes(list: Probe[] = []): Probes {
  return Object.assign(list, {
    [Symbol.dispose]() {
      for (const p of list) p.socket.destroy();
    },
  });
}

/** Sends one raw request and resolves with everything received until the close (or `ms`). */
export async function rawExchange(port: number, request: string, ms = 5000): Promise<string> {
  using p = probe(port, request);
  await Promise.race([p.closed, sleep(ms)]);
  return p.received();
}

/** Opens `count` connections that send nothing, a few at a time; resolves once all are tried. */
export async function idleFlood(port: number, count: number): Promise<Probes> {
  const flood = probes();
  for (let i = 0; i < count; i++) {
    flood.push(probe(port));
    if (i % 50 === 49) await sleep(20);
  }
  await sleep(500);
  return flood;
}

/** Sends `head` one byte every `intervalMs`, never finishing it. */
export function drip(port: number, head: string, intervalMs: number): Probe {
  const p = probe(port);
  let i = 0;
  const timer = setInterval(() => {
    if (i < head.length && !p.socket.destroyed) p.socket.write(head[i++]!);
  }, intervalMs);
  p.closed.then(() => clearInterval(timer));
  return p;
}

/** A viewer that reads at most `bytesPerSecond`, pausing its socket between reads. */
export function slowReader(port: number, path: string, bytesPerSecond: number): Probe {
  const p = probe(port, `GET ${path} HTTP/1.1\r\nHost: attack\r\n\r\n`);
  p.socket.on("data", (chunk: Uint8Array) => {
    p.socket.pause();
    setTimeout(() => p.socket.resume(), (chunk.length / bytesPerSecond) * 1000);
  });
  return p;
}

/** One HTTP/1.1 response split off a byte string: status, headers, body. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Splits the responses to pipelined requests, in the order they came; each
 * must have a Content-Length or chunked body (what a short answer gets).
 */
export function splitResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = text;
  while (rest.startsWith("HTTP/1.1 ")) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) break;
    const [statusLine, ...lines] = rest.slice(0, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    rest = rest.slice(end + 4);
    let body = "";
    if (headers["transfer-encoding"] === "chunked") {
      for (;;) {
        const lineEnd = rest.indexOf("\r\n");
        const size = parseInt(rest.slice(0, lineEnd), 16);
        if (lineEnd < 0 || Number.isNaN(size)) break;
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
        rest = rest.slice(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else {
      const length = Number(headers["content-length"] ?? 0);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    }
    responses.push({ status: Number(statusLine!.split(" ")[1]), headers, body });
  }
  return responses;
}
