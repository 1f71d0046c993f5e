/**
 * Test helpers for the server tests: the fixture JPEGs, a timer that publishes
 * them to a hub, and sha256 checksums.
 */
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import type { FrameHub } from "../../src/server/frame_hub.ts";

/** The eight 320x240 fixture JPEGs, 001.jpg..008.jpg. */
export const fixtureFrames: Uint8Array[] = Array.from({ length: 8 }, (_, i) =>
  new Uint8Array(
    readFileSync(new URL(`../fixtures/frames/00${i + 1}.jpg`, import.meta.url)),
  ));

/** sha256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The fixtures' checksums, for "every frame decoded is one we sent". */
export const fixtureChecksums: Set<string> = new Set(fixtureFrames.map(sha256));

/**
 * Publishes the fixture frames to `hub` round-robin at `fps` until stopped.
 * Returns a stop function. The timer is unref'd so a forgotten one cannot hang a runtime.
 */
export function publishFixtures(
  hub: FrameHub,
  fps = 30,
  frames: Uint8Array[] = fixtureFrames,
): () => void {
  let i = 0;
  const publish = () => hub.publish(frames[i++ % frames.length]!);
  publish();
  const timer = setInterval(publish, 1000 / fps);
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A valid JPEG of about `size` bytes: `base` with comment (COM) segments
 * inserted after SOI, so slow-viewer tests move realistic camera-sized frames.
 */
export function paddedJpeg(base: Uint8Array, size: number): Uint8Array {
  const segments: Uint8Array[] = [];
  let remaining = Math.max(0, size - base.length);
  while (remaining > 4) {
    const length = Math.min(65535, remaining - 2); // COM length counts its own 2 bytes
    const segment = new Uint8Array(2 + length);
    segment.set([0xff, 0xfe, length >> 8, length & 0xff]);
    segment.fill(0x20, 4);
    segments.push(segment);
    remaining -= segment.length;
  }
  const out = new Uint8Array(base.length + segments.reduce((n, s) => n + s.length, 0));
  out.set(base.subarray(0, 2));
  let offset = 2;
  for (const segment of segments) {
    out.set(segment, offset);
    offset += segment.length;
  }
  out.set(base.subarray(2), offset);
  return out;
}
