/**
 * One HTTP/1.1 connection of the Deno server: reads request heads in order
 * (within the header timeout, refusing what is malformed), builds a web
 * `Request`, answers it, and goes on to the next one the client pipelined or
 * kept alive for. It reads all the time, so a client that goes away is
 * noticed even while a stream waits for frames, and stops buffering beyond
 * one head's worth.
 *
 * @module
 */
import { findHeadEnd, HeadError, parseHead, type RequestHead } from "./http1_head.ts";
import { concat, refusal, writeResponse } from "./http1_response.ts";
import { describeError, type RateLimitedLog } from "../internal/rate_limited_log.ts";

/** The parts of `Deno.Conn` used here. */
export interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
  readonly remoteAddr: { transport: string; hostname?: string; port?: number };
  setNoDelay?(noDelay?: boolean): void;
}

/** What a connection needs from the server. */
export interface ConnectionContext {
  /** Answers a request; never rejects. `cut` closes the connection at once. */
  handle(request: Request, info: unknown, cut: () => void): Promise<Response>;
  /** Milliseconds a request head (and an idle keep-alive connection) may take. */
  headerTimeout: number;
  /** Where a connection that ends on an unexpected error is reported. */
  log: RateLimitedLog;
  /** Connections are TLS: requests get `https:` URLs. */
  secure?: boolean;
}

const LIMITS = { maxHeadBytes: 64 * 1024, maxHeaders: 200 };
/**
 * How long a refusal (408, 400…) may take to write before the connection is
 * closed without it: a client that reads nothing, or a TLS client that never
 * finished its handshake (the write waits for it), would otherwise hold it.
 */
const REFUSAL_WRITE_MS = 1000;
const READ_SIZE = 4096;
const encoder = new TextEncoder();

/** One client connection: reads heads in order, answers each, then the next. */
export class Connection {
  readonly #conn: DenoConn;
  readonly #context: ConnectionContext;
  readonly #onClose: () => void;
  #buffer: Uint8Array = new Uint8Array(0);
  #eof = false;
  #closed = false;
  #stopping = false;
  /** Waiting for a request head with none of it received: safe to close at shutdown. */
  #idle = true;
  #wake: (() => void) | undefined;
  #reading = false;
  #abort: AbortController | undefined;
  /** Writing an endless stream, which a client's FIN ends (as on Node and Bun). */
  #endless = false;

  /**
   * @param conn The accepted connection.
   * @param context The handler, the header timeout and the log.
   * @param onClose Called once when the connection has closed.
   */
  constructor(conn: DenoConn, context: ConnectionContext, onClose: () => void) {
    this.#conn = conn;
    this.#context = context;
    this.#onClose = onClose;
    try {
      // Each MJPEG part is one write; don't let Nagle hold its tail back.
      conn.setNoDelay?.(true);
    } catch { /* not a TCP socket */ }
  }

  /** Stops after the response in progress; closes now if none is. */
  stop(): void {
    this.#stopping = true;
    if (this.#idle) this.close();
  }

  /** Closes the connection now; a pending read or write fails. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.#abort?.abort();
    this.#notify();
    this.#onClose();
  }

  /** Answers requests until the client leaves, asks to close, or the server stops; never rejects. */
  async serve(): Promise<void> {
    this.#pump();
    let first = true;
    try {
      while (!this.#closed && !this.#stopping) {
        const head = await this.#readHead(first);
        first = false;
        if (head === undefined) break;
        const keepAlive = await this.#answer(head);
        if (!keepAlive) break;
      }
    } catch (error) {
      if (!this.#closed) {
        this.#context.log.report(
          "connection",
          `connection ended on an error: ${describeError(error).text}`,
        );
      }
    } finally {
      this.close();
    }
  }

  // Reads all the time, so a client that goes away is noticed even while a
  // stream waits for frames; stops buffering beyond one head's worth.
  async #pump(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      while (!this.#closed && !this.#eof && this.#buffer.length < LIMITS.maxHeadBytes) {
        const chunk = new Uint8Array(READ_SIZE);
        const n = await this.#conn.read(chunk);
        if (n === null) {
          this.#eof = true;
          // A viewer that half-closes is leaving; a finite answer still finishes.
          if (this.#endless) this.close();
        } else {
          this.#buffer = this.#buffer.length === 0
            ? chunk.subarray(0, n)
            : concat(this.#buffer, chunk.subarray(0, n));
        }
        this.#notify();
      }
    } catch {
      // Reset or closed: whatever the handler is doing is for nobody now.
      this.#abort?.abort();
      this.close();
    } finally {
      this.#reading = false;
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#wake = resolve);
  }

  #consume(n: number): Uint8Array {
    const taken = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    if (!this.#reading) this.#pump();
    return taken;
  }

