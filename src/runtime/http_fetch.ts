/**
 * A small fetch for `http:` and `https:` GET streams, over node:net and
 * node:tls, which all three runtimes provide. It exists for speed: Deno's
 * fetch hands a streaming body over in 8 KiB pieces (about 0.3 GB/s on
 * loopback) and Node's fetch tops out near 0.7 GB/s, while a socket wrapped
 * in a ReadableStream moves 1.5–2.5 GB/s on all three
 * (bench/client_throughput.ts); and node:tls takes a camera's own CA, which
 * the runtimes' fetch cannot all be given. Anything else — other methods,
 * request bodies — goes to the runtime's own fetch.
 *
 * It speaks just enough HTTP/1.1 for a stream: one request per connection
 * (`Connection: close`), Content-Length, chunked and read-until-close
 * bodies, and a few interim 1xx responses skipped. Redirects are followed by
 * {@linkcode fetchWithRedirects}, the follower every client path shares.
 *
 * An upstream may be hostile, so the response head is bounded: at most
 * {@linkcode MAX_INTERIM_RESPONSES} 1xx responses and {@linkcode MAX_HEAD}
 * bytes of heads in all, read without re-scanning or re-copying what came
 * before (a flood of `100 Continue` heads once kept a relay's event loop
 * busy enough to halve another stream's frame rate).
 *
 * @module
 */
import type { Socket } from "node:net";
import { escapeControls, quoteUntrusted } from "../errors.ts";
import { ChunkedDecoder } from "./chunked.ts";
import { checkHttpUrl, type FetchLike, fetchWithRedirects } from "./redirects.ts";
import { ConnectTimeoutError, openSocket, socketError, type TlsOptions } from "./socket_connect.ts";
// One char per byte: TextDecoder("latin1") is windows-1252 on Deno and Bun,
// and Headers rejects the chars it makes of 0x80-0x9F.
import { byteString } from "../wire/bytes.ts";

/** The most bytes of response heads (interim ones included) read before giving up. */
export const MAX_HEAD = 64 * 1024;
/** The most informational (1xx) responses skipped before the real one. */
export const MAX_INTERIM_RESPONSES = 8;
const CRLFCRLF = [13, 10, 13, 10];

/**
 * Fetches `request` like the global fetch; GETs go over a raw socket (TLS
 * for https, trusting the runtime's CAs), everything else to
 * `globalThis.fetch`. Either way only http(s) URLs are fetched, and
 * redirects are followed by {@linkcode fetchWithRedirects} (not by the
 * runtime). A signal that aborts with a `TimeoutError` before the connection
 * is made rejects with a {@linkcode ConnectTimeoutError}.
 *
 * @param request The request; its signal aborts the connection and the body.
 * @returns The response, with a streaming body.
 * @throws {TypeError} When the connection fails, the reply is not HTTP, or a
 *   redirect is refused (as fetch does).
 *
 * @example
 * ```ts ignore
 * const response = await httpFetch(new Request("http://127.0.0.1:8080/stream"));
 * ```
 */
export function httpFetch(request: Request): Promise<Response> {
  return defaultFetch(request);
}

/**
 * {@linkcode httpFetch} with its own certificate trust for https: a camera's
 * CA (PEM), or no checks at all.
 *
 * @param tls The CA to trust, or `insecure`.
 * @returns A fetch function.
 *
 * @example
 * ```ts ignore
 * const fetchCamera = createHttpFetch({ ca: await Deno.readTextFile("camera-ca.pem") });
 * const response = await fetchCamera(new Request("https://camera.local/stream"));
 * ```
 */
export function createHttpFetch(tls: TlsOptions = {}): FetchLike {
  const oneHop = (request: Request) => fetchOneHop(request, tls);
  return (request) =>
    request.redirect === "manual" ? oneHop(request) : fetchWithRedirects(oneHop, request);
}

const defaultFetch = createHttpFetch();

function tooLarge(): TypeError {
  return new TypeError(
    `protocol error: expected a response head within ${MAX_HEAD} bytes, got more`,
  );
}

