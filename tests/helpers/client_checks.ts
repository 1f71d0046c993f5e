/**
 * Assertions shared by the client tests: lending buffers, bounded waits for
 * them, what each one held, and the "no buffer was lost" check.
 */
import assert from "node:assert/strict";
import { type FrameBuffer, MjpegClient, type MjpegClientOptions } from "../../src/client/mod.ts";
import { sha256 } from "./hash.ts";

/**
 * A client of `url` with `buffers` buffers of 64 KiB lent to it, started; it
 * stops at the end of the test's block: `await using client = startClient(…)`.
 */
export function startClient(
  url: string | Request,
  buffers: number,
  options?: MjpegClientOptions,
): MjpegClient {
  const client = new MjpegClient(url, options);
  lend(client, 65536, buffers);
  client.start();
  return client;
}

/** Reads the client's frames to the end: `await assert.rejects(readToEnd(client), /why/)`. */
export async function readToEnd(client: MjpegClient): Promise<void> {
  for await (const _ of client.frames()) { /* until it ends or fails */ }
}

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

/**
 * Reads `n` frames from `url` with a fresh client (reconnecting after 20 ms,
 * unless `options` say otherwise) and returns their checksums; fails if the
 * client dropped one for want of a buffer.
 */
export async function readSums(
  url: string,
  n: number,
  options: MjpegClientOptions = {},
): Promise<string[]> {
  await using client = new MjpegClient(url, {
    reconnect: { initialDelay: 20, maxDelay: 20 },
    ...options,
  });
  // Enough buffers that a busy machine's burst of frames drops none (the
  // client drops, by design, what finds no free buffer).
  lend(client, 65536, 16);
  client.start();
  const sums = (await receive(client, n, 10_000)).map((r) => r.sum);
  assert.equal(client.stats.discardedFrames, 0);
  return sums;
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
