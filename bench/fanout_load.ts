/**
 * The viewers of the fan-out benchmark, in their own process: N raw TCP
 * connections to /stream.mjpg. Each decodes HTTP chunked framing (when the
 * server sends it; Deno's server delimits a stream by closing instead) and the
 * multipart parts just enough to know when a part has fully arrived, and
 * takes latency as arrival time minus the part's X-Timestamp (publish time).
 * Prints `measuring` when the window starts and one JSON line at the end.
 *
 *   bun bench/fanout_load.ts <port> <viewers> [warmupSeconds] [seconds]
 */
import net from "node:net";
import process from "node:process";
import type { Buffer } from "node:buffer";

const [port, viewers, warmup, seconds] = [
  Number(process.argv[2]),
  Number(process.argv[3]),
  Number(process.argv[4] ?? 3),
  Number(process.argv[5] ?? 10),
];

let measuring = false;
const latencies: number[] = [];

class Viewer {
  parts = 0;
  #inHead = true; // in HTTP headers or part headers
  #head = "";
  #chunkLeft = 0; // bytes left in the current HTTP chunk
  #chunkLine = "";
  #httpDone = false;
  #chunked = false;
  #bodyLeft = 0; // bytes left in the current part (JPEG + trailing delimiter)
  #timestamp = 0;

  constructor(readonly socket: net.Socket) {
    socket.on("data", (data: Buffer) => this.#onData(data));
  }

  #onData(data: Buffer): void {
    let offset = 0;
    if (!this.#httpDone) {
      // HTTP response headers arrive once, then chunked body framing.
      this.#head += data.toString("latin1");
      const end = this.#head.indexOf("\r\n\r\n");
      if (end < 0) return;
      offset = data.length - (this.#head.length - end - 4);
      this.#chunked = /\r\ntransfer-encoding:\s*chunked/i.test(this.#head.slice(0, end));
      this.#head = "";
      this.#httpDone = true;
    }
    if (!this.#chunked) return this.#onPayload(data, offset, data.length);
    while (offset < data.length) {
      if (this.#chunkLeft === 0) {
        const nl = data.indexOf(10, offset);
        if (nl < 0) {
          this.#chunkLine += data.toString("latin1", offset);
          return;
        }
        const line = (this.#chunkLine + data.toString("latin1", offset, nl)).trim();
        this.#chunkLine = "";
        offset = nl + 1;
        if (line === "") continue; // CRLF after a chunk
        this.#chunkLeft = parseInt(line, 16);
        continue;
      }
      const take = Math.min(this.#chunkLeft, data.length - offset);
      this.#onPayload(data, offset, offset + take);
      this.#chunkLeft -= take;
      offset += take;
    }
  }

  #onPayload(data: Buffer, start: number, end: number): void {
    let offset = start;
    while (offset < end) {
      if (this.#inHead) {
        // Part headers are short: look at most 1 KB ahead, not at the JPEG.
        const sliceEnd = Math.min(end, offset + 1024);
        const combined = this.#head + data.toString("latin1", offset, sliceEnd);
        const split = combined.indexOf("\r\n\r\n");
        if (split < 0) {
          this.#head = combined;
          offset = sliceEnd;
          continue;
        }
        const head = combined.slice(0, split);
        offset += split + 4 - this.#head.length;
        this.#head = "";
        const length = /content-length: (\d+)/i.exec(head);
        if (!length) continue; // the opening delimiter line alone
        const stamp = /x-timestamp: ([\d.]+)/i.exec(head);
        this.#timestamp = stamp ? Number(stamp[1]) * 1000 : 0;
        this.#bodyLeft = Number(length[1]) + "\r\n--mjpegstream\r\n".length;
        this.#inHead = false;
      } else {
        const take = Math.min(this.#bodyLeft, end - offset);
        this.#bodyLeft -= take;
        offset += take;
        if (this.#bodyLeft === 0) {
          this.#inHead = true;
          if (measuring) {
            this.parts++;
            if (this.#timestamp) latencies.push(Date.now() - this.#timestamp);
          }
        }
      }
    }
  }
}

function connect(): Promise<Viewer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write("GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      resolve(new Viewer(socket));
    });
    socket.once("error", reject);
  });
}

const all: Viewer[] = [];
for (let i = 0; i < viewers; i += 50) {
  all.push(...await Promise.all(Array.from({ length: Math.min(50, viewers - i) }, connect)));
}
await new Promise((r) => setTimeout(r, warmup * 1000));
measuring = true;
console.log("measuring");
const started = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
measuring = false;
const elapsed = (performance.now() - started) / 1000;
const fps = all.map((v) => v.parts / elapsed).sort((a, b) => a - b);
latencies.sort((a, b) => a - b);
const pick = (list: number[], q: number) =>
  list[Math.min(list.length - 1, Math.floor(q * list.length))] ?? NaN;
console.log(JSON.stringify({
  viewers,
  fpsP50: pick(fps, 0.5),
  fpsMin: fps[0] ?? 0,
  latencyP50: pick(latencies, 0.5),
  latencyP99: pick(latencies, 0.99),
  parts: latencies.length,
}));
all.forEach((v) => v.socket.destroy());
process.exit(0);
