/**
 * The offline card and the DC-only decoder behind it, checked against
 * libjpeg: `djpeg -scale 1/8` decodes a JPEG at one eighth from the DC
 * coefficients alone, which is exactly what decodeJpegDc does, so the two
 * must agree pixel for pixel (within rounding) on JPEGs made by ffmpeg,
 * cjpeg and jpegtran: 4:4:4, 4:2:2 at an odd size, 4:2:0, grayscale,
 * restart intervals, one scan per component, and Motion-JPEG frames without
 * Huffman tables. What it does not read (progressive, corrupt) gives a plain
 * card, never an exception.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeJpegDc, jpegSize } from "../src/internal/jpeg_dc_decoder.ts";
import { JpegEncoder } from "../src/internal/jpeg_encoder.ts";
import { OfflineCard, offlineCardText } from "../src/server/offline_card.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { run } from "./helpers/processes.ts";
import { type TempDir, tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";

let dir: TempDir;
before(() => dir = tempDir("dc"));
after(() => dir.remove());

async function sh(command: string, args: string[]): Promise<Uint8Array> {
  const result = await run(command, args, { timeoutMs: 30_000 });
  assert.equal(result.code, 0, `${command} ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** Makes a JPEG with ffmpeg from a lavfi source. */
async function ffmpegJpeg(name: string, source: string, pixFmt: string): Promise<string> {
  const path = join(dir.path, name);
  await sh("ffmpeg", [
    "-loglevel",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    source,
    "-frames:v",
    "1",
    "-pix_fmt",
    pixFmt,
    path,
  ]);
  return path;
}

/** libjpeg's own 1/8-scale decode (DC only) as RGB, 3 bytes per pixel. */
async function djpegEighth(
  path: string,
): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const ppm = await sh("djpeg", ["-scale", "1/8", "-nosmooth", "-ppm", path]);
  const header = new TextDecoder().decode(ppm.subarray(0, 32));
  const m = /^(P[56])\s+(\d+)\s+(\d+)\s+255\s/.exec(header);
  assert.ok(m, `a PPM/PGM from djpeg, got ${JSON.stringify(header)}`);
  const pixels = ppm.subarray(m[0].length);
  const width = Number(m[2]), height = Number(m[3]);
  if (m[1] === "P6") return { width, height, rgb: pixels };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.fill(pixels[i]!, i * 3, i * 3 + 3);
  return { width, height, rgb };
}

async function assertMatchesLibjpeg(path: string, tolerance = 2): Promise<void> {
  const ours = decodeJpegDc(new Uint8Array(readFileSync(path)));
  assert.ok(ours, `decoded ${path}`);
  const theirs = await djpegEighth(path);
  assert.equal(ours.smallWidth, theirs.width);
  assert.equal(ours.smallHeight, theirs.height);
  let worst = 0;
  for (let i = 0; i < ours.rgb.length; i++) {
    worst = Math.max(worst, Math.abs(ours.rgb[i]! - theirs.rgb[i]!));
  }
  assert.ok(worst <= tolerance, `${path}: largest difference ${worst} > ${tolerance}`);
}

describe("decodeJpegDc", () => {
  it("agrees with libjpeg's 1/8 decode on 4:4:4, 4:2:2 at an odd size, and 4:2:0", async (t) => {
    if (!requireTools(t, "ffmpeg", "djpeg")) return;
    await assertMatchesLibjpeg(await ffmpegJpeg("444.jpg", "testsrc=size=640x480", "yuvj444p"));
    await assertMatchesLibjpeg(await ffmpegJpeg("422.jpg", "testsrc=size=641x479", "yuvj422p"));
    // libjpeg decodes subsampled chroma at 2/8 with its AC terms, so the two
    // agree where colour is flat within each 16x16 block: a picture scaled up
    // 16 times (ffmpeg's chroma filter still leaves a little at block edges).
    await assertMatchesLibjpeg(
      await ffmpegJpeg("420.jpg", "testsrc=size=40x30,scale=640:480:flags=neighbor", "yuvj420p"),
      6,
    );
  });

  it("reads grayscale, restart intervals, one scan per component, and cjpeg's output", async (t) => {
    if (!requireTools(t, "ffmpeg", "djpeg", "cjpeg", "jpegtran")) return;
    const source = await ffmpegJpeg("source.jpg", "testsrc2=size=320x240", "yuvj444p");
    const ppm = join(dir.path, "source.ppm");
    writeFileSync(ppm, await sh("djpeg", ["-ppm", source]));
    const gray = join(dir.path, "gray.jpg");
    writeFileSync(gray, await sh("cjpeg", ["-grayscale", "-quality", "85", ppm]));
    await assertMatchesLibjpeg(gray);
    const restarts = join(dir.path, "restarts.jpg");
    writeFileSync(restarts, await sh("cjpeg", ["-sample", "1x1", "-restart", "3B", ppm]));
    await assertMatchesLibjpeg(restarts);
    const rows = join(dir.path, "rows.jpg");
    writeFileSync(rows, await sh("jpegtran", ["-restart", "1", source]));
    await assertMatchesLibjpeg(rows);
    const script = join(dir.path, "scans.txt");
    writeFileSync(script, "0;\n1;\n2;\n"); // sequential, one component per scan
    const scans = join(dir.path, "scans.jpg");
    writeFileSync(scans, await sh("jpegtran", ["-scans", script, source]));
    await assertMatchesLibjpeg(scans);
  });

  it("reads Motion-JPEG frames that leave out their Huffman tables", () => {
    // The project's encoder writes Annex K's tables, which is what such frames mean.
    const rgba = new Uint8Array(64 * 48 * 4).map((_, i) => (i * 7) % 256);
    const full = new JpegEncoder(80).encode(rgba, 64, 48);
    const stripped = withoutSegment(full, 0xc4);
    assert.ok(stripped.length < full.length - 100, "the DHT segment was there to remove");
    assert.deepEqual(decodeJpegDc(stripped)?.rgb, decodeJpegDc(full)?.rgb);
  });

  it("gives undefined for progressive JPEGs and never throws on damaged ones", async (t) => {
    if (!requireTools(t, "jpegtran")) return;
    const source = join(dir.path, "fixture.jpg");
    writeFileSync(source, fixtureFrames[0]!);
    const progressive = await sh("jpegtran", ["-progressive", source]);
    assert.equal(decodeJpegDc(progressive), undefined);
    assert.deepEqual(jpegSize(progressive), jpegSize(fixtureFrames[0]!), "its size still reads");
    const frame = fixtureFrames[1]!;
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const started = Date.now();
    for (let i = 0; i < 300; i++) {
      const damaged = frame.slice(0, Math.floor(random() * frame.length));
      for (let k = 0; k < 5; k++) damaged[Math.floor(random() * damaged.length)] = random() * 256;
      decodeJpegDc(damaged); // an image or undefined; an exception fails the test
    }
    assert.equal(decodeJpegDc(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), undefined);
    assert.ok(Date.now() - started < 20_000, "damaged input does not make it crawl");
  });
});

