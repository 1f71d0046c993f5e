/**
 * What a reader costs before any parsing: bare sockets of each runtime that
 * only count the bytes of bench/client_upstream.ts's stream, or also put each
 * frame's body into one of 64 lent buffers the way the client does, and
 * curl's rate and CPU in the same round. It prices the ways a JavaScript
 * reader can take bytes from a socket, so the client's cost
 * (bench/client_vs_curl.ts) can be split into the socket's and its own.
 *
 * The readers that place frame bodies do not parse: they know the stream's
 * part and JPEG sizes and treat every part as head then body, which costs the
 * same copies and reads as the real layout. Ways of reading:
 *
 * - `data`: node:net `data` events (a fresh buffer per read);
 * - `onread`: node:net `onread` into one reused 1 MiB buffer (the transport's
 *   way on Node and Deno);
 * - `onread + copy`: the same, each body then copied into a lent buffer (the
 *   client's one copy);
 * - `onread, body into lent`: reads steered by an `onread.buffer` function: a
 *   small read for the part's head, then the body read straight into the lent
 *   buffer (no copy, two reads per frame);
 * - `onread, lent + 4 KiB`: one read per frame into the lent buffer, 4 KiB
 *   larger than the body's rest; what came after the body (the next head and
 *   the start of the next body) is copied to the next buffer;
 * - `Deno.connect …`: Deno's own socket, `conn.read()` into one reused buffer,
 *   with and without the copy, and the body read straight into the lent buffer;
 * - `Bun.connect`: Bun's own socket, its `data` handler, with and without the copy.
 *
 * Run: node --import tsx bench/client_socket_floor.ts [ROUNDS] [SECONDS]
 * (each runtime runs this file again with --child WAY PORT SECONDS PART JPEG)
 */
import { spawnSync } from "node:child_process";
import { connect } from "node:net";
import process from "node:process";
import { curl, MB, median, type Reading, startServer } from "./upstream_readers.ts";

const LENT = 64;
const READ_SIZE = 1 << 20;
const SLACK = 4096;

/** Counts the bytes a reader took; reports once the measured seconds are over. */
class Meter {
  total = 0;
  #startBytes = 0;
  #startCpu: ReturnType<typeof process.cpuUsage> | undefined;
  #startAt = 0;

  /** 1 s of warm-up, then `seconds` measured; prints the Reading and exits. */
  constructor(seconds: number) {
    setTimeout(() => {
      this.#startBytes = this.total;
      this.#startCpu = process.cpuUsage();
      this.#startAt = performance.now();
      setTimeout(() => this.#report(), seconds * 1000);
    }, 1000);
  }

  #report(): void {
    const used = process.cpuUsage(this.#startCpu);
    const read = this.total - this.#startBytes;
    const reading: Reading = {
      megabytesPerSecond: read / MB / ((performance.now() - this.#startAt) / 1000),
      cpuSecondsPerGigabyte: (used.user + used.system) / 1e6 / (read / 1e9),
    };
    console.log(JSON.stringify(reading));
    process.exit(0);
  }
}

/**
 * Puts body bytes into lent buffers as the client's sink does: each part is
 * `head` bytes then `body` bytes; body bytes are copied into the current
 * buffer, and the next buffer is taken at each part's end.
 */
class Placer {
  readonly lent = Array.from({ length: LENT }, () => new Uint8Array(1 << 20));
  which = 0;
  inPart = 0;
  constructor(readonly head: number, readonly body: number) {}

  /** Copies the body bytes of `chunk`. */
  copy(chunk: Uint8Array): void {
    const part = this.head + this.body;
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, part - this.inPart);
      const from = Math.max(this.inPart, this.head), to = this.inPart + take;
      if (to > from) {
        this.lent[this.which]!.set(
          chunk.subarray(at + from - this.inPart, at + to - this.inPart),
          from - this.head,
        );
      }
      this.inPart += take;
      at += take;
      if (this.inPart === part) this.#next();
    }
  }

  /** Where the next read goes when bodies are read straight into the lent buffers. */
  target(headBuffer: Uint8Array): Uint8Array {
    return this.inPart < this.head
      ? headBuffer.subarray(0, this.head - this.inPart)
      : this.lent[this.which]!.subarray(this.inPart - this.head, this.body);
  }

  /** Notes `size` bytes read into {@linkcode target}. */
  advance(size: number): void {
    this.inPart += size;
    if (this.inPart === this.head + this.body) this.#next();
  }

  #next(): void {
    this.inPart = 0;
    this.which = (this.which + 1) % LENT;
  }
}

