/**
 * A built-in test pattern: needs no camera and no external program. Scrolling
 * colour bars (so motion and dropped frames are visible), the frame counter
 * and the wall-clock time to the millisecond (so a viewer can read latency off
 * the screen against a clock), JPEG-encoded in-process (src/internal/jpeg_encoder.ts),
 * so it needs no camera, no external program and no native code.
 *
 * @module
 */
import { z } from "zod";
import { parseOptions } from "../internal/validate.ts";
import type { Frame } from "../frame.ts";
import { type Canvas, CELL_WIDTH, drawText, fillRect, GLYPH_HEIGHT } from "../internal/font.ts";
import { JpegEncoder } from "../internal/jpeg_encoder.ts";
import { sleep } from "../internal/sleep.ts";
import type { FrameSource } from "./source.ts";

/** Options of {@linkcode testPattern}. */
export interface TestPatternOptions {
  /** Width in pixels, 16..3840. @default {640} */
  width?: number;
  /** Height in pixels, 16..2160. @default {480} */
  height?: number;
  /** Frames per second, 0.1..60. @default {10} */
  fps?: number;
  /** JPEG quality, 1..100. @default {75} */
  quality?: number;
  /** Stop after this many frames; unlimited by default. */
  maxFrames?: number;
}

const testPatternSchema = z.object({
  width: z.number().int().min(16).max(3840).default(640),
  height: z.number().int().min(16).max(2160).default(480),
  fps: z.number().min(0.1).max(60).default(10),
  quality: z.number().int().min(1).max(100).default(75),
  maxFrames: z.number().int().min(0).optional(),
}).strict();

type Rgb = readonly [number, number, number];
const BARS: readonly Rgb[] = [
  [192, 192, 192],
  [192, 192, 0],
  [0, 192, 192],
  [0, 192, 0],
  [192, 0, 192],
  [192, 0, 0],
  [0, 0, 192],
  [16, 16, 16],
];
const WHITE: Rgb = [255, 255, 255];
const YELLOW: Rgb = [255, 230, 0];
const PANEL: Rgb = [0, 0, 0];

/**
 * Draws and encodes test-pattern frames one at a time; {@linkcode testPattern}
 * paces it. Exposed for benchmarks and for programs that want single images.
 */
export class TestPatternRenderer {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** JPEG quality, 1..100. */
  readonly quality: number;
  readonly #canvas: Canvas;
  // One row of colour bars, twice as wide as the image, so a scrolled row is
  // a single copy from an offset.
  readonly #barRow: Uint8Array;
  readonly #scale: number;
  readonly #encoder: JpegEncoder;
  // The grey ramp under the bars never changes: drawn once, copied per frame.
  readonly #ramp: Uint8Array;

