/**
 * Assertions shared by the client tests: checksums against the fixture
 * frames, bounded waits for buffers, and the "no buffer was lost" check.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { FrameBuffer, MjpegClient } from "../../src/client/mod.ts";
import { FIXTURE_FRAMES } from "./upstream.ts";

/** The sha256 of some bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Checksums of the fixture frames 001..008, in order. */
export const FIXTURE_SUMS: string[] = FIXTURE_FRAMES.map(sha256);

/** Lends `count` buffers of `length` bytes and enqueues them; returns them all. */
export function lend(client: MjpegClient, length: number, count: number): FrameBuffer[] {
  const bufs = client.requestBuffers(length, count);
  for (const b of bufs) client.enqueueBuffer(b);
  return bufs;
}

/** Dequeues one buffer, failing the test after `ms` instead of hanging. */
export async function dequeueWithin(client: MjpegClient, ms = 5000): Promise<FrameBuffer> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`no frame within ${ms} ms; ${client.formatStats()}`)),
    ms,
  );
  try {
    return await client.dequeueBuffer(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** What one dequeued buffer held, copied out before the buffer goes back. */
export interface Received {
  sequence: number;
  sum: string;
  used: number;
  timestamp: number;
}

/** Dequeues `n` frames, records them and gives each buffer straight back. */
export async function receive(client: MjpegClient, n: number, ms = 5000): Promise<Received[]> {
  const out: Received[] = [];
  for (let i = 0; i < n; i++) {
    const buf = await dequeueWithin(client, ms);
    out.push({
      sequence: buf.sequence,
      sum: sha256(buf.data.subarray(0, buf.used)),
      used: buf.used,
      timestamp: buf.timestamp,
    });
    client.enqueueBuffer(buf);
  }
  return out;
}

/** Index of a checksum among the fixture frames (-1 if none matches). */
export function fixtureIndex(sum: string): number {
  return FIXTURE_SUMS.indexOf(sum);
}

/**
 * After stop(): every buffer is either still filled (dequeue it), or held by
 * the application (`held`), or queued. Gives them all back and checks that
 * the queue then holds exactly `total`.
 */
export async function assertPoolIntact(
  client: MjpegClient,
  total: number,
  held: FrameBuffer[] = [],
): Promise<void> {
  assert.equal(client.stats.state, "stopped");
  const back = [...held];
  for (;;) {
    try {
      back.push(await client.dequeueBuffer());
    } catch (error) {
      // Stopped (AbortError) or gave up after the reconnect limit.
      assert.match(`${(error as Error).name}: ${(error as Error).message}`, /AbortError|gave up/);
      break;
    }
  }
  for (const b of back) client.enqueueBuffer(b);
  assert.equal(client.stats.queued, total, `expected all ${total} buffers back in the queue`);
}

/** Measures how long `stop()` takes and asserts it is under a second. */
export async function assertStopsPromptly(client: MjpegClient): Promise<number> {
  const started = performance.now();
  await client.stop();
  const took = performance.now() - started;
  assert.ok(took < 1000, `stop() took ${took.toFixed(0)} ms`);
  assert.equal(client.stats.state, "stopped");
  return took;
}

/** Waits until `predicate` holds, checking every 10 ms, failing after `ms`. */
export async function until(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
