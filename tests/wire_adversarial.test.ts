import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type FrameSink, MjpegParser, MjpegProtocolError } from "../src/wire/mod.ts";
import { chunk, concat } from "./helpers/bytes.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { CHUNK_SIZES, decode } from "./helpers/wire.ts";

const [f1, f2, f3] = [fixtureFrames[0]!, fixtureFrames[1]!, fixtureFrames[2]!];
const multipart = "multipart/x-mixed-replace;boundary=b";
const cl = (jpeg: Uint8Array, length = jpeg.length) =>
  concat(`--b\r\nContent-Type: image/jpeg\r\nContent-Length: ${length}\r\n\r\n`, jpeg, "\r\n");

/** A sink that records the calls it gets, and the largest frame it was sent. */
function recordingSink() {
  const calls: string[] = [];
  let current = 0;
  let largest = 0;
  const sink: FrameSink = {
    frameStart: (_h, length) => {
      calls.push(`start ${length ?? "?"}`);
      current = 0;
    },
    frameData: (bytes) => {
      current += bytes.length;
      largest = Math.max(largest, current);
    },
    frameEnd: () => calls.push("end"),
    frameAbort: (reason) => calls.push(`abort ${reason}`),
  };
  return { sink, calls, largest: () => largest };
}

describe("MjpegDecoderStream on bad input", () => {
  it("fails with a clear error when the bytes are an HTTP error page, not MJPEG", async () => {
    const page = concat("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad");
    for (const size of [1, 7, 4096]) {
      await assert.rejects(decode(page, size), (error: unknown) => {
        assert.ok(error instanceof MjpegProtocolError);
        assert.match(
          error.message,
          /^expected a multipart delimiter .* got "HTTP\/1\.1 502 Bad Gateway/,
        );
        return true;
      });
    }
  });

  it("names the declared delimiter when a multipart stream never shows it", async () => {
    const html = concat("<html>".repeat(20_000));
    await assert.rejects(
      decode(html, 4096, { contentType: multipart }),
      /expected "--b" delimiter, got "<html><html>/,
    );
  });

  it("resynchronises at the next delimiter after garbage, counting it once", async () => {
    const garbage = new Uint8Array(5000).map((_, i) => (i * 7919) % 251);
    const bytes = concat(cl(f1), garbage, "\r\n", cl(f2), cl(f3));
    for (const size of CHUNK_SIZES) {
      const r = await decode(bytes, size, { contentType: multipart });
      assert.deepEqual(r.frames.map((f) => sha256(f.data)), [f1, f2, f3].map(sha256));
      assert.equal(r.stats.resyncs, 1, `size ${size}`);
      assert.match(r.errors[0]!, /^expected "--b" delimiter, got/);
    }
  });

  it("drops a frame cut short at the end of the stream and counts it", async () => {
    for (
      const bytes of [
        concat(cl(f1), cl(f2).subarray(0, 3000)), // multipart with Content-Length
        concat("--b\r\n\r\n", f1, "\r\n--b\r\n\r\n", f2.subarray(0, 3000)), // without
        concat(f1, f2.subarray(0, 3000)), // raw JPEG
      ]
    ) {
      for (const size of [1, 100, 65536]) {
        const r = await decode(bytes, size, {
          contentType: bytes[0] === 0xff ? "image/jpeg" : multipart,
        });
        assert.deepEqual(r.frames.map((f) => sha256(f.data)), [sha256(f1)], `size ${size}`);
        assert.equal(r.stats.truncatedFrames, 1);
      }
    }
  });

  it("delivers the last part of a stream without a closing delimiter if it is a whole JPEG", async () => {
    const bytes = concat("--b\r\n\r\n", f1, "\r\n--b\r\n\r\n", f2, "\r\n");
    const r = await decode(bytes, 7, { contentType: multipart });
    assert.deepEqual(r.frames.map((f) => sha256(f.data)), [f1, f2].map(sha256));
    assert.equal(r.stats.truncatedFrames, 0);
  });

  it("skips a part larger than maxFrameSize without buffering it, then goes on", async () => {
    const big = concat(f1, f1, f1); // 29 KB declared, limit 20 KB
    const bytes = concat(cl(f2), cl(big), cl(f3));
    for (const size of [1, 1000, 65536]) {
      const r = await decode(bytes, size, { contentType: multipart, maxFrameSize: 20_000 });
      assert.deepEqual(r.frames.map((f) => sha256(f.data)), [f2, f3].map(sha256));
      assert.deepEqual(r.frames.map((f) => f.sequence), [0, 2], "the skipped frame leaves a gap");
      assert.equal(r.stats.oversizedFrames, 1);
    }
  });

  it("never buffers more than maxFrameSize, even when Content-Length is absurd", () => {
    const rec = recordingSink();
    const parser = new MjpegParser(rec.sink, { contentType: multipart, maxFrameSize: 1 << 20 });
    parser.push(
      concat("--b\r\nContent-Type: image/jpeg\r\nContent-Length: 999999999999999\r\n\r\n"),
    );
    for (let i = 0; i < 100; i++) parser.push(new Uint8Array(65536).fill(0xab));
    parser.end();
    assert.deepEqual(rec.calls, [], "an absurd frame is never started");
    assert.equal(parser.stats.oversizedFrames, 1);
    assert.equal(parser.stats.bytes > 6_000_000, true);
  });

  it("stops buffering a part without Content-Length at maxFrameSize", () => {
    const rec = recordingSink();
    const parser = new MjpegParser(rec.sink, { contentType: multipart, maxFrameSize: 100_000 });
    parser.push(concat("--b\r\n\r\n"));
    for (let i = 0; i < 10; i++) parser.push(new Uint8Array(65536).fill(0x41));
    parser.push(concat("\r\n", cl(f1)));
    parser.end();
    assert.deepEqual(rec.calls, ["start ?", "abort oversized", `start ${f1.length}`, "end"]);
    assert.ok(rec.largest() <= 100_000, `largest frame handed on: ${rec.largest()}`);
  });

  it("skips a raw JPEG larger than maxFrameSize, walking on to its real end", async () => {
    const exifLike = concat(f1, f2); // f1 is 9.7 KB; with a limit of 5 KB both are skipped
    for (const size of [1, 4096]) {
      const r = await decode(concat(exifLike, new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), size, {
        contentType: "image/jpeg",
        maxFrameSize: 5000,
      });
      assert.equal(r.stats.oversizedFrames, 2);
      assert.equal(r.frames.length, 1);
      assert.equal(r.frames[0]!.data.length, 4);
    }
  });

  it("gives up an endless header block at maxHeaderSize and resynchronises", async () => {
    const flood = "X-Flood: " + "a".repeat(100) + "\r\n";
    const bytes = concat(
      "--b\r\nContent-Type: image/jpeg\r\n",
      flood.repeat(500),
      "\r\n",
      "junk",
      "\r\n",
      cl(f1),
    );
    for (const size of [1, 4096]) {
      const r = await decode(bytes, size, { contentType: multipart, maxHeaderSize: 8192 });
      assert.deepEqual(r.frames.map((f) => sha256(f.data)), [sha256(f1)]);
      assert.ok(r.stats.resyncs >= 1);
      assert.match(r.errors[0]!, /expected part headers of at most 8192 bytes/);
    }
  });

  it("rejects a header line that is not a header and resynchronises", async () => {
    const bytes = concat("--b\r\nthis is not a header\r\n\r\n", f1, "\r\n", cl(f2));
    const r = await decode(bytes, 3, { contentType: multipart });
    assert.deepEqual(r.frames.map((f) => sha256(f.data)), [sha256(f2)]);
    assert.match(r.errors[0]!, /expected a part header "Name: value", got "this is not a header"/);
  });

  it("recovers from a corrupt marker inside a raw JPEG at the next SOI", async () => {
    const broken = f1.slice();
    broken[2] = 0x00; // where the APP0 marker's FF should be
    for (const size of [1, 4096]) {
      const r = await decode(concat(broken, f2, f3), size, { contentType: "image/jpeg" });
      assert.deepEqual(r.frames.map((f) => sha256(f.data)), [f2, f3].map(sha256));
      assert.ok(r.stats.resyncs >= 1);
      assert.match(r.errors[0]!, /expected a JPEG marker \(FF\), got 00/);
    }
  });

  it("takes noise in entropy-coded data for corruption, not a marker with a length", async () => {
    // FF C0 (SOF0) cannot end a scan; honouring its "length" would skip the
    // next frame's SOI. Put it deep in f1's entropy data, then f2 must survive.
    const noisy = f1.slice();
    const at = noisy.length - 200;
    noisy.set([0xff, 0xc0, 0x7f, 0xff], at);
    for (const size of [1, 4096]) {
      const r = await decode(concat(noisy, f2, f3), size, { contentType: "image/jpeg" });
      assert.deepEqual(r.frames.map((f) => sha256(f.data)), [f2, f3].map(sha256));
      assert.match(r.errors[0]!, /unexpected marker FF C0 in a scan/);
    }
  });

  it("treats a new SOI inside a raw JPEG as the start of the next frame", async () => {
    const cut = f1.subarray(0, 4000); // cut in its entropy-coded data…
    // …which cannot hold FF D8, so splice it where a marker is expected instead.
    const headerEnd = 20; // inside the JFIF/comment segments: cut after APP0
    const r = await decode(concat(f1.subarray(0, headerEnd), f2, f3), 1, {
      contentType: "image/jpeg",
    });
    assert.equal(cut.length, 4000);
    assert.deepEqual(r.frames.map((f) => sha256(f.data)), [f2, f3].map(sha256));
    assert.equal(r.stats.truncatedFrames, 1);
  });

  it("errors instead of skipping garbage forever", () => {
    const noise = new Uint8Array(4096).map((_, i) => 0x20 + (i % 90));
    const parser = new MjpegParser(recordingSink().sink, {
      contentType: "image/jpeg",
      maxFrameSize: 100_000,
    });
    assert.throws(() => {
      for (let i = 0; i < 100; i++) parser.push(noise);
    }, /expected a JPEG start \(FF D8\) within 100000 bytes/);
  });

  it("holds at most a header block between chunks, whatever the input", () => {
    // Feed a stream of single bytes with no line end: nothing may accumulate.
    const parser = new MjpegParser(recordingSink().sink, { contentType: multipart });
    parser.push(cl(f1));
    const one = new Uint8Array([0x41]);
    for (let i = 0; i < 200_000; i++) parser.push(one);
    assert.equal(parser.stats.frames, 1);
    assert.equal(parser.stats.resyncs, 1);
  });

  it("rejects nonsense limits with a clear message", () => {
    assert.throws(
      () => new MjpegParser(recordingSink().sink, { maxFrameSize: -1 }),
      /expected maxFrameSize to be a positive integer, got -1/,
    );
    assert.throws(
      () => new MjpegParser(recordingSink().sink, { maxHeaderSize: 1.5 }),
      /expected maxHeaderSize to be a positive integer, got 1.5/,
    );
  });

  it("starts over for a new connection with a different boundary", () => {
    const rec = recordingSink();
    const parser = new MjpegParser(rec.sink, { contentType: multipart });
    parser.push(concat(cl(f1), cl(f2).subarray(0, 500)));
    parser.reset("multipart/x-mixed-replace;boundary=other");
    parser.push(
      concat("--other\r\nContent-Length: 4\r\n\r\n", new Uint8Array([0xff, 0xd8, 0xff, 0xd9])),
    );
    parser.end();
    assert.deepEqual(rec.calls, [
      `start ${f1.length}`,
      "end",
      `start ${f2.length}`,
      "abort truncated",
      "start 4",
      "end",
    ]);
    assert.equal(parser.stats.frames, 2);
    assert.equal(chunk(f1, 1).length, f1.length);
  });
});