  /**
   * @param options Size and quality (fps is ignored here).
   * @throws {TypeError} When an option is out of range.
   */
  constructor(options: TestPatternOptions = {}) {
    const o = parseOptions(testPatternSchema, options, "testPattern options");
    this.width = o.width;
    this.height = o.height;
    this.quality = o.quality;
    this.#canvas = {
      data: new Uint8Array(o.width * o.height * 4),
      width: o.width,
      height: o.height,
    };
    this.#barRow = new Uint8Array(o.width * 2 * 4);
    const barWidth = o.width / BARS.length;
    for (let x = 0; x < o.width * 2; x++) {
      const [r, g, b] = BARS[Math.floor((x % o.width) / barWidth)] ?? BARS[0]!;
      this.#barRow.set([r, g, b, 255], x * 4);
    }
    this.#scale = Math.max(1, Math.floor(Math.min(o.width / 160, o.height / 120)));
    this.#encoder = new JpegEncoder(o.quality);
    const rampRows = o.height - Math.floor(o.height * 0.7);
    this.#ramp = new Uint8Array(rampRows * o.width * 4);
    for (let y = 0; y < rampRows; y++) {
      for (let x = 0; x < o.width; x++) {
        const p = (y * o.width + x) * 4, v = Math.floor((x * 255) / o.width);
        this.#ramp[p] = this.#ramp[p + 1] = this.#ramp[p + 2] = v;
        this.#ramp[p + 3] = 255;
      }
    }
  }

  /**
   * Draws frame number `sequence` stamped with `timestamp` and encodes it.
   *
   * @param sequence The frame counter shown in the image; also sets the scroll position.
   * @param timestamp Milliseconds since the epoch, shown as UTC time.
   * @returns The JPEG bytes.
   */
  render(sequence: number, timestamp: number): Uint8Array {
    const { width, height, data } = this.#canvas;
    const offset = (sequence * Math.max(1, Math.round(width / 160))) % width;
    const source = this.#barRow.subarray(offset * 4, (offset + width) * 4);
    const barsBottom = Math.floor(height * 0.7);
    for (let y = 0; y < barsBottom; y++) data.set(source, y * width * 4);
    // A grey ramp under the bars shows whether the encoder keeps gradients.
    data.set(this.#ramp, barsBottom * width * 4);
    const s = this.#scale;
    const lines: [string, Rgb][] = [
      ["MJPEG TEST PATTERN", WHITE],
      [`FRAME ${String(sequence).padStart(7, "0")}`, YELLOW],
      [`${new Date(timestamp).toISOString().slice(11, 23)} UTC`, YELLOW],
      [`${width}X${height}`, WHITE],
    ];
    const lineHeight = (GLYPH_HEIGHT + 3) * s;
    const panelWidth = Math.max(...lines.map(([t]) => t.length)) * CELL_WIDTH * s + 4 * s;
    const panelHeight = lines.length * lineHeight + 3 * s;
    const left = Math.max(0, Math.floor((width - panelWidth) / 2));
    const top = Math.max(0, Math.floor((barsBottom - panelHeight) / 2));
    fillRect(this.#canvas, left, top, panelWidth, panelHeight, PANEL);
    lines.forEach(([text, colour], i) => {
      drawText(this.#canvas, text, left + 3 * s, top + 3 * s + i * lineHeight, s, colour);
    });
    return this.#encoder.encode(data, width, height);
  }
}

/**
 * The built-in test pattern: scrolling colour bars with the frame counter and
 * the current UTC time drawn in, at a steady rate. When encoding cannot keep
 * up, frames are skipped rather than queued, so the time shown stays current.
 *
 * @param options Size, rate, quality, and an optional frame limit.
 * @returns A source.
 * @throws {TypeError} When an option is out of range.
 *
 * @example
 * ```ts
 * import { testPattern } from "@mjpeg/stream";
 * const source = testPattern({ width: 320, height: 240, fps: 5, maxFrames: 1 });
 * for await (const frame of source.frames(AbortSignal.timeout(5000))) {
 *   console.log(frame.data.length);
 * }
 * ```
 */
export function testPattern(options: TestPatternOptions = {}): FrameSource {
  const o = parseOptions(testPatternSchema, options, "testPattern options");
  const interval = 1000 / o.fps;
  return {
    description: `test pattern ${o.width}x${o.height}@${o.fps}fps`,
    async *frames(signal: AbortSignal): AsyncGenerator<Frame> {
      const renderer = new TestPatternRenderer({
        width: o.width,
        height: o.height,
        quality: o.quality,
      });
      let next = performance.now();
      for (let sequence = 0; o.maxFrames === undefined || sequence < o.maxFrames; sequence++) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait, signal);
        if (signal.aborted) return;
        const timestamp = Date.now();
        const data = renderer.render(sequence, timestamp);
        yield { data, headers: new Headers(), sequence, timestamp };
        next += interval;
        // Behind by more than a frame: start afresh instead of bursting to catch up.
        if (performance.now() - next > interval) next = performance.now();
      }
    },
  };
}
