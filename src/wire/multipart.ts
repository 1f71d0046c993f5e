/**
 * The syntax of multipart MJPEG: delimiter lines and part headers, with the
 * variants real cameras and servers send, and finding the delimiter that ends
 * a body without Content-Length.
 *
 * @module
 */
import { byteString } from "./bytes.ts";
import type { LineReader } from "./line_reader.ts";

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const DASH = 0x2d;

/** What {@linkcode MultipartSyntax.scanBody} found. */
export interface DelimiterMatch {
  /** `found`: the body ends here; `none`: need more bytes. */
  kind: "found" | "none";
  /** Body bytes that are certainly not part of the delimiter. */
  body: Uint8Array;
}

/** What a line outside a part is. */
export type LineKind = "part" | "close" | "blank" | "other";

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The boundary of one multipart stream and the rules for recognising its
 * delimiter lines, whether declared in the Content-Type or learnt from the
 * first delimiter.
 */
export class MultipartSyntax {
  /** The delimiter line as bytes (`--boundary`), once known. */
  delimiter: Uint8Array | undefined;
  /** Set when the stream's delimiter disagreed with the declared boundary. */
  note = "";
  // A declared boundary that already starts with "--" may appear on the wire
  // with or without another "--" in front; the first delimiter settles it.
  #alternative: Uint8Array | undefined;
  #fixed = false;
  #declared: Uint8Array | undefined;

  /** @param boundary The boundary from the Content-Type, if any. */
  constructor(boundary?: string) {
    if (boundary !== undefined) {
      this.delimiter = encoder.encode(`--${boundary}`);
      this.#declared = this.delimiter;
      if (boundary.startsWith("--")) this.#alternative = encoder.encode(boundary);
    }
  }

  /** The longest line worth reading as a possible delimiter. */
  get maxDelimiterProbe(): number {
    return Math.max(160, (this.delimiter?.length ?? 0) + 16);
  }

  /** What the parser was looking for, for error messages. */
  expectation(jpeg: boolean): string {
    if (jpeg) return "a JPEG start (FF D8)";
    if (this.delimiter) return `"${latin1.decode(this.delimiter)}" delimiter`;
    return 'a multipart delimiter ("--boundary") or a JPEG (FF D8)';
  }

