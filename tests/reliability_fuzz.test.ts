import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type FrameSink, MjpegParser, MjpegProtocolError } from "../src/wire/mod.ts";
import { cutChunks, type FuzzConfig, Fuzzer } from "./helpers/fuzz.ts";
import { type CorpusStream, loadCorpus, Rng } from "./helpers/fuzz_corpus.ts";
import { combine, KINDS, type Mutant, mutate, RAW_SLACK } from "./helpers/fuzz_mutate.ts";
import { syntheticJpeg } from "./helpers/synthetic_jpeg.ts";

// The decoder under fuzzing: fast-check properties, then the seeded mutation
// fuzzer over the real streams. `npm run fuzz` runs a million inputs of the
// same fuzzer; this file runs a bounded share per runtime. FUZZ_SEED and
// FUZZ_INPUTS override the seed and the count (to reproduce a failure: the
// seed and input number are in its message).

const config: FuzzConfig = {
  maxFrameSize: 32768, // twice the largest fixture frame
  maxHeaderSize: 4096,
  verify: "sha256",
  timeLimitMs: 2000, // per input; generous for a loaded 2-core CI machine
};
const corpus = await loadCorpus();
const fuzzer = new Fuzzer(corpus, config);
const env = (name: string) =>
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];
const SEED = Number(env("FUZZ_SEED") ?? Date.UTC(2026, 10, 21) / 1000);
const INPUTS = Number(env("FUZZ_INPUTS") ?? 20000);
const runs = { numRuns: 200, seed: SEED };

const stream = fc.nat(corpus.streams.length - 1).map((i) => corpus.streams[i]!);
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 });

/** Runs one mutant and fails with the fuzzer's full report. */
function check(s: CorpusStream, mutant: Mutant, cutPoints: number[]): void {
  const outcome = fuzzer.runMutant(s, mutant, cutChunks(cutPoints), `fast-check seed ${SEED}`);
  assert.equal(outcome.violation, undefined, outcome.violation ?? "");
}

