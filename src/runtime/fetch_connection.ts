/**
 * One HTTP/1.1 connection of the socket transport (node:net and node:tls,
 * which all three runtimes provide): one request at a time, its response
 * head read within bounds, its body framed by Content-Length, chunked
 * encoding or the end of the connection, and — when both sides agree — kept
 * open for the next request.
 *
 * On Node and Deno a plain-http socket reads into one buffer (by default
 * {@linkcode READ_SIZE} bytes) reused for the connection's life (node:net's
 * `onread`), instead of a new 64 KiB buffer per read: on loopback that took
 * a bare socket on Node from 1.1–1.7 to 2.8 GB/s and on Deno from 1.1 to 2.1
 * GB/s (docs/benchmarks.md). Those bytes are valid only until the next read,
 * so a body is read one of two ways, chosen by its first reader:
 *
 * - `response.body`, a ReadableStream of copies, for any caller;
 * - {@linkcode directBody}, which hands each piece to a callback during the
 *   read itself, with no copy and no promise per piece: the MJPEG client's
 *   parser copies each frame once, into the buffer the application lent.
 *
 * @module
 */
import type { Socket } from "node:net";
import { escapeControls, quoteUntrusted } from "../errors.ts";
import { ChunkedDecoder } from "./chunked.ts";
import { type Head, HeadReader, requestHead } from "./fetch_head.ts";
import { ConnectTimeoutError, openSocket, socketError, type TlsOptions } from "./socket_connect.ts";

/** Bytes read from the socket at once, by default. */
export const READ_SIZE = 1024 * 1024;
// Bun's node:net hands onread a copy of its own read (0.69-0.73 CPU s per GB
// read by the client, against 0.55-0.61 with data events, whose chunks it
// already reads 500 kB at a time); Node and Deno read 64 KiB per data event
// but straight into the given buffer (docs/benchmarks.md).
const READ_INTO_BUFFER = !("Bun" in globalThis);
// Copies a stream reader may fall behind by before the socket is paused.
const STREAM_QUEUE = 4;

/** A response body read without a stream; see {@linkcode directBody}. */
export interface DirectBody {
  /**
   * Hands the body's bytes to `sink` as they arrive.
   *
   * @param sink Gets each piece, valid only during the call (the read buffer
   *   is reused): copy what you keep. If it throws, the body ends with that error.
   * @returns Resolves at the end of the body; rejects on a network error,
   *   the request's signal, or the sink's error.
   */
  pipe(sink: (bytes: Uint8Array) => void): Promise<void>;
  /**
   * Ends the body now: the connection is closed and `pipe()` rejects with `reason`.
   *
   * @param reason Why.
   */
  cancel(reason: unknown): void;
}

const directBodies = new WeakMap<Response, DirectBody>();

/**
 * Takes the direct reader of a response the socket transport made, if its
 * body has not been read another way. Once taken, `response.body` errors.
 *
 * @param response Any response.
 * @returns The direct reader, or undefined (another fetch's response, or a
 *   body already read).
 */
export function directBody(response: Response): DirectBody | undefined {
  const body = directBodies.get(response);
  if (body === undefined || response.bodyUsed || response.body?.locked) return undefined;
  directBodies.delete(response);
  return body;
}

/** What the socket's bytes and its end go to at the moment. */
interface SocketHandler {
  bytes(chunk: Uint8Array): void;
  end(error: Error | undefined): void;
}

/**
 * A connection to one origin, carrying one request at a time.
 *
 * @example
 * ```ts ignore
 * const connection = new HttpConnection(url);
 * const response = await connection.request(new Request(url), url, false, () => {});
 * ```
 */
export class HttpConnection {
  readonly #socket: Socket;
  readonly #address: string;
  readonly #secure: boolean;
  #connected = false;
  #closed = false;
  #handler: SocketHandler | undefined;
  #requests = 0;
  #responseStarted = false;
  // The request being answered, held so that its signal stays wired: a
  // Request made from another follows that one's signal only while it lives
  // (undici holds the link weakly), and a body read directly holds nothing else.
  #request: Request | undefined;

