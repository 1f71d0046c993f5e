/** JPEGs made for tests: fixtures made larger or unique by comment segments, and a quick check. */
import { concat } from "./bytes.ts";
import { fixtureFrames } from "./fixtures.ts";

/** Starts with SOI (FF D8) and ends with EOI (FF D9). */
export function isJpeg(bytes: Uint8Array): boolean {
  const n = bytes.length;
  return n > 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[n - 2] === 0xff &&
    bytes[n - 1] === 0xd9;
}

/** `jpeg` with `segments` inserted right after its SOI. */
function withSegments(jpeg: Uint8Array, segments: Uint8Array[]): Uint8Array {
  return concat(jpeg.subarray(0, 2), ...segments, jpeg.subarray(2));
}

/** A comment (COM) segment holding `payload`. */
function comment(payload: Uint8Array): Uint8Array {
  const length = payload.length + 2; // COM's length counts its own 2 bytes
  const segment = new Uint8Array(2 + length);
  segment.set([0xff, 0xfe, length >> 8, length & 0xff]);
  segment.set(payload, 4);
  return segment;
}

/**
 * A fixture JPEG made unique by a comment segment after SOI naming it, so a
 * frame seen by a viewer tells which run and which write it came from.
 */
export function labelledJpeg(label: string, index: number): Uint8Array {
  const base = fixtureFrames[index % fixtureFrames.length]!;
  return withSegments(base, [comment(new TextEncoder().encode(label))]);
}

/**
 * A valid JPEG of about `size` bytes: `base` with comment segments of spaces
 * after SOI, so tests move realistic camera-sized frames.
 */
export function paddedJpeg(base: Uint8Array, size: number): Uint8Array {
  const segments: Uint8Array[] = [];
  let remaining = Math.max(0, size - base.length);
  while (remaining > 4) {
    const segment = comment(new Uint8Array(Math.min(65533, remaining - 4)).fill(0x20));
    segments.push(segment);
    remaining -= segment.length;
  }
  return withSegments(base, segments);
}
