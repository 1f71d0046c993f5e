/**
 * A small baseline JPEG encoder for the test pattern: RGBA in, JFIF out,
 * 4:2:0 chroma, the example quantisation and Huffman tables of the JPEG
 * standard (ITU T.81 Annex K) scaled by quality as libjpeg does.
 *
 * Why not an npm encoder: `jpeg-js` rebuilds its tables on every call, which
 * costs 36–66 ms per frame on V8 whatever the image size (bench/test_pattern.ts
 * measures it), so Node could not keep a 15 fps pattern and serve viewers at
 * the same time. Here the tables are built once per quality and each frame
 * costs only the transform and the entropy coding.
 *
 * @module
 */

import {
  AC_CHROMA,
  AC_LUMA,
  CHROMA_QUANT,
  CODES,
  DC_CHROMA,
  DC_LUMA,
  type HuffmanCodes,
  type HuffmanSpec,
  LUMA_QUANT,
  scaledTables,
  ZIGZAG,
} from "./jpeg_tables.ts";

/**
 * Encodes RGBA images as baseline JPEGs. Keep one per size and quality: the
 * tables and buffers are reused from frame to frame.
 */
export class JpegEncoder {
  /** JPEG quality, 1..100 (libjpeg's scale). */
  readonly quality: number;
  private readonly _luma: { dqt: Uint8Array; divisors: Float32Array };
  private readonly _chroma: { dqt: Uint8Array; divisors: Float32Array };
  private readonly _block = new Float32Array(64);
  private readonly _quantised = new Int32Array(64);
  private _out = new Uint8Array(1 << 16);
  private _pos = 0;
  private _bitBuffer = 0;
  private _bitCount = 0;