describe("decoder properties (fast-check) on the real streams", () => {
  it("recovers every frame before and after random bytes written over part of frame k (sha256)", () => {
    fc.assert(
      fc.property(
        stream,
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        cuts,
        (s, pick, where, garbage, cutPoints) => {
          const k = 1 + (pick % (s.frames.length - 1));
          const f = s.frames[k]!;
          // Inside the JPEG, clear of its first and last two bytes.
          const from = f.bodyStart + 2 + Math.floor(where * (f.bodyEnd - f.bodyStart - 4));
          const to = Math.min(f.bodyEnd - 2, from + garbage.length);
          const bytes = garbage.subarray(0, to - from);
          const slack = s.kind === "raw" ? RAW_SLACK : 0;
          check(s, {
            what: `bytes [${from}, ${to}) overwritten`,
            edits: [{ from, to, bytes }],
            slack,
            recoverable: true,
          }, cutPoints);
        },
      ),
      runs,
    );
  });

  it("recovers from absurd, negative and unreadable Content-Lengths", () => {
    const multipart = corpus.streams.filter((s) => s.kind === "multipart");
    const length = fc.oneof(
      fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
      fc.integer({ min: -100000, max: 100000 }).map(String),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...multipart),
        fc.nat(),
        length,
        cuts,
        (s, pick, value, cutPoints) => {
          const k = 1 + (pick % (s.frames.length - 1));
          const f = s.frames[k]!;
          // A Content-Length line put first in part k's headers (a second one
          // when it has one: either may win, both must be survived).
          const line = Uint8Array.from(
            `Content-Length: ${value}\r\n`,
            (c) => c.charCodeAt(0) & 0xff,
          );
          const edits = [{ from: f.headerStart, to: f.headerStart, bytes: line }];
          check(s, {
            what: `Content-Length: ${value} in part ${k}`,
            edits,
            slack: config.maxFrameSize + 8,
            recoverable: true,
          }, cutPoints);
        },
      ),
      runs,
    );
  });

  it("recovers from header floods, repeated and missing delimiters and bad lengths, combined", () => {
    const kind = fc.constantFrom(
      ...(["flood", "dupDelimiter", "dropDelimiter", "length", "flip"] as const),
    );
    fc.assert(
      fc.property(
        stream,
        fc.array(kind, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        cuts,
        (s, kinds, seed, cutPoints) => {
          const rng = new Rng(seed);
          check(
            s,
            combine(
              kinds.map((k) => mutate(s, k, rng, config, corpus.streams)),
              config.maxFrameSize,
            ),
            cutPoints,
          );
        },
      ),
      runs,
    );
  });

  it("never hands on more than maxFrameSize nor holds more than maxHeaderSize, whatever the bytes", () => {
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      syntheticJpeg,
      fc.constantFrom(...corpus.contents),
      fc.constantFrom(
        "--b\r\n",
        "--b--\r\n",
        "\r\n",
        "Content-Type: image/jpeg\r\n",
        "--ffmpeg\r\n",
      )
        .map((t) => Uint8Array.from(t, (c) => c.charCodeAt(0))),
      fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.boolean()).map(([n, jpeg]) =>
        Uint8Array.from(
          `--b\r\nContent-Type: ${
            jpeg ? "image/jpeg" : "text/plain"
          }\r\nContent-Length: ${n}\r\n\r\n`,
          (c) => c.charCodeAt(0),
        )
      ),
      fc.constantFrom(...corpus.streams).chain((s) =>
        fc.tuple(fc.nat(s.bytes.length), fc.nat(20000)).map(([at, n]) =>
          s.bytes.subarray(at, at + n)
        )
      ),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }),
        fc.constantFrom(
          undefined,
          "image/jpeg",
          "multipart/x-mixed-replace; boundary=b",
          "multipart/x-mixed-replace",
        ),
        fc.integer({ min: 1, max: 40000 }),
        fc.integer({ min: 1, max: 5000 }),
        cuts,
        (pieces, contentType, maxFrameSize, maxHeaderSize, cutPoints) => {
          let current = 0;
          let open = false;
          const sink: FrameSink = {
            frameStart: (_h, length) => {
              assert.ok(!open, "frameStart inside a frame");
              assert.ok(
                length === undefined || length <= maxFrameSize,
                `started a frame of ${length}`,
              );
              open = true;
              current = 0;
            },
            frameData: (bytes) => {
              assert.ok(open, "frameData outside a frame");
              current += bytes.length;
              assert.ok(
                current <= maxFrameSize,
                `${current} bytes handed on, maxFrameSize ${maxFrameSize}`,
              );
            },
            frameEnd: () => {
              assert.ok(open, "frameEnd outside a frame");
              open = false;
            },
            frameAbort: () => {
              assert.ok(open, "frameAbort outside a frame");
              open = false;
            },
          };
          const parser = new MjpegParser(sink, { contentType, maxFrameSize, maxHeaderSize });
          const total = pieces.reduce((n, p) => n + p.length, 0);
          const all = new Uint8Array(total);
          pieces.reduce((at, p) => (all.set(p, at), at + p.length), 0);
          const next = cutChunks(cutPoints)(total, 0, 0);
          // Delimiter lines are probed up to 160 bytes whatever maxHeaderSize is.
          const bound = Math.max(maxHeaderSize, 160);
          try {
            for (let at = 0; at < total;) {
              const size = Math.max(1, Math.min(total - at, next(at)));
              parser.push(all.slice(at, at + size));
              assert.ok(parser.buffered <= bound, `holds ${parser.buffered} bytes, bound ${bound}`);
              at += size;
            }
            parser.end();
          } catch (error) {
            if (!(error instanceof MjpegProtocolError)) throw error;
          }
        },
      ),
      runs,
    );
  });
});

describe(`decoder mutation fuzzer: ${INPUTS} seeded inputs (seed ${SEED})`, () => {
  it("survives every input: no crash but MjpegProtocolError, bounded memory and time, frames recovered", () => {
    let required = 0;
    let held = 0;
    let slowest = 0;
    let largest = 0;
    for (let i = 0; i < INPUTS; i++) {
      const outcome = fuzzer.run(SEED, i);
      assert.equal(
        outcome.violation,
        undefined,
        `${outcome.violation}\n(reproduce: FUZZ_SEED=${SEED})`,
      );
      required += outcome.required;
      held = Math.max(held, outcome.held);
      slowest = Math.max(slowest, outcome.ms);
      largest = Math.max(largest, outcome.largestFrame);
    }
    assert.ok(largest <= config.maxFrameSize && held <= config.maxHeaderSize);
    assert.ok(required > INPUTS, `frames recovered after damage: ${required}`);
    console.log(
      `fuzz seed ${SEED}: ${INPUTS} inputs, ${required} frames recovered after damage, ` +
        `largest frame ${largest} B, most held back ${held} B, slowest input ${
          slowest.toFixed(1)
        } ms ` +
        "(the million-input run is npm run fuzz)",
    );
  });

  it("tries every mutation kind, 40 inputs each", () => {
    for (const kind of KINDS) {
      for (let i = 0; i < 40; i++) {
        const outcome = fuzzer.run(SEED + 1, i, kind);
        assert.equal(
          outcome.violation,
          undefined,
          `${outcome.violation}\n(reproduce: FUZZ_SEED=${SEED})`,
        );
      }
    }
  });
});
