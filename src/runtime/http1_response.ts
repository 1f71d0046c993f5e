/**
 * A web-standard `Response` written as HTTP/1.1 bytes, for the Deno server:
 * the status line and headers, then the body framed the cheapest way that is
 * correct — a Content-Length when it is declared or the body is short and
 * ready, chunks for other streams, and for an endless MJPEG stream no framing
 * at all (its end is the connection's, as with mjpg-streamer), so each part is
 * written as the hub's one shared buffer, never copied per viewer.
 *
 * @module
 */
import { streamControl } from "./stream_control.ts";

/** Writes bytes to the connection; rejects once it is closed. */
export type WriteBytes = (bytes: Uint8Array) => Promise<void>;

/** What became of a response. */
export interface Written {
  /** The body went out framed to its end (false: the connection must close). */
  complete: boolean;
  /** The connection may carry another request. */
  keepAlive: boolean;
}

/** The most body bytes collected to answer with a Content-Length instead of chunks. */
const COLLECT_MAX = 64 * 1024;
const encoder = new TextEncoder();
const CRLF = new Uint8Array([13, 10]);
const HOP_BY_HOP = new Set([
  "connection",
  "content-length",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "proxy-connection",
]);
const NOT_YET_VALUE = Symbol("not yet");
const NOT_YET = Promise.resolve(NOT_YET_VALUE);
type Read = ReadableStreamReadResult<Uint8Array>;

/**
 * Writes `response` as the answer to a request.
 *
 * @param write Writes to the connection.
 * @param request The request's method and HTTP version.
 * @param response The answer.
 * @param keepAlive Whether the connection could carry another request (the
 *   client did not ask to close, nothing is left unread).
 * @param onEndless Called before an endless stream's first byte: the
 *   connection then ends with it.
 * @returns Whether the body was framed to its end, and whether to keep the connection.
 */
export async function writeResponse(
  write: WriteBytes,
  request: { method: string; version: "1.0" | "1.1" },
  response: Response,
  keepAlive: boolean,
  onEndless: () => void,
): Promise<Written> {
  const status = response.status;
  const bodiless = request.method === "HEAD" || status === 204 || status === 304 ||
    status < 200;
  const declared = response.headers.get("content-length");
  const fixed = declared !== null && /^\d+$/.test(declared) ? Number(declared) : undefined;
  const reader = bodiless ? undefined : response.body?.getReader();
  if (bodiless) await response.body?.cancel().catch(() => {});

  let framing: "none" | "fixed" | "chunked" | "close" = "none";
  let collected: Uint8Array[] = [];
  let pending: Promise<Read> | undefined;
  let length = fixed ?? 0;
  if (reader === undefined) {
    // No body to send: a declared length is kept only for HEAD.
    if (!bodiless) length = 0;
  } else if (fixed !== undefined) {
    framing = "fixed";
  } else if (streamControl(response.body)) {
    framing = "close";
  } else {
    // Collect what the body has ready now; a short one gets a Content-Length.
    let total = 0;
    for (;;) {
      const next: Promise<Read> = pending ?? reader.read();
      // The first chunk may take a turn of the event loop (Deno hands a
      // string body over that way); later ones must be there already.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const result = await Promise.race([
        next,
        total > 0 ? NOT_YET : new Promise<typeof NOT_YET_VALUE>((resolve) => {
          timer = setTimeout(() => resolve(NOT_YET_VALUE), 0);
        }),
      ]);
      clearTimeout(timer);
      if (result === NOT_YET_VALUE) {
        pending = next;
        break;
      }
      pending = undefined;
      if (result.done) break;
      collected.push(result.value);
      total += result.value.length;
      if (total > COLLECT_MAX) break;
    }
    if (pending === undefined && total <= COLLECT_MAX) {
      framing = "fixed";
      length = total;
    } else {
      framing = request.version === "1.1" ? "chunked" : "close";
    }
  }
  if (framing === "close") {
    keepAlive = false;
    onEndless();
  }

  let head = `HTTP/1.1 ${status} ${response.statusText || reason(status)}\r\n`;
  let hasDate = false;
  response.headers.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || name === "set-cookie") return;
    if (name === "date") hasDate = true;
    head += `${name}: ${value}\r\n`;
  });
  for (const cookie of response.headers.getSetCookie?.() ?? []) {
    head += `set-cookie: ${cookie}\r\n`;
  }
  if (!hasDate) head += `date: ${httpDate()}\r\n`;
  const mayHaveLength = status >= 200 && status !== 204 && status !== 304;
  if (framing === "chunked") head += "transfer-encoding: chunked\r\n";
  else if (
    mayHaveLength &&
    (framing === "fixed" || fixed !== undefined || (framing === "none" && !bodiless))
  ) {
    // A HEAD answer says the length a GET would have, when it is known.
    head += `content-length: ${length}\r\n`;
  }
  head += keepAlive ? "\r\n" : "connection: close\r\n\r\n";
  const headBytes = encoder.encode(head);

  if (reader === undefined) {
    await write(headBytes);
    return { complete: true, keepAlive };
  }
  try {
    if (framing === "fixed" && fixed === undefined) {
      await write(concat(headBytes, ...collected));
      return { complete: true, keepAlive };
    }
    await write(headBytes);
    let written = 0;
    const send = (chunk: Uint8Array) =>
      framing === "chunked"
        ? write(concat(encoder.encode(`${chunk.length.toString(16)}\r\n`), chunk, CRLF))
        : write(chunk);
    for (const chunk of collected) await send(chunk);
    collected = [];
    for (;;) {
      const result = await (pending ?? reader.read());
      pending = undefined;
      if (result.done) break;
      let chunk = result.value;
      if (framing === "fixed") {
        if (written + chunk.length > length) chunk = chunk.subarray(0, length - written);
        written += chunk.length;
      }
      if (chunk.length > 0) await send(chunk);
      if (framing === "fixed" && written >= length) break;
    }
    if (framing === "chunked") await write(encoder.encode("0\r\n\r\n"));
    // A body shorter than its Content-Length leaves the framing broken.
    const complete = framing !== "fixed" || written === length;
    return { complete, keepAlive: keepAlive && complete };
  } catch (error) {
    reader.cancel(error).catch(() => {});
    return { complete: false, keepAlive: false };
  } finally {
    try {
      reader.releaseLock();
    } catch { /* a read is still pending */ }
    response.body?.cancel().catch(() => {});
  }
}

/**
 * A complete plain-text answer that closes the connection, for requests the
 * server refuses before any handler sees them (400, 408, 411, 431…).
 *
 * @param status The status.
 * @param message Why, ending in a newline.
 * @returns The bytes to write.
 */
export function refusal(status: number, message: string): Uint8Array {
  const body = encoder.encode(`${status} ${reason(status)}: ${message}`);
  return concat(
    encoder.encode(
      `HTTP/1.1 ${status} ${reason(status)}\r\ndate: ${httpDate()}\r\n` +
        `content-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\n` +
        `connection: close\r\n\r\n`,
    ),
    body,
  );
}

/**
 * Joins byte arrays into one.
 *
 * @param parts The arrays.
 * @returns A new array with all their bytes.
 */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

let dateSecond = 0;
let dateText = "";
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  411: "Length Required",
  413: "Content Too Large",
  414: "URI Too Long",
  417: "Expectation Failed",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

function reason(status: number): string {
  return REASONS[status] ?? "";
}