const REQUEST = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

async function child(way: string, port: number, seconds: number, part: number, jpeg: number) {
  const meter = new Meter(seconds);
  const placer = new Placer(part - jpeg, jpeg);
  const count = (size: number) => meter.total += size;
  const buffer = new Uint8Array(READ_SIZE);
  const netSocket = (options: Record<string, unknown>) => {
    const socket = connect({ host: "127.0.0.1", port, ...options });
    socket.on("connect", () => socket.write(REQUEST));
    return socket;
  };
  const onread = (
    callback: (size: number, buf: Uint8Array) => void,
    target: Uint8Array | (() => Uint8Array) = buffer,
  ) => ({
    onread: {
      buffer: target,
      callback: (size: number, buf: Uint8Array) => {
        callback(size, buf);
        return true;
      },
    },
  });
  const headBuffer = new Uint8Array(256);
  switch (way) {
    case "data":
      netSocket({}).on("data", (chunk: Uint8Array) => count(chunk.length));
      return;
    case "data + copy":
      netSocket({}).on("data", (chunk: Uint8Array) => {
        count(chunk.length);
        placer.copy(chunk);
      });
      return;
    case "onread":
      netSocket(onread(count));
      return;
    case "onread + copy":
      netSocket(onread((size, buf) => {
        count(size);
        placer.copy(buf.subarray(0, size));
      }));
      return;
    case "onread, body into lent": {
      let next = placer.target(headBuffer);
      netSocket(onread((size) => {
        count(size);
        placer.advance(size);
        next = placer.target(headBuffer);
      }, () => next));
      return;
    }
    case "onread, lent + 4 KiB": {
      // `offset`: where in the current buffer's body the next read lands (< 0: still in the head).
      let offset = 0;
      const window = () => placer.lent[placer.which]!.subarray(Math.max(0, offset), jpeg + SLACK);
      let next = window();
      netSocket(onread((size) => {
        count(size);
        const end = offset + size;
        if (end > jpeg) {
          const after = end - jpeg; // the next head, then the start of the next body
          const current = placer.lent[placer.which]!;
          placer.which = (placer.which + 1) % LENT;
          const bodyStart = after - placer.head;
          if (bodyStart > 0) {
            placer.lent[placer.which]!.set(current.subarray(jpeg + placer.head, jpeg + after), 0);
          }
          offset = bodyStart;
        } else offset = end;
        next = window();
      }, () => next));
      return;
    }
  }
  const deno = (globalThis as { Deno?: DenoSocketApi }).Deno;
  if (deno && way.startsWith("Deno.connect")) {
    const conn = await deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(REQUEST);
    for (;;) {
      if (way === "Deno.connect, body into lent") {
        const size = await conn.read(placer.target(headBuffer));
        if (size === null) return;
        count(size);
        placer.advance(size);
        continue;
      }
      const size = await conn.read(buffer);
      if (size === null) return;
      count(size);
      if (way === "Deno.connect + copy") placer.copy(buffer.subarray(0, size));
    }
  }
  const bun = (globalThis as { Bun?: BunSocketApi }).Bun;
  if (bun && way.startsWith("Bun.connect")) {
    const copy = way === "Bun.connect + copy";
    await bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (socket) => socket.write(REQUEST),
        data: (_socket, chunk) => {
          count(chunk.length);
          if (copy) placer.copy(chunk);
        },
      },
    });
    return;
  }
  throw new Error(`no such way on this runtime: ${way}`);
}