  /** @param quality JPEG quality, 1..100. */
  constructor(quality: number) {
    if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
      throw new RangeError(`JpegEncoder: expected quality 1..100, got ${quality}`);
    }
    this.quality = quality;
    this._luma = scaledTables(LUMA_QUANT, quality);
    this._chroma = scaledTables(CHROMA_QUANT, quality);
  }

  /**
   * Encodes one image.
   *
   * @param rgba Pixels, 4 bytes each (alpha ignored), row by row.
   * @param width Width in pixels (1..65535).
   * @param height Height in pixels (1..65535).
   * @returns A new buffer holding the JPEG, SOI to EOI.
   */
  encode(rgba: Uint8Array, width: number, height: number): Uint8Array {
    if (rgba.length < width * height * 4) {
      throw new RangeError(
        `JpegEncoder: expected ${width * height * 4} bytes of RGBA, got ${rgba.length}`,
      );
    }
    this._pos = 0;
    this._bitBuffer = 0;
    this._bitCount = 0;
    this._ensure(1024);
    this._writeHeaders(width, height);
    let dcY = 0, dcCb = 0, dcCr = 0;
    const block = this._block;
    for (let my = 0; my < height; my += 16) {
      for (let mx = 0; mx < width; mx += 16) {
        this._ensure(4096); // generous bound for one MCU's entropy-coded bytes
        for (let b = 0; b < 4; b++) {
          loadLuma(rgba, width, height, mx + (b & 1) * 8, my + (b >> 1) * 8, block);
          dcY = this._codeBlock(block, this._luma.divisors, dcY, CODES.dcLuma, CODES.acLuma);
        }
        loadChroma(rgba, width, height, mx, my, block, 0);
        dcCb = this._codeBlock(block, this._chroma.divisors, dcCb, CODES.dcChroma, CODES.acChroma);
        loadChroma(rgba, width, height, mx, my, block, 1);
        dcCr = this._codeBlock(block, this._chroma.divisors, dcCr, CODES.dcChroma, CODES.acChroma);
      }
    }
    if (this._bitCount > 0) this._writeBits(0x7f, 8 - this._bitCount); // pad with ones
    this._ensure(2);
    this._byte(0xff);
    this._byte(0xd9);
    return this._out.slice(0, this._pos);
  }

  private _codeBlock(
    block: Float32Array,
    divisors: Float32Array,
    previousDc: number,
    dc: HuffmanCodes,
    ac: HuffmanCodes,
  ): number {
    forwardDct(block);
    const q = this._quantised;
    for (let k = 0; k < 64; k++) {
      const natural = ZIGZAG[k]!;
      q[k] = Math.round(block[natural]! * divisors[natural]!);
    }
    const diff = q[0]! - previousDc;
    const dcSize = bitSize(diff);
    this._writeBits(dc.code[dcSize]!, dc.length[dcSize]!);
    if (dcSize > 0) this._writeBits(diff < 0 ? diff + (1 << dcSize) - 1 : diff, dcSize);
    let last = 63;
    while (last > 0 && q[last] === 0) last--;
    let run = 0;
    for (let k = 1; k <= last; k++) {
      const value = q[k]!;
      if (value === 0) {
        run++;
        continue;
      }
      while (run >= 16) {
        this._writeBits(ac.code[0xf0]!, ac.length[0xf0]!);
        run -= 16;
      }
      const size = bitSize(value);
      const symbol = (run << 4) | size;
      this._writeBits(ac.code[symbol]!, ac.length[symbol]!);
      this._writeBits(value < 0 ? value + (1 << size) - 1 : value, size);
      run = 0;
    }
    if (last < 63) this._writeBits(ac.code[0x00]!, ac.length[0x00]!); // end of block
    return q[0]!;
  }

  private _writeBits(value: number, count: number): void {
    this._bitBuffer = (this._bitBuffer << count) | (value & ((1 << count) - 1));
    this._bitCount += count;
    while (this._bitCount >= 8) {
      this._bitCount -= 8;
      const byte = (this._bitBuffer >> this._bitCount) & 0xff;
      this._out[this._pos++] = byte;
      if (byte === 0xff) this._out[this._pos++] = 0; // byte stuffing
    }
    this._bitBuffer &= (1 << this._bitCount) - 1;
  }

  private _byte(value: number): void {
    this._out[this._pos++] = value;
  }

  private _ensure(more: number): void {
    if (this._pos + more <= this._out.length) return;
    const bigger = new Uint8Array(Math.max(this._out.length * 2, this._pos + more));
    bigger.set(this._out.subarray(0, this._pos));
    this._out = bigger;
  }

  private _segment(marker: number, payload: number[]): void {
    this._ensure(payload.length + 4);
    this._byte(0xff);
    this._byte(marker);
    this._byte((payload.length + 2) >> 8);
    this._byte((payload.length + 2) & 0xff);
    for (const b of payload) this._byte(b);
  }

  private _writeHeaders(width: number, height: number): void {
    this._byte(0xff);
    this._byte(0xd8); // SOI
    // APP0 JFIF 1.01, no density, no thumbnail.
    this._segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
    this._segment(0xdb, [0, ...this._luma.dqt, 1, ...this._chroma.dqt]);
    // SOF0: 8-bit, size, 3 components: Y sampled 2x2 (table 0), Cb and Cr 1x1 (table 1).
    this._segment(0xc0, [
      8,
      height >> 8,
      height & 0xff,
      width >> 8,
      width & 0xff,
      3,
      1,
      0x22,
      0,
      2,
      0x11,
      1,
      3,
      0x11,
      1,
    ]); // deno-fmt-ignore
    this._segment(0xc4, [
      ...dht(0x00, DC_LUMA),
      ...dht(0x10, AC_LUMA),
      ...dht(0x01, DC_CHROMA),
      ...dht(0x11, AC_CHROMA),
    ]);
    // SOS: 3 components with their tables, spectral selection 0..63, no approximation.
    this._segment(0xda, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
  }
}

function dht(classAndId: number, spec: HuffmanSpec): number[] {
  return [classAndId, ...spec.counts, ...spec.symbols];
}

