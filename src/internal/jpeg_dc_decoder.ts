/**
 * A JPEG at one eighth of its size, from the DC coefficients alone: each 8x8
 * block's DC coefficient is the block's mean, so one pixel per block is a
 * faithful thumbnail. No inverse DCT, no upsampling filters: the AC
 * coefficients are Huffman-decoded only to be skipped. The offline card
 * draws the last frame dimmed behind its text from this.
 *
 * Reads baseline and extended sequential Huffman JPEGs (SOF0, SOF1) with 8-bit
 * samples, one or three components, any sampling factors, restart intervals,
 * one or several scans, and Motion-JPEG frames that leave out their Huffman
 * tables (webcams; the tables of ITU T.81 Annex K are meant). Anything else
 * (progressive, arithmetic, lossless, 12-bit, CMYK) and anything corrupt
 * gives `undefined`, never an exception.
 *
 * @module
 */
import { AC_CHROMA, AC_LUMA, DC_CHROMA, DC_LUMA, type HuffmanSpec } from "./jpeg_tables.ts";

/** One eighth of a JPEG: one RGB pixel per 8x8 block of the full image. */
export interface DcImage {
  /** The JPEG's width in pixels. */
  width: number;
  /** The JPEG's height in pixels. */
  height: number;
  /** The small image's width: `ceil(width / 8)`. */
  smallWidth: number;
  /** The small image's height: `ceil(height / 8)`. */
  smallHeight: number;
  /** The small image, 3 bytes (R, G, B) per pixel, row by row. */
  rgb: Uint8Array;
}

/**
 * The size a JPEG says it has (its SOFn segment), without decoding it.
 *
 * @param jpeg The JPEG bytes.
 * @returns Width and height, or undefined when no frame header is found.
 */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } | undefined {
  for (const segment of segments(jpeg)) {
    const m = segment.marker;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (segment.length < 6) return undefined;
      const p = segment.start;
      const height = (jpeg[p + 1]! << 8) | jpeg[p + 2]!;
      const width = (jpeg[p + 3]! << 8) | jpeg[p + 4]!;
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    if (m === 0xda) return undefined;
  }
  return undefined;
}

/**
 * Decodes a JPEG to one pixel per 8x8 block.
 *
 * @param jpeg The JPEG bytes (SOI to EOI).
 * @returns The small image, or undefined for a JPEG this decoder does not read.
 *
 * @example
 * ```ts ignore
 * const small = decodeJpegDc(frame.data);
 * if (small) console.log(small.smallWidth, small.smallHeight);
 * ```
 */
export function decodeJpegDc(jpeg: Uint8Array): DcImage | undefined {
  try {
    return decode(jpeg);
  } catch {
    return undefined;
  }
}

interface Component {
  id: number;
  h: number;
  v: number;
  quant: number;
  /** Blocks per line and per column, padded to whole MCUs. */
  blocksWide: number;
  blocksHigh: number;
  /** Each block's DC value (dequantised), blocksWide × blocksHigh. */
  dc: Float32Array;
}

interface Segment {
  marker: number;
  /** Offset of the segment's data (after the length). */
  start: number;
  /** Bytes of data. */
  length: number;
}

/** The marker segments up to and including SOS; entropy-coded data is skipped by the decoder. */
function* segments(jpeg: Uint8Array, from = 2): Generator<Segment> {
  let p = from;
  while (p + 4 <= jpeg.length) {
    if (jpeg[p] !== 0xff) return;
    const marker = jpeg[p + 1]!;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      p += 2;
      continue;
    }
    if (marker === 0xd9) return;
    const length = (jpeg[p + 2]! << 8) | jpeg[p + 3]!;
    if (length < 2 || p + 2 + length > jpeg.length) return;
    yield { marker, start: p + 4, length: length - 2 };
    p += 2 + length;
  }
}

