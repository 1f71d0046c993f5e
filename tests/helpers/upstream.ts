/**
 * Fault-injecting MJPEG servers for client tests, on raw node:net sockets so
 * they behave the same on Deno, Bun and Node and can misbehave in ways an
 * HTTP framework would not allow: die mid-frame, stall, send garbage, answer
 * 401/404/500, announce a huge Content-Length, change boundary between
 * connections, serve raw JPEGs — or attack: redirect anywhere, flood, drip.
 *
 * Each accepted connection gets a handler call with its index (0, 1, 2, …),
 * so a test scripts what happens on the first, second, … connection. The
 * server closes when the test's block ends: `await using upstream = await startUpstream(…)`.
 */
import "./dispose.ts";
import { createServer, type Server, type Socket } from "node:net";
import { concat } from "./bytes.ts";
import { fixtureFrames } from "./fixtures.ts";
import { sleep } from "./wait.ts";

/** One accepted connection, with helpers to write HTTP by hand. */
export class UpstreamConnection {
  /** 0 for the first connection, then 1, 2, … */
  readonly index: number;
  /** The raw socket. */
  readonly socket: Socket;
  /** The request head as received (request line and headers), lower-cased names. */
  readonly request: { line: string; headers: Map<string, string> };

  constructor(index: number, socket: Socket, head: string) {
    this.index = index;
    this.socket = socket;
    const [line = "", ...rest] = head.split("\r\n");
    const headers = new Map<string, string>();
    for (const h of rest) {
      const colon = h.indexOf(":");
      if (colon > 0) headers.set(h.slice(0, colon).trim().toLowerCase(), h.slice(colon + 1).trim());
    }
    this.request = { line, headers };
  }

  /** Whether the socket can still be written. */
  get open(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  /** Writes bytes, waiting for the socket to drain; false once the peer went away. */
  write(data: string | Uint8Array): Promise<boolean> {
    if (!this.open) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.socket.write(data, (error) => resolve(!error));
    });
  }

  /** Writes a status line and headers (Connection: close, no Content-Length unless given). */
  head(status: number, headers: Record<string, string> = {}): Promise<boolean> {
    const reason = REASONS[status] ?? "Status";
    let text = `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nCache-Control: no-cache\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    return this.write(text + "\r\n");
  }

  /** Writes one multipart part: delimiter, headers, the JPEG, CRLF. */
  part(
    jpeg: Uint8Array,
    boundary: string,
    contentLength: number | false = jpeg.length,
  ): Promise<boolean> {
    let head = `--${boundary}\r\nContent-Type: image/jpeg\r\n`;
    if (contentLength !== false) head += `Content-Length: ${contentLength}\r\n`;
    return this.write(concat(new TextEncoder().encode(head + "\r\n"), jpeg, CRLF));
  }

  /**
   * Writes `data` again and again, as fast as the peer reads it, until it
   * goes away or `limit` bytes were written (a flood).
   *
   * @returns The bytes written.
   */
  async flood(data: string | Uint8Array, limit = Infinity): Promise<number> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    let written = 0;
    while (written < limit && await this.write(bytes)) written += bytes.length;
    return written;
  }

  /** Writes `data` one byte every `intervalMs`, until done or the peer goes away (a drip). */
  async drip(data: string | Uint8Array, intervalMs: number): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (let i = 0; i < bytes.length && this.open; i++) {
      if (!await this.write(bytes.subarray(i, i + 1))) return;
      await sleep(intervalMs);
    }
  }

  /** Resolves when the peer closes or the server shuts down (a stall: write nothing). */
  closed(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once("close", () => resolve()));
  }

  /** Ends the response cleanly. */
  end(): void {
    this.socket.end();
  }

  /** Drops the connection at once (a crash, a pulled cable). */
  destroy(): void {
    this.socket.destroy();
  }
}

/** A running test server; disposing it closes it. */
export interface Upstream extends AsyncDisposable {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  port: number;
  /** How many connections were accepted so far. */
  readonly connections: number;
  /** TCP connections accepted, including any closed before its request arrived. */
  readonly sockets: number;
  /** The connections so far, to check request headers. */
  readonly accepted: UpstreamConnection[];
  /** Destroys every connection and closes the listener (again: the same promise). */
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1, ephemeral port. The handler runs once per
 * connection after the request head arrived; when it returns, the connection
 * is ended unless the handler already did.
 */
export async function startUpstream(
  handler: (conn: UpstreamConnection) => Promise<void> | void,
): Promise<Upstream> {
  const sockets = new Set<Socket>();
  const accepted: UpstreamConnection[] = [];
  let socketCount = 0;
  const server: Server = createServer((socket) => {
    socketCount++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {}); // a client that aborts mid-write is expected
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      const conn = new UpstreamConnection(accepted.length, socket, head.slice(0, end));
      accepted.push(conn);
      Promise.resolve()
        .then(() => handler(conn))
        .catch(() => {})
        .finally(() => socket.end());
    };
    socket.on("data", onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  const port = address.port;
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    get connections() {
      return accepted.length;
    },
    get sockets() {
      return socketCount;
    },
    accepted,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * A well-behaved multipart stream: the fixture frames in order, `count` of
 * them (or until the client goes away), `intervalMs` apart.
 */
export async function serveMultipart(
  conn: UpstreamConnection,
  options: { boundary?: string; count?: number; intervalMs?: number; contentLength?: boolean } = {},
): Promise<void> {
  const boundary = options.boundary ?? "frame";
  await conn.head(200, { "Content-Type": `multipart/x-mixed-replace; boundary=${boundary}` });
  const count = options.count ?? Infinity;
  for (let i = 0; i < count && conn.open; i++) {
    const jpeg = fixtureFrames[i % fixtureFrames.length]!;
    if (!await conn.part(jpeg, boundary, options.contentLength === false ? false : jpeg.length)) {
      return;
    }
    if (options.intervalMs) await sleep(options.intervalMs);
  }
}

const CRLF = new Uint8Array([13, 10]);
const REASONS: Record<number, string> = {
  200: "OK",
  302: "Found",
  401: "Unauthorized",
  404: "Not Found",
  500: "Internal Server Error",
  503: "Service Unavailable",
};
