/**
 * The scripted faulty camera behind tests/reliability_client.test.ts. Each
 * connection follows a plan drawn from a seeded PRNG (multipart with some
 * boundary, or raw JPEGs; a few whole parts; then a fault at a byte offset),
 * and the server logs what it really sent, so the test can derive the
 * client's counters exactly: a part counts as started once its header block
 * (multipart) or its SOI (raw) was sent, and as complete once its last JPEG
 * byte was.
 */
import type { MjpegClient } from "../../src/client/mod.ts";
import { concat } from "./bytes.ts";
import { fixtureFrames } from "./fixtures.ts";
import type { Rng } from "./fuzz_corpus.ts";
import { sha256 } from "./hash.ts";
import type { UpstreamConnection } from "./upstream.ts";
import { sleep } from "./wait.ts";

/** What a connection does after its whole parts. */
export type Fault = "die" | "reset" | "stall" | "error" | "final";
/** Where a "die", "reset" or "stall" cuts the byte stream. */
export type CutWhere = "http-head" | "delimiter" | "part-headers" | "jpeg" | "part-end";

/** What one connection sent, from the server's side. */
export interface ConnectionLog {
  index: number;
  fault: Fault;
  /** `multipart;boundary=…`, `multipart (no boundary)`, `image/jpeg`, or the error status. */
  shape: string;
  cutWhere: CutWhere | undefined;
  /** Checksums of the parts the client saw begin, in order (their sequence numbers follow on). */
  started: string[];
  /** How many of `started` were sent whole. */
  complete: number;
  /** Body bytes written (after the HTTP head). */
  bodyBytes: number;
  acceptedAt: number;
  /** When the server dropped the connection, or saw it closed (whichever came first). */
  closedAt: number;
  /** The client closed the connection before the server was done with it. */
  clientLeftFirst: boolean;
  /** For a reset: ms from the reset to the socket's close event. */
  resetToClose: number | undefined;
  /** For a stall: ms from the last byte written to the client hanging up. */
  stalledFor: number | undefined;
}

interface Piece {
  bytes: Uint8Array;
  sum: string;
  /** Offsets within the connection's bytes. */
  partAt: number;
  headersAt: number;
  jpegAt: number;
  jpegEnd: number;
  /** The client starts the frame once it has read up to here (headers done, or FF D8). */
  startAt: number;
}

/** Whole frames the last, well-behaved connection sends before it idles. */
export const FINAL_FRAMES = 6;

/** How often the last connection sends a blank line; well under the test's stall timeout. */
const STALL_KEEPALIVE_MS = 40;

const enc = new TextEncoder();
const BOUNDARIES = ["frame", "--bbb", "ThisRandomString", "ffmpeg", "a.b_c-d+e=f", "x"];
const ERRORS: [number, string][] = [
  [401, "<html><body>401: log in first</body></html>"],
  [404, "no such camera\n"],
  [500, '{"error":"camera driver crashed"}'],
  [503, "camera busy, retry later\n"],
];

/**
 * Runs one connection by its plan and returns its log once the socket is
 * gone. `ordinal` counts earlier connections with the same fault, so the
 * error statuses take turns.
 */
export async function runPlanned(
  conn: UpstreamConnection,
  fault: Fault,
  ordinal: number,
  rng: Rng,
  client: MjpegClient,
): Promise<ConnectionLog> {
  const log: ConnectionLog = {
    index: conn.index,
    fault,
    shape: "",
    cutWhere: undefined,
    started: [],
    complete: 0,
    bodyBytes: 0,
    acceptedAt: performance.now(),
    closedAt: 0,
    resetToClose: undefined,
    clientLeftFirst: false,
    stalledFor: undefined,
  };
  const bytesBefore = client.stats.bytes;
  conn.socket.once("close", () => log.closedAt ||= performance.now());
  if (fault === "error") {
    const [status, body] = ERRORS[ordinal % ERRORS.length]!;
    log.shape = String(status);
    const type = status === 500 ? "application/json" : "text/html";
    await conn.head(status, { "Content-Type": type, "Content-Length": String(body.length) });
    await conn.write(body);
    conn.end();
    await conn.closed();
    return log;
  }
  const { head, pieces, shape } = planStream(
    rng,
    fault === "final" ? FINAL_FRAMES - 1 : rng.int(0, 4),
    fault === "final",
  );
  log.shape = shape;
  const whole = concat(head, ...pieces.map((p) => p.bytes));
  let cut = whole.length;
  if (fault !== "final") {
    // The fault hits the last part; the ones before it go out whole.
    [cut, log.cutWhere] = cutOffset(rng, head.length, pieces);
  }
  // Random chunks, so delimiters and headers arrive split across reads too.
  let written = 0;
  while (written < cut) {
    const end = Math.min(cut, written + rng.pick([1, 7, 100, 1500, 8192, 65536]));
    if (!await conn.write(whole.subarray(written, end))) break;
    written = end;
    if (rng.chance(0.1)) await sleep(1);
  }
  // The client hung up mid-write: then what it read is unknown, and the test fails saying so.
  if (written < cut) log.clientLeftFirst = true;
  for (const p of pieces) {
    if (written < p.startAt) break;
    log.started.push(p.sum);
    if (written >= p.jpegEnd) log.complete++;
  }
  log.bodyBytes = Math.max(0, written - head.length);
  if (fault === "die") {
    log.closedAt = performance.now();
    conn.destroy();
  } else if (fault === "reset") {
    // The client must have read every byte first: a reset may discard data
    // in flight, and then nobody could say which frames ought to arrive.
    const deadline = performance.now() + 5000;
    while (client.stats.bytes - bytesBefore < log.bodyBytes && performance.now() < deadline) {
      await sleep(2);
    }
    const socket = conn.socket as { resetAndDestroy?: () => void; destroy(): void };
    log.clientLeftFirst ||= log.closedAt !== 0;
    log.closedAt ||= performance.now();
    if (socket.resetAndDestroy) socket.resetAndDestroy();
    else socket.destroy();
    const resetAt = log.closedAt;
    conn.socket.once("close", () => log.resetToClose = performance.now() - resetAt);
  } else if (fault === "stall") {
    // The client's stall clock runs from its request until the response head
    // is complete (head bytes are not seen by it), then from its last read.
    const lastWrite = log.cutWhere === "http-head" ? log.acceptedAt : performance.now();
    await conn.closed(); // silence until the client gives up
    log.stalledFor = performance.now() - lastWrite;
  } else {
    // "final": blank lines between parts (which multipart allows) keep the
    // short stall timeout from ending the connection the test ends with stop().
    while (await conn.write("\r\n")) await sleep(STALL_KEEPALIVE_MS);
  }
  await conn.closed();
  return log;
}

