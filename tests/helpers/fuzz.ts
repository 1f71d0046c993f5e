/**
 * The mutation fuzzer for the decoder, shared by tests/reliability_fuzz.test.ts
 * and bench/fuzz.ts. Input `index` of run `seed` is always the same bytes, so
 * any failure reproduces from the two numbers it prints.
 *
 * Each input is a corpus stream with edits (fuzz_mutate.ts), fed in random
 * chunks to an MjpegParser whose sink checks, as bytes arrive:
 * - no exception but MjpegProtocolError;
 * - frame events in order (start, data*, end or abort), sequences rising;
 * - never more than maxFrameSize bytes handed on for one frame, exactly the
 *   Content-Length when one was declared;
 * - the parser's held-back bytes (`buffered`) never above maxHeaderSize;
 * - the parser keeps no reference to a chunk (each is overwritten after push);
 * - the frames out begin with every frame complete before the first edit and
 *   end with every frame that starts intact past the damage, byte-exact;
 * - stats agree with what the sink saw; each input within a time bound.
 */
import { Buffer } from "node:buffer";
import { type FrameSink, MjpegParser, MjpegProtocolError } from "../../src/wire/mod.ts";
import { type Corpus, type CorpusStream, Rng } from "./fuzz_corpus.ts";
import { sha256 } from "./hash.ts";
import { type FuzzLimits, type Kind, KINDS, type Mutant, mutate } from "./fuzz_mutate.ts";

/** How a run is configured. */
export interface FuzzConfig extends FuzzLimits {
  /** `sha256`: identify frames by SHA-256; `bytes`: by length and a byte compare (faster). */
  verify: "sha256" | "bytes";
  /** The most milliseconds one input may take. */
  timeLimitMs: number;
}

/** What one input did. */
export interface Outcome {
  /** What broke, with everything needed to reproduce it; undefined when all held. */
  violation: string | undefined;
  ms: number;
  inputBytes: number;
  /** Most bytes the parser held back between chunks. */
  held: number;
  /** Most bytes handed on for one frame. */
  largestFrame: number;
  delivered: number;
  /** Frames after the damage that had to come out, and did (all, unless a violation). */
  required: number;
  /** The MjpegProtocolError message, if the parser gave up on the input. */
  protocolError: string | undefined;
}

class Violation extends Error {}

/** Builds and runs fuzz inputs over a corpus. */
export class Fuzzer {
  readonly #corpus: Corpus;
  readonly #config: FuzzConfig;
  readonly #byHash = new Map<string, number>();
  readonly #byLength = new Map<number, number[]>();
  readonly #frame: Uint8Array;
  readonly #scratch = new Uint8Array(65536);
  // The mutated input is written here (grown as needed), not allocated anew.
  #input = new Uint8Array(1 << 18);

  constructor(corpus: Corpus, config: FuzzConfig) {
    this.#corpus = corpus;
    this.#config = config;
    corpus.contents.forEach((c, id) => {
      this.#byHash.set(sha256(c), id);
      this.#byLength.set(c.length, [...(this.#byLength.get(c.length) ?? []), id]);
    });
    this.#frame = new Uint8Array(config.maxFrameSize);
  }

