/**
 * Mutations of a corpus stream, each described as edits (byte ranges of the
 * original replaced by other bytes) plus how far past the last edit the
 * parser may legitimately stay lost (`slack`): zero when the damage cannot
 * mislead it about lengths, a Content-Length's worth (`maxFrameSize`) for
 * multipart, a JPEG segment's worth (64 KiB) for raw streams.
 */
import type { CorpusStream, Rng } from "./fuzz_corpus.ts";

/** Original bytes [from, to) replaced by `bytes`. */
export interface Edit {
  from: number;
  to: number;
  bytes: Uint8Array;
}

/** One mutated input. */
export interface Mutant {
  /** What was done, for the failure report. */
  what: string;
  edits: Edit[];
  /** Cut the stream here (original offset), after the edits. */
  truncateAt?: number;
  /** Bytes past the last edit the parser may stay lost. */
  slack: number;
  /** False when no frame after the damage can be promised (e.g. the boundary itself was hit). */
  recoverable: boolean;
  /** A frame the edits touch that must still come out whole (its JPEG is unchanged). */
  keep?: number;
}

/** Limits the mutations are judged against. */
export interface FuzzLimits {
  maxFrameSize: number;
  maxHeaderSize: number;
}

/** Raw JPEG: a bad segment length can make the walker skip up to 64 KiB. */
export const RAW_SLACK = 65536 + 8;

const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const SPECIAL = [0xff, 0xd8, 0xd9, 0xda, 0x00, 0x0d, 0x0a, 0x2d, 0x3a, 0x20];

/** The mutation kinds, by name. */
export const KINDS = [
  "none",
  "flip",
  "truncate",
  "dupDelimiter",
  "dropDelimiter",
  "length",
  "flood",
  "splice",
  "delete",
  "multi",
] as const;
/** A mutation kind. */
export type Kind = typeof KINDS[number];