  /**
   * @param url Where to connect: the URL's host and port (80 or 443 by default).
   * @param tls Certificate options for https.
   * @param readSize The read buffer's size for plain http: large for
   *   streams, small for short answers (TLS sockets read their own way).
   */
  constructor(url: URL, tls: TlsOptions = {}, readSize: number = READ_SIZE) {
    const onBytes = (bytes: Uint8Array) => {
      const handler = this.#handler;
      // Bytes nobody asked for (on an idle connection): not HTTP we can trust.
      if (handler === undefined) this.destroy();
      else handler.bytes(bytes);
    };
    const { socket, readyEvent, address } = openSocket(
      url,
      tls,
      !READ_INTO_BUFFER ? undefined : {
        buffer: new Uint8Array(readSize),
        callback: (size, buffer) => {
          onBytes(buffer.subarray(0, size));
          return true; // false would pause the socket; pause() does that where wanted
        },
      },
    );
    this.#socket = socket;
    this.#address = address;
    this.#secure = url.protocol === "https:";
    if (this.#secure || !READ_INTO_BUFFER) socket.on("data", onBytes);
    socket.setNoDelay(true);
    socket.on(readyEvent, () => this.#connected = true);
    socket.on("error", (error) => this.#ended(error));
    socket.on("close", () => this.#ended(undefined));
  }

  /** Requests sent on this connection so far. */
  get requests(): number {
    return this.#requests;
  }

  /** Whether any byte of the latest request's response came. */
  get responseStarted(): boolean {
    return this.#responseStarted;
  }

  /** Whether the connection is closed (by either side). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the connection. */
  destroy(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  /**
   * Lets the process exit while the connection waits for its next request.
   *
   * @param onClose Called if the server closes it meanwhile.
   */
  idle(onClose: () => void): void {
    this.#socket.unref();
    this.#handler = { bytes: () => this.destroy(), end: () => onClose() };
  }

  /**
   * Sends a GET and resolves with the response once its head is in.
   *
   * @param request The request (method GET, no body); its signal aborts the
   *   request and the body.
   * @param url The request's URL, parsed.
   * @param keepAlive Ask to keep the connection for another request.
   * @param done Called once the exchange is over: `true` when the body was
   *   read to its end and both sides agreed to keep the connection (it is
   *   then open and idle), `false` when it was closed.
   * @returns The response, its body streaming.
   */
  request(
    request: Request,
    url: URL,
    keepAlive: boolean,
    done: (reusable: boolean) => void,
  ): Promise<Response> {
    const signal = request.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#closed) {
      return Promise.reject(new TypeError("fetch failed: the connection is closed"));
    }
    this.#requests++;
    this.#responseStarted = false;
    this.#request = request;
    this.#socket.ref();
    return new Promise<Response>((resolve, reject) => {
      const head = new HeadReader();
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        this.#handler = undefined;
        this.destroy();
        reject(error);
        done(false);
      };
      // A deadline that runs out before the connection is made says so: a
      // camera that is off reads differently from one that does not answer.
      const onAbort = () =>
        fail(
          !this.#connected && (signal.reason as Error | undefined)?.name === "TimeoutError"
            ? new ConnectTimeoutError(this.#address, this.#secure, { cause: signal.reason })
            : signal.reason,
        );
      signal.addEventListener("abort", onAbort, { once: true });
      this.#handler = {
        bytes: (chunk) => {
          this.#responseStarted = true;
          const result = head.push(chunk);
          if (result === undefined) return;
          if (result instanceof Error) return fail(result);
          settled = true;
          signal.removeEventListener("abort", onAbort);
          try {
            resolve(this.#response(result.head, result.rest, request, keepAlive, done));
          } catch (error) {
            this.#handler = undefined;
            this.destroy();
            reject(error);
            done(false);
          }
        },
        end: (error) =>
          fail(
            error
              ? socketError(error, this.#address)
              : new TypeError("fetch failed: the server closed the connection before a response"),
          ),
      };
      this.#socket.resume(); // a reused connection may have been paused by its last reader
      const send = () => {
        if (!this.#closed) this.#socket.write(requestHead(request, url, keepAlive));
      };
      if (this.#connected) send();
      else this.#socket.once(this.#secure ? "secureConnect" : "connect", send);
    });
  }

  #ended(error: Error | undefined): void {
    this.#closed = true;
    const handler = this.#handler;
    this.#handler = undefined;
    handler?.end(error);
  }

  /** The response for a head, its body framed and delivered as its reader chooses. */
  #response(
    head: Head,
    rest: Uint8Array,
    request: Request,
    keepAlive: boolean,
    done: (reusable: boolean) => void,
  ): Response {
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
    const noBody = head.status === 204 || head.status === 304 || request.method === "HEAD";
    const chunked = /(?:^|,)\s*chunked\s*$/i.test(headers.get("transfer-encoding") ?? "");
    const lengthHeader = headers.get("content-length");
    let remaining = noBody
      ? 0
      : !chunked && lengthHeader !== null && /^\d+$/.test(lengthHeader.trim())
      ? Number(lengthHeader)
      : Infinity; // read until the connection closes
    const decoder = chunked && !noBody ? new ChunkedDecoder() : undefined;
    const reusable = keepAlive && (decoder !== undefined || remaining !== Infinity) &&
      keepsAlive(head, headers);
    const signal = request.signal;

    // How the body's reader is served: undecided until it reads.
    let mode: "pending" | "stream" | "direct" = "pending";
    let pending: Uint8Array[] = rest.length > 0 ? [rest] : [];
    let pendingEnd: { error: Error | undefined } | undefined;
    let emit: (piece: Uint8Array) => void = () => {};
    let settle: ((error: unknown) => void) | undefined;
    let outcome: { error: unknown } | undefined;
    let leftover = false;

    const finish = (error?: unknown) => {
      if (outcome) return;
      outcome = { error };
      signal.removeEventListener("abort", abortBody);
      this.#handler = undefined;
      this.#request = undefined;
      const reuse = error === undefined && reusable && !leftover && !this.#closed;
      if (!reuse) this.destroy();
      settle?.(error);
      done(reuse);
    };
    const abortBody = () => finish(signal.reason);
    const take = (chunk: Uint8Array) => {
      if (decoder) {
        const error = decoder.push(chunk, emit);
        if (error) return finish(new TypeError(error));
        if (decoder.finished) {
          leftover = decoder.leftover > 0;
          finish();
        }
        return;
      }
      const size = Math.min(chunk.length, remaining);
      if (size > 0) emit(size === chunk.length ? chunk : chunk.subarray(0, size));
      remaining -= size;
      if (remaining === 0) {
        leftover = chunk.length > size;
        finish();
      }
    };
    const feed = (chunk: Uint8Array) => {
      try {
        take(chunk);
      } catch (error) {
        finish(error); // the direct reader threw
      }
    };
    const endBody = (error: Error | undefined) => {
      if (error) finish(new TypeError(`network error: ${error.message}`, { cause: error }));
      else if (decoder || remaining !== Infinity) {
        finish(new TypeError("network error: the connection closed before the body ended"));
      } else finish();
    };
    // The reader chose: replay what came meanwhile, then read on.
    const begin = () => {
      if (outcome) return settle?.(outcome.error); // ended (aborted) before anyone read
      const chunks = pending;
      pending = [];
      for (const chunk of chunks) if (!outcome) feed(chunk);
      if (outcome) return;
      if (pendingEnd) endBody(pendingEnd.error);
      else this.#socket.resume();
    };

    if (remaining === 0) {
      leftover = rest.length > 0;
      finish();
    } else {
      signal.addEventListener("abort", abortBody, { once: true });
      this.#handler = {
        bytes: (chunk) => {
          if (mode === "pending") {
            pending.push(chunk.slice());
            this.#socket.pause();
            return;
          }
          feed(chunk);
          if (mode === "stream" && !outcome && (controller.desiredSize ?? 0) <= -STREAM_QUEUE) {
            this.#socket.pause();
          }
        },
        end: (error) => {
          if (mode === "pending") pendingEnd = { error };
          else endBody(error);
        },
      };
      // Nothing is read until the body's reader says how it reads.
      this.#socket.pause();
    }

    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = noBody ? null : new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
      pull: () => {
        if (mode === "direct") {
          controller.error(new TypeError("the body is being read directly"));
        } else if (mode === "stream") {
          this.#socket.resume();
        } else {
          mode = "stream";
          emit = (piece) => controller.enqueue(piece.slice());
          settle = (error) => error === undefined ? controller.close() : controller.error(error);
          begin();
        }
      },
      cancel: (reason) => {
        mode = "stream";
        settle = undefined;
        finish(reason ?? new TypeError("the body was cancelled"));
      },
      // Zero: pull() runs only when someone reads, so the first reader picks the way.
    }, { highWaterMark: 0 });
    // A reason phrase with control characters: Bun keeps them raw (a NUL once
    // reached a terminal through `mjpeg probe`), Deno and Node throw. Escaped,
    // it is valid everywhere and still says what came.
    const statusText = escapeControls(head.statusText);
    const response = new Response(body, { status: head.status, statusText, headers });
    if (body !== null) {
      directBodies.set(response, {
        pipe: (sink) =>
          new Promise<void>((resolve, reject) => {
            if (mode !== "pending") {
              reject(new TypeError("the body was already read"));
              return;
            }
            mode = "direct";
            emit = sink;
            settle = (error) => error === undefined ? resolve() : reject(error);
            begin();
          }),
        cancel: (reason) => finish(reason),
      });
    }
    return response;
  }
}

/** Whether the server lets the connection carry another request. */
function keepsAlive(head: Head, headers: Headers): boolean {
  const tokens = (headers.get("connection") ?? "").toLowerCase().split(",").map((t) => t.trim());
  if (tokens.includes("close")) return false;
  return head.minorVersion >= 1 || tokens.includes("keep-alive");
}