function decode(jpeg: Uint8Array): DcImage | undefined {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return undefined;
  const quant: number[] = [1, 1, 1, 1]; // each table's DC step (all a thumbnail needs)
  const dcTables: (HuffmanTable | undefined)[] = [];
  const acTables: (HuffmanTable | undefined)[] = [];
  let components: Component[] | undefined;
  let width = 0, height = 0, hMax = 1, vMax = 1;
  let restartInterval = 0;
  let p = 2;
  for (;;) {
    // The next marker, past fill bytes; after a scan, past its entropy-coded data.
    while (p < jpeg.length && jpeg[p] !== 0xff) p++;
    while (p < jpeg.length && jpeg[p] === 0xff) p++;
    if (p >= jpeg.length) break;
    const marker = jpeg[p++]!;
    if (marker === 0xd9) break; // EOI
    if (marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    if (p + 2 > jpeg.length) return undefined;
    const length = (jpeg[p]! << 8) | jpeg[p + 1]!;
    const start = p + 2, end = p + length;
    if (length < 2 || end > jpeg.length) return undefined;
    p = end;
    if (marker === 0xdb) {
      // DQT: precision/id, then 64 entries (8 or 16 bits); the first is the DC step.
      for (let q = start; q < end;) {
        const sixteen = jpeg[q]! >> 4, id = jpeg[q]! & 15;
        if (id > 3) return undefined;
        quant[id] = sixteen ? (jpeg[q + 1]! << 8) | jpeg[q + 2]! : jpeg[q + 1]!;
        q += 1 + 64 * (sixteen ? 2 : 1);
      }
    } else if (marker === 0xc4) {
      for (let q = start; q < end;) {
        const tableClass = jpeg[q]! >> 4, id = jpeg[q]! & 15;
        const counts = Array.from(jpeg.subarray(q + 1, q + 17));
        const total = counts.reduce((a, b) => a + b, 0);
        if (id > 3 || tableClass > 1 || q + 17 + total > end) return undefined;
        const table = huffmanTable({
          counts,
          symbols: Array.from(jpeg.subarray(q + 17, q + 17 + total)),
        });
        (tableClass === 0 ? dcTables : acTables)[id] = table;
        q += 17 + total;
      }
    } else if (marker === 0xdd) {
      restartInterval = (jpeg[start]! << 8) | jpeg[start + 1]!;
    } else if (marker === 0xc0 || marker === 0xc1) {
      if (jpeg[start] !== 8) return undefined; // 12-bit samples
      height = (jpeg[start + 1]! << 8) | jpeg[start + 2]!;
      width = (jpeg[start + 3]! << 8) | jpeg[start + 4]!;
      const count = jpeg[start + 5]!;
      if (width === 0 || height === 0 || (count !== 1 && count !== 3)) return undefined;
      const parsed: Omit<Component, "blocksWide" | "blocksHigh" | "dc">[] = [];
      for (let i = 0; i < count; i++) {
        const c = start + 6 + i * 3;
        const h = jpeg[c + 1]! >> 4, v = jpeg[c + 1]! & 15;
        if (h < 1 || h > 4 || v < 1 || v > 4) return undefined;
        parsed.push({ id: jpeg[c]!, h, v, quant: jpeg[c + 2]! & 3 });
      }
      hMax = Math.max(...parsed.map((c) => c.h));
      vMax = Math.max(...parsed.map((c) => c.v));
      const mcusWide = Math.ceil(width / (8 * hMax)), mcusHigh = Math.ceil(height / (8 * vMax));
      components = parsed.map((c) => {
        const blocksWide = mcusWide * c.h, blocksHigh = mcusHigh * c.v;
        return { ...c, blocksWide, blocksHigh, dc: new Float32Array(blocksWide * blocksHigh) };
      });
    } else if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8) {
      return undefined; // progressive, lossless, arithmetic, hierarchical
    } else if (marker === 0xda) {
      if (!components) return undefined;
      const count = jpeg[start]!;
      const inScan: { component: Component; dc: HuffmanTable; ac: HuffmanTable }[] = [];
      for (let i = 0; i < count; i++) {
        const s = start + 1 + i * 2;
        const component = components.find((c) => c.id === jpeg[s]);
        if (!component) return undefined;
        const dcId = jpeg[s + 1]! >> 4, acId = jpeg[s + 1]! & 15;
        // Motion-JPEG leaves the tables out and means Annex K's.
        const dc = dcTables[dcId] ?? (dcId === 0 ? STANDARD.dcLuma : STANDARD.dcChroma);
        const ac = acTables[acId] ?? (acId === 0 ? STANDARD.acLuma : STANDARD.acChroma);
        inScan.push({ component, dc, ac });
      }
      p = decodeScan(jpeg, end, inScan, hMax, vMax, width, height, restartInterval, quant);
    }
  }
  if (!components) return undefined;
  return toRgb(components, width, height, hMax, vMax);
}