/** The parts of Deno's socket API used here. */
interface DenoSocketApi {
  connect(options: { hostname: string; port: number }): Promise<{
    read(buffer: Uint8Array): Promise<number | null>;
    write(bytes: Uint8Array): Promise<number>;
  }>;
}

/** The parts of Bun's socket API used here. */
interface BunSocketApi {
  connect(options: {
    hostname: string;
    port: number;
    socket: {
      open(socket: { write(bytes: Uint8Array): number }): void;
      data(socket: unknown, chunk: Uint8Array): void;
    };
  }): Promise<unknown>;
}

const RUNTIMES: Record<string, string[]> = {
  Deno: ["deno", "run", "-A", "bench/client_socket_floor.ts"],
  Bun: ["bun", "bench/client_socket_floor.ts"],
  Node: ["node", "--import", "tsx", "bench/client_socket_floor.ts"],
};

const READERS: [runtime: string, way: string][] = [
  ["Node", "data"],
  ["Node", "onread"],
  ["Node", "onread + copy"],
  ["Node", "onread, body into lent"],
  ["Node", "onread, lent + 4 KiB"],
  ["Deno", "onread"],
  ["Deno", "onread + copy"],
  ["Deno", "Deno.connect"],
  ["Deno", "Deno.connect + copy"],
  ["Deno", "Deno.connect, body into lent"],
  ["Bun", "data"],
  ["Bun", "data + copy"],
  ["Bun", "onread"],
  ["Bun", "Bun.connect"],
  ["Bun", "Bun.connect + copy"],
];

async function parent(rounds: number, seconds: number): Promise<void> {
  const server = await startServer(40_000, undefined);
  const url = `http://127.0.0.1:${server.port}/`;
  const readings: Record<string, Reading[]> = {};
  const ratios: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    const base = curl(url, seconds, undefined);
    const note = (name: string, reading: Reading) => {
      (readings[name] ??= []).push(reading);
      (ratios[name] ??= []).push(reading.megabytesPerSecond / base.megabytesPerSecond);
    };
    note("curl", base);
    for (const [runtime, way] of READERS) {
      const [exe, ...args] = RUNTIMES[runtime]!;
      const r = spawnSync(exe!, [
        ...args,
        "--child",
        way,
        String(server.port),
        String(seconds),
        String(server.partBytes),
        String(server.jpegBytes),
      ], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
      const line = r.stdout.trim().split("\n").pop();
      if (r.status !== 0 || !line) throw new Error(`${runtime} ${way} failed: ${r.stdout}`);
      note(`${runtime}: ${way}`, JSON.parse(line));
    }
  }
  server.stop();
  console.log(
    `Bare readers of one local multipart server (40 kB JPEGs), ${rounds} rounds of ${seconds} s, ` +
      "readers in turn within a round; medians; rate ÷ curl's is the median of the per-round ratios.\n",
  );
  console.log("| reader | MB/s | rate ÷ curl's | CPU s per GB | CPU s per GB (min–max) |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const [name, list] of Object.entries(readings)) {
    const cpu = list.map((r) => r.cpuSecondsPerGigabyte);
    console.log(
      `| ${name} | ${median(list.map((r) => r.megabytesPerSecond)).toFixed(0)} | ${
        median(ratios[name]!).toFixed(2)
      } | ${median(cpu).toFixed(2)} | ${Math.min(...cpu).toFixed(2)}–${
        Math.max(...cpu).toFixed(2)
      } |`,
    );
  }
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") {
  await child(argv[1]!, Number(argv[2]), Number(argv[3]), Number(argv[4]), Number(argv[5]));
} else {
  await parent(Number(argv[0] ?? 5), Number(argv[1] ?? 3));
}