/** The HTTP head and the parts of one connection; the last part is the fault's victim. */
function planStream(
  rng: Rng,
  whole: number,
  multipart: boolean,
): { head: Uint8Array; pieces: Piece[]; shape: string } {
  const raw = !multipart && rng.chance(0.25);
  const boundary = rng.pick(BOUNDARIES);
  const noParam = !raw && rng.chance(0.15);
  const quoted = !raw && !noParam && rng.chance(0.3);
  const type = raw
    ? "image/jpeg"
    : `multipart/x-mixed-replace${
      noParam ? "" : quoted ? `; boundary="${boundary}"` : `;boundary=${boundary}`
    }`;
  const shape = raw ? "image/jpeg" : noParam ? "multipart (no boundary)" : `multipart;${boundary}`;
  const head = enc.encode(
    `HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n`,
  );
  const pieces: Piece[] = [];
  let offset = head.length;
  for (let i = 0; i <= whole; i++) {
    const piece = planPart(rng, raw ? undefined : boundary, offset);
    pieces.push(piece);
    offset += piece.bytes.length;
  }
  return { head, pieces, shape };
}

/** One part at `offset`: a raw JPEG, or delimiter + headers + JPEG + CRLF. */
function planPart(rng: Rng, boundary: string | undefined, offset: number): Piece {
  const jpeg = rng.pick(fixtureFrames);
  const sum = sha256(jpeg);
  if (boundary === undefined) {
    const jpegEnd = offset + jpeg.length;
    return {
      bytes: jpeg,
      sum,
      partAt: offset,
      headersAt: offset,
      jpegAt: offset,
      jpegEnd,
      startAt: offset + 2,
    };
  }
  const delimiter = enc.encode(`--${boundary}\r\n`);
  const headers = enc.encode(
    `Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\nX-Timestamp: ${
      rng.int(1, 1e9)
    }.000\r\n\r\n`,
  );
  const bytes = concat(delimiter, headers, jpeg, enc.encode("\r\n"));
  const jpegAt = offset + delimiter.length + headers.length;
  return {
    bytes,
    sum,
    partAt: offset,
    headersAt: offset + delimiter.length,
    jpegAt,
    jpegEnd: jpegAt + jpeg.length,
    startAt: jpegAt,
  };
}

/**
 * Where to cut the last part (or, when it is the only one, maybe the HTTP
 * head). For raw JPEGs the "delimiter" is the SOI, the "part headers" the
 * JPEG's first segment and the "part end" its EOI.
 */
function cutOffset(rng: Rng, headLength: number, pieces: Piece[]): [number, CutWhere] {
  const v = pieces[pieces.length - 1]!;
  const raw = v.jpegAt === v.partAt;
  const where = rng.pick<CutWhere>(
    pieces.length === 1
      ? ["http-head", "delimiter", "part-headers", "jpeg", "jpeg", "part-end"]
      : ["delimiter", "part-headers", "jpeg", "jpeg", "part-end"],
  );
  const partEnd = v.partAt + v.bytes.length;
  const [from, to] = where === "http-head"
    ? [0, headLength]
    : where === "delimiter"
    ? raw ? [v.partAt, v.partAt + 2] : [v.partAt, v.headersAt]
    : where === "part-headers"
    ? raw ? [v.partAt + 2, v.partAt + 20] : [v.headersAt, v.jpegAt]
    : where === "jpeg"
    ? [v.jpegAt, v.jpegEnd]
    : raw
    ? [v.jpegEnd - 2, v.jpegEnd] // inside the EOI marker
    : [v.jpegEnd, partEnd]; // the CRLF after the JPEG: the frame is whole
  return [rng.int(from, to - 1), where];
}
