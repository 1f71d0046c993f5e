/**
 * A line reader for the multipart parser: it reads lines and runs of bytes out
 * of a stream of chunks, and between chunks holds back only the bytes not yet
 * consumed (a partial line or delimiter).
 *
 * @module
 */

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * Reads lines and runs of bytes out of a stream of chunks. Between chunks it
 * keeps only the bytes not yet consumed (a partial line or delimiter), in
 * storage of its own, so callers may reuse their chunks.
 */
export class LineReader {
  /** The bytes being read: `bytes[pos..bytes.length)` are unconsumed. */
  bytes: Uint8Array = new Uint8Array(0);
  /** The first unconsumed byte. */
  pos = 0;
  /** True while skipping the rest of an over-long line. */
  midLine = false;
  #storage = new Uint8Array(0);
  #ownsBytes = false;
  // How far a line search got without finding LF, so 1-byte chunks don't rescan.
  #searched = 0;
  readonly #limit: number;

  /** @param limit The most bytes ever held back between chunks. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Unconsumed bytes. */
  get available(): number {
    return this.bytes.length - this.pos;
  }

  /** Adds a chunk after whatever is left over. */
  feed(chunk: Uint8Array): void {
    const left = this.bytes.length - this.pos;
    if (left === 0) {
      this.bytes = chunk;
      this.pos = 0;
      this.#searched = 0;
      this.#ownsBytes = false;
      return;
    }
    // Left-over bytes are few (a partial line); append the chunk after them,
    // growing the storage by doubling so byte-sized chunks stay linear.
    const total = left + chunk.length;
    if (!this.#ownsBytes || this.#storage.length < total) {
      const storage = new Uint8Array(Math.max(total, this.#storage.length * 2, 256));
      storage.set(this.bytes.subarray(this.pos), 0);
      this.#storage = storage;
    } else if (this.pos > 0) {
      this.#storage.copyWithin(0, this.pos, this.bytes.length);
    }
    this.#storage.set(chunk, left);
    this.#searched = Math.max(0, this.#searched - this.pos);
    this.bytes = this.#storage.subarray(0, total);
    this.pos = 0;
    this.#ownsBytes = true;
  }

  /** Copies left-over bytes into own storage, so the caller's chunk can be reused. */
  retain(): void {
    if (this.#ownsBytes || this.pos === this.bytes.length) return;
    const rest = this.bytes.slice(this.pos);
    if (rest.length > this.#limit + 256) {
      throw new RangeError(`line reader asked to hold ${rest.length} bytes`);
    }
    this.#searched = Math.max(0, this.#searched - this.pos);
    this.#storage = rest;
    this.bytes = rest;
    this.pos = 0;
    this.#ownsBytes = true;
  }

  /** Forgets everything held. */
  clear(): void {
    this.bytes = new Uint8Array(0);
    this.pos = 0;
    this.midLine = false;
    this.#searched = 0;
    this.#ownsBytes = false;
  }

  /** Skips CR, LF, spaces and tabs. */
  skipWhitespace(): void {
    const b = this.bytes;
    while (this.pos < b.length) {
      const c = b[this.pos]!;
      if (c !== CR && c !== LF && c !== SPACE && c !== TAB) return;
      this.pos++;
    }
  }

  /** The next two bytes (call only when two are available). */
  peek2(): [number, number] {
    return [this.bytes[this.pos]!, this.bytes[this.pos + 1]!];
  }

  /**
   * Reads one line, without its line ending (LF or CRLF).
   *
   * @param max The longest line wanted.
   * @returns The line (valid until the next feed), `undefined` when the line is
   * not complete yet, or `null` when it is longer than `max` (nothing consumed).
   */
  readLine(max: number): Uint8Array | null | undefined {
    const b = this.bytes;
    const from = Math.max(this.pos, this.pos + this.#searched);
    const lf = b.indexOf(LF, from);
    if (lf < 0) {
      this.#searched = b.length - this.pos;
      return b.length - this.pos > max ? null : undefined;
    }
    if (lf - this.pos > max + 1) return null;
    let end = lf;
    if (end > this.pos && b[end - 1] === CR) end--;
    const line = b.subarray(this.pos, end);
    this.pos = lf + 1;
    this.#searched = 0;
    return line;
  }

  /**
   * Skips to just past the next LF, or everything if there is none (then
   * {@linkcode midLine} stays set until the LF comes).
   *
   * @returns How many bytes were skipped.
   */
  skipLine(): number {
    const b = this.bytes;
    const start = this.pos;
    const lf = b.indexOf(LF, start);
    this.#searched = 0;
    if (lf < 0) {
      this.pos = b.length;
      this.midLine = true;
      return b.length - start;
    }
    this.pos = lf + 1;
    this.midLine = false;
    return lf + 1 - start;
  }

  /** Takes up to `n` bytes (a view, valid until the next feed). */
  take(n: number): Uint8Array {
    const end = Math.min(this.bytes.length, this.pos + n);
    const out = this.bytes.subarray(this.pos, end);
    this.pos = end;
    this.#searched = 0;
    return out;
  }

  /** Takes every unconsumed byte. */
  takeAll(): Uint8Array {
    return this.take(this.bytes.length - this.pos);
  }
}
