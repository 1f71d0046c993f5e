/**
 * The small newest-wins queue behind `client.frames()`: a slow consumer gets
 * the latest frames, never a growing backlog of old ones.
 *
 * @module
 */
import type { Frame } from "../frame.ts";
import { Deque } from "./deque.ts";

/** An async iterator of frames fed by the client; holds at most `size` frames. */
export class FrameQueue implements AsyncIterableIterator<Frame> {
  #size: number;
  #frames = new Deque<Frame>();
  #waiting: ((result: IteratorResult<Frame>) => void) | undefined;
  #failWaiting: ((error: unknown) => void) | undefined;
  #done = false;
  #error: unknown = undefined;
  #onDetach: () => void | Promise<void>;

  /**
   * @param size How many frames to hold for the consumer.
   * @param onDetach Called once when the iteration ends; `return()` awaits it.
   */
  constructor(size: number, onDetach: () => void | Promise<void>) {
    this.#size = size;
    this.#onDetach = onDetach;
  }

  /**
   * Offers a frame: straight to a waiting consumer, else into the queue,
   * dropping the oldest when full.
   *
   * @param frame The new frame.
   * @returns How many frames were dropped to make room (0 or 1).
   */
  push(frame: Frame): number {
    if (this.#done) return 0;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = this.#failWaiting = undefined;
      waiting({ value: frame, done: false });
      return 0;
    }
    this.#frames.push(frame);
    if (this.#frames.size > this.#size) {
      this.#frames.shift();
      return 1;
    }
    return 0;
  }

  /**
   * Ends the iteration after the queued frames: normally, or with an error.
   *
   * @param error Thrown from `next()` once the queue is drained, if given.
   * @returns What the detach callback returned.
   */
  close(error?: unknown): void | Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    if (this.#waiting) {
      const waiting = this.#waiting, fail = this.#failWaiting!;
      this.#waiting = this.#failWaiting = undefined;
      if (error === undefined) waiting({ value: undefined, done: true });
      else {
        this.#error = undefined; // thrown once, then plain "done"
        fail(error);
      }
    }
    return this.#onDetach();
  }

  /** @returns The next frame, waiting for one if none is queued. */
  next(): Promise<IteratorResult<Frame>> {
    const frame = this.#frames.shift();
    if (frame) return Promise.resolve({ value: frame, done: false });
    if (this.#done) {
      if (this.#error === undefined) return Promise.resolve({ value: undefined, done: true });
      const error = this.#error;
      this.#error = undefined; // thrown once, then plain "done"
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#failWaiting = reject;
    });
  }

  /** Stops the iteration (a `break` out of `for await`). @returns A finished result. */
  async return(): Promise<IteratorResult<Frame>> {
    while (this.#frames.shift()) { /* drop */ }
    await this.close();
    return { value: undefined, done: true };
  }

  /** @returns This iterator. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Frame> {
    return this;
  }
}