  /** The next request head, or undefined when the connection should end. */
  async #readHead(first: boolean): Promise<RequestHead | undefined> {
    this.#idle = this.#buffer.length === 0;
    if (this.#idle && this.#stopping) return undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#notify();
    }, this.#context.headerTimeout);
    try {
      let searched = 0;
      for (;;) {
        const end = findHeadEnd(this.#buffer, searched);
        if (end > LIMITS.maxHeadBytes || (end < 0 && this.#buffer.length >= LIMITS.maxHeadBytes)) {
          await this.#refuse(431, `expected a head of at most ${LIMITS.maxHeadBytes} bytes\n`);
          return undefined;
        }
        if (end > 0) {
          this.#idle = false;
          return parseHead(this.#consume(end), LIMITS);
        }
        // Lines must end in CRLF; a bare LF would otherwise wait for the timeout.
        for (let i = searched; i < this.#buffer.length; i++) {
          if (this.#buffer[i] === 10 && (i === 0 || this.#buffer[i - 1] !== 13)) {
            throw new HeadError(400, "expected lines ending in CRLF, got a bare LF");
          }
        }
        searched = Math.max(0, this.#buffer.length - 3);
        if (this.#buffer.length > 0) this.#idle = false;
        if (this.#closed || this.#eof) return undefined;
        if (timedOut) {
          // A keep-alive connection that stayed idle just ends; a head that
          // did not arrive in time (or never started) is told why, as Node does.
          if (first || this.#buffer.length > 0) {
            await this.#refuse(
              408,
              `expected a request head within ${this.#context.headerTimeout} ms\n`,
            );
          }
          return undefined;
        }
        if (this.#idle && this.#stopping) return undefined;
        await this.#changed();
      }
    } catch (error) {
      if (!(error instanceof HeadError)) throw error;
      await this.#refuse(error.status, `${error.message}\n`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  async #refuse(status: number, message: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#writeAll(refusal(status, message)).catch(() => {}),
      new Promise<void>((resolve) => timer = setTimeout(resolve, REFUSAL_WRITE_MS)),
    ]);
    clearTimeout(timer);
  }

  /** Answers one request; returns whether the connection may carry another. */
  async #answer(head: RequestHead): Promise<boolean> {
    const withBody = head.method !== "GET" && head.method !== "HEAD";
    if (head.body === "chunked" && withBody) {
      await this.#refuse(411, "expected a Content-Length request body\n");
      return false;
    }
    const abort = new AbortController();
    this.#abort = abort;
    const body = withBody && head.body !== undefined && head.body !== "chunked"
      ? this.#requestBody(head.body.length, head.expectContinue)
      : undefined;
    const url = head.target.startsWith("http://") || head.target.startsWith("https://")
      ? head.target
      : `${this.#context.secure ? "https" : "http"}://${head.host}${
        head.target === "*" ? "/" : head.target
      }`;
    let request: Request;
    try {
      request = new Request(url, {
        method: head.method,
        headers: head.headers,
        signal: abort.signal,
        ...(body ? { body: body.stream, duplex: "half" } : {}),
      } as RequestInit);
    } catch {
      await this.#refuse(400, "expected a request that makes a valid URL\n");
      return false;
    }
    const response = await this.#context.handle(
      request,
      { remoteAddr: this.#conn.remoteAddr },
      () => this.close(),
    );
    if (this.#closed) {
      await response.body?.cancel().catch(() => {});
      return false;
    }
    // A body nobody read (or one on a GET) cannot be skipped safely: close after.
    const written = await writeResponse(
      (bytes) => this.#writeAll(bytes),
      head,
      response,
      !head.close && !this.#stopping && head.body === undefined,
      () => {
        this.#endless = true;
        if (this.#eof) this.close();
      },
    );
    if (this.#abort === abort) this.#abort = undefined;
    return written.keepAlive && (!body || body.finished()) && !this.#stopping;
  }

  #requestBody(length: number, expectContinue: boolean) {
    let remaining = length;
    let continued = !expectContinue;
    const stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (!continued) {
          continued = true;
          await this.#writeAll(encoder.encode("HTTP/1.1 100 Continue\r\n\r\n"));
        }
        while (this.#buffer.length === 0 && !this.#eof && !this.#closed) await this.#changed();
        if (this.#buffer.length === 0) {
          controller.error(new Error(`expected ${remaining} more body bytes, got the end`));
          return;
        }
        const piece = this.#consume(Math.min(remaining, this.#buffer.length));
        remaining -= piece.length;
        controller.enqueue(piece);
        if (remaining === 0) controller.close();
      },
    }, { highWaterMark: 0 });
    return { stream, finished: () => remaining === 0 };
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    for (let offset = 0; offset < bytes.length;) {
      if (this.#closed) throw new Error("connection closed");
      offset += await this.#conn.write(offset === 0 ? bytes : bytes.subarray(offset));
    }
  }
}