/** Decodes one scan's DC values; returns where its entropy-coded data ends. */
function decodeScan(
  jpeg: Uint8Array,
  from: number,
  scan: { component: Component; dc: HuffmanTable; ac: HuffmanTable }[],
  hMax: number,
  vMax: number,
  width: number,
  height: number,
  restartInterval: number,
  quant: number[],
): number {
  const reader = new BitReader(jpeg, from);
  const predictions = new Float64Array(scan.length);
  // One component alone: its own blocks in raster order, only those covering
  // the image (T.81 A.2.2). Several: whole MCUs, each with h×v blocks per component.
  const single = scan.length === 1;
  const only = scan[0]!.component;
  const unitsWide = single
    ? Math.ceil(Math.ceil((width * only.h) / hMax) / 8)
    : Math.ceil(width / (8 * hMax));
  const unitsHigh = single
    ? Math.ceil(Math.ceil((height * only.v) / vMax) / 8)
    : Math.ceil(height / (8 * vMax));
  const total = unitsWide * unitsHigh;
  for (let unit = 0; unit < total; unit++) {
    if (restartInterval > 0 && unit > 0 && unit % restartInterval === 0) {
      reader.restart();
      predictions.fill(0);
    }
    const ux = unit % unitsWide, uy = (unit - ux) / unitsWide;
    for (let s = 0; s < scan.length; s++) {
      const { component, dc, ac } = scan[s]!;
      const step = quant[component.quant]!;
      const h = single ? 1 : component.h, v = single ? 1 : component.v;
      for (let by = 0; by < v; by++) {
        for (let bx = 0; bx < h; bx++) {
          const size = reader.decode(dc);
          predictions[s] = predictions[s]! + (size === 0 ? 0 : reader.receive(size));
          skipAc(reader, ac);
          const x = ux * h + bx, y = uy * v + by;
          if (x < component.blocksWide && y < component.blocksHigh) {
            component.dc[y * component.blocksWide + x] = predictions[s]! * step;
          }
        }
      }
    }
  }
  return reader.position;
}

function skipAc(reader: BitReader, ac: HuffmanTable): void {
  for (let k = 1; k < 64;) {
    const symbol = reader.decode(ac);
    const run = symbol >> 4, size = symbol & 15;
    if (size === 0) {
      if (run !== 15) return; // end of block
      k += 16;
      continue;
    }
    k += run + 1;
    reader.skip(size);
  }
}

function toRgb(
  components: Component[],
  width: number,
  height: number,
  hMax: number,
  vMax: number,
): DcImage {
  const smallWidth = Math.ceil(width / 8), smallHeight = Math.ceil(height / 8);
  const rgb = new Uint8Array(smallWidth * smallHeight * 3);
  // A block's mean sample is DC / 8 + 128 (the level shift).
  const sample = (c: Component, x: number, y: number) => {
    const bx = Math.min(c.blocksWide - 1, Math.floor((x * c.h) / hMax));
    const by = Math.min(c.blocksHigh - 1, Math.floor((y * c.v) / vMax));
    return c.dc[by * c.blocksWide + bx]! / 8 + 128;
  };
  for (let y = 0, o = 0; y < smallHeight; y++) {
    for (let x = 0; x < smallWidth; x++, o += 3) {
      const luma = sample(components[0]!, x, y);
      if (components.length === 1) {
        rgb[o] = rgb[o + 1] = rgb[o + 2] = clamp(luma);
        continue;
      }
      // JFIF's YCbCr → RGB.
      const cb = sample(components[1]!, x, y) - 128, cr = sample(components[2]!, x, y) - 128;
      rgb[o] = clamp(luma + 1.402 * cr);
      rgb[o + 1] = clamp(luma - 0.344136 * cb - 0.714136 * cr);
      rgb[o + 2] = clamp(luma + 1.772 * cb);
    }
  }
  return { width, height, smallWidth, smallHeight, rgb };
}

function clamp(value: number): number {
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}

/** A Huffman table for decoding: a 9-bit lookup for short codes, canonical limits for long ones. */
interface HuffmanTable {
  /** (length << 8) | symbol for each 9-bit prefix whose code is at most 9 bits; 0 otherwise. */
  fast: Uint16Array;
  /** The largest code of each length (1..16), or -1. */
  maxCode: Int32Array;
  /** Index in `symbols` of the first code of each length, less that code. */
  offset: Int32Array;
  symbols: Uint8Array;
}

