import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  encodeMjpegPart,
  MjpegEncoderStream,
  multipartContentType,
  parseContentType,
  validateBoundary,
} from "../src/wire/mod.ts";
import { collect, concat, streamOf } from "./helpers/bytes.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";

const text = (bytes: Uint8Array) => new TextDecoder("latin1").decode(bytes);

describe("MjpegEncoderStream", () => {
  it("opens with the delimiter and follows every frame with the next one at once", async () => {
    const encoder = new MjpegEncoderStream({ boundary: "b" });
    const out = await collect(
      streamOf([fixtureFrames[0]!, fixtureFrames[1]!]).pipeThrough(encoder),
    );
    assert.equal(out.length, 3, "the opening delimiter, then one buffer per frame");
    assert.equal(text(out[0]!), "--b\r\n");
    const head = `Content-Type: image/jpeg\r\nContent-Length: ${fixtureFrames[0]!.length}\r\n\r\n`;
    assert.deepEqual(out[1], concat(head, fixtureFrames[0]!, "\r\n--b\r\n"));
    assert.equal(encoder.contentType, "multipart/x-mixed-replace;boundary=b");
  });

  it("writes a Frame's extra headers but never its own Content-Type or Content-Length", () => {
    const frame = {
      data: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
      headers: new Headers({
        "X-Timestamp": "1700000000.250",
        "Content-Length": "999",
        "Content-Type": "text/html",
      }),
      sequence: 0,
      timestamp: 0,
    };
    const part = text(encodeMjpegPart(frame, "b"));
    assert.match(part, /^Content-Type: image\/jpeg\r\nContent-Length: 4\r\n/);
    assert.match(part, /\r\nx-timestamp: 1700000000\.250\r\n/);
    assert.doesNotMatch(part, /999|text\/html/);
    assert.equal(part.split("\r\n\r\n")[0]!.split("\r\n").length, 3, "three header lines");
  });

  it("quotes a boundary that needs it in the Content-Type, and the decoder reads it back", () => {
    assert.equal(multipartContentType("a b:c"), 'multipart/x-mixed-replace;boundary="a b:c"');
    assert.equal(parseContentType(multipartContentType("a b:c")).boundary, "a b:c");
  });

  it("rejects a boundary RFC 2046 forbids, saying what was expected", () => {
    for (const bad of ["", "x".repeat(71), "ends with space ", "new\nline", 'quote"']) {
      assert.throws(
        () => new MjpegEncoderStream({ boundary: bad }),
        /expected a multipart boundary of 1 to 70 characters/,
      );
    }
    assert.equal(validateBoundary("ok-boundary_1"), "ok-boundary_1");
  });
});

describe("parseContentType", () => {
  it("reads the kinds and boundary spellings cameras send", () => {
    assert.deepEqual(parseContentType("multipart/x-mixed-replace;boundary=frame"), {
      kind: "multipart",
      mediaType: "multipart/x-mixed-replace",
      boundary: "frame",
    });
    assert.equal(
      parseContentType("Multipart/X-Mixed-Replace; Boundary=--myboundary").boundary,
      "--myboundary",
    );
    assert.equal(
      parseContentType('multipart/x-mixed-replace; charset=x; boundary="q\\"d"').boundary,
      'q"d',
    );
    assert.equal(parseContentType("multipart/mixed").boundary, undefined);
    assert.equal(parseContentType("image/jpeg").kind, "jpeg");
    assert.equal(parseContentType("text/html; charset=utf-8").kind, "unknown");
    assert.equal(parseContentType(null).kind, "unknown");
  });
});