/** Makes one mutant of `s` of the given kind. */
export function mutate(
  s: CorpusStream,
  kind: Kind,
  rng: Rng,
  limits: FuzzLimits,
  donors: CorpusStream[],
): Mutant {
  const structural = s.kind === "raw" ? RAW_SLACK : limits.maxFrameSize + 8;
  const n = s.bytes.length;
  const k = rng.int(1, s.frames.length - 1); // a frame with one before it
  const f = s.frames[k]!;
  switch (kind) {
    case "none":
      return { what: "no edit (chunking only)", edits: [], slack: 0, recoverable: true };
    case "flip": {
      // Where: anywhere, in a part's delimiter and headers (or a JPEG's
      // markers), or inside a JPEG body.
      const where = rng.int(0, 2);
      const from = where === 0
        ? rng.int(0, n - 1)
        : where === 1
        ? rng.int(f.guard, Math.min(n - 1, f.bodyStart + 700))
        : rng.int(f.bodyStart, f.bodyEnd - 1);
      const width = Math.min(n - from, rng.int(1, 64));
      const bytes = s.bytes.slice(from, from + width);
      const count = rng.int(1, 8);
      for (let i = 0; i < count; i++) {
        const at = rng.int(0, width - 1);
        if (rng.chance(0.3)) bytes[at] = rng.pick(SPECIAL);
        else bytes[at]! ^= 1 << rng.int(0, 7);
      }
      const inBody = s.kind === "multipart" &&
        s.frames.some((p) => from >= p.bodyStart + 2 && from + width <= p.bodyEnd - 2);
      return {
        what: `${count} bit/byte flips in [${from}, ${from + width})`,
        edits: [{ from, to: from + width, bytes }],
        slack: inBody ? 0 : structural,
        recoverable: true,
      };
    }
    case "truncate": {
      const at = rng.int(0, n - 1);
      return { what: `truncated at ${at}`, edits: [], truncateAt: at, slack: 0, recoverable: true };
    }
    case "dupDelimiter": {
      if (s.kind === "raw") {
        const soi = rng.chance(0.5);
        const at = soi ? f.start : f.bodyEnd;
        return {
          what: `extra ${soi ? "SOI before" : "EOI after"} frame ${k}`,
          edits: [{ from: at, to: at, bytes: new Uint8Array([0xff, soi ? 0xd8 : 0xd9]) }],
          slack: 0,
          recoverable: true,
        };
      }
      // "...\r\n--b" inserted before "\r\n--b\r\n": the same delimiter twice.
      const times = rng.int(1, 3);
      const line = s.bytes.subarray(f.guard, f.start + s.delimiter.length);
      const bytes = new Uint8Array(line.length * times);
      for (let i = 0; i < times; i++) bytes.set(line, i * line.length);
      return {
        what: `delimiter of part ${k} repeated ${times} more times`,
        edits: [{ from: f.guard, to: f.guard, bytes }],
        slack: 0,
        recoverable: true,
      };
    }
    case "dropDelimiter": {
      if (s.kind === "raw") {
        const soi = rng.chance(0.5);
        const at = soi ? f.start : f.bodyEnd - 2;
        return {
          what: `${soi ? "SOI" : "EOI"} of frame ${k} removed`,
          edits: [{ from: at, to: at + 2, bytes: new Uint8Array(0) }],
          slack: 0,
          recoverable: true,
        };
      }
      return {
        what: `delimiter of part ${k} removed`,
        edits: [{ from: f.guard, to: f.start + s.delimiter.length, bytes: new Uint8Array(0) }],
        slack: 0,
        recoverable: true,
      };
    }
    case "length":
      return s.kind === "raw" ? segmentLength(s, k, rng) : contentLength(s, k, rng, limits);
    case "flood":
      return flood(s, k, rng, limits);
    case "splice": {
      const donor = rng.pick(donors).bytes;
      const size = rng.int(1, Math.min(8000, donor.length));
      const src = rng.int(0, donor.length - size);
      const from = rng.int(0, n);
      const to = Math.min(n, from + (rng.chance(0.5) ? 0 : rng.int(1, 8000)));
      return {
        what: `[${from}, ${to}) replaced by ${size} bytes of another stream`,
        edits: [{ from, to, bytes: donor.slice(src, src + size) }],
        slack: structural,
        recoverable: true,
      };
    }
    case "delete": {
      const from = rng.int(0, n - 1);
      const to = Math.min(n, from + rng.int(1, 5000));
      return {
        what: `[${from}, ${to}) deleted`,
        edits: [{ from, to, bytes: new Uint8Array(0) }],
        slack: structural,
        recoverable: true,
      };
    }
    case "multi": {
      const parts: Mutant[] = [];
      for (let i = rng.int(2, 3); i > 0; i--) {
        const one = rng.pick(
          ["flip", "dupDelimiter", "dropDelimiter", "length", "flood", "splice", "delete"] as const,
        );
        parts.push(mutate(s, one, rng, limits, donors));
      }
      return combine(parts, limits.maxFrameSize);
    }
  }
}

/**
 * Several mutants as one: their edits in order, each at least `gap` bytes
 * after the one before (others dropped). Edits closer than maxFrameSize can
 * merge into one run of junk longer than maxFrameSize, which the parser
 * rightly gives up on as not MJPEG; apart, each is an incident of its own.
 */
export function combine(parts: Mutant[], gap: number): Mutant {
  const edits = parts.flatMap((p) => p.edits).sort((a, b) => a.from - b.from || a.to - b.to);
  const kept: Edit[] = [];
  for (const e of edits) {
    const last = kept[kept.length - 1];
    if (!last || e.from >= last.to + gap) kept.push(e);
  }
  return {
    what: parts.map((p) => p.what).join("; "),
    edits: kept,
    slack: Math.max(...parts.map((p) => p.slack)),
    recoverable: parts.every((p) => p.recoverable),
  };
}

