/**
 * The viewers of the churn test and benchmark, in their own process (so the
 * server's RSS and CPU are its own): raw TCP sockets to /stream.mjpg.
 *
 * - `watchers` stay for the whole run and count whole parts, to show the
 *   source's fps reaches steady viewers while the others churn;
 * - `stalled` send the request and never read a byte;
 * - `slow` read at most `slowBytes` per second;
 * - churners: `concurrency` at once, `joins` in total, each leaves in one of
 *   four ways, in turn: closes after its first whole frame; resets (RST)
 *   mid-frame; half-closes (FIN) right after the request, reads a frame, then
 *   closes; or closes before the response arrives.
 *
 * Prints `ready` once the long-lived viewers are in, one JSON line when the
 * joins are done, then waits for `exit` on stdin (the long-lived viewers stay
 * until then, so the parent can look at the server) and exits. A watchdog
 * ends it after `limit` seconds whatever happens.
 *
 *   bun bench/churn_load.ts <port> <joins> [concurrency=1000] [watchers=5] [stalled=20] [slow=20] [slowBytes=100000] [limit=600]
 */
import net from "node:net";
import process from "node:process";
import type { Buffer } from "node:buffer";

const arg = (i: number, fallback: number) =>
  process.argv[i] === undefined ? fallback : Number(process.argv[i]);
const port = arg(2, NaN);
const joins = arg(3, 20_000);
const concurrency = arg(4, 1000);
const watchers = arg(5, 5);
const stalled = arg(6, 20);
const slow = arg(7, 20);
const slowBytes = arg(8, 100_000);
const limit = arg(9, 600);
// The delimiter that ends every part (DEFAULT_BOUNDARY of the server).
const DELIMITER = "\r\n--mjpegstream\r\n";
const REQUEST = "GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

const watchdog = setTimeout(() => {
  console.error(`churn_load: still running after ${limit} s, giving up`);
  process.exit(3);
}, limit * 1000);

/**
 * Counts whole parts in a response by their closing delimiter (split reads
 * kept in a tail), from the end of the HTTP head on: a head's last CRLF
 * followed by the opening boundary (no chunk framing between them, as Deno's
 * server sends a stream) would look like a delimiter.
 */
class PartCounter {
  parts = 0;
  bytes = 0;
  #tail = "";
  #inHead = true;
  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let text = this.#tail + chunk.toString("latin1");
    if (this.#inHead) {
      const end = text.indexOf("\r\n\r\n");
      this.#tail = end < 0 ? text.slice(-3) : "";
      if (end < 0) return;
      this.#inHead = false;
      text = text.slice(end + 4);
    }
    for (let i = text.indexOf(DELIMITER); i >= 0; i = text.indexOf(DELIMITER, i + 1)) this.parts++;
    this.#tail = text.slice(-(DELIMITER.length - 1));
  }
}

function open(onData?: (socket: net.Socket, chunk: Buffer) => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write(REQUEST);
      resolve(socket);
    });
    socket.once("error", reject);
    if (onData) socket.on("data", (chunk: Buffer) => onData(socket, chunk));
  });
}

/** Waits for the first bytes of the response, so viewers join in a known order. */
function firstBytes(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.once("data", () => resolve()));
}

const longLived: net.Socket[] = [];
const stalledSockets: net.Socket[] = [];
for (let i = 0; i < stalled; i++) {
  // Never read: paused before the response arrives, so nothing is taken from the kernel.
  const socket = await open();
  socket.pause();
  stalledSockets.push(socket);
  longLived.push(socket);
}
const slowCounters: PartCounter[] = [];
for (let i = 0; i < slow; i++) {
  const counter = new PartCounter();
  let budget = slowBytes;
  const refill = setInterval(() => {
    budget = slowBytes;
    socket.resume();
  }, 1000);
  const socket = await open((s, chunk) => {
    counter.push(chunk);
    budget -= chunk.length;
    if (budget <= 0) s.pause();
  });
  socket.once("close", () => clearInterval(refill));
  await firstBytes(socket);
  slowCounters.push(counter);
  longLived.push(socket);
}
const watchCounters: PartCounter[] = [];
for (let i = 0; i < watchers; i++) {
  const counter = new PartCounter();
  const socket = await open((_, chunk) => counter.push(chunk));
  await firstBytes(socket);
  watchCounters.push(counter);
  longLived.push(socket);
}
console.log("ready");

const tally = {
  joined: 0,
  framed: 0,
  afterFrame: 0,
  reset: 0,
  halfClosed: 0,
  early: 0,
  // Connections the server closed before the viewer left, by way of leaving.
  cut: [0, 0, 0, 0],
  errors: 0,
  errorCodes: {} as Record<string, number>,
};

/** One churner: connect, get (part of) a frame, leave in the given way. */
function churn(way: number): Promise<void> {
  return new Promise((resolve) => {
    const counter = new PartCounter();
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve();
    };
    const socket = net.connect(port, "127.0.0.1", () => {
      tally.joined++;
      // Those leaving after a frame ask for an fps cap, so their server side waits on a timer.
      socket.write(way === 0 ? REQUEST.replace(".mjpg", ".mjpg?fps=10") : REQUEST);
      if (way === 2) socket.end(); // half-close: no more requests, still reading
      if (way === 3) {
        tally.early++;
        done();
      }
    });
    socket.on("data", (chunk: Buffer) => {
      counter.push(chunk);
      if (way === 1 && counter.bytes > 2000) {
        // Mid-frame (the first part is ~10 KB and more): an abrupt RST.
        tally.reset++;
        finished = true;
        socket.resetAndDestroy();
        return resolve();
      }
      if (counter.parts > 0) {
        tally.framed++;
        if (way === 0) tally.afterFrame++;
        if (way === 2) tally.halfClosed++;
        done();
      }
    });
    socket.on("error", (error: Error & { code?: string }) => {
      if (!finished) {
        tally.errors++;
        const code = `${error.code ?? error.message} (way ${way})`;
        tally.errorCodes[code] = (tally.errorCodes[code] ?? 0) + 1;
      }
      done();
    });
    socket.on("close", () => {
      if (!finished) tally.cut[way]!++;
      done();
    });
  });
}

const started = performance.now();
const watchBefore = watchCounters.map((c) => c.parts);
const slowBefore = slowCounters.map((c) => c.parts);
let next = 0;
await Promise.all(Array.from({ length: Math.min(concurrency, joins) }, async () => {
  while (next < joins) await churn(next++ % 4);
}));
const seconds = (performance.now() - started) / 1000;
const rates = (counters: PartCounter[], before: number[]) =>
  counters.map((c, i) => Math.round((c.parts - before[i]!) / seconds * 10) / 10);
console.log(JSON.stringify({
  ...tally,
  seconds: Math.round(seconds * 10) / 10,
  joinsPerSecond: Math.round(tally.joined / seconds),
  watcherFps: rates(watchCounters, watchBefore),
  slowFps: rates(slowCounters, slowBefore),
  stalledBytes: stalledSockets.map((s) => s.bytesRead),
}));

// Hold the long-lived viewers until the parent has looked at the server.
process.stdin.on("data", (data: Buffer) => {
  if (!data.toString().includes("exit")) return;
  for (const socket of longLived) socket.destroy();
  clearTimeout(watchdog);
  process.exit(0);
});
