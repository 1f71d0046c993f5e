/**
 * The request head of HTTP/1.1 (RFC 9112), parsed from bytes with no I/O:
 * the request line, the header fields, and the checks that keep a server and
 * a proxy in front of it from reading one request two ways (smuggling). The
 * Deno server (`serve_deno.ts`) feeds it what the socket gave; anything
 * malformed becomes an error with the status to answer.
 *
 * @module
 */

/** A parsed request head. */
export interface RequestHead {
  method: string;
  /** The request target as sent (origin-form `/path?q`, absolute-form, or `*`). */
  target: string;
  /** `1.0` or `1.1`. */
  version: "1.0" | "1.1";
  /** Header fields in order, names as sent. */
  headers: [string, string][];
  /** The Host to build the URL with (the absolute-form's authority wins). */
  host: string;
  /** Bytes of body that follow: a Content-Length, `chunked`, or none. */
  body: { length: number } | "chunked" | undefined;
  /** The client asked to close after this request (or spoke HTTP/1.0). */
  close: boolean;
  /** `Expect: 100-continue` was sent. */
  expectContinue: boolean;
}

/** A head the server refuses, with the status to answer and why. */
export class HeadError extends Error {
  /** The status to answer: 400, 414, 431, 501 or 505. */
  readonly status: number;
  /**
   * @param status The status to answer.
   * @param message What was expected and what came (never echoing request bytes).
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = "HeadError";
    this.status = status;
  }
}

/** Limits on a request head. */
export interface HeadLimits {
  /** The most bytes a head may have, CRLFs included (more: 431). */
  maxHeadBytes: number;
  /** The most header fields (more: 431). */
  maxHeaders: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII only: no spaces, no controls, no raw non-ASCII bytes.
const TARGET = /^[\x21-\x7e]+$/;
// Field values: visible ASCII, spaces, tabs and obs-text; no other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// reg-name, IPv4, or [IPv6], and an optional port.
const HOST = /^(?:[A-Za-z0-9._~!$&'()*+,;=%-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Finds the end of a head (`\r\n\r\n`) in `bytes`.
 *
 * @param bytes What has arrived so far.
 * @param from Where to start looking (bytes before were already searched).
 * @returns The index just past the blank line, or -1.
 */
export function findHeadEnd(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(3, from + 3); i < bytes.length; i++) {
    if (
      bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13
    ) return i + 1;
  }
  return -1;
}

/**
 * Parses one request head.
 *
 * @param bytes The head, ending with its blank line (as found by {@linkcode findHeadEnd}).
 * @param limits How many header fields to accept.
 * @returns The head.
 * @throws {HeadError} When it is not a request this server should act on.
 */
export function parseHead(bytes: Uint8Array, limits: Pick<HeadLimits, "maxHeaders">): RequestHead {
  // One char per byte, so obs-text in values survives as the bytes sent.
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 8192)));
  }
  const lines = text.slice(0, -4).split("\r\n");
  // A client may send empty lines before the request line (RFC 9112 §2.2).
  while (lines.length > 1 && lines[0] === "") lines.shift();
  if (lines.some((line) => line.includes("\n") || line.includes("\r"))) {
    throw new HeadError(400, "expected lines ending in CRLF, got a bare CR or LF");
  }
  const [method, target, protocol, ...extra] = lines[0]!.split(" ");
  if (extra.length > 0 || !method || !target || !protocol) {
    throw new HeadError(400, "expected a request line of method, target and HTTP version");
  }
  if (!TOKEN.test(method)) throw new HeadError(400, "expected a method made of token characters");
  if (!/^HTTP\/\d\.\d$/.test(protocol)) {
    throw new HeadError(400, "expected HTTP/1.1 or HTTP/1.0 as the protocol");
  }
  if (protocol !== "HTTP/1.1" && protocol !== "HTTP/1.0") {
    throw new HeadError(505, `expected HTTP/1.1 or HTTP/1.0, got ${protocol}`);
  }
  if (!TARGET.test(target)) {
    throw new HeadError(400, "expected a request target of visible ASCII characters");
  }
  const version = protocol === "HTTP/1.1" ? "1.1" : "1.0";

  const headers: [string, string][] = [];
  let host: string | undefined;
  let hosts = 0;
  const lengths: string[] = [];
  const encodings: string[] = [];
  const connection: string[] = [];
  let expectContinue = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(" ") || line.startsWith("\t")) {
      throw new HeadError(400, "expected no folded header lines (obs-fold)");
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) {
      throw new HeadError(400, "expected header lines of name ':' value, with no space before ':'");
    }
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (!FIELD_VALUE.test(value)) {
      throw new HeadError(400, `expected no control characters in the ${name} header`);
    }
    if (headers.length >= limits.maxHeaders) {
      throw new HeadError(431, `expected at most ${limits.maxHeaders} header fields, got more`);
    }
    headers.push([name, value]);
    switch (name.toLowerCase()) {
      case "host":
        hosts++;
        host = value;
        break;
      case "content-length":
        lengths.push(...value.split(",").map((v) => v.trim()));
        break;
      case "transfer-encoding":
        encodings.push(...value.split(",").map((v) => v.trim().toLowerCase()).filter(Boolean));
        break;
      case "connection":
        connection.push(...value.toLowerCase().split(",").map((v) => v.trim()));
        break;
      case "expect":
        if (value.toLowerCase() !== "100-continue") {
          throw new HeadError(417, "expected no Expect header other than 100-continue");
        }
        expectContinue = true;
    }
  }

  if (hosts > 1) throw new HeadError(400, `expected one Host header, got ${hosts}`);
  if (target.startsWith("http://") || target.startsWith("https://")) {
    // absolute-form: its authority is the host (RFC 9112 §3.2.2).
    const authority = target.slice(target.indexOf("//") + 2).split(/[/?#]/, 1)[0]!;
    if (authority.includes("@")) throw new HeadError(400, "expected no userinfo in the target");
    host = authority;
  } else if (target === "*") {
    if (method !== "OPTIONS") throw new HeadError(400, "expected * only with OPTIONS");
  } else if (!target.startsWith("/")) {
    throw new HeadError(method === "CONNECT" ? 501 : 400, "expected a target starting with /");
  }
  if (host === undefined || host === "") {
    throw new HeadError(400, "expected a Host header naming the server, got none");
  }
  if (!HOST.test(host) || Number(host.match(/:(\d+)$/)?.[1] ?? 0) > 65535) {
    throw new HeadError(400, "expected a Host header of a host name or address and a port");
  }

  let body: RequestHead["body"];
  if (encodings.length > 0) {
    if (lengths.length > 0) {
      throw new HeadError(400, "expected Content-Length or Transfer-Encoding, got both");
    }
    if (version === "1.0") {
      throw new HeadError(400, "expected no Transfer-Encoding from an HTTP/1.0 client");
    }
    if (encodings.length !== 1 || encodings[0] !== "chunked") {
      throw new HeadError(501, "expected Transfer-Encoding: chunked and nothing else");
    }
    body = "chunked";
  } else if (lengths.length > 0) {
    if (!lengths.every((v) => /^\d{1,15}$/.test(v)) || new Set(lengths).size !== 1) {
      throw new HeadError(400, "expected one Content-Length of digits");
    }
    const length = Number(lengths[0]);
    body = length > 0 ? { length } : undefined;
  }
  // HTTP/1.0 keep-alive is not offered: one request per connection.
  const close = version === "1.0" || connection.includes("close");
  return { method, target, version, headers, host, body, close, expectContinue };
}
