import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as jpeg from "jpeg-js";
import { JpegEncoder } from "../src/internal/jpeg_encoder.ts";
import { TestPatternRenderer } from "../src/sources/test_pattern.ts";
import { jpegLength } from "../src/wire/jpeg.ts";
import { requireTools } from "./helpers/tools.ts";

function gradient(width: number, height: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      rgba[p] = Math.floor((x * 255) / Math.max(1, width - 1));
      rgba[p + 1] = Math.floor((y * 255) / Math.max(1, height - 1));
      rgba[p + 2] = (x ^ y) & 16 ? 220 : 40;
      rgba[p + 3] = 255;
    }
  }
  return rgba;
}

// PSNR of luma: 4:2:0 keeps colour at half resolution by design, so steep
// colour ramps in tiny images lose detail that says nothing about correctness.
function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0, n = 0;
  for (let i = 0; i < a.length; i += 4) {
    const ya = 0.299 * a[i]! + 0.587 * a[i + 1]! + 0.114 * a[i + 2]!;
    const yb = 0.299 * b[i]! + 0.587 * b[i + 1]! + 0.114 * b[i + 2]!;
    sum += (ya - yb) ** 2;
    n++;
  }
  return 10 * Math.log10((255 * 255) / (sum / n || 1e-9));
}

describe("JpegEncoder", () => {
  it("encodes images of any size that decode back close to the original", () => {
    const encoder = new JpegEncoder(90);
    for (const [w, h] of [[1, 1], [8, 8], [17, 9], [320, 240], [641, 35]] as const) {
      const rgba = gradient(w, h);
      const bytes = encoder.encode(rgba, w, h);
      assert.equal(jpegLength(bytes), bytes.length, `${w}x${h} is one complete JPEG`);
      const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      assert.equal(decoded.width, w);
      assert.equal(decoded.height, h);
      // 4:2:0 chroma blurs 1-pixel colour detail; the rest must be close.
      assert.ok(
        psnr(rgba, decoded.data) > 28,
        `${w}x${h}: PSNR ${psnr(rgba, decoded.data).toFixed(1)} dB`,
      );
    }
  });

  it("trades size for quality, and rejects a quality out of range", () => {
    const rgba = gradient(160, 120);
    const low = new JpegEncoder(10).encode(rgba, 160, 120);
    const high = new JpegEncoder(95).encode(rgba, 160, 120);
    assert.ok(low.length < high.length);
    assert.throws(() => new JpegEncoder(0), /expected quality 1\.\.100, got 0/);
    assert.throws(
      () => new JpegEncoder(75).encode(new Uint8Array(4), 2, 2),
      /expected 16 bytes of RGBA/,
    );
  });

  it("makes test-pattern frames that ffmpeg decodes without a warning", (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const frame = new TestPatternRenderer({ width: 320, height: 240 }).render(42, Date.now());
    const r = spawnSync("ffmpeg", ["-v", "warning", "-f", "mjpeg", "-i", "-", "-f", "null", "-"], {
      input: frame,
    });
    assert.equal(r.status, 0);
    assert.equal(String(r.stderr).trim(), "");
  });
});
