import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Frame, MjpegClient } from "../mod.ts";
import {
  assertPoolIntact,
  assertStopsPromptly,
  lend,
  receive,
  startClient,
} from "./helpers/client_checks.ts";
import { fixture, fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { serveMultipart, startUpstream } from "./helpers/upstream.ts";
import { until } from "./helpers/wait.ts";

const FFMPEG_FIXTURE = fixture("ffmpeg.mpjpeg");

describe("MjpegClient stop() and lifecycle", () => {
  it("stop() before start() resolves and rejects pending dequeues with an AbortError", async () => {
    await using client = new MjpegClient("http://127.0.0.1:9/");
    lend(client, 1024, 1);
    const pending = client.dequeueBuffer();
    await assertStopsPromptly(client);
    await assert.rejects(
      pending,
      (e: Error) => e instanceof DOMException && e.name === "AbortError",
    );
  });

  it("stop() returns within a second while connecting to a server that never answers", async () => {
    await using upstream = await startUpstream((conn) => conn.closed());
    await using client = startClient(upstream.url, 2);
    const pending = client.dequeueBuffer();
    await until(() => upstream.connections === 1, "the connection");
    assert.equal(client.stats.state, "connecting");
    await assertStopsPromptly(client);
    await assert.rejects(pending, { name: "AbortError" });
    await assertPoolIntact(client, 2);
  });

  it("stop() returns within a second mid-frame, and the half-filled buffer comes back", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await conn.head(200, { "Content-Type": "multipart/x-mixed-replace;boundary=frame" });
      await conn.part(fixtureFrames[0]!, "frame");
      await conn.write("--frame\r\nContent-Type: image/jpeg\r\n\r\n");
      await conn.write(fixtureFrames[1]!.subarray(0, 3000));
      await conn.closed();
    });
    await using client = startClient(upstream.url, 2);
    const [first] = await receive(client, 1);
    assert.equal(first!.sum, fixtureSums[0]);
    await until(() => client.stats.bytes > 3000 + fixtureFrames[0]!.length, "half a frame");
    const pending = client.dequeueBuffer();
    assert.equal(client.stats.state, "streaming");
    await assertStopsPromptly(client);
    await assert.rejects(pending, { name: "AbortError" });
    assert.equal(client.stats.abortedFrames, 1);
    await assertPoolIntact(client, 2);
  });

  it("stop() returns within a second while waiting a long backoff", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await conn.head(503, { "Content-Length": "0" });
    });
    await using client = new MjpegClient(upstream.url, {
      reconnect: { initialDelay: 30_000, jitter: 0 },
    });
    client.start();
    await until(() => client.stats.state === "waiting", "the backoff");
    assert.match(client.stats.lastError ?? "", /got 503 Service Unavailable/);
    await assertStopsPromptly(client);
  });

  it("stop() returns within a second even when an injected fetch ignores the signal", async () => {
    const never = new MjpegClient("http://camera.invalid/", {
      fetch: () => new Promise<Response>(() => {}), // never settles, ignores the signal
    });
    never.start();
    await assertStopsPromptly(never);
    const silent = new MjpegClient("http://camera.invalid/", {
      // A body that never yields a byte and ignores aborts.
      fetch: () =>
        Promise.resolve(new Response(new ReadableStream({ pull: () => new Promise(() => {}) }))),
    });
    silent.start();
    await until(() => silent.stats.state === "streaming", "streaming");
    await assertStopsPromptly(silent);
  });

  it("can be started again after stop(); sequence numbers go on", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await serveMultipart(conn, { count: 2 });
      await conn.closed();
    });
    await using client = startClient(upstream.url, 4);
    const first = await receive(client, 2);
    await client.stop();
    client.start();
    const second = await receive(client, 2);
    assert.deepEqual([...first, ...second].map((r) => r.sequence), [0, 1, 2, 3]);
    assert.deepEqual(second.map((r) => r.sum), fixtureSums.slice(0, 2));
    await assertStopsPromptly(client);
  });

  it("stops when the signal passed in the options aborts", async () => {
    await using upstream = await startUpstream((conn) => conn.closed());
    const controller = new AbortController();
    await using client = new MjpegClient(upstream.url, { signal: controller.signal });
    client.start();
    const pending = client.dequeueBuffer();
    controller.abort();
    await assert.rejects(pending, { name: "AbortError" });
    await until(() => client.stats.state === "stopped", "stopped");
  });

  it("await using stops the client at the end of the block", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await serveMultipart(conn, { count: 1 });
      await conn.closed();
    });
    let escaped: MjpegClient | undefined;
    try {
      await using client = new MjpegClient(upstream.url);
      escaped = client;
      lend(client, 65536, 1);
      client.start();
      await receive(client, 1);
    } finally {
      assert.equal(escaped?.stats.state, "stopped");
    }
  });
});

describe("MjpegClient frames() and injected fetch", () => {
  it("frames() yields every frame byte for byte from an injected fetch, then ends", async () => {
    const seen: Request[] = [];
    await using client = new MjpegClient("http://camera.invalid/stream", {
      headers: { "X-Token": "t" },
      frameQueueSize: 8,
      reconnect: { limit: 0 },
      fetch: (request) => {
        seen.push(request);
        return Promise.resolve(
          new Response(FFMPEG_FIXTURE, {
            headers: { "Content-Type": "multipart/x-mixed-replace;boundary=ffmpeg" },
          }),
        );
      },
    });
    const frames: Frame[] = [];
    await assert.rejects(async () => {
      for await (const frame of client.frames()) frames.push(frame);
    }, /gave up after 0 failed reconnects in a row; last error: expected an endless stream/);
    assert.deepEqual(frames.map((f) => sha256(f.data)), fixtureSums);
    assert.deepEqual(frames.map((f) => f.sequence), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(seen[0]?.headers.get("x-token"), "t");
    assert.equal(seen[0]?.url, "http://camera.invalid/stream");
  });

  it("frames() keeps only the newest frames for a slow consumer", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await serveMultipart(conn, { count: 8 });
      await conn.closed();
    });
    await using client = new MjpegClient(upstream.url, { frameQueueSize: 2 });
    const iterator = client.frames();
    await until(() => client.stats.frames === 8, "8 frames");
    const a = await iterator.next();
    const b = await iterator.next();
    assert.deepEqual([a.value?.sequence, b.value?.sequence], [6, 7]);
    assert.equal(sha256(b.value!.data), fixtureSums[7]);
    assert.equal(client.stats.discardedFrames, 6);
    await iterator.return!();
    // frames() started the client, so leaving the loop stops it again.
    assert.equal(client.stats.state, "stopped");
  });

  it("frames() ends when the client stops", async () => {
    await using upstream = await startUpstream((conn) => conn.closed());
    await using client = new MjpegClient(upstream.url);
    const done = (async () => {
      let n = 0;
      for await (const _ of client.frames()) n++;
      return n;
    })();
    await until(() => upstream.connections === 1, "the connection");
    await assertStopsPromptly(client);
    assert.equal(await done, 0);
  });

  it("invalid options and URLs fail at construction", () => {
    assert.throws(
      () => new MjpegClient("http://x/", { stallTimeout: 0 }),
      /expected stallTimeout > 0 and <= 3600000 milliseconds \(1 h\), got 0/,
    );
    assert.throws(() => new MjpegClient("rtsp://x/"), /expected an http: or https: URL/);
    assert.throws(
      () => new MjpegClient("http://x/").requestBuffers(-1, 1),
      /expected length as a whole number >= 1, got -1/,
    );
  });
});
