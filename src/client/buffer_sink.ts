/**
 * The parser's FrameSink for the client: copies each frame's bytes straight
 * from the network chunks into a lent FrameBuffer (no allocation per frame),
 * and — only while someone iterates `frames()` — into a reusable scratch
 * buffer that becomes a Frame.
 *
 * @module
 */
import { type Frame, isOutagePart } from "../frame.ts";
import type { FrameAbortReason, FrameSink } from "../wire/parser.ts";
import type { BufferPool } from "./buffer_pool.ts";
import type { FrameBuffer } from "./frame_buffer.ts";

/** The counters the sink keeps; the client reads them into its stats. */
export interface SinkCounters {
  frames: number;
  discardedFrames: number;
  abortedFrames: number;
  overruns: number;
  keepalives: number;
}

/** Receives whole frames for `frames()`; returns how many older frames it dropped. */
export type FrameListener = (frame: Frame) => number;

const EMPTY = new Headers();

/** Fills lent buffers from parser events; one per client, reused across connections. */
export class BufferSink implements FrameSink {
  /** Counters over the client's life. */
  readonly counters: SinkCounters = {
    frames: 0,
    discardedFrames: 0,
    abortedFrames: 0,
    overruns: 0,
    keepalives: 0,
  };
  /** Called after each complete frame (the client uses it for fps and backoff reset). */
  onFrame: (timestamp: number) => void = () => {};

  #pool: BufferPool;
  #listeners = new Set<FrameListener>();
  #current: FrameBuffer | undefined;
  #inOverrun = false;
  #inFrame = false;
  // This frame will not reach a buffer. It is counted as discarded only if it
  // completes: a frame that is then cut off counts as aborted, not as both.
  #discarding = false;
  // A keepalive repeat or offline card from an upstream in an outage: not a
  // camera frame, so no buffer, no frames() entry, no fps; only counted.
  #outagePart = false;
  #headers: Headers = EMPTY;
  #timestamp = 0;
  #sequence = 0;
  // frames(): one growable scratch buffer, copied out once per complete frame.
  #collecting = false;
  #scratch = new Uint8Array(0);
  #scratchUsed = 0;

  /** @param pool The pool to take buffers from. */
  constructor(pool: BufferPool) {
    this.#pool = pool;
  }

  /**
   * Starts feeding whole frames to `listener` (for `frames()`).
   *
   * @param listener Gets each frame; returns how many frames it dropped.
   * @returns A function that detaches the listener.
   */
  listen(listener: FrameListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Part of FrameSink: picks a free buffer, or enters the overrun state. */
  frameStart(
    headers: Headers,
    expectedLength: number | undefined,
    timestamp: number,
    sequence: number,
  ): void {
    this.#inFrame = true;
    this.#outagePart = isOutagePart(headers);
    if (this.#outagePart) {
      this.#current = undefined;
      this.#collecting = false;
      return;
    }
    this.#headers = headers;
    this.#timestamp = timestamp;
    this.#sequence = sequence;
    this.#collecting = this.#listeners.size > 0;
    this.#scratchUsed = 0;
    if (this.#collecting && expectedLength !== undefined && expectedLength > this.#scratch.length) {
      this.#scratch = new Uint8Array(expectedLength);
    }
    this.#current = undefined;
    this.#discarding = false;
    if (this.#pool.total === 0) return; // nobody lent buffers: frames() only
    const buf = this.#pool.take();
    if (!buf) {
      if (!this.#inOverrun) this.counters.overruns++;
      this.#inOverrun = true;
      this.#discarding = true;
      return;
    }
    this.#inOverrun = false;
    if (expectedLength !== undefined && expectedLength > buf.length) {
      // Announced too large: give the buffer straight back, never lose it.
      this.#pool.release(buf);
      this.#discarding = true;
      return;
    }
    buf.used = 0;
    this.#current = buf;
  }

  /** Part of FrameSink: copies the bytes into the buffer (and the scratch for frames()). */
  frameData(bytes: Uint8Array): void {
    if (this.#outagePart) return;
    const buf = this.#current;
    if (buf) {
      const end = buf.used + bytes.length;
      if (end > buf.length) {
        this.#pool.release(buf);
        this.#current = undefined;
        this.#discarding = true;
      } else {
        buf.data.set(bytes, buf.used);
        buf.used = end;
      }
    }
    if (this.#collecting) {
      const end = this.#scratchUsed + bytes.length;
      if (end > this.#scratch.length) {
        const grown = new Uint8Array(Math.max(end, this.#scratch.length * 2, 65536));
        grown.set(this.#scratch.subarray(0, this.#scratchUsed));
        this.#scratch = grown;
      }
      this.#scratch.set(bytes, this.#scratchUsed);
      this.#scratchUsed = end;
    }
  }

  /** Part of FrameSink: hands the filled buffer to the application. */
  frameEnd(): void {
    this.#inFrame = false;
    if (this.#outagePart) {
      this.counters.keepalives++;
      return;
    }
    this.counters.frames++;
    if (this.#discarding) this.counters.discardedFrames++;
    const buf = this.#current;
    if (buf) {
      this.#current = undefined;
      buf.timestamp = this.#timestamp;
      buf.sequence = this.#sequence;
      buf.headers = this.#headers;
      this.#pool.deliver(buf);
    }
    if (this.#collecting) {
      this.#collecting = false;
      const frame: Frame = {
        data: this.#scratch.slice(0, this.#scratchUsed),
        headers: this.#headers,
        sequence: this.#sequence,
        timestamp: this.#timestamp,
      };
      for (const listener of this.#listeners) this.counters.discardedFrames += listener(frame);
    }
    this.onFrame(this.#timestamp);
  }

  /**
   * Part of FrameSink: the frame will not complete; its buffer goes back to
   * the pool. Frames over maxFrameSize are counted by the parser, so only
   * truncated and corrupt ones are counted here.
   */
  frameAbort(reason: FrameAbortReason): void {
    if (!this.#inFrame) return;
    this.#inFrame = false;
    if (reason !== "oversized") this.counters.abortedFrames++;
    this.#collecting = false;
    const buf = this.#current;
    if (buf) {
      this.#current = undefined;
      this.#pool.release(buf);
    }
  }
}
