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