/** One request, no redirect followed. */
async function fetchOneHop(request: Request, tls: TlsOptions): Promise<Response> {
  const url = new URL(request.url);
  checkHttpUrl(url);
  if (request.method !== "GET" || request.body !== null) {
    return await globalThis.fetch(new Request(request, { redirect: "manual" }));
  }
  return await fetchOnce(request, url, tls);
}

function fetchOnce(request: Request, url: URL, tls: TlsOptions): Promise<Response> {
  const signal = request.signal;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<Response>((resolve, reject) => {
    const { socket, readyEvent, address } = openSocket(url, tls);
    socket.setNoDelay(true);
    let connected = false;
    const head = new HeadReader();
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(error);
    };
    // A deadline that runs out before the connection is made says so: a
    // camera that is off reads differently from one that does not answer.
    const onAbort = () =>
      fail(
        !connected && (signal.reason as Error | undefined)?.name === "TimeoutError"
          ? new ConnectTimeoutError(address, url.protocol === "https:", { cause: signal.reason })
          : signal.reason,
      );
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("error", (error) => fail(socketError(error, address)));
    socket.on(
      "close",
      () => fail(new TypeError("fetch failed: the server closed the connection before a response")),
    );
    socket.on(readyEvent, () => {
      connected = true;
      socket.write(requestHead(request, url));
    });
    const onData = (chunk: Uint8Array) => {
      const result = head.push(chunk);
      if (result === undefined) return;
      if (result instanceof Error) return fail(result);
      socket.off("data", onData);
      settled = true;
      try {
        resolve(makeResponse(socket, result.head, result.rest, signal, onAbort));
      } catch (error) {
        socket.destroy();
        reject(error);
      }
    };
    socket.on("data", onData);
  });
}

/**
 * Collects a response head from socket chunks. Bytes are appended to one
 * buffer that grows by doubling, and the search for the blank line resumes
 * where it stopped, so a head sent a byte at a time costs linear time, not
 * quadratic. Interim 1xx heads are skipped, within the bounds above.
 */
class HeadReader {
  #buffer = new Uint8Array(0);
  #used = 0;
  #scanned = 0;
  #consumed = 0; // bytes of the heads found so far
  #interim = 0;

