/** Taking frames from a FrameSource in a test, with a deadline. */
import type { Frame } from "../../src/frame.ts";
import type { FrameSource } from "../../src/sources/source.ts";

/** Takes `count` frames from `source` (then stops it), failing after `timeoutMs`. */
export async function take(
  source: FrameSource,
  count: number,
  timeoutMs = 15_000,
): Promise<Frame[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const frames: Frame[] = [];
  try {
    for await (const frame of source.frames(controller.signal)) {
      frames.push(frame);
      if (frames.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  if (frames.length < count) {
    throw new Error(`expected ${count} frames within ${timeoutMs} ms, got ${frames.length}`);
  }
  return frames;
}
