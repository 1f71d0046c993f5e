/**
 * The wire format against real peers nobody here wrote: ffmpeg and GStreamer
 * produce streams our decoder must split, and read streams our encoder writes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Frame, jpegLength, MjpegDecoderStream, MjpegEncoderStream } from "../src/wire/mod.ts";
import { collect, concat, streamOf } from "./helpers/bytes.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { run } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";

/** Runs a program to completion (at most 60 s), feeding `input` to its stdin. */
function runPeer(command: string, args: string[], input?: Uint8Array) {
  return run(command, args, { timeoutMs: 60_000, ...(input ? { input } : {}) });
}

/** Decodes a byte string as it came from a real pipe, in 64 KiB reads. */
async function decodeBytes(bytes: Uint8Array, contentType?: string): Promise<Frame[]> {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 65536) chunks.push(bytes.subarray(i, i + 65536));
  return await collect(
    streamOf(chunks).pipeThrough(new MjpegDecoderStream(contentType ? { contentType } : {})),
  );
}

async function encode(jpegs: Uint8Array[], boundary?: string): Promise<Uint8Array> {
  const encoder = new MjpegEncoderStream(boundary ? { boundary } : {});
  return concat(...await collect(streamOf(jpegs).pipeThrough(encoder)));
}

const ffmpegSource = [
  "-loglevel",
  "error",
  "-f",
  "lavfi",
  "-i",
  "testsrc=size=320x240:rate=25",
  "-frames:v",
  "20",
  "-q:v",
  "5",
];

describe("the decoder reads what real peers write", () => {
  it("splits ffmpeg's raw MJPEG (-f mjpeg) and mpjpeg (-f mpjpeg) into the same 20 frames", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const raw = await runPeer("ffmpeg", [...ffmpegSource, "-f", "mjpeg", "-"]);
    const multipart = await runPeer("ffmpeg", [...ffmpegSource, "-f", "mpjpeg", "-"]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(multipart.code, 0, multipart.stderr);
    const fromRaw = await decodeBytes(raw.stdout); // no Content-Type: sniffed from FF D8
    const fromMultipart = await decodeBytes(
      multipart.stdout,
      "multipart/x-mixed-replace;boundary=ffmpeg",
    );
    assert.equal(fromRaw.length, 20);
    for (const f of fromRaw) {
      assert.equal(jpegLength(f.data), f.data.length, "each frame is one whole JPEG");
    }
    assert.deepEqual(fromMultipart.map((f) => sha256(f.data)), fromRaw.map((f) => sha256(f.data)));
  });

  it("splits GStreamer's jpegenc output, raw and through multipartmux, into the same 15 frames", async (t) => {
    if (!requireTools(t, "gst-launch-1.0")) return;
    const src = [
      "-q",
      "videotestsrc",
      "num-buffers=15",
      "pattern=ball",
      "!",
      "video/x-raw,width=320,height=240",
      "!",
      "jpegenc",
    ];
    const raw = await runPeer("gst-launch-1.0", [...src, "!", "fdsink", "fd=1"]);
    const multipart = await runPeer("gst-launch-1.0", [
      ...src,
      "!",
      "multipartmux",
      "boundary=gst frame",
      "!",
      "fdsink",
      "fd=1",
    ]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(multipart.code, 0, multipart.stderr);
    const fromRaw = await decodeBytes(raw.stdout, "image/jpeg");
    const fromMultipart = await decodeBytes(multipart.stdout); // boundary learnt from the wire
    assert.equal(fromRaw.length, 15);
    assert.deepEqual(fromMultipart.map((f) => sha256(f.data)), fromRaw.map((f) => sha256(f.data)));
  });
});

describe("real peers read what the encoder writes", () => {
  it("ffmpeg's mpjpeg demuxer gets every frame back byte-exact and decodes them", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const stream = await encode(fixtureFrames, "ffmpeg-check");
    const copied = await runPeer("ffmpeg", [
      "-loglevel",
      "error",
      "-f",
      "mpjpeg",
      "-i",
      "pipe:0",
      "-c",
      "copy",
      "-f",
      "mjpeg",
      "-",
    ], stream);
    assert.equal(copied.code, 0, copied.stderr);
    const back = await decodeBytes(copied.stdout, "image/jpeg");
    assert.deepEqual(back.map((f) => sha256(f.data)), fixtureSums);
    const decoded = await runPeer(
      "ffmpeg",
      ["-f", "mpjpeg", "-i", "pipe:0", "-f", "null", "-"],
      stream,
    );
    assert.equal(decoded.code, 0, decoded.stderr);
    assert.match(decoded.stderr, /frame=\s*8\b/, "ffmpeg decoded all 8 frames");
  });

  it("GStreamer's multipartdemux gets every frame back byte-exact and jpegdec decodes them", async (t) => {
    if (!requireTools(t, "gst-launch-1.0")) return;
    using dir = tempDir("gst");
    const stream = await encode(fixtureFrames);
    const demuxed = await runPeer("gst-launch-1.0", [
      "-q",
      "fdsrc",
      "fd=0",
      "!",
      "multipartdemux",
      "!",
      "image/jpeg",
      "!",
      "multifilesink",
      `location=${dir.path}/%05d.jpg`,
    ], stream);
    assert.equal(demuxed.code, 0, demuxed.stderr);
    const files = readdirSync(dir.path).sort();
    assert.deepEqual(
      files.map((f) => sha256(new Uint8Array(readFileSync(join(dir.path, f))))),
      fixtureSums,
    );
    const decoded = await runPeer("gst-launch-1.0", [
      "fdsrc",
      "fd=0",
      "!",
      "multipartdemux",
      "!",
      "jpegdec",
      "!",
      "fakesink",
    ], stream);
    assert.equal(decoded.code, 0, decoded.stderr);
  });
});