  /**
   * Classifies a line read between parts.
   *
   * @param line The line without its line ending.
   * @param beforeFirstPart True until the first part began: only then may the
   * boundary be learnt from the wire.
   */
  classifyLine(line: Uint8Array, beforeFirstPart: boolean): LineKind {
    let end = line.length;
    while (end > 0 && (line[end - 1] === SPACE || line[end - 1] === TAB || line[end - 1] === CR)) {
      end--;
    }
    if (end === 0) return "blank";
    const text = line.subarray(0, end);
    const d = this.delimiter;
    if (d) {
      const kind = delimiterKind(text, d);
      if (kind) {
        this.#fixed = true;
        return kind;
      }
      if (!this.#fixed && this.#alternative) {
        const alt = delimiterKind(text, this.#alternative);
        if (alt) {
          this.delimiter = this.#alternative;
          this.#fixed = true;
          return alt;
        }
      }
      // The declared delimiter wins back over one learnt from a damaged or
      // stray first line, so one bad byte there does not lose the stream.
      const declared = this.#declared;
      if (declared && declared !== d) {
        const back = delimiterKind(text, declared);
        if (back) {
          this.note = `expected "${latin1.decode(d)}" delimiter as learnt, got the declared "${
            latin1.decode(declared)
          }"; using that`;
          this.delimiter = declared;
          return back;
        }
      }
    }
    if (
      beforeFirstPart && !this.#fixed && end > 2 && end <= 74 && text[0] === DASH &&
      text[1] === DASH && printable(text)
    ) {
      // No boundary declared, or the declared one is not what the server sends
      // (seen in the wild): take the first delimiter-like line as the boundary.
      const learnt = text.slice();
      if (d) {
        this.note = `expected "${latin1.decode(d)}" delimiter as declared, got "${
          latin1.decode(learnt)
        }"; using that`;
      }
      this.delimiter = learnt;
      this.#fixed = true;
      return "part";
    }
    return "other";
  }

  /**
   * Scans a body without Content-Length for the next delimiter line. Consumes
   * the body bytes it returns, and when it finds the delimiter, also the line
   * ending before it, leaving the delimiter line to be read.
   */
  scanBody(lines: LineReader): DelimiterMatch {
    const pattern = this.#searchPattern();
    const start = lines.pos;
    // Boyer-Moore-Horspool skips up to the pattern's length per step, which
    // beats the native byte search for the boundaries servers use (ffmpeg,
    // mjpg-streamer, GStreamer: 9 to 21 bytes with "\n--"); for very short
    // ones, the native search for LF wins.
    const found = pattern.length >= 8
      ? this.#horspool(lines.bytes, start, pattern)
      : scanByLineFeed(lines.bytes, start, pattern);
    const b = lines.bytes;
    if (found.at >= 0) {
      const i = found.at;
      const bodyEnd = i > start && b[i - 1] === CR ? i - 1 : i;
      lines.pos = i + 1; // the delimiter line starts after the LF
      return { kind: "found", body: b.subarray(start, bodyEnd) };
    }
    let safe = found.undecided;
    if (safe < 0) {
      // No whole match: the last bytes may still begin one.
      safe = b.length;
      for (let k = Math.max(start, b.length - pattern.length + 1); k < b.length; k++) {
        if (startsWith(b, k, pattern, b.length - k)) {
          safe = k;
          break;
        }
      }
    }
    // A CR just before a possible delimiter, or at the very end, may begin the
    // delimiter's line ending: hold it back too.
    if (safe > start && b[safe - 1] === CR) safe--;
    lines.pos = safe;
    return { kind: "none", body: b.subarray(start, safe) };
  }

  #horspool(b: Uint8Array, start: number, pattern: Uint8Array): Search {
    const skip = this.#skip!;
    const end = b.length;
    const m = pattern.length;
    const last = pattern[m - 1]!;
    let i = start;
    while (i + m <= end) {
      const c = b[i + m - 1]!;
      if (c === last && startsWith(b, i, pattern, m - 1)) {
        const verdict = terminated(b, i + m);
        if (verdict === Match.Yes) return { at: i, undecided: -1 };
        if (verdict === Match.Undecided) return { at: -1, undecided: i };
      }
      i += skip[c]!;
    }
    return NOT_FOUND;
  }

  #pattern: Uint8Array | undefined;
  #patternFor: Uint8Array | undefined;
  #skip: Int32Array | undefined;

  /** "\n" + delimiter, and its Horspool skip table, built once per delimiter. */
  #searchPattern(): Uint8Array {
    const d = this.delimiter!;
    // The delimiter is only ever replaced, never changed in place.
    if (this.#patternFor === d) return this.#pattern!;
    this.#patternFor = d;
    const pattern = new Uint8Array(d.length + 1);
    pattern[0] = LF;
    pattern.set(d, 1);
    const m = pattern.length;
    const skip = new Int32Array(256).fill(m);
    for (let k = 0; k < m - 1; k++) skip[pattern[k]!] = m - 1 - k;
    this.#pattern = pattern;
    this.#skip = skip;
    return pattern;
  }

  /**
   * Parses a header line, `Name: value`, any case, with or without spaces.
   *
   * @returns `[name, value]`, or undefined if the line is not a header. Names
   * every MJPEG part carries come back in lower case without being decoded.
   */
  static parseHeader(line: Uint8Array): [string, string] | undefined {
    const colon = line.indexOf(0x3a);
    if (colon <= 0) return undefined;
    let nameEnd = colon;
    while (nameEnd > 0 && (line[nameEnd - 1] === SPACE || line[nameEnd - 1] === TAB)) nameEnd--;
    let name = knownName(line, nameEnd);
    if (name === undefined) {
      name = byteString(line.subarray(0, nameEnd));
      if (!TOKEN.test(name)) return undefined;
    }
    let start = colon + 1;
    let end = line.length;
    while (start < end && (line[start] === SPACE || line[start] === TAB)) start++;
    while (end > start && (line[end - 1] === SPACE || line[end - 1] === TAB)) end--;
    // Checked here, byte by byte, so Headers.append never throws on a value.
    for (let k = start; k < end; k++) {
      const c = line[k]!;
      if (c === 0 || c === CR || c === LF) return undefined;
    }
    return [name, byteString(line.subarray(start, end))];
  }
}

