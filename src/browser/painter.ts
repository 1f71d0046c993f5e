/**
 * Paints JPEG frames onto a canvas with `createImageBitmap`, newest frame
 * first: while one frame decodes, a newer one replaces any that waits, so a
 * slow device skips frames instead of queueing them. Every bitmap is closed
 * as soon as it is drawn (or not needed), which is what keeps a page open for
 * days from growing: an `<img>` showing MJPEG leaves that to the browser.
 *
 * @module
 */
import type { Frame } from "../wire/mod.ts";

/** What the painter reports about each frame it handles. */
export interface PainterEvents {
  /** The frame is on the canvas. */
  painted(frame: Frame, width: number, height: number): void;
  /** A newer frame replaced this one before it was decoded. */
  skipped(): void;
  /** The bytes would not decode as an image. */
  failed(frame: Frame, error: unknown): void;
}

/** Draws frames on one canvas, one decode at a time. */
export class FramePainter {
  readonly #canvas: HTMLCanvasElement;
  readonly #events: PainterEvents;
  #context: CanvasRenderingContext2D | null = null;
  #waiting: Frame | undefined;
  #busy = false;
  #disposed = false;
  /** ImageBitmaps made and not yet closed. */
  openBitmaps = 0;

  /**
   * @param canvas Where frames are drawn; it takes each frame's size.
   * @param events Told about each frame.
   */
  constructor(canvas: HTMLCanvasElement, events: PainterEvents) {
    this.#canvas = canvas;
    this.#events = events;
  }

  /**
   * Paints `frame` when the previous one is done, replacing a frame that is
   * still waiting.
   *
   * @param frame A JPEG frame; its bytes are not kept after it is painted.
   */
  offer(frame: Frame): void {
    if (this.#disposed) return;
    if (this.#waiting !== undefined) this.#events.skipped();
    this.#waiting = frame;
    if (!this.#busy) void this.#drain();
  }

  /** Drops a waiting frame and stops painting; a decode under way is closed when it ends. */
  dispose(): void {
    this.#disposed = true;
    this.#waiting = undefined;
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#waiting !== undefined && !this.#disposed) {
        const frame = this.#waiting;
        this.#waiting = undefined;
        let bitmap: ImageBitmap;
        try {
          const blob = new Blob([frame.data as Uint8Array<ArrayBuffer>], { type: "image/jpeg" });
          bitmap = await createImageBitmap(blob);
        } catch (error) {
          this.#events.failed(frame, error);
          continue;
        }
        this.openBitmaps++;
        try {
          if (this.#disposed) return;
          this.#draw(bitmap);
          this.#events.painted(frame, bitmap.width, bitmap.height);
        } finally {
          bitmap.close();
          this.openBitmaps--;
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  #draw(bitmap: ImageBitmap): void {
    const canvas = this.#canvas;
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      // Resizing clears the canvas and its context state; only on a new size.
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    this.#context ??= canvas.getContext("2d", { alpha: false });
    this.#context?.drawImage(bitmap, 0, 0);
  }
}
