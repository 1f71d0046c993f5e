import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat } from "./helpers/bytes.ts";
import { fixture, fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { CHUNK_SIZES, decode } from "./helpers/wire.ts";

const [f1, f2, f3] = [fixtureFrames[0]!, fixtureFrames[1]!, fixtureFrames[2]!];
const three = [f1, f2, f3].map(sha256);
/** The decoder options for the hand-written bodies below, whose boundary is "b". */
const boundaryB = { contentType: "multipart/x-mixed-replace;boundary=b" };

/** Decodes `bytes` at every chunk size and checks the frames each time. */
async function expectFrames(
  bytes: Uint8Array,
  expected: string[],
  options: { contentType?: string; maxFrameSize?: number } = {},
  check?: (result: Awaited<ReturnType<typeof decode>>, size: number) => void,
) {
  for (const size of CHUNK_SIZES) {
    const result = await decode(bytes, size, options);
    assert.deepEqual(result.frames.map((f) => sha256(f.data)), expected, `chunk size ${size}`);
    assert.deepEqual(
      result.frames.map((f) => f.sequence),
      expected.map((_, i) => i),
      `sequence numbers, chunk size ${size}`,
    );
    check?.(result, size);
  }
}

const cl = (jpeg: Uint8Array, extra = "") =>
  concat(`Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n${extra}\r\n`, jpeg);

describe("MjpegDecoderStream reads multipart streams", () => {
  it("decodes ffmpeg's mpjpeg output byte-exact in any chunking", async () => {
    await expectFrames(fixture("ffmpeg.mpjpeg"), fixtureSums, {
      contentType: "multipart/x-mixed-replace;boundary=ffmpeg",
    }, (r) => assert.equal(r.stats.resyncs, 0));
  });

  it("decodes GStreamer's multipartmux output, learning the boundary", async () => {
    await expectFrames(fixture("gstreamer.multipart"), fixtureSums, {}, (r) => {
      assert.equal(r.stats.frames, 8);
      assert.equal(r.stats.resyncs, 0);
    });
  });

  it("decodes parts without Content-Length by scanning for the delimiter", async () => {
    const bytes = concat(
      "--b\r\nContent-Type: image/jpeg\r\n\r\n",
      f1,
      "\r\n--b\r\nContent-Type: image/jpeg\r\n\r\n",
      f2,
      "\r\n--b\r\nContent-Type: image/jpeg\r\n\r\n",
      f3,
      "\r\n--b\r\n",
    );
    await expectFrames(bytes, three, { contentType: "multipart/x-mixed-replace; boundary=b" });
  });

  it("does not mistake a body line that starts like the delimiter for one", async () => {
    // Bodies here are not JPEGs: "\n--b" followed by anything but padding
    // and a line end (or "--") is data.
    const decoys = concat("line\n--bx\r\n--b-\r\n--b\tfake\n--b-x\r\n--bb\r\nend");
    await expectFrames(
      concat("--b\r\n\r\n", decoys, "\r\n--b--"),
      [sha256(decoys)],
      boundaryB,
      (r) => assert.equal(r.stats.resyncs, 0),
    );
    // Padding before the line end still makes a delimiter.
    const padded = concat("--b\r\n\r\n", f1, "\r\n--b \t \r\n\r\n", f2, "\r\n--b--");
    await expectFrames(padded, [f1, f2].map(sha256), boundaryB);
  });

  it("accepts a boundary parameter that already carries the leading --", async () => {
    const bytes = concat("--myboundary\r\n", cl(f1), "\r\n--myboundary\r\n", cl(f2), "\r\n");
    await expectFrames(bytes, [f1, f2].map(sha256), {
      contentType: "multipart/x-mixed-replace;boundary=--myboundary",
    }, (r) => assert.equal(r.stats.resyncs, 0));
  });

  it("accepts a quoted boundary with spaces and colons", async () => {
    const b = "my: odd boundary";
    const bytes = concat(`--${b}\r\n`, cl(f1), `\r\n--${b}\r\n`, cl(f2), `\r\n--${b}--\r\n`);
    await expectFrames(bytes, [f1, f2].map(sha256), {
      contentType: `multipart/x-mixed-replace; boundary="${b}"`,
    }, (r) => assert.equal(r.stats.resyncs, 0));
  });

  it("accepts a boundary that itself ends in --", async () => {
    const b = "data-boundary--";
    const noLength = (j: Uint8Array) => concat("Content-Type: image/jpeg\r\n\r\n", j);
    const bytes = concat(
      `--${b}\r\n`,
      noLength(f1),
      `\r\n--${b}\r\n`,
      noLength(f2),
      `\r\n--${b}--`,
    );
    await expectFrames(bytes, [f1, f2].map(sha256), {
      contentType: `multipart/x-mixed-replace;boundary=${b}`,
    });
  });

  it("learns the boundary from the first delimiter when the header has none", async () => {
    const bytes = concat("--frame\r\n", cl(f1), "\r\n--frame\r\n", cl(f2), "\r\n--frame\r\n");
    await expectFrames(bytes, [f1, f2].map(sha256), { contentType: "multipart/x-mixed-replace" });
  });

  it("follows the delimiter the server sends when it differs from the declared one", async () => {
    const bytes = concat("--actual\r\n", cl(f1), "\r\n--actual\r\n", cl(f2), "\r\n");
    await expectFrames(bytes, [f1, f2].map(sha256), {
      contentType: "multipart/x-mixed-replace;boundary=declared",
    }, (r) => {
      assert.equal(r.stats.resyncs, 1);
      assert.match(r.errors[0]!, /expected "--declared" delimiter as declared, got "--actual"/);
    });
  });

  it("skips a preamble, CRLFs and blank lines before the first delimiter", async () => {
    const bytes = concat(
      "This is a preamble.\r\n\r\n \r\n\n--b\r\n",
      cl(f1),
      "\r\n--b\r\n",
      cl(f2),
    );
    await expectFrames(
      bytes,
      [f1, f2].map(sha256),
      boundaryB,
      (r) => assert.equal(r.stats.resyncs, 0),
    );
  });

  it("reads ESP32-style parts: CRLF, delimiter and headers before every frame", async () => {
    const esp = (j: Uint8Array) =>
      concat(
        "\r\n--123456789000000000000987654321\r\n",
        `Content-Type: image/jpeg\r\nContent-Length: ${j.length}\r\nX-Timestamp: 12.345\r\n\r\n`,
        j,
      );
    const bytes = concat(esp(f1), esp(f2), esp(f3));
    await expectFrames(bytes, three, {
      contentType: "multipart/x-mixed-replace;boundary=123456789000000000000987654321",
    }, (r) => {
      assert.equal(r.stats.resyncs, 0);
      assert.equal(r.frames[2]!.headers.get("x-timestamp"), "12.345");
    });
  });

  it("reads the delimiter after each frame (mjpg-streamer) as well as before (py-mjpeg)", async () => {
    const after = concat(
      "--b\r\n",
      cl(f1),
      "\r\n--b\r\n",
      cl(f2),
      "\r\n--b\r\n",
      cl(f3),
      "\r\n--b\r\n",
    );
    const before = concat("--b\r\n", cl(f1), "\r\n--b\r\n", cl(f2), "\r\n--b\r\n", cl(f3));
    for (const bytes of [after, before]) {
      await expectFrames(bytes, three, boundaryB);
    }
  });

  it("delivers a frame with Content-Length as soon as its last byte arrives", async () => {
    // py-mjpeg-style servers send the next delimiter only with the next frame.
    const { MjpegDecoderStream } = await import("../mod.ts");
    const decoder = new MjpegDecoderStream(boundaryB);
    const writer = decoder.writable.getWriter();
    const reader = decoder.readable.getReader();
    void writer.write(concat("--b\r\n", cl(f1)));
    const first = await reader.read();
    assert.equal(sha256(first.value!.data), sha256(f1));
    void writer.close();
    assert.equal((await reader.read()).done, true);
  });

  it("reads data followed directly by the delimiter when Content-Length is given (web2py)", async () => {
    const bytes = concat("--b\r\n", cl(f1), "--b\r\n", cl(f2), "--b\r\n", cl(f3));
    await expectFrames(bytes, three, { contentType: "multipart/x-mixed-replace; boundary=b" });
  });

  it("reads LF-only line endings, with and without Content-Length", async () => {
    const lf = concat(
      "--b\nContent-Type: image/jpeg\nContent-Length: ",
      String(f1.length),
      "\n\n",
      f1,
      "\n--b\ncontent-type: image/jpeg\n\n",
      f2,
      "\n--b--\n",
    );
    await expectFrames(lf, [f1, f2].map(sha256), boundaryB);
  });

  it("reads header names in any case, with no space after the colon", async () => {
    const bytes = concat(
      "--b\r\ncontent-type:image/jpeg\r\nCONTENT-LENGTH:",
      String(f1.length),
      "\r\nx-TimeStamp:1700000000.5\r\n\r\n",
      f1,
      "\r\n--b\r\n",
    );
    await expectFrames(
      bytes,
      [sha256(f1)],
      boundaryB,
      (r) => {
        assert.equal(r.frames[0]!.headers.get("X-Timestamp"), "1700000000.5");
        assert.equal(r.frames[0]!.headers.get("content-length"), String(f1.length));
      },
    );
  });

  it("stops at the close delimiter and ignores the epilogue", async () => {
    const bytes = concat(
      "--b\r\n",
      cl(f1),
      "\r\n--b--\r\nThis is the epilogue.\r\nIt is ignored.\r\n",
    );
    await expectFrames(
      bytes,
      [sha256(f1)],
      boundaryB,
      (r) => {
        assert.equal(r.stats.resyncs, 0);
        assert.equal(r.stats.truncatedFrames, 0);
      },
    );
  });

  it("skips parts that are not images and counts them", async () => {
    const text = "--b\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello\r\n";
    const html = "--b\r\nContent-Type: text/html\r\n\r\n<p>no length</p>\r\n";
    const bytes = concat(text, "--b\r\n", cl(f1), "\r\n", html, "--b\r\n", cl(f2), "\r\n--b--");
    await expectFrames(
      bytes,
      [f1, f2].map(sha256),
      boundaryB,
      (r) => assert.equal(r.stats.skippedParts, 2),
    );
  });

  it("keeps extra part headers such as X-Timestamp on the frame", async () => {
    const bytes = concat(
      "--b\r\n",
      cl(f1, "X-Timestamp: 1700000000.123\r\nX-Frame: 7\r\n"),
      "\r\n--b\r\n",
    );
    const r = await decode(bytes, 3, boundaryB);
    assert.equal(r.frames[0]!.headers.get("x-timestamp"), "1700000000.123");
    assert.equal(r.frames[0]!.headers.get("x-frame"), "7");
  });

  it("stamps each frame with the time its first byte arrived", async () => {
    const before = Date.now();
    const r = await decode(fixture("ffmpeg.mpjpeg"), 4096);
    const after = Date.now();
    for (const f of r.frames) {
      assert.ok(
        f.timestamp >= before && f.timestamp <= after,
        `${f.timestamp} in [${before}, ${after}]`,
      );
    }
  });
});

describe("MjpegDecoderStream reads raw concatenated JPEGs", () => {
  const raw = concat(...fixtureFrames);

  it("splits ffmpeg's JPEGs with Content-Type image/jpeg or none", async () => {
    for (const contentType of ["image/jpeg", undefined]) {
      await expectFrames(raw, fixtureSums, contentType ? { contentType } : {}, (r) => {
        assert.equal(r.stats.frames, 8);
        assert.equal(r.stats.resyncs, 0);
      });
    }
  });

  it("walks markers, so an EXIF thumbnail's own SOI and EOI do not split the frame", async () => {
    const exif = fixture("exif-thumbnail.jpg");
    await expectFrames(concat(exif, f1, exif), [exif, f1, exif].map(sha256));
  });

  it("reads progressive JPEGs (many scans) and restart markers", async () => {
    const progressive = fixture("progressive.jpg");
    const restart = fixture("restart-markers.jpg");
    await expectFrames(concat(progressive, restart, f1), [progressive, restart, f1].map(sha256));
  });

  it("reads JPEGs in a multipart stream too, EXIF and all", async () => {
    const exif = fixture("exif-thumbnail.jpg");
    const noLength = concat("--b\r\n\r\n", exif, "\r\n--b\r\n\r\n", f1, "\r\n--b--");
    await expectFrames(noLength, [exif, f1].map(sha256), boundaryB);
  });

  it("skips bytes between JPEGs, counts one resync per run, and keeps every whole frame", async () => {
    const bytes = concat("\r\n", f1, "garbage!", f2, new Uint8Array([0xff, 0x00, 0xff]), f3);
    await expectFrames(bytes, three, {}, (r) => assert.equal(r.stats.resyncs, 2));
  });
});