// Header names every MJPEG part carries, matched without decoding: per-part
// header parsing is a large share of the cost for small frames.
const KNOWN_NAMES = ["content-type", "content-length", "x-timestamp"].map((name) => ({
  name,
  bytes: new TextEncoder().encode(name),
}));

/** The lower-case name if `line[0..end)` is a known header name in any case. */
function knownName(line: Uint8Array, end: number): string | undefined {
  for (const known of KNOWN_NAMES) {
    const bytes = known.bytes;
    if (bytes.length !== end) continue;
    let k = 0;
    // ASCII letters: OR 0x20 lowers them; '-' (0x2D) is unchanged by it.
    while (k < end && (line[k]! | 0x20) === bytes[k]) k++;
    if (k === end) return known.name;
  }
  return undefined;
}

// The most transport padding accepted after a delimiter in a body scan.
const MAX_PADDING = 16;

const enum Match {
  No,
  Yes,
  Undecided,
}

/** Where a delimiter search ended: a match, or where an undecided one begins. */
interface Search {
  /** Index of the LF that starts the delimiter line, or -1. */
  at: number;
  /** Index from which the bytes might still be a delimiter, or -1. */
  undecided: number;
}

const NOT_FOUND: Search = { at: -1, undecided: -1 };

/** Finds "\n--boundary" by visiting every LF with the native byte search. */
function scanByLineFeed(b: Uint8Array, start: number, pattern: Uint8Array): Search {
  const end = b.length;
  const m = pattern.length;
  let i = start;
  while (i < end) {
    const lf = b.indexOf(LF, i);
    if (lf < 0) break;
    if (lf + m > end) {
      return startsWith(b, lf, pattern, end - lf) ? { at: -1, undecided: lf } : NOT_FOUND;
    }
    if (startsWith(b, lf, pattern, m)) {
      const verdict = terminated(b, lf + m);
      if (verdict === Match.Yes) return { at: lf, undecided: -1 };
      if (verdict === Match.Undecided) return { at: -1, undecided: lf };
    }
    i = lf + 1;
  }
  return NOT_FOUND;
}

/** Do `count` bytes of `b` from `at` equal the start of `pattern`? */
function startsWith(b: Uint8Array, at: number, pattern: Uint8Array, count: number): boolean {
  for (let k = 0; k < count; k++) if (b[at + k] !== pattern[k]) return false;
  return true;
}

/** After a delimiter ending before `after`: `--`, or optional padding then a line end? */
function terminated(b: Uint8Array, after: number): Match {
  const end = b.length;
  const first = after;
  if (after + 1 < end && b[after] === DASH && b[after + 1] === DASH) return Match.Yes; // close
  // RFC 2046 allows spaces and tabs ("transport padding") before the line end.
  const paddingEnd = Math.min(end, after + MAX_PADDING);
  while (after < paddingEnd && (b[after] === SPACE || b[after] === TAB)) after++;
  if (after >= end) return Match.Undecided;
  const t = b[after]!;
  if (t === CR || t === LF) return Match.Yes;
  if (t === DASH && after === first && after + 1 >= end) return Match.Undecided;
  return Match.No;
}

/**
 * No boundary has control characters or bytes above 0x7E: a "--" line with
 * them is a damaged delimiter, and learning it would lose every part after.
 */
function printable(text: Uint8Array): boolean {
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    if (c < SPACE || c > 0x7e) return false;
  }
  return true;
}

function delimiterKind(text: Uint8Array, d: Uint8Array): "part" | "close" | undefined {
  if (text.length !== d.length && text.length !== d.length + 2) return undefined;
  for (let k = 0; k < d.length; k++) if (text[k] !== d[k]) return undefined;
  if (text.length === d.length) return "part";
  return text[d.length] === DASH && text[d.length + 1] === DASH ? "close" : undefined;
}