describe("the offline card", () => {
  it("is a JPEG the size of the last frame, with the frame dimmed behind the words", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const frame = fixtureFrames[2]!;
    const card = new OfflineCard(frame);
    assert.equal(card.dimmedFrame, true);
    const since = Date.UTC(2026, 0, 2, 3, 4, 5);
    const lines = offlineCardText(since, since + 75_000, card.width);
    assert.deepEqual(lines, [
      "CAMERA OFFLINE",
      "NO FRAME SINCE 2026-01-02 03:04:05 UTC",
      "FOR 1 MIN",
    ]);
    const jpeg = card.render(lines);
    assert.deepEqual(jpegSize(jpeg), jpegSize(frame));
    // ffmpeg, a decoder nobody here wrote, reads it.
    const path = join(dir.path, "card.jpg");
    writeFileSync(path, jpeg);
    const probe = await run("ffprobe", [
      "-v",
      "error",
      "-show_entries",
      "stream=width,height",
      "-of",
      "csv=p=0",
      path,
    ]);
    const { width, height } = jpegSize(frame)!;
    assert.equal(new TextDecoder().decode(probe.stdout).trim(), `${width},${height}`);
    // Away from the words the card is the frame at about 30 % brightness.
    const small = decodeJpegDc(frame)!, dimmed = decodeJpegDc(jpeg)!;
    for (const [x, y] of [[1, 1], [small.smallWidth - 2, small.smallHeight - 2]] as const) {
      const o = (y * small.smallWidth + x) * 3;
      for (let k = 0; k < 3; k++) {
        assert.ok(Math.abs(dimmed.rgb[o + k]! - small.rgb[o + k]! * 0.3) < 12, `pixel ${x},${y}`);
      }
    }
  });

  it("is 640x480 and plain when there was no frame or it cannot be read", () => {
    for (const last of [undefined, new Uint8Array([0xff, 0xd8, 0xff, 0xd9])]) {
      const card = new OfflineCard(last);
      assert.equal(card.dimmedFrame, false);
      const jpeg = card.render(offlineCardText(0, 5000, card.width));
      assert.deepEqual(jpegSize(jpeg), { width: 640, height: 480 });
    }
  });

  it("says the time in fewer words on a small frame, and shows how long", () => {
    assert.deepEqual(offlineCardText(0, 59_999, 160), ["OFFLINE", "00:00:00 UTC", "59 S"]);
    assert.equal(offlineCardText(0, 3 * 3_600_000 + 65_000, 640)[2], "FOR 3 H 1 MIN");
    assert.equal(offlineCardText(0, 50 * 3_600_000, 640)[2], "FOR 2 D 2 H");
  });
});

/** The JPEG without its segments of one marker. */
function withoutSegment(jpeg: Uint8Array, marker: number): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  let p = 2;
  while (p < jpeg.length) {
    const m = jpeg[p + 1]!;
    const length = (jpeg[p + 2]! << 8) | jpeg[p + 3]!;
    if (m === 0xda) {
      out.push(...jpeg.subarray(p));
      break;
    }
    if (m !== marker) out.push(...jpeg.subarray(p, p + 2 + length));
    p += 2 + length;
  }
  return new Uint8Array(out);
}
