/**
 * A {@linkcode FrameSink} that builds each frame in one buffer of its own:
 * what {@linkcode MjpegDecoderStream} and the multiplexed stream's demuxer
 * hand out.
 *
 * @module
 */
import type { Frame } from "../frame.ts";
import type { FrameSink } from "./parser.ts";

// A frame without Content-Length starts in a buffer this big, or as big as
// the previous frame, so most frames never regrow.
const INITIAL_CAPACITY = 64 * 1024;

/** Assembles each frame's pieces into one Uint8Array the frame owns. */
export class FrameAssembler implements FrameSink {
  #data = new Uint8Array(0);
  #used = 0;
  #headers = new Headers();
  #sequence = 0;
  #timestamp = 0;
  #lastSize = INITIAL_CAPACITY;
  readonly #deliver: (frame: Frame) => void;

  constructor(deliver: (frame: Frame) => void) {
    this.#deliver = deliver;
  }

  frameStart(headers: Headers, length: number | undefined, timestamp: number, sequence: number) {
    // With a Content-Length the buffer is exact; without, start at the last
    // frame's size plus a margin.
    this.#data = new Uint8Array(length ?? Math.ceil(this.#lastSize * 1.25));
    this.#used = 0;
    this.#headers = headers;
    this.#sequence = sequence;
    this.#timestamp = timestamp;
  }

  frameData(bytes: Uint8Array) {
    const need = this.#used + bytes.length;
    if (need > this.#data.length) {
      const grown = new Uint8Array(Math.max(need, this.#data.length * 2));
      grown.set(this.#data.subarray(0, this.#used));
      this.#data = grown;
    }
    this.#data.set(bytes, this.#used);
    this.#used = need;
  }

  frameEnd() {
    const used = this.#used;
    // Give back spare capacity beyond an eighth, so frames don't pin memory.
    const data = this.#data.length - used > this.#data.length / 8
      ? this.#data.slice(0, used)
      : this.#data.subarray(0, used);
    this.#lastSize = Math.max(used, 1024);
    this.#data = new Uint8Array(0);
    this.#deliver({
      data,
      headers: this.#headers,
      sequence: this.#sequence,
      timestamp: this.#timestamp,
    });
  }

  frameAbort() {
    this.#data = new Uint8Array(0);
    this.#used = 0;
  }
}