/** A multipart part's Content-Length made wrong, absurd or unreadable (or added where there was none). */
function contentLength(s: CorpusStream, k: number, rng: Rng, limits: FuzzLimits): Mutant {
  const f = s.frames[k]!;
  const size = f.bodyEnd - f.bodyStart;
  const value = rng.pick([
    "0",
    "1",
    String(size - 1),
    String(size + 1),
    String(Math.max(0, size - rng.int(1, 5000))),
    String(size + rng.int(1, 50000)),
    String(limits.maxFrameSize),
    String(limits.maxFrameSize + 1),
    "999999999999999",
    "99999999999999999999999",
    String(2 ** 53),
    "-5",
    "abc",
    "",
    "12 34",
    "1e4",
    "0x100",
    "+9000",
  ]);
  const headers = s.bytes.subarray(f.headerStart, f.bodyStart);
  const line = indexOfText(headers, "content-length:");
  if (line < 0) {
    const bytes = text(`Content-Length: ${value}\r\n`);
    return {
      what: `Content-Length: ${value} added to part ${k}`,
      edits: [{ from: f.headerStart, to: f.headerStart, bytes }],
      slack: limits.maxFrameSize + 8,
      recoverable: true,
    };
  }
  const from = f.headerStart + line + "content-length:".length;
  const to = f.headerStart + headers.indexOf(0x0d, line);
  return {
    what: `Content-Length of part ${k} (${size}) set to "${value}"`,
    edits: [{ from, to, bytes: text(` ${value}`) }],
    slack: limits.maxFrameSize + 8,
    recoverable: true,
  };
}

/** A raw JPEG's segment length set to 0, 1, 2, 0xFFFF or anything. */
function segmentLength(s: CorpusStream, k: number, rng: Rng): Mutant {
  const f = s.frames[k]!;
  const b = s.bytes;
  // Walk the clean frame's marker segments up to SOS and pick one.
  const segments: number[] = [];
  for (let i = f.start + 2; i + 4 <= f.bodyEnd && b[i] === 0xff;) {
    segments.push(i + 2);
    if (b[i + 1] === 0xda) break;
    i += 2 + ((b[i + 2]! << 8) | b[i + 3]!);
  }
  const at = rng.pick(segments);
  const length = rng.pick([0, 1, 2, 3, 0xffff, 0xff00, rng.int(0, 0xffff)]);
  return {
    what: `segment length at ${at} in frame ${k} set to ${length}`,
    edits: [{ from: at, to: at + 2, bytes: new Uint8Array([length >> 8, length & 0xff]) }],
    slack: RAW_SLACK,
    recoverable: true,
  };
}

/** Header lines flooding a part (or COM segments flooding a JPEG). */
function flood(s: CorpusStream, k: number, rng: Rng, limits: FuzzLimits): Mutant {
  const f = s.frames[k]!;
  const total = rng.int(1, Math.floor(limits.maxFrameSize / 3));
  if (s.kind === "raw") {
    // Many comment segments: the JPEG stays valid, only longer.
    const out = new Uint8Array(total + 304);
    let at = 0;
    while (at < total) {
      const size = rng.int(0, 300);
      out.set([0xff, 0xfe, (size + 2) >> 8, (size + 2) & 0xff], at);
      for (let i = 0; i < size; i++) out[at + 4 + i] = rng.u32() & 0xff;
      at += 4 + size;
    }
    return {
      what: `${at} bytes of COM segments in frame ${k}`,
      edits: [{ from: f.start + 2, to: f.start + 2, bytes: out.subarray(0, at) }],
      slack: 0,
      recoverable: true,
    };
  }
  const style = rng.int(0, 2);
  let lines = "";
  while (lines.length < total) {
    // Well-formed headers, lines that are not headers, or one endless line.
    lines += style === 0
      ? `X-Flood-${lines.length}: ${"v".repeat(rng.int(0, 200))}\r\n`
      : style === 1
      ? `${"junk ".repeat(rng.int(0, 40))}\r\n`
      : "x".repeat(Math.min(1000, total - lines.length));
  }
  if (style === 2) lines += "\r\n";
  const out = text(lines);
  const fits = style === 0 && out.length + (f.bodyStart - f.headerStart) <= limits.maxHeaderSize;
  return {
    ...(fits ? { keep: k } : {}),
    what: `${out.length} bytes of ${
      ["headers", "non-header lines", "one long line"][style]
    } in part ${k}${fits ? " (within maxHeaderSize)" : ""}`,
    edits: [{ from: f.headerStart, to: f.headerStart, bytes: out }],
    slack: 0,
    recoverable: true,
  };
}

function indexOfText(bytes: Uint8Array, lower: string): number {
  const s = String.fromCharCode(...bytes).toLowerCase();
  return s.indexOf(lower);
}