  /** The input `index` of run `seed`: stream, mutation and chunk sizes. */
  input(
    seed: number,
    index: number,
    kind?: Kind,
  ): { stream: CorpusStream; mutant: Mutant; rng: Rng } {
    const rng = new Rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
    const stream = rng.pick(this.#corpus.streams);
    const chosen = kind ?? rng.pick(KINDS);
    const mutant = mutate(stream, chosen, rng, this.#config, this.#corpus.streams);
    return { stream, mutant, rng };
  }

  /** Runs input `index` of run `seed` (optionally forcing the mutation kind). */
  run(seed: number, index: number, kind?: Kind): Outcome {
    const { stream, mutant, rng } = this.input(seed, index, kind);
    return this.runMutant(stream, mutant, randomChunks(rng), `seed ${seed} input ${index}`);
  }

  /**
   * Runs one mutant of a corpus stream, fed in chunks from `plan`.
   *
   * @param label Says how to reproduce the input, in a violation report.
   */
  runMutant(stream: CorpusStream, mutant: Mutant, plan: ChunkPlan, label: string): Outcome {
    const t0 = performance.now();
    const size = inputSize(stream.bytes, mutant);
    if (size > this.#input.length) this.#input = new Uint8Array(size * 2);
    const bytes = apply(stream.bytes, mutant, this.#input.subarray(0, size));
    const expected = this.#expect(stream, mutant);
    const out: Outcome = {
      violation: undefined,
      ms: 0,
      inputBytes: bytes.length,
      held: 0,
      largestFrame: 0,
      delivered: 0,
      required: expected.after.length,
      protocolError: undefined,
    };
    const got: number[] = [];
    const sink = this.#sink(out, got);
    const parser = new MjpegParser(sink, {
      contentType: stream.contentType,
      maxFrameSize: this.#config.maxFrameSize,
      maxHeaderSize: this.#config.maxHeaderSize,
    });
    const next = plan(bytes.length, expected.from, expected.damageEnd);
    try {
      for (let at = 0; at < bytes.length;) {
        const size = Math.max(1, Math.min(bytes.length - at, next(at)));
        const chunk = size <= this.#scratch.length
          ? this.#scratch.subarray(0, size)
          : new Uint8Array(size);
        chunk.set(bytes.subarray(at, at + size));
        parser.push(chunk);
        chunk.fill(0xee); // a parser that kept a view of it now sees junk
        at += size;
        if (parser.buffered > out.held) out.held = parser.buffered;
        if (out.held > this.#config.maxHeaderSize) {
          throw new Violation(`parser holds ${out.held} bytes, above maxHeaderSize`);
        }
      }
      parser.end();
      if (parser.stats.frames !== got.length) {
        throw new Violation(`stats.frames ${parser.stats.frames}, sink got ${got.length}`);
      }
      if (parser.stats.bytes !== bytes.length) {
        throw new Violation(`stats.bytes ${parser.stats.bytes}, input ${bytes.length}`);
      }
    } catch (error) {
      if (error instanceof MjpegProtocolError) out.protocolError = error.message;
      else out.violation = String(error instanceof Error ? error.stack ?? error : error);
    }
    out.delivered = got.length;
    out.violation ??= judge(got, expected.before, expected.after);
    out.ms = performance.now() - t0;
    if (!out.violation && out.ms > this.#config.timeLimitMs) {
      out.violation = `took ${out.ms.toFixed(1)} ms, limit ${this.#config.timeLimitMs} ms`;
    }
    if (out.violation) {
      out.violation = `${label}: ${stream.name}, ${mutant.what}` +
        (out.protocolError ? ` (gave up: ${out.protocolError})` : "") +
        `\n  expected frames ${expected.before.join(",")} first and ${
          expected.after.join(",")
        } last` +
        `\n  got ${got.join(",")}\n  ${out.violation}`;
    }
    return out;
  }

  /** Which frames must come out first (before the damage) and last (after it). */
  #expect(s: CorpusStream, m: Mutant) {
    const first = m.edits[0]?.from ?? m.truncateAt ?? Infinity;
    const last = m.edits[m.edits.length - 1];
    const delta = m.edits.reduce((d, e) => d + e.bytes.length - (e.to - e.from), 0);
    // Offsets at or past the last edit moved by `delta`.
    const lastTo = last?.to ?? Infinity;
    const damageEnd = lastTo + delta;
    const fits = (id: number) => this.#corpus.contents[id]!.length <= this.#config.maxFrameSize;
    const before = s.frames.filter((f) => f.doneAt <= first && fits(f.content)).map((f) =>
      f.content
    );
    // Damage to the first delimiter (or to the first bytes, when sniffing)
    // can make the parser learn a wrong boundary: nothing after it is promised.
    const head = s.kind === "multipart" ? s.frames[0]!.headerStart : s.contentType ? 0 : 2;
    const promise = m.recoverable && m.truncateAt === undefined && first >= head;
    const after = promise
      ? s.frames
        .filter((f, i) =>
          fits(f.content) &&
          (i === m.keep || (f.guard >= lastTo && f.guard + delta >= damageEnd + m.slack))
        )
        .map((f) => f.content)
      : [];
    return {
      before,
      after,
      from: Math.min(first, s.bytes.length),
      damageEnd: Math.min(damageEnd, s.bytes.length),
    };
  }

  #sink(out: Outcome, got: number[]): FrameSink {
    const max = this.#config.maxFrameSize;
    const frame = this.#frame;
    let open = false;
    let used = 0;
    let declared: number | undefined;
    let sequence = -1;
    return {
      frameStart: (_headers, length, _timestamp, seq) => {
        if (open) throw new Violation("frameStart while a frame is open");
        if (seq <= sequence) throw new Violation(`sequence ${seq} after ${sequence}`);
        if (length !== undefined && length > max) {
          throw new Violation(`frame of ${length} bytes started, maxFrameSize ${max}`);
        }
        open = true;
        used = 0;
        declared = length;
        sequence = seq;
      },
      frameData: (bytes) => {
        if (!open) throw new Violation("frameData outside a frame");
        if (used + bytes.length > max) {
          throw new Violation(
            `${used + bytes.length} bytes handed on for one frame, maxFrameSize ${max}`,
          );
        }
        frame.set(bytes, used);
        used += bytes.length;
        if (used > out.largestFrame) out.largestFrame = used;
      },
      frameEnd: () => {
        if (!open) throw new Violation("frameEnd outside a frame");
        if (declared !== undefined && used !== declared) {
          throw new Violation(`frame of ${used} bytes ended, Content-Length ${declared}`);
        }
        open = false;
        got.push(this.#identify(frame.subarray(0, used)));
      },
      frameAbort: () => {
        if (!open) throw new Violation("frameAbort outside a frame");
        open = false;
      },
    };
  }

  /** The corpus JPEG these bytes are, or -1. */
  #identify(data: Uint8Array): number {
    if (this.#config.verify === "sha256") return this.#byHash.get(sha256(data)) ?? -1;
    const view = Buffer.from(data.buffer, data.byteOffset, data.length);
    for (const id of this.#byLength.get(data.length) ?? []) {
      const c = this.#corpus.contents[id]!;
      if (view.equals(Buffer.from(c.buffer, c.byteOffset, c.length))) return id;
    }
    return -1;
  }
}

/** The length of the mutated bytes. */
export function inputSize(original: Uint8Array, m: Mutant): number {
  if (m.truncateAt !== undefined) return m.truncateAt;
  return m.edits.reduce((n, e) => n + e.bytes.length - (e.to - e.from), original.length);
}

/** Writes the mutated bytes into `out` (inputSize long) and returns it. */
export function apply(original: Uint8Array, m: Mutant, out: Uint8Array): Uint8Array {
  if (m.truncateAt !== undefined) {
    out.set(original.subarray(0, m.truncateAt));
    return out;
  }
  let from = 0;
  let at = 0;
  for (const e of m.edits) {
    out.set(original.subarray(from, e.from), at);
    at += e.from - from;
    out.set(e.bytes, at);
    at += e.bytes.length;
    from = e.to;
  }
  out.set(original.subarray(from), at);
  return out;
}

/** Frames out must start with `before` and end with `after`. */
function judge(got: number[], before: number[], after: number[]): string | undefined {
  if (got.length < before.length + after.length) {
    return `only ${got.length} frames out, ${before.length} + ${after.length} required`;
  }
  for (let i = 0; i < before.length; i++) {
    if (got[i] !== before[i]) {
      return `frame ${i} out is ${got[i]}, expected ${before[i]} (before the damage)`;
    }
  }
  const tail = got.length - after.length;
  for (let i = 0; i < after.length; i++) {
    if (got[tail + i] !== after[i]) {
      return `frame ${tail + i} out is ${got[tail + i]}, expected ${after[i]} (after the damage)`;
    }
  }
  return undefined;
}

/** Chunk sizes for an input of `length` bytes damaged from `from` to `to`: (offset) => size. */
export type ChunkPlan = (length: number, from: number, to: number) => (at: number) => number;

/**
 * Chunk sizes: one buffer, network-sized reads, small reads, or tiny reads
 * (1 to 7 bytes) around the damage and network-sized elsewhere.
 */
export function randomChunks(rng: Rng): ChunkPlan {
  return (length, from, to) => {
    const mode = rng.int(0, 19);
    if (mode < 5) return () => length;
    if (mode < 13) return () => rng.int(512, 65536);
    if (mode < 15) return () => rng.int(1, 300);
    // Around where the damage starts and where it ends (not all between: a
    // multi-edit input may span the whole stream).
    const near = (at: number) => Math.abs(at - from) <= 600 || Math.abs(at - to) <= 600;
    return (at) => (near(at) ? rng.int(1, 7) : rng.int(1024, 65536));
  };
}

/** Chunks cut at fractions of the input's length (for fast-check). */
export function cutChunks(cuts: number[]): ChunkPlan {
  return (length) => {
    const points = [...new Set(cuts.map((c) => Math.floor(c * length)))].sort((a, b) => a - b);
    return (at) => (points.find((p) => p > at) ?? length) - at;
  };
}
