/**
 * A tiny 5x7 bitmap font for the test pattern's overlay (digits, a few
 * capitals and punctuation), drawn straight into an RGBA buffer. Enough to
 * show a frame counter and the wall-clock time without a font library.
 *
 * @module
 */

// Each glyph is 7 rows of 5 bits, most significant bit on the left.
const GLYPHS: Record<string, readonly number[]> = {
  "0": [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e],
  "1": [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  "2": [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f],
  "3": [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  "4": [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02],
  "5": [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  "6": [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e],
  "7": [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  "8": [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e],
  "9": [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  ":": [0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00],
  ".": [0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c],
  "-": [0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00],
  "/": [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
  " ": [0, 0, 0, 0, 0, 0, 0],
  A: [0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f],
  F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f],
  J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11],
  N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e],
  T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e],
  X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
};

/** Width of one character cell in font pixels (glyph plus one column of spacing). */
export const CELL_WIDTH = 6;
/** Height of one glyph in font pixels. */
export const GLYPH_HEIGHT = 7;

/** An RGBA image being drawn on. */
export interface Canvas {
  /** RGBA bytes, row by row. */
  data: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/**
 * Draws `text` with its top-left corner at (x, y), each font pixel a
 * `scale`×`scale` square. Characters the font lacks are drawn as spaces;
 * anything outside the canvas is clipped.
 *
 * @param canvas The image to draw on.
 * @param text The text (digits, `:.-/`, and the capitals the overlay uses).
 * @param x Left edge in pixels.
 * @param y Top edge in pixels.
 * @param scale Size of one font pixel in image pixels.
 * @param rgb The colour as [r, g, b].
 */
export function drawText(
  canvas: Canvas,
  text: string,
  x: number,
  y: number,
  scale: number,
  rgb: readonly [number, number, number],
): void {
  for (let i = 0; i < text.length; i++) {
    const glyph = GLYPHS[text[i]!.toUpperCase()];
    if (!glyph) continue;
    const left = x + i * CELL_WIDTH * scale;
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      const bits = glyph[row]!;
      for (let col = 0; col < 5; col++) {
        if ((bits & (0x10 >> col)) === 0) continue;
        fillRect(canvas, left + col * scale, y + row * scale, scale, scale, rgb);
      }
    }
  }
}

/**
 * Fills a rectangle, clipped to the canvas.
 *
 * @param canvas The image to draw on.
 * @param x Left edge.
 * @param y Top edge.
 * @param w Width.
 * @param h Height.
 * @param rgb The colour as [r, g, b].
 */
export function fillRect(
  canvas: Canvas,
  x: number,
  y: number,
  w: number,
  h: number,
  rgb: readonly [number, number, number],
): void {
  const x0 = Math.max(0, Math.floor(x)), x1 = Math.min(canvas.width, Math.floor(x + w));
  const y0 = Math.max(0, Math.floor(y)), y1 = Math.min(canvas.height, Math.floor(y + h));
  const [r, g, b] = rgb;
  const data = canvas.data;
  for (let row = y0; row < y1; row++) {
    let p = (row * canvas.width + x0) * 4;
    for (let col = x0; col < x1; col++, p += 4) {
      data[p] = r;
      data[p + 1] = g;
      data[p + 2] = b;
      data[p + 3] = 255;
    }
  }
}
