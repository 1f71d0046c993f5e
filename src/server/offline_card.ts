/**
 * The offline card: the JPEG a hub's viewers get while its camera sends
 * nothing. It says the camera is offline, since when (UTC) and for how long,
 * over the last frame dimmed (one pixel per 8x8 block, from the JPEG's DC
 * coefficients, scaled back up), or over a plain dark background when there
 * was no frame or it cannot be read that way. It is the size of the last
 * frame, so a page's layout does not jump, and drawn with the project's own
 * font and encoder.
 *
 * @module
 */
import { type Canvas, CELL_WIDTH, drawText, GLYPH_HEIGHT } from "../internal/font.ts";
import { type DcImage, decodeJpegDc, jpegSize } from "../internal/jpeg_dc_decoder.ts";
import { JpegEncoder } from "../internal/jpeg_encoder.ts";

/** The card's size when the camera never sent a frame. */
export const DEFAULT_CARD_SIZE = { width: 640, height: 480 } as const;

// The last frame shows through at this brightness, dark enough for white text.
const DIM = 0.3;
const BACKGROUND: readonly [number, number, number] = [24, 24, 28];
const WHITE: readonly [number, number, number] = [255, 255, 255];
const YELLOW: readonly [number, number, number] = [255, 210, 0];
// Quality 60 keeps text legible; the card is rendered rarely, but sent often.
const encoder = new JpegEncoder(60);

/**
 * What the card says about time: when the last frame came (or the wait
 * began) and how long ago, in words that change at most once a second in
 * the first minute and once a minute after.
 *
 * @param since When the outage began, in ms since the epoch.
 * @param now The time to show it at.
 * @param width The card's width: below 240 pixels the words are fewer, to fit.
 * @returns The card's lines, title first.
 */
export function offlineCardText(since: number, now: number, width: number): string[] {
  const when = new Date(since).toISOString();
  if (width < 240) return ["OFFLINE", `${when.slice(11, 19)} UTC`, elapsed(now - since)];
  return [
    "CAMERA OFFLINE",
    `NO FRAME SINCE ${when.slice(0, 10)} ${when.slice(11, 19)} UTC`,
    `FOR ${elapsed(now - since)}`,
  ];
}

function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} S`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} MIN`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} H ${minutes % 60} MIN`;
  return `${Math.floor(hours / 24)} D ${hours % 24} H`;
}

/**
 * Draws offline cards for one outage: the last frame is decoded once, each
 * {@linkcode OfflineCard.render} draws the words and encodes the JPEG.
 */
export class OfflineCard {
  /** The card's width: the last frame's, or 640. */
  readonly width: number;
  /** The card's height: the last frame's, or 480. */
  readonly height: number;
  /** True when the last frame shows through behind the words. */
  readonly dimmedFrame: boolean;
  readonly #small: DcImage | undefined;
  #canvas: Canvas | undefined;

  /**
   * @param lastFrame The JPEG the camera sent last, if any.
   */
  constructor(lastFrame: Uint8Array | undefined) {
    const size = lastFrame ? jpegSize(lastFrame) : undefined;
    // A frame too large for a card the encoder can make cheaply gets the default size.
    const usable = size && size.width * size.height <= 4096 * 4096 ? size : undefined;
    this.width = usable?.width ?? DEFAULT_CARD_SIZE.width;
    this.height = usable?.height ?? DEFAULT_CARD_SIZE.height;
    this.#small = usable && lastFrame ? decodeJpegDc(lastFrame) : undefined;
    this.dimmedFrame = this.#small !== undefined;
  }

  /**
   * Draws and encodes the card.
   *
   * @param lines The words, title first (see {@linkcode offlineCardText}).
   * @returns The JPEG.
   */
  render(lines: readonly string[]): Uint8Array {
    const { width, height } = this;
    // The background is drawn once per outage; the words go on a band of it
    // that is put back after encoding.
    let canvas = this.#canvas;
    if (!canvas) {
      canvas = { data: new Uint8Array(width * height * 4), width, height };
      if (this.#small) upscaleDimmed(this.#small, canvas);
      else fill(canvas, BACKGROUND);
      this.#canvas = canvas;
    }
    // The scale that fits the longest line in 90% of the width; the title twice that, if it fits.
    const longest = Math.max(...lines.map((l) => l.length));
    const scale = Math.max(1, Math.floor((width * 0.9) / (longest * CELL_WIDTH)));
    const title = lines[0] ?? "";
    const titleScale = title.length * CELL_WIDTH * scale * 2 <= width * 0.9 ? scale * 2 : scale;
    const lineGap = 4 * scale;
    const total = GLYPH_HEIGHT * titleScale +
      (lines.length - 1) * (GLYPH_HEIGHT * scale + lineGap) + lineGap;
    const top = Math.max(0, Math.floor((height - total) / 2));
    const band = canvas.data.slice(top * width * 4, Math.min(height, top + total) * width * 4);
    let y = top;
    lines.forEach((line, i) => {
      const s = i === 0 ? titleScale : scale;
      const x = Math.max(0, Math.floor((width - line.length * CELL_WIDTH * s) / 2));
      drawText(canvas, line, x, y, s, i === 0 ? YELLOW : WHITE);
      y += GLYPH_HEIGHT * s + lineGap + (i === 0 ? lineGap : 0);
    });
    const jpeg = encoder.encode(canvas.data, width, height);
    canvas.data.set(band, top * width * 4);
    return jpeg;
  }
}

function fill(canvas: Canvas, [r, g, b]: readonly [number, number, number]): void {
  const data = canvas.data;
  for (let p = 0; p < data.length; p += 4) {
    data[p] = r;
    data[p + 1] = g;
    data[p + 2] = b;
    data[p + 3] = 255;
  }
}

/** Scales the 1/8 image back up (bilinear, between block centres) and dims it. */
function upscaleDimmed(small: DcImage, canvas: Canvas): void {
  const { width, height, data } = canvas;
  const sw = small.smallWidth, sh = small.smallHeight, rgb = small.rgb;
  const x0 = new Int32Array(width), x1 = new Int32Array(width), wx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const sx = Math.min(sw - 1, Math.max(0, (x + 0.5) / 8 - 0.5));
    x0[x] = Math.floor(sx);
    x1[x] = Math.min(sw - 1, x0[x]! + 1);
    wx[x] = sx - x0[x]!;
  }
  for (let y = 0, p = 0; y < height; y++) {
    const sy = Math.min(sh - 1, Math.max(0, (y + 0.5) / 8 - 0.5));
    const r0 = Math.floor(sy), r1 = Math.min(sh - 1, r0 + 1), wy = sy - r0;
    const top = r0 * sw, bottom = r1 * sw;
    for (let x = 0; x < width; x++, p += 4) {
      const a = (top + x0[x]!) * 3, b = (top + x1[x]!) * 3;
      const c = (bottom + x0[x]!) * 3, d = (bottom + x1[x]!) * 3;
      const fx = wx[x]!;
      for (let k = 0; k < 3; k++) {
        const upper = rgb[a + k]! + (rgb[b + k]! - rgb[a + k]!) * fx;
        const lower = rgb[c + k]! + (rgb[d + k]! - rgb[c + k]!) * fx;
        data[p + k] = (upper + (lower - upper) * wy) * DIM;
      }
      data[p + 3] = 255;
    }
  }
}