  /** The final head and the body bytes after it, an error, or undefined for "need more". */
  push(chunk: Uint8Array): { head: Head; rest: Uint8Array } | TypeError | undefined {
    this.#append(chunk);
    for (;;) {
      const end = indexOf(this.#buffer, CRLFCRLF, Math.max(0, this.#scanned - 3), this.#used);
      if (end < 0) {
        this.#scanned = this.#used;
        if (this.#consumed + this.#used > MAX_HEAD) return tooLarge();
        return undefined;
      }
      const after = end + 4;
      this.#consumed += after;
      if (this.#consumed > MAX_HEAD) return tooLarge();
      const parsed = parseHead(byteString(this.#buffer.subarray(0, end)));
      if (parsed instanceof Error) return parsed;
      if (parsed.status >= 200) {
        return { head: parsed, rest: this.#buffer.slice(after, this.#used) };
      }
      // An interim response (100 Continue, 103 Early Hints): the real one follows.
      if (++this.#interim > MAX_INTERIM_RESPONSES) {
        return new TypeError(
          `protocol error: expected at most ${MAX_INTERIM_RESPONSES} informational (1xx) responses before the response, got more`,
        );
      }
      this.#buffer.copyWithin(0, after, this.#used);
      this.#used -= after;
      this.#scanned = 0;
    }
  }

  #append(chunk: Uint8Array): void {
    const needed = this.#used + chunk.length;
    if (needed > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2, 1024));
      grown.set(this.#buffer.subarray(0, this.#used));
      this.#buffer = grown;
    }
    this.#buffer.set(chunk, this.#used);
    this.#used = needed;
  }
}

function requestHead(request: Request, url: URL): string {
  let text = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  let agent = false, accept = false;
  request.headers.forEach((value, name) => {
    if (name === "host" || name === "connection" || name === "content-length") return;
    if (name === "user-agent") agent = true;
    if (name === "accept") accept = true;
    text += `${name}: ${value}\r\n`;
  });
  if (!agent) text += "User-Agent: mjpeg-stream\r\n";
  if (!accept) text += "Accept: */*\r\n";
  return text + "Connection: close\r\n\r\n";
}

interface Head {
  status: number;
  statusText: string;
  headers: [string, string][];
}

function parseHead(text: string): Head | TypeError {
  const lines = text.split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (!match) {
    return new TypeError(
      `expected an HTTP/1.x status line, got ${quoteUntrusted(lines[0] ?? "", 40)}`,
    );
  }
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) {
      return new TypeError(
        `expected a header "Name: value", got ${quoteUntrusted(line, 40)}`,
      );
    }
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { status: Number(match[1]), statusText: match[2] ?? "", headers };
}

function makeResponse(
  socket: Socket,
  head: Head,
  rest: Uint8Array,
  signal: AbortSignal,
  onAbort: () => void,
): Response {
  signal.removeEventListener("abort", onAbort);
  // Response refuses statuses outside 200..599; say so the way fetch would.
  if (head.status < 200 || head.status > 599) {
    throw new TypeError(`expected an HTTP status 200-599, got ${head.status}`);
  }
  const headers = new Headers();
  for (const [name, value] of head.headers) {
    try {
      headers.append(name, value);
    } catch {
      // The runtime's own message would quote the bytes raw (Deno) or not name them (Bun).
      throw new TypeError(
        `expected a valid header, got ${quoteUntrusted(name, 40)}: ${quoteUntrusted(value, 40)}`,
      );
    }
  }
  const noBody = head.status === 204 || head.status === 304;
  const chunked = /(?:^|,)\s*chunked\s*$/i.test(headers.get("transfer-encoding") ?? "");
  const lengthHeader = headers.get("content-length");
  let remaining = !chunked && lengthHeader !== null && /^\d+$/.test(lengthHeader.trim())
    ? Number(lengthHeader)
    : Infinity;
  const decoder = chunked ? new ChunkedDecoder() : undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let done = false;
  const finish = (error?: unknown) => {
    if (done) return;
    done = true;
    signal.removeEventListener("abort", abortBody);
    socket.destroy();
    if (error === undefined) controller.close();
    else controller.error(error);
  };
  const abortBody = () => finish(signal.reason);
  const deliver = (chunk: Uint8Array) => {
    if (decoder) {
      const error = decoder.push(chunk, (piece) => controller.enqueue(piece));
      if (error) return finish(new TypeError(error));
      if (decoder.finished) return finish();
    } else {
      const piece = chunk.length > remaining ? chunk.subarray(0, remaining) : chunk;
      if (piece.length) controller.enqueue(piece);
      remaining -= piece.length;
      if (remaining === 0) return finish();
    }
    // Backpressure: stop reading the socket while the consumer is behind.
    if ((controller.desiredSize ?? 1) <= 0) socket.pause();
  };
  const body = noBody ? null : new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      signal.addEventListener("abort", abortBody, { once: true });
      socket.on("data", deliver);
      socket.on(
        "error",
        (error) => finish(new TypeError(`network error: ${error.message}`, { cause: error })),
      );
      socket.on("close", () => {
        if (decoder || remaining !== Infinity) {
          finish(new TypeError("network error: the connection closed before the body ended"));
        } else finish();
      });
      if (rest.length) deliver(rest);
    },
    pull() {
      socket.resume();
    },
    cancel() {
      done = true;
      signal.removeEventListener("abort", abortBody);
      socket.destroy();
    },
  }, { highWaterMark: 4 });
  if (noBody) socket.destroy();
  // A reason phrase with control characters: Bun keeps them raw (a NUL once
  // reached a terminal through `mjpeg probe`), Deno and Node throw. Escaped,
  // it is valid everywhere and still says what came.
  const statusText = escapeControls(head.statusText);
  return new Response(body, { status: head.status, statusText, headers });
}

/** Where `needle` starts in `haystack[from, to)`, or -1. */
function indexOf(haystack: Uint8Array, needle: number[], from: number, to: number): number {
  const last = to - needle.length;
  outer: for (let i = from; i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
