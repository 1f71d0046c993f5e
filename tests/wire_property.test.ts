import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeMjpegPart,
  encodeOpening,
  type Frame,
  jpegLength,
  MjpegDecoderStream,
  MjpegEncoderStream,
} from "../src/wire/mod.ts";
import { collect, concat, streamOf } from "./helpers/bytes.ts";
import { sha256 } from "./helpers/hash.ts";
import { syntheticJpeg } from "./helpers/synthetic_jpeg.ts";

/** Splits bytes at the given cut points (fractions of the length). */
function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    if (p > last) out.push(bytes.slice(last, p));
    last = Math.max(last, p);
  }
  if (last < bytes.length) out.push(bytes.slice(last));
  return out;
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 });
const boundary = fc.stringMatching(/^[0-9A-Za-z'()+_,\-./:=?]{1,40}$/);
const runs = { numRuns: 150 };

async function decodeChunks(chunks: Uint8Array[], contentType?: string): Promise<Frame[]> {
  const decoder = new MjpegDecoderStream(contentType ? { contentType } : {});
  return await collect(streamOf(chunks).pipeThrough(decoder));
}

describe("encoder and decoder agree on random input", () => {
  it("round-trips random bytes and headers through multipart with Content-Length", async () => {
    // With Content-Length the body may hold anything, delimiters included.
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      boundary.map((b) => concat(`\r\n--${b}\r\n--${b}--\r\n`)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(body, { minLength: 1, maxLength: 6 }),
        boundary,
        cuts,
        fc.integer({ min: 0, max: 2 ** 40 }),
        async (bodies, b, cutPoints, stamp) => {
          const encoder = new MjpegEncoderStream({ boundary: b });
          const input = bodies.map((data, i) => ({
            data,
            headers: new Headers({ "X-Timestamp": String(stamp + i) }),
            sequence: i,
            timestamp: 0,
          }));
          const frames = new ReadableStream<Frame>({
            start(controller) {
              input.forEach((f) => controller.enqueue(f));
              controller.close();
            },
          });
          const bytes = concat(...await collect(frames.pipeThrough(encoder)));
          const out = await decodeChunks(cutAt(bytes, cutPoints), encoder.contentType);
          assert.deepEqual(out.map((f) => sha256(f.data)), bodies.map(sha256));
          assert.deepEqual(
            out.map((f) => f.headers.get("x-timestamp")),
            input.map((f) => String(stamp + f.sequence)),
          );
        },
      ),
      runs,
    );
  });

  it("round-trips JPEG-shaped frames as raw concatenated JPEGs", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(syntheticJpeg, { minLength: 1, maxLength: 5 }),
        cuts,
        async (jpegs, cutPoints) => {
          for (const j of jpegs) assert.equal(jpegLength(j), j.length);
          const out = await decodeChunks(cutAt(concat(...jpegs), cutPoints), "image/jpeg");
          assert.deepEqual(out.map((f) => sha256(f.data)), jpegs.map(sha256));
        },
      ),
      runs,
    );
  });

  it("round-trips JPEG-shaped frames through multipart without Content-Length", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(syntheticJpeg, { minLength: 1, maxLength: 5 }),
        boundary,
        fc.constantFrom("\r\n", "\n"),
        cuts,
        async (jpegs, b, eol, cutPoints) => {
          // Frames must not contain the delimiter line for this to be well-formed.
          fc.pre(jpegs.every((j) => !new TextDecoder("latin1").decode(j).includes(`\n--${b}`)));
          const parts = jpegs.map((j) =>
            concat(`--${b}${eol}Content-Type: image/jpeg${eol}${eol}`, j, eol)
          );
          const bytes = concat(...parts, `--${b}--${eol}`);
          const out = await decodeChunks(
            cutAt(bytes, cutPoints),
            `multipart/x-mixed-replace; boundary="${b}"`,
          );
          assert.deepEqual(out.map((f) => sha256(f.data)), jpegs.map(sha256));
        },
      ),
      runs,
    );
  });

  it("writes parts that a strict reader can split by their exact bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), boundary, (data, b) => {
        const part = encodeMjpegPart(data, b);
        const head = `Content-Type: image/jpeg\r\nContent-Length: ${data.length}\r\n\r\n`;
        assert.deepEqual(part, concat(head, data, `\r\n--${b}\r\n`));
        assert.deepEqual(encodeOpening(b), concat(`--${b}\r\n`));
      }),
      runs,
    );
  });
});
