import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as jpeg from "jpeg-js";
import { testPattern, TestPatternRenderer } from "../src/sources/test_pattern.ts";
import { take } from "./helpers/sources.ts";

describe("testPattern", () => {
  it("yields decodable JPEGs of the requested size at the requested rate", async () => {
    const frames = await take(testPattern({ width: 160, height: 120, fps: 20 }), 4);
    assert.deepEqual(frames.map((f) => f.sequence), [0, 1, 2, 3]);
    for (const frame of frames) {
      const image = jpeg.decode(frame.data, { useTArray: true });
      assert.equal(image.width, 160);
      assert.equal(image.height, 120);
    }
    const span = frames.at(-1)!.timestamp - frames[0]!.timestamp;
    assert.ok(span >= 3 * 50 * 0.7, `4 frames at 20 fps span ~150 ms, got ${span}`);
  });

  it("draws something different in every frame (counter, clock, scrolling bars)", () => {
    const renderer = new TestPatternRenderer({ width: 320, height: 240 });
    const a = renderer.render(1, Date.UTC(2026, 0, 1, 12, 0, 0, 0));
    const b = renderer.render(2, Date.UTC(2026, 0, 1, 12, 0, 0, 100));
    assert.notDeepEqual(a, b);
    const pixels = jpeg.decode(a, { useTArray: true }).data;
    // The colour bars are there: a strongly saturated pixel exists.
    let saturated = false;
    for (let p = 0; p < pixels.length; p += 4) {
      if (
        Math.max(pixels[p]!, pixels[p + 1]!, pixels[p + 2]!) -
            Math.min(pixels[p]!, pixels[p + 1]!, pixels[p + 2]!) > 150
      ) {
        saturated = true;
        break;
      }
    }
    assert.ok(saturated);
  });

  it("stops after maxFrames, and at once when aborted", async () => {
    const frames = [];
    for await (
      const f of testPattern({ width: 64, height: 48, fps: 60, maxFrames: 3 }).frames(
        AbortSignal.timeout(5000),
      )
    ) {
      frames.push(f);
    }
    assert.equal(frames.length, 3);
    const controller = new AbortController();
    const slow = testPattern({ width: 64, height: 48, fps: 0.1 });
    const started = performance.now();
    setTimeout(() => controller.abort(), 50);
    const got = [];
    for await (const f of slow.frames(controller.signal)) got.push(f);
    assert.equal(got.length, 1, "the first frame comes at once, the next would be in 10 s");
    assert.ok(performance.now() - started < 2000);
  });

  it("rejects out-of-range options with a clear message", () => {
    assert.throws(() => testPattern({ width: 8 }), /invalid testPattern options: width/);
    assert.throws(() => testPattern({ fps: 1000 }), /fps/);
    assert.throws(() => testPattern({ quality: 0 }), /quality/);
  });
});
