import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BufferPool } from "../src/client/buffer_pool.ts";
import { BufferSink } from "../src/client/buffer_sink.ts";
import type { FrameBuffer } from "../src/client/frame_buffer.ts";

const headers = new Headers({ "content-type": "image/jpeg" });

/** Feeds one frame through the sink in chunks of `chunk` bytes. */
function feed(sink: BufferSink, bytes: Uint8Array, sequence: number, announce = true, chunk = 3) {
  sink.frameStart(headers, announce ? bytes.length : undefined, 1000 + sequence, sequence);
  for (let i = 0; i < bytes.length; i += chunk) sink.frameData(bytes.subarray(i, i + chunk));
  sink.frameEnd();
}

function bytes(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

function setup(length = 16, count = 2) {
  const pool = new BufferPool();
  const sink = new BufferSink(pool);
  const bufs = pool.request(length, count);
  for (const b of bufs) pool.enqueue(b);
  return { pool, sink, bufs };
}

describe("BufferSink and BufferPool", () => {
  it("copies a frame into a lent buffer with its timestamp, sequence and headers", async () => {
    const { pool, sink } = setup();
    feed(sink, bytes(10, 7), 0);
    const buf = await pool.dequeue();
    assert.equal(buf.used, 10);
    assert.deepEqual(buf.data.subarray(0, buf.used), bytes(10, 7));
    assert.equal(buf.sequence, 0);
    assert.equal(buf.timestamp, 1000);
    assert.equal(buf.headers.get("content-type"), "image/jpeg");
    assert.equal(sink.counters.frames, 1);
  });

  it("dequeue waits without polling and resolves when a frame ends", async () => {
    const { pool, sink } = setup();
    const got: FrameBuffer[] = [];
    const pending = pool.dequeue().then((b) => got.push(b));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(got.length, 0);
    feed(sink, bytes(4, 1), 0);
    await pending;
    assert.equal(got[0]?.used, 4);
    assert.deepEqual(pool.counts(), { total: 2, free: 1, filling: 0, ready: 0, application: 1 });
  });

  it("counts an overrun once per entry and a discarded frame per dropped frame", () => {
    const { pool, sink } = setup(16, 2);
    for (let i = 0; i < 5; i++) feed(sink, bytes(5, i), i);
    assert.deepEqual(
      { ...sink.counters },
      { frames: 5, discardedFrames: 3, abortedFrames: 0, overruns: 1, keepalives: 0 },
    );
    assert.deepEqual(pool.counts(), { total: 2, free: 0, filling: 0, ready: 2, application: 0 });
  });

  it("returns the buffer to the pool when a frame announces more than it holds", async () => {
    const { pool, sink } = setup(8, 1);
    feed(sink, bytes(9, 1), 0, true);
    assert.equal(sink.counters.discardedFrames, 1);
    assert.deepEqual(pool.counts(), { total: 1, free: 1, filling: 0, ready: 0, application: 0 });
    feed(sink, bytes(8, 2), 1, true);
    const buf = await pool.dequeue();
    assert.equal(buf.sequence, 1);
    assert.equal(buf.used, 8);
  });

  it("returns the buffer to the pool when an unannounced frame outgrows it mid-way", () => {
    const { pool, sink } = setup(8, 1);
    feed(sink, bytes(20, 1), 0, false);
    assert.equal(sink.counters.discardedFrames, 1);
    assert.equal(sink.counters.frames, 1);
    assert.deepEqual(pool.counts(), { total: 1, free: 1, filling: 0, ready: 0, application: 0 });
  });

  it("returns the buffer of an aborted frame and counts it", () => {
    const { pool, sink } = setup(8, 1);
    sink.frameStart(headers, undefined, 0, 0);
    sink.frameData(bytes(3, 1));
    sink.frameAbort("truncated");
    sink.frameAbort("truncated"); // a second abort of the same frame is ignored
    assert.equal(sink.counters.abortedFrames, 1);
    assert.deepEqual(pool.counts(), { total: 1, free: 1, filling: 0, ready: 0, application: 0 });
  });

  it("rejects a foreign buffer and a buffer enqueued twice", () => {
    const { pool, bufs } = setup(8, 1);
    const other = new BufferPool().request(8, 1)[0]!;
    assert.throws(() => pool.enqueue(other), /expected a buffer from this client/);
    assert.throws(() => pool.enqueue(bufs[0]!), /enqueued twice/);
  });

  it("a dequeue's own signal rejects just that wait", async () => {
    const { pool, sink } = setup(8, 1);
    const controller = new AbortController();
    const first = pool.dequeue(controller.signal);
    const second = pool.dequeue();
    controller.abort(new DOMException("no", "AbortError"));
    await assert.rejects(first, { name: "AbortError" });
    feed(sink, bytes(2, 1), 0);
    assert.equal((await second).used, 2);
  });

  it("close rejects pending and later dequeues, after the filled buffers", async () => {
    const { pool, sink } = setup(8, 2);
    feed(sink, bytes(2, 1), 0);
    pool.close(new DOMException("stopped", "AbortError"));
    assert.equal((await pool.dequeue()).used, 2);
    await assert.rejects(pool.dequeue(), { name: "AbortError" });
  });

  it("validates requestBuffers arguments", () => {
    const pool = new BufferPool();
    assert.throws(() => pool.request(0, 1), /expected length as a whole number >= 1, got 0/);
    assert.throws(() => pool.request(10, 1.5), /expected count as a whole number >= 1, got 1.5/);
  });

  it("feeds frames() listeners a copy, growing its scratch buffer as needed", () => {
    const pool = new BufferPool();
    const sink = new BufferSink(pool);
    const got: Uint8Array[] = [];
    const detach = sink.listen((f) => {
      got.push(f.data);
      return 0;
    });
    feed(sink, bytes(70000, 3), 0, false, 4096);
    feed(sink, bytes(5, 4), 1, true);
    detach();
    feed(sink, bytes(5, 5), 2, true);
    assert.deepEqual(got, [bytes(70000, 3), bytes(5, 4)]);
    assert.equal(sink.counters.discardedFrames, 0);
    assert.equal(sink.counters.frames, 3);
  });
});
