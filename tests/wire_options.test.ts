/**
 * The wire layer checks its options by hand (it has no zod, so it runs in a
 * browser): a wrong option is a clear error at construction, naming the
 * option, what was expected and what came.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MjpegDecoderStream, MjpegEncoderStream, MjpegParser } from "../src/wire/mod.ts";

const sink = { frameStart() {}, frameData() {}, frameEnd() {}, frameAbort() {} };

describe("wire options", () => {
  it("MjpegDecoderStream refuses an unknown option, listing the known ones", () => {
    assert.throws(
      // @ts-expect-error: a typo, as a JavaScript caller could make it
      () => new MjpegDecoderStream({ maxFrameSise: 10 }),
      {
        name: "TypeError",
        message:
          'MjpegDecoderStream: unknown option "maxFrameSise", expected one of contentType, maxFrameSize, maxHeaderSize, onError',
      },
    );
  });

  it("MjpegParser says which option has the wrong type and what came", () => {
    // @ts-expect-error: the wrong type on purpose
    assert.throws(() => new MjpegParser(sink, { contentType: 5 }), {
      message: "MjpegParser: expected contentType as a string or null, got 5",
    });
    // @ts-expect-error: the wrong type on purpose
    assert.throws(() => new MjpegParser(sink, { onError: "log" }), {
      message: 'MjpegParser: expected onError as a function, got "log"',
    });
    // @ts-expect-error: not an object
    assert.throws(() => new MjpegParser(sink, [1]), {
      message: "MjpegParser: expected options as an object, got an array",
    });
  });

  it("size limits must be positive whole numbers", () => {
    assert.throws(() => new MjpegDecoderStream({ maxFrameSize: 0 }), {
      name: "RangeError",
      message: "expected maxFrameSize to be a positive integer, got 0",
    });
    // @ts-expect-error: the wrong type on purpose
    assert.throws(() => new MjpegDecoderStream({ maxHeaderSize: "16k" }), {
      message: 'MjpegDecoderStream: expected maxHeaderSize as a number, got "16k"',
    });
  });

  it("MjpegEncoderStream checks its boundary and refuses unknown options", () => {
    assert.throws(() => new MjpegEncoderStream({ boundary: "bad\r\nheader" }), {
      name: "TypeError",
      message: /expected a multipart boundary of 1 to 70 characters/,
    });
    // @ts-expect-error: a typo on purpose
    assert.throws(() => new MjpegEncoderStream({ boundry: "x" }), {
      message: 'MjpegEncoderStream: unknown option "boundry", expected one of boundary',
    });
  });

  it("valid options, including explicit undefined and null, are accepted", () => {
    new MjpegDecoderStream({ contentType: null, maxFrameSize: undefined, onError: () => {} });
    new MjpegParser(sink, { contentType: "image/jpeg", maxHeaderSize: 1024 });
    new MjpegEncoderStream({ boundary: "frame" });
  });
});