// Number of bits needed for |value| (the JPEG "size" category).
function bitSize(value: number): number {
  let magnitude = value < 0 ? -value : value;
  let bits = 0;
  while (magnitude > 0) {
    bits++;
    magnitude >>= 1;
  }
  return bits;
}

// One 8x8 luma block, level-shifted; pixels past the edge repeat the last row/column.
function loadLuma(
  rgba: Uint8Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  out: Float32Array,
): void {
  for (let y = 0; y < 8; y++) {
    const row = Math.min(y0 + y, height - 1) * width;
    for (let x = 0; x < 8; x++) {
      const p = (row + Math.min(x0 + x, width - 1)) * 4;
      out[y * 8 + x] = 0.299 * rgba[p]! + 0.587 * rgba[p + 1]! + 0.114 * rgba[p + 2]! - 128;
    }
  }
}

// One 8x8 chroma block (Cb when which = 0, Cr when 1) covering a 16x16 area, each sample the mean of 2x2 pixels.
function loadChroma(
  rgba: Uint8Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  out: Float32Array,
  which: 0 | 1,
): void {
  for (let y = 0; y < 8; y++) {
    const rowA = Math.min(y0 + y * 2, height - 1) * width;
    const rowB = Math.min(y0 + y * 2 + 1, height - 1) * width;
    for (let x = 0; x < 8; x++) {
      const colA = Math.min(x0 + x * 2, width - 1), colB = Math.min(x0 + x * 2 + 1, width - 1);
      const a = (rowA + colA) * 4,
        b = (rowA + colB) * 4,
        c = (rowB + colA) * 4,
        d = (rowB + colB) * 4;
      const r = (rgba[a]! + rgba[b]! + rgba[c]! + rgba[d]!) * 0.25;
      const g = (rgba[a + 1]! + rgba[b + 1]! + rgba[c + 1]! + rgba[d + 1]!) * 0.25;
      const bl = (rgba[a + 2]! + rgba[b + 2]! + rgba[c + 2]! + rgba[d + 2]!) * 0.25;
      out[y * 8 + x] = which === 0
        ? -0.168736 * r - 0.331264 * g + 0.5 * bl
        : 0.5 * r - 0.418688 * g - 0.081312 * bl;
    }
  }
}

// The AAN (Arai, Agui, Nakajima) float forward DCT, in place, rows then
// columns; outputs are scaled by the AAN factors, undone in the divisors.
function forwardDct(d: Float32Array): void {
  for (let pass = 0; pass < 2; pass++) {
    const step = pass === 0 ? 1 : 8, stride = pass === 0 ? 8 : 1;
    for (let line = 0; line < 8; line++) {
      const o = line * stride;
      const i0 = o, i1 = o + step, i2 = o + 2 * step, i3 = o + 3 * step;
      const i4 = o + 4 * step, i5 = o + 5 * step, i6 = o + 6 * step, i7 = o + 7 * step;
      const t0 = d[i0]! + d[i7]!, t7 = d[i0]! - d[i7]!;
      const t1 = d[i1]! + d[i6]!, t6 = d[i1]! - d[i6]!;
      const t2 = d[i2]! + d[i5]!, t5 = d[i2]! - d[i5]!;
      const t3 = d[i3]! + d[i4]!, t4 = d[i3]! - d[i4]!;
      // Even part.
      const t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
      d[i0] = t10 + t11;
      d[i4] = t10 - t11;
      const z1 = (t12 + t13) * 0.707106781;
      d[i2] = t13 + z1;
      d[i6] = t13 - z1;
      // Odd part.
      const s10 = t4 + t5, s11 = t5 + t6, s12 = t6 + t7;
      const z5 = (s10 - s12) * 0.382683433;
      const z2 = 0.5411961 * s10 + z5;
      const z4 = 1.306562965 * s12 + z5;
      const z3 = s11 * 0.707106781;
      const z11 = t7 + z3, z13 = t7 - z3;
      d[i5] = z13 + z2;
      d[i3] = z13 - z2;
      d[i1] = z11 + z4;
      d[i7] = z11 - z4;
    }
  }
}
