/**
 * Finding where a JPEG ends by walking its markers, one byte-state at a time.
 *
 * Searching for FF D9 is wrong: an EXIF thumbnail inside APP1 has its own SOI
 * and EOI, and a segment's payload may hold any byte. So the walk honours each
 * segment's length, and only scans for markers in entropy-coded data (after
 * SOS), where the encoder guarantees that a data FF is followed by 00 (byte
 * stuffing) and RST markers are the only other FF xx inside a scan.
 *
 * The walker keeps its state between calls, so a JPEG split across chunks at
 * any byte (down to 1-byte chunks) needs no buffering.
 *
 * @module
 */

const enum State {
  /** Expecting the FF that starts a marker. */
  MarkerStart,
  /** After FF: expecting the marker code (FF here is fill). */
  MarkerCode,
  /** Expecting the high byte of a segment length. */
  LengthHigh,
  /** Expecting the low byte of a segment length. */
  LengthLow,
  /** Inside a segment's payload; `remaining` bytes to go. */
  Segment,
  /** Inside entropy-coded data after SOS. */
  Entropy,
  /** In entropy-coded data right after an FF. */
  EntropyFF,
}

/** Returned by {@linkcode JpegWalker.walk} when the bytes cannot be a JPEG. */
export const CORRUPT = -2;
/** Returned by {@linkcode JpegWalker.walk} when the JPEG continues past the bytes given. */
export const MORE = -1;
/**
 * Returned by {@linkcode JpegWalker.walk} when a new SOI (FF D8) appears where
 * a marker belongs: the JPEG was cut short, and a new one starts just before
 * {@linkcode JpegWalker.problemAt}.
 */
export const RESTART = -3;

/**
 * An incremental JPEG marker walker. Start it after the SOI (FF D8) and feed it
 * bytes; it reports the index just past the EOI (FF D9).
 */
export class JpegWalker {
  #state: State = State.MarkerStart;
  #marker = 0;
  #remaining = 0;
  /** What went wrong when {@linkcode walk} returned {@linkcode CORRUPT}. */
  problem = "";
  /** Index of the offending byte when {@linkcode walk} returned {@linkcode CORRUPT}. */
  problemAt = 0;

  /** Starts over for a new JPEG whose SOI has just been read. */
  reset(): void {
    this.#state = State.MarkerStart;
    this.#remaining = 0;
  }

  /**
   * Walks `bytes` from `start`.
   *
   * @param bytes A chunk of the JPEG.
   * @param start Where in `bytes` to continue.
   * @returns The index just past EOI, {@linkcode MORE} if the JPEG goes on,
   * {@linkcode RESTART} if a new JPEG begins, or {@linkcode CORRUPT} if the
   * bytes break the JPEG syntax (see {@linkcode problem}).
   */
  walk(bytes: Uint8Array, start: number): number {
    const end = bytes.length;
    let i = start;
    let state = this.#state;
    while (i < end) {
      switch (state) {
        case State.Entropy: {
          // The hot loop: most of a JPEG is entropy-coded data. The native
          // indexOf finds the next FF far faster than a byte loop.
          const ff = bytes.indexOf(0xff, i);
          if (ff < 0) {
            i = end;
            continue;
          }
          i = ff + 1;
          state = State.EntropyFF;
          continue;
        }
        case State.EntropyFF: {
          const b = bytes[i]!;
          if (b === 0x00 || (b >= 0xd0 && b <= 0xd7)) {
            state = State.Entropy; // stuffed FF or RSTn: still in the scan
            i++;
          } else if (b === 0xff) {
            i++; // fill byte; the marker code comes later
          } else if (!afterScan(b)) {
            return this.#corrupt(i, state, `unexpected marker FF ${hex(b)} in a scan`);
          } else {
            state = State.MarkerCode; // a real marker ends the scan
          }
          continue;
        }
        case State.Segment: {
          const take = Math.min(this.#remaining, end - i);
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) {
            state = this.#marker === 0xda ? State.Entropy : State.MarkerStart;
          }
          continue;
        }
        case State.MarkerStart: {
          if (bytes[i] !== 0xff) {
            return this.#corrupt(i, state, `expected a JPEG marker (FF), got ${hex(bytes[i]!)}`);
          }
          state = State.MarkerCode;
          i++;
          continue;
        }
        case State.MarkerCode: {
          const code = bytes[i++]!;
          if (code === 0xff) continue; // fill bytes may precede any marker
          if (code === 0xd9) {
            this.#state = State.MarkerStart;
            return i;
          }
          if (code === 0x01 || (code >= 0xd0 && code <= 0xd7)) {
            state = State.MarkerStart; // standalone markers carry no length
          } else if (code === 0xd8) {
            // A new SOI before EOI: this JPEG was cut short and another begins.
            this.#state = State.MarkerStart;
            this.problem = "a new JPEG (FF D8) began before the previous one ended (FF D9)";
            this.problemAt = i;
            return RESTART;
          } else if (code === 0x00) {
            return this.#corrupt(
              i - 1,
              state,
              "unexpected byte 00 after FF where a marker belongs",
            );
          } else {
            this.#marker = code;
            state = State.LengthHigh;
          }
          continue;
        }
        case State.LengthHigh:
          this.#remaining = bytes[i++]! << 8;
          state = State.LengthLow;
          continue;
        case State.LengthLow: {
          const length = this.#remaining | bytes[i]!;
          if (length < 2) {
            return this.#corrupt(
              i,
              state,
              `JPEG segment FF ${hex(this.#marker)} has length ${length}`,
            );
          }
          i++;
          this.#remaining = length - 2;
          state = this.#remaining > 0
            ? State.Segment
            : this.#marker === 0xda
            ? State.Entropy
            : State.MarkerStart;
          continue;
        }
      }
    }
    this.#state = state;
    return MORE;
  }

  #corrupt(at: number, state: State, problem: string): number {
    this.#state = state;
    this.problem = problem;
    this.problemAt = at;
    return CORRUPT;
  }
}

function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, "0");
}

/**
 * Finds the end of a complete JPEG held in one buffer.
 *
 * @param bytes Bytes that should start with SOI (FF D8).
 * @returns The length of the JPEG (index just past EOI), or -1 if `bytes` does
 * not start with SOI, is cut short, or is corrupt.
 *
 * @example
 * ```ts
 * import { jpegLength } from "@mjpeg/stream";
 * jpegLength(new Uint8Array([0xff, 0xd8, 0xff, 0xd9, 0x00])); // 4
 * ```
 */
export function jpegLength(bytes: Uint8Array): number {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return -1;
  const end = new JpegWalker().walk(bytes, 2);
  return end < 0 ? -1 : end;
}

// The markers that may end a scan: EOI, another table or scan (progressive
// JPEGs), DRI, DNL, COM and APPn, DHP/EXP (hierarchical), and SOI (the JPEG
// was cut short; the caller restarts there). Any other FF xx in entropy data
// is noise, not a marker: taking it for one would honour a random segment
// length and could skip over the next frame's start.
function afterScan(b: number): boolean {
  return b === 0xd8 || b === 0xd9 || b === 0xc4 || b === 0xcc || (b >= 0xda && b <= 0xdf) ||
    b === 0xfe || (b >= 0xe0 && b <= 0xef);
}
