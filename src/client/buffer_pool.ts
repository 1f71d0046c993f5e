/**
 * The lent buffers and where each one is: free (enqueued, waiting to be
 * filled), being filled, filled and waiting for `dequeueBuffer()`, or with
 * the application. A buffer is always in exactly one place, so none is ever
 * lost — the tests check that after every fault.
 *
 * @module
 */
import { Deque } from "./deque.ts";
import { FrameBuffer, OWNER, STATE } from "./frame_buffer.ts";

interface Waiter {
  resolve(buf: FrameBuffer): void;
  reject(reason: unknown): void;
}

/** How many buffers are where; they always add up to `total`. */
export interface PoolCounts {
  /** Every buffer ever lent. */
  total: number;
  /** Enqueued, waiting to be filled. */
  free: number;
  /** Being filled right now (0 or 1). */
  filling: number;
  /** Filled, waiting for `dequeueBuffer()`. */
  ready: number;
  /** With the application. */
  application: number;
}

/** The buffer bookkeeping behind MjpegClient's py-mjpeg API. */
export class BufferPool {
  #total = 0;
  #free: FrameBuffer[] = [];
  #filling = 0;
  #ready = new Deque<FrameBuffer>();
  #waiters = new Deque<Waiter>();
  #closedReason: unknown = undefined;

  /**
   * Allocates buffers, handed to the application (not yet enqueued).
   *
   * @param length Bytes per buffer: the largest frame it can hold.
   * @param count How many buffers.
   * @returns The new buffers.
   */
  request(length: number, count: number): FrameBuffer[] {
    if (!Number.isInteger(length) || length < 1) {
      throw new TypeError(`requestBuffers: expected length as a whole number >= 1, got ${length}`);
    }
    if (!Number.isInteger(count) || count < 1) {
      throw new TypeError(`requestBuffers: expected count as a whole number >= 1, got ${count}`);
    }
    const bufs: FrameBuffer[] = [];
    for (let i = 0; i < count; i++) bufs.push(new FrameBuffer(length, this));
    this.#total += count;
    return bufs;
  }

  /**
   * Takes a buffer back from the application to be filled.
   *
   * @param buf A buffer from this pool that the application holds.
   */
  enqueue(buf: FrameBuffer): void {
    if (!(buf instanceof FrameBuffer) || buf[OWNER] !== this) {
      throw new TypeError("enqueueBuffer: expected a buffer from this client's requestBuffers()");
    }
    if (buf[STATE] !== "application") {
      throw new TypeError(
        `enqueueBuffer: expected a buffer the application holds, got one that is ${
          buf[STATE]
        } (enqueued twice?)`,
      );
    }
    buf[STATE] = "free";
    this.#free.push(buf);
  }

  /** @returns A free buffer to fill, or undefined when the application holds them all. */
  take(): FrameBuffer | undefined {
    const buf = this.#free.pop();
    if (buf) {
      buf[STATE] = "filling";
      this.#filling++;
    }
    return buf;
  }

  /** @param buf A buffer whose frame was dropped; it goes back to the free list. */
  release(buf: FrameBuffer): void {
    buf[STATE] = "free";
    this.#filling--;
    this.#free.push(buf);
  }

  /** @param buf A filled buffer: to the first waiting dequeue, else to the ready queue. */
  deliver(buf: FrameBuffer): void {
    this.#filling--;
    const waiter = this.#waiters.shift();
    if (waiter) {
      buf[STATE] = "application";
      waiter.resolve(buf);
    } else {
      buf[STATE] = "ready";
      this.#ready.push(buf);
    }
  }

  /**
   * Waits for a filled buffer. Filled buffers left when the pool is closed can
   * still be taken; after that, the call rejects with the close reason.
   *
   * @param signal Aborts this one wait.
   * @returns The filled buffer, now the application's.
   */
  dequeue(signal?: AbortSignal): Promise<FrameBuffer> {
    const buf = this.#ready.shift();
    if (buf) {
      buf[STATE] = "application";
      return Promise.resolve(buf);
    }
    if (this.#closedReason !== undefined) return Promise.reject(this.#closedReason);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<FrameBuffer>((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.remove(waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        resolve(b) {
          signal?.removeEventListener("abort", onAbort);
          resolve(b);
        },
        reject(reason) {
          signal?.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * Rejects every pending and future dequeue (once the ready queue is empty)
   * with `reason`, e.g. an AbortError on stop().
   *
   * @param reason The rejection reason.
   */
  close(reason: unknown): void {
    this.#closedReason = reason;
    for (let w = this.#waiters.shift(); w; w = this.#waiters.shift()) w.reject(reason);
  }

  /** Lets dequeues wait again (the client was started again). */
  reopen(): void {
    this.#closedReason = undefined;
  }

  /** @returns Where the buffers are. */
  counts(): PoolCounts {
    const free = this.#free.length, ready = this.#ready.size, filling = this.#filling;
    return {
      total: this.#total,
      free,
      filling,
      ready,
      application: this.#total - free - ready - filling,
    };
  }

  /** How many buffers were ever lent. */
  get total(): number {
    return this.#total;
  }

  /** How many buffers are enqueued and waiting to be filled. */
  get freeCount(): number {
    return this.#free.length;
  }
}
