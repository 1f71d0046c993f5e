import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat } from "./helpers/bytes.ts";
import { fixture, fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { CHUNK_SIZES, decode } from "./helpers/wire.ts";

// Inputs the decoder fuzzer (tests/reliability_fuzz.test.ts) found, kept as
// plain regression tests on the real fixtures.

const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const ffmpeg = fixture("ffmpeg.mpjpeg");
const gstreamer = fixture("gstreamer.multipart");

/** The fixture with `from` replaced by `to` at its `nth` occurrence. */
function replaceNth(bytes: Uint8Array, from: string, to: string, nth: number): Uint8Array {
  const text = latin1(bytes);
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(from, at + 1);
  assert.ok(at >= 0, `occurrence ${nth} of ${JSON.stringify(from)}`);
  return concat(bytes.subarray(0, at), to, bytes.subarray(at + from.length));
}

describe("decoder regressions found by fuzzing", () => {
  it("keeps the frame after a repeated delimiter line (it was read as a bad header and the part skipped)", async () => {
    const cases = [
      // ffmpeg.mpjpeg with "--ffmpeg" written twice (and four times) before part 3.
      replaceNth(ffmpeg, "\r\n--ffmpeg\r\n", "\r\n--ffmpeg\r\n--ffmpeg\r\n", 2),
      replaceNth(
        ffmpeg,
        "\r\n--ffmpeg\r\n",
        "\r\n--ffmpeg\r\n--ffmpeg\r\n--ffmpeg\r\n--ffmpeg\r\n",
        2,
      ),
    ];
    for (const bytes of cases) {
      for (const size of CHUNK_SIZES) {
        const r = await decode(bytes, size, {
          contentType: "multipart/x-mixed-replace;boundary=ffmpeg",
        });
        assert.deepEqual(r.frames.map((f) => sha256(f.data)), fixtureSums, `chunks of ${size}`);
        assert.ok(r.stats.resyncs >= 1);
        assert.match(r.errors[0]!, /^expected part headers, got another "--ffmpeg" delimiter/);
      }
    }
  });

  it("keeps the frame after a repeated delimiter in a stream without Content-Length", async () => {
    const part = (jpeg: Uint8Array) => ["--b\r\nContent-Type: image/jpeg\r\n\r\n", jpeg, "\r\n"];
    const bytes = concat(
      ...part(fixtureFrames[0]!),
      "--b\r\n",
      ...part(fixtureFrames[1]!),
      ...part(fixtureFrames[2]!),
      "--b--\r\n",
    );
    for (const size of CHUNK_SIZES) {
      const r = await decode(bytes, size, { contentType: "multipart/x-mixed-replace; boundary=b" });
      assert.deepEqual(
        r.frames.map((f) => sha256(f.data)),
        fixtureSums.slice(0, 3),
        `chunks of ${size}`,
      );
    }
  });

  it("does not let an absurd Content-Length swallow the rest of the stream", async () => {
    // gstreamer.multipart with part 2's Content-Length (9659) corrupted. Before
    // the fix the parser skipped that many bytes: every later frame was lost.
    for (const length of ["999999999999999", "55830"]) {
      const bytes = replaceNth(
        gstreamer,
        "Content-Length: 9659\r\n",
        `Content-Length: ${length}\r\n`,
        0,
      );
      for (const size of CHUNK_SIZES) {
        const r = await decode(bytes, size, {
          contentType: "multipart/x-mixed-replace; boundary=ThisRandomString",
          maxFrameSize: 32768,
        });
        const expected = fixtureSums.filter((_, i) => i !== 2);
        assert.deepEqual(
          r.frames.map((f) => sha256(f.data)),
          expected,
          `${length}, chunks of ${size}`,
        );
        assert.deepEqual(r.frames.map((f) => f.sequence), [0, 1, 3, 4, 5, 6, 7]);
        assert.equal(r.stats.oversizedFrames, 1);
      }
    }
  });
});

describe("decoder regressions found by fuzzing: header bytes", () => {
  it("reads a part header holding bytes 0x80-0x9F (Deno and Bun threw a TypeError from Headers)", async () => {
    const jpeg = fixtureFrames[0]!;
    const head = concat(
      "--b\r\nContent-Type: image/jpeg\r\nX-Camera: Caf",
      new Uint8Array([0x80, 0x9f, 0xe9]),
    );
    const bytes = concat(head, `\r\nContent-Length: ${jpeg.length}\r\n\r\n`, jpeg, "\r\n--b--\r\n");
    for (const size of [1, 7, 65536]) {
      const r = await decode(bytes, size, { contentType: "multipart/x-mixed-replace; boundary=b" });
      assert.deepEqual(r.frames.map((f) => sha256(f.data)), [fixtureSums[0]], `chunks of ${size}`);
      const value = r.frames[0]!.headers.get("x-camera")!;
      assert.deepEqual([...value].map((c) => c.charCodeAt(0)), [
        0x43,
        0x61,
        0x66,
        0x80,
        0x9f,
        0xe9,
      ]);
    }
  });
});

describe("decoder regressions found by fuzzing: a damaged first delimiter", () => {
  it("does not learn a boundary from a first delimiter line with a byte flipped out of ASCII", async () => {
    // gstreamer.multipart with "--ThisRandomString" damaged to "--ThisRandomS\xd8ring": the
    // parser took that as the boundary and lost every later part. Now the damaged line is skipped
    // like preamble, and the declared boundary (or, sniffing, the next delimiter) is used.
    const bytes = gstreamer.slice();
    bytes[13] = 0xd8;
    for (const contentType of ["multipart/x-mixed-replace; boundary=ThisRandomString", undefined]) {
      for (const size of CHUNK_SIZES) {
        const r = await decode(bytes, size, contentType ? { contentType } : {});
        assert.deepEqual(
          r.frames.map((f) => sha256(f.data)),
          fixtureSums.slice(1),
          `chunks of ${size}`,
        );
      }
    }
  });
  it("goes back to the declared boundary after a damaged first delimiter line", async () => {
    // One flipped letter in ffmpeg's first delimiter used to be learnt as the
    // boundary, losing every later part.
    const bytes = replaceNth(ffmpeg, "--ffmpeg\r\n", "--ffmpeX\r\n", 0);
    for (const size of CHUNK_SIZES) {
      const r = await decode(bytes, size, {
        contentType: "multipart/x-mixed-replace;boundary=ffmpeg",
      });
      assert.deepEqual(r.frames.map((f) => sha256(f.data)), fixtureSums, `chunks of ${size}`);
      assert.ok(r.errors.some((e) => /got the declared "--ffmpeg"; using that/.test(e)));
    }
  });
});