const FAST_BITS = 9;

function huffmanTable(spec: HuffmanSpec): HuffmanTable {
  const fast = new Uint16Array(1 << FAST_BITS);
  const maxCode = new Int32Array(18).fill(-1);
  const offset = new Int32Array(18);
  let code = 0, k = 0;
  for (let length = 1; length <= 16; length++) {
    const count = spec.counts[length - 1]!;
    offset[length] = k - code;
    for (let i = 0; i < count; i++, k++, code++) {
      if (length <= FAST_BITS) {
        const shift = FAST_BITS - length;
        for (let fill = 0; fill < 1 << shift; fill++) {
          fast[(code << shift) | fill] = (length << 8) | spec.symbols[k]!;
        }
      }
    }
    if (count > 0) maxCode[length] = code - 1;
    code <<= 1;
  }
  maxCode[17] = 0x7fffffff; // past 16 bits: corrupt data, ends the decode
  return { fast, maxCode, offset, symbols: Uint8Array.from(spec.symbols) };
}

const STANDARD = {
  dcLuma: huffmanTable(DC_LUMA),
  dcChroma: huffmanTable(DC_CHROMA),
  acLuma: huffmanTable(AC_LUMA),
  acChroma: huffmanTable(AC_CHROMA),
};

/**
 * Reads entropy-coded bits: removes stuffed zero bytes, stops at a marker
 * (feeding zeros after it, as decoders do), and counts what it fed past the
 * data so corrupt input cannot loop for long.
 */
class BitReader {
  #data: Uint8Array;
  #pos: number;
  #buffer = 0;
  #bits = 0;
  #atMarker = false;
  #padding = 0;

  constructor(data: Uint8Array, from: number) {
    this.#data = data;
    this.#pos = from;
  }

  /** Where the entropy-coded data ends (the marker after it). */
  get position(): number {
    return this.#pos;
  }

  #fill(): void {
    while (this.#bits <= 24) {
      let byte = 0;
      if (!this.#atMarker && this.#pos < this.#data.length) {
        byte = this.#data[this.#pos]!;
        if (byte === 0xff) {
          const next = this.#data[this.#pos + 1];
          if (next === 0x00) this.#pos += 2;
          else {
            this.#atMarker = true;
            byte = 0;
          }
        } else this.#pos++;
      } else if (++this.#padding > 64) {
        throw new RangeError("entropy-coded data ended early");
      }
      this.#buffer = (this.#buffer << 8) | byte;
      this.#bits += 8;
    }
  }

  decode(table: HuffmanTable): number {
    if (this.#bits < 17) this.#fill();
    const peek = (this.#buffer >>> (this.#bits - FAST_BITS)) & ((1 << FAST_BITS) - 1);
    const entry = table.fast[peek]!;
    if (entry !== 0) {
      this.#bits -= entry >> 8;
      return entry & 0xff;
    }
    for (let length = FAST_BITS + 1; length <= 17; length++) {
      const code = (this.#buffer >>> (this.#bits - length)) & ((1 << length) - 1);
      if (code <= table.maxCode[length]!) {
        if (length === 17) throw new RangeError("no Huffman code matches");
        this.#bits -= length;
        return table.symbols[table.offset[length]! + code]!;
      }
    }
    throw new RangeError("no Huffman code matches");
  }

  /** `size` bits as a signed value (T.81 F.2.2.1, EXTEND). */
  receive(size: number): number {
    if (this.#bits < size) this.#fill();
    const value = (this.#buffer >>> (this.#bits - size)) & ((1 << size) - 1);
    this.#bits -= size;
    return value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
  }

  skip(size: number): void {
    if (this.#bits < size) this.#fill();
    this.#bits -= size;
  }

  /** At a restart interval: drop the partial byte and step over the RSTn marker. */
  restart(): void {
    this.#bits = 0;
    this.#buffer = 0;
    this.#padding = 0;
    const data = this.#data;
    // Buffered bits past the last whole byte were padding; step to the marker.
    while (
      this.#pos < data.length && (data[this.#pos] !== 0xff || data[this.#pos + 1] === 0x00)
    ) this.#pos += data[this.#pos] === 0xff ? 2 : 1;
    if (data[this.#pos] === 0xff && data[this.#pos + 1]! >= 0xd0 && data[this.#pos + 1]! <= 0xd7) {
      this.#pos += 2;
    }
    this.#atMarker = false;
  }
}
