/**
 * The request and response heads of the socket transport: the request line
 * and headers we write, and a reader for the response head that is bounded
 * and linear however the bytes are cut.
 *
 * An upstream may be hostile, so the response head is bounded: at most
 * {@linkcode MAX_INTERIM_RESPONSES} 1xx responses and {@linkcode MAX_HEAD}
 * bytes of heads in all, read without re-scanning or re-copying what came
 * before (a flood of `100 Continue` heads once kept a relay's event loop
 * busy enough to halve another stream's frame rate).
 *
 * @module
 */
import { quoteUntrusted } from "../errors.ts";
// One char per byte: TextDecoder("latin1") is windows-1252 on Deno and Bun,
// and Headers rejects the chars it makes of 0x80-0x9F.
import { byteString } from "../wire/bytes.ts";

/** The most bytes of response heads (interim ones included) read before giving up. */
export const MAX_HEAD = 64 * 1024;
/** The most informational (1xx) responses skipped before the real one. */
export const MAX_INTERIM_RESPONSES = 8;
const CRLFCRLF = [13, 10, 13, 10];

/** A parsed response head. */
export interface Head {
  /** The status code. */
  status: number;
  /** The reason phrase, as it came. */
  statusText: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: number;
  /** The header lines, in order. */
  headers: [string, string][];
}

function tooLarge(): TypeError {
  return new TypeError(
    `protocol error: expected a response head within ${MAX_HEAD} bytes, got more`,
  );
}

/**
 * Collects a response head from socket chunks. Bytes are appended to one
 * buffer that grows by doubling, and the search for the blank line resumes
 * where it stopped, so a head sent a byte at a time costs linear time, not
 * quadratic. Interim 1xx heads are skipped, within the bounds above.
 */
export class HeadReader {
  #buffer = new Uint8Array(0);
  #used = 0;
  #scanned = 0;
  #consumed = 0; // bytes of the heads found so far
  #interim = 0;

  /**
   * Reads more of the head.
   *
   * @param chunk Bytes from the socket; not kept (the reader copies what it needs).
   * @returns The final head and a copy of the body bytes after it, an error,
   *   or undefined for "need more".
   */
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

/**
 * The request head for a GET.
 *
 * @param request The request: its headers are sent, less the ones the transport owns.
 * @param url Its URL.
 * @param keepAlive Ask the server to keep the connection open afterwards.
 * @returns The head, ending in the blank line.
 */
export function requestHead(request: Request, url: URL, keepAlive: boolean): string {
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
  return text + `Connection: ${keepAlive ? "keep-alive" : "close"}\r\n\r\n`;
}

function parseHead(text: string): Head | TypeError {
  const lines = text.split("\r\n");
  const match = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
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
  return {
    status: Number(match[2]),
    statusText: match[3] ?? "",
    minorVersion: Number(match[1]),
    headers,
  };
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
