/**
 * The multiplexed stream's demuxer (./wire): parts named by `X-Stream` come
 * out as frames of their stream, byte-exact, in any chunking; parts without
 * a name are skipped and counted, never handed out unnamed; bytes that are
 * not MJPEG fail as the decoder does.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  MjpegDemuxer,
  MjpegDemuxStream,
  type MuxFrame,
  validateStreamName,
} from "../src/wire/mod.ts";
import { chunk, collect, concat, streamOf } from "./helpers/bytes.ts";
import { fixtureFrames as frames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { CHUNK_SIZES, DIRECT_BELOW } from "./helpers/wire.ts";

const TYPE = "multipart/x-mixed-replace;boundary=mux";

/** A multiplexed body: each [name, jpeg] as one part (name undefined: no X-Stream header). */
function muxBody(parts: [string | undefined, Uint8Array][]): Uint8Array {
  const pieces: (Uint8Array | string)[] = ["--mux\r\n"];
  for (const [name, jpeg] of parts) {
    const named = name === undefined ? "" : `X-Stream: ${name}\r\n`;
    pieces.push(
      `${named}Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\nX-Timestamp: 1.5\r\n\r\n`,
      jpeg,
      "\r\n--mux\r\n",
    );
  }
  return concat(...pieces);
}

describe("MjpegDemuxStream splits a multiplexed stream by X-Stream", () => {
  it("hands out each part as a frame of its stream, byte-exact, in any chunking", async () => {
    const plan: [string, Uint8Array][] = frames.map((
      jpeg,
      i,
    ) => [["front", "back", "door"][i % 3]!, jpeg]);
    const body = muxBody(plan);
    for (const size of CHUNK_SIZES) {
      // Small chunks go to the demuxer the stream wraps (see DIRECT_BELOW in helpers/wire.ts).
      const demux = size < DIRECT_BELOW
        ? new MjpegDemuxer((frame) => out.push(frame), { contentType: TYPE })
        : new MjpegDemuxStream({ contentType: TYPE });
      const out: MuxFrame[] = [];
      if (demux instanceof MjpegDemuxer) {
        for (const piece of chunk(body, size)) demux.push(piece);
        demux.end();
      } else out.push(...await collect(streamOf(chunk(body, size)).pipeThrough(demux)));
      assert.deepEqual(
        out.map((f) => [f.stream, sha256(f.data)]),
        plan.map(([name, jpeg]) => [name, sha256(jpeg)]),
        `chunk size ${size}`,
      );
      assert.deepEqual(out.map((f) => f.sequence), plan.map((_, i) => i));
      assert.equal(out[0]!.headers.get("x-timestamp"), "1.5", "the part's other headers are kept");
      assert.equal(demux.stats.frames, plan.length);
      assert.equal(demux.stats.unnamedFrames, 0);
    }
  });

  it("skips and counts a part with no X-Stream header, and reports it", () => {
    const seen: string[] = [];
    const errors: string[] = [];
    const demuxer = new MjpegDemuxer((frame) => seen.push(frame.stream), {
      contentType: TYPE,
      onError: (error) => errors.push(error.message),
    });
    demuxer.push(muxBody([["a", frames[0]!], [undefined, frames[1]!], ["  ", frames[2]!], [
      "b",
      frames[3]!,
    ]]));
    demuxer.end();
    assert.deepEqual(seen, ["a", "b"]);
    assert.equal(demuxer.stats.unnamedFrames, 2);
    assert.equal(errors.length, 2);
    assert.match(errors[0]!, /expected an X-Stream header naming the part's stream, got none/);
  });

  it("fails on bytes that are not MJPEG, as the decoder does", async () => {
    const html = new TextEncoder().encode("<!doctype html><html><body>login</body></html>");
    const demux = new MjpegDemuxStream({ contentType: TYPE });
    await assert.rejects(
      collect(streamOf([html]).pipeThrough(demux)),
      /expected "--mux" delimiter, got "<!doctype html>/,
    );
  });

  it("checks its arguments and stream names, saying what was expected", () => {
    // @ts-expect-error: not a function
    assert.throws(() => new MjpegDemuxer("x"), /expected onFrame as a function, got string/);
    // @ts-expect-error: an unknown option
    assert.throws(() => new MjpegDemuxStream({ boundary: "x" }), /unknown option "boundary"/);
    assert.equal(validateStreamName("front-door_2"), "front-door_2");
    assert.throws(() => validateStreamName("a b"), /expected a stream name of 1 to 64 printable/);
    assert.throws(() => validateStreamName("x\r\nSet-Cookie: y"), /got "x\\r\\nSet-Cookie: y"/);
    assert.throws(() => validateStreamName(""), /got ""/);
  });
});
