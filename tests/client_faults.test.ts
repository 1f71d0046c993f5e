import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MjpegClient } from "../mod.ts";
import { concat } from "./helpers/bytes.ts";
import {
  assertPoolIntact,
  assertStopsPromptly,
  lend,
  receive,
  startClient,
} from "./helpers/client_checks.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { serveMultipart, startUpstream, type UpstreamConnection } from "./helpers/upstream.ts";
import { sleep, until } from "./helpers/wait.ts";

// Fast reconnects keep these tests short; jitter 0 keeps them predictable.
const quick = { initialDelay: 20, maxDelay: 100, jitter: 0 };

/** Serves the fixture frames once, then keeps the connection open. */
async function eightThenIdle(conn: UpstreamConnection, boundary = "frame"): Promise<void> {
  await serveMultipart(conn, { count: 8, boundary });
  await conn.closed();
}

describe("MjpegClient against misbehaving servers", () => {
  it("receives multipart frames byte for byte, in order, numbered from 0", async () => {
    await using upstream = await startUpstream((conn) => eightThenIdle(conn));
    await using client = startClient(upstream.url, 10);
    const got = await receive(client, 8);
    assert.deepEqual(got.map((r) => r.sum), fixtureSums);
    assert.deepEqual(got.map((r) => r.sequence), [0, 1, 2, 3, 4, 5, 6, 7]);
    for (const r of got) assert.ok(Math.abs(r.timestamp - Date.now()) < 10_000);
    const stats = client.stats;
    assert.equal(stats.state, "streaming");
    assert.equal(stats.frames, 8);
    assert.equal(stats.discardedFrames, 0);
    assert.equal(stats.reconnects, 0);
    assert.ok(stats.bytes > fixtureFrames.reduce((n, f) => n + f.length, 0));
    assert.ok(stats.fps > 0);
    await assertStopsPromptly(client);
    await assertPoolIntact(client, 10);
  });

  it("reconnects after the server dies mid-frame, leaving a gap in sequence", async () => {
    await using upstream = await startUpstream(async (conn) => {
      if (conn.index === 0) {
        await conn.head(200, { "Content-Type": "multipart/x-mixed-replace;boundary=frame" });
        for (let i = 0; i < 3; i++) await conn.part(fixtureFrames[i]!, "frame");
        const half = fixtureFrames[3]!;
        await conn.write(
          `--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${half.length}\r\n\r\n`,
        );
        await conn.write(half.subarray(0, 1000));
        await sleep(20);
        conn.destroy();
        return;
      }
      await eightThenIdle(conn);
    });
    await using client = startClient(upstream.url, 12, { reconnect: quick });
    const got = await receive(client, 11);
    assert.deepEqual(got.map((r) => r.sum), [...fixtureSums.slice(0, 3), ...fixtureSums]);
    assert.deepEqual(got.map((r) => r.sequence), [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
    const stats = client.stats;
    assert.equal(stats.reconnects, 1);
    assert.equal(stats.abortedFrames, 1);
    assert.equal(stats.frames, 11);
    await assertStopsPromptly(client);
    await assertPoolIntact(client, 12);
  });

  it("replaces a stalled connection after stallTimeout", async () => {
    await using upstream = await startUpstream(async (conn) => {
      if (conn.index === 0) {
        await serveMultipart(conn, { count: 2 });
        await conn.closed(); // stall: nothing more, connection left open
        return;
      }
      await eightThenIdle(conn);
    });
    await using client = startClient(upstream.url, 12, { stallTimeout: 300, reconnect: quick });
    const started = performance.now();
    const got = await receive(client, 10);
    assert.ok(performance.now() - started >= 250, "expected to wait for the stall timeout");
    assert.deepEqual(got.map((r) => r.sum), [...fixtureSums.slice(0, 2), ...fixtureSums]);
    assert.deepEqual(got.map((r) => r.sequence), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.match(
      client.stats.lastError ?? "",
      /expected a complete frame at least every 300 ms, got none for \d+ ms/,
    );
    assert.equal(client.stats.reconnects, 1);
    await assertStopsPromptly(client);
    await assertPoolIntact(client, 12);
  });

  it("gives up on a server that accepts but never answers, after headTimeout (stallTimeout by default)", async () => {
    await using upstream = await startUpstream(async (conn) => {
      if (conn.index === 0) return await conn.closed(); // no response head at all
      await eightThenIdle(conn);
    });
    await using client = startClient(upstream.url, 8, { stallTimeout: 200, reconnect: quick });
    assert.deepEqual((await receive(client, 8)).map((r) => r.sum), fixtureSums);
    assert.equal(client.stats.reconnects, 1);
    assert.match(client.stats.lastError ?? "", /expected a response head within 200 ms/);
    await assertStopsPromptly(client);
  });

  it("resyncs on garbage between parts and reports what it expected", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await conn.head(200, { "Content-Type": "multipart/x-mixed-replace;boundary=frame" });
      await conn.part(fixtureFrames[0]!, "frame");
      await conn.write("this is not a delimiter\r\n\x00\x01\x02 junk junk\r\n");
      for (let i = 1; i < 8; i++) await conn.part(fixtureFrames[i]!, "frame");
      await conn.closed();
    });
    await using client = startClient(upstream.url, 8, { reconnect: quick });
    const got = await receive(client, 8);
    assert.deepEqual(got.map((r) => r.sum), fixtureSums);
    assert.match(client.stats.lastError ?? "", /expected "--frame" delimiter, got/);
    assert.equal(client.stats.reconnects, 0);
    await assertStopsPromptly(client);
  });

  it("reconnects when the body is not MJPEG at all", async () => {
    await using upstream = await startUpstream(async (conn) => {
      if (conn.index === 0) {
        await conn.head(200, {}); // no Content-Type: the parser has to sniff
        await conn.write("<html><body>Camera offline</body></html>\r\n");
        conn.end();
        return;
      }
      await eightThenIdle(conn);
    });
    await using client = startClient(upstream.url, 8, { reconnect: quick });
    const got = await receive(client, 8);
    assert.deepEqual(got.map((r) => r.sum), fixtureSums);
    assert.equal(client.stats.reconnects, 1);
    await assertStopsPromptly(client);
  });

  for (const status of [401, 404, 500]) {
    it(`retries a ${status} with backoff and gives up at the limit`, async () => {
      await using upstream = await startUpstream(async (conn) => {
        await conn.head(status, { "Content-Type": "text/plain", "Content-Length": "4" });
        await conn.write("nope");
      });
      await using client = startClient(upstream.url, 2, { reconnect: { ...quick, limit: 2 } });
      await assert.rejects(client.dequeueBuffer(), /gave up after 2 failed reconnects in a row/);
      const stats = client.stats;
      assert.equal(stats.state, "stopped");
      assert.equal(stats.reconnects, 2);
      assert.equal(upstream.connections, 3);
      assert.match(stats.lastError ?? "", new RegExp(`expected a 2xx status, got ${status} `));
      assert.match(client.formatStats(), /Reconnects {6}: 2/);
      await assertPoolIntact(client, 2);
    });
  }

  it("sends URL credentials as Basic auth", async () => {
    await using upstream = await startUpstream(async (conn) => {
      if (conn.request.headers.get("authorization") !== "Basic " + btoa("admin:pa ss")) {
        await conn.head(401, { "WWW-Authenticate": 'Basic realm="cam"', "Content-Length": "0" });
        return;
      }
      await eightThenIdle(conn);
    });
    const url = upstream.url.replace("http://", "http://admin:pa%20ss@");
    await using client = startClient(url, 8, {
      headers: { "X-Test": "1" },
      reconnect: { limit: 0 },
    });
    const got = await receive(client, 8);
    assert.deepEqual(got.map((r) => r.sum), fixtureSums);
    assert.equal(upstream.accepted[0]!.request.headers.get("x-test"), "1");
    assert.ok(!client.stats.url.includes("pa%20ss"), "the password stays out of stats");
    await assertStopsPromptly(client);
  });

  it("rejects a Content-Type that is neither multipart nor JPEG, saying what it expected", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await conn.head(200, { "Content-Type": "text/html" });
      await conn.write("<html></html>");
    });
    await using client = new MjpegClient(upstream.url, { reconnect: { ...quick, limit: 1 } });
    client.start();
    await assert.rejects(client.dequeueBuffer(), /gave up/);
    assert.equal(
      client.stats.lastError,
      'expected Content-Type multipart/x-mixed-replace or image/jpeg, got "text/html"',
    );
  });

  it("drops a part with a huge Content-Length and keeps every buffer", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await conn.head(200, { "Content-Type": "multipart/x-mixed-replace;boundary=frame" });
      await conn.part(fixtureFrames[0]!, "frame");
      if (conn.index === 0) {
        // Larger than the buffers but under maxFrameSize, then absurdly large.
        await conn.part(new Uint8Array(100_000).fill(0xaa), "frame");
        await conn.write(
          "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 999999999999\r\n\r\n",
        );
        await conn.write(new Uint8Array(50_000));
        conn.destroy();
        return;
      }
      await conn.closed();
    });
    await using client = startClient(upstream.url, 2, {
      reconnect: quick,
      maxFrameSize: 1_000_000,
    });
    const got = await receive(client, 2);
    assert.deepEqual(got.map((r) => r.sum), [fixtureSums[0], fixtureSums[0]]);
    assert.deepEqual(got.map((r) => r.sequence), [0, 3]);
    const stats = client.stats;
    assert.equal(stats.discardedFrames, 1, "the 100 kB frame does not fit a 64 KiB buffer");
    assert.equal(stats.abortedFrames, 1, "the 1 TB frame is over maxFrameSize");
    await assertStopsPromptly(client);
    await assertPoolIntact(client, 2);
  });

  it("follows a different boundary after a reconnect", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await serveMultipart(conn, { count: 4, boundary: conn.index === 0 ? "aaa" : "--bbb" });
      if (conn.index > 0) await conn.closed();
    });
    await using client = startClient(upstream.url, 8, { reconnect: quick });
    const got = await receive(client, 8);
    assert.deepEqual(got.map((r) => r.sum), [
      ...fixtureSums.slice(0, 4),
      ...fixtureSums.slice(0, 4),
    ]);
    assert.equal(client.stats.reconnects, 1);
    await assertStopsPromptly(client);
  });

  it("reads raw JPEGs over HTTP: a stream of them, and one per response", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await conn.head(200, { "Content-Type": "image/jpeg" });
      if (conn.request.line.startsWith("GET /snapshot")) {
        await conn.write(fixtureFrames[conn.index % 8]!);
        conn.end();
        return;
      }
      await conn.write(concat(...fixtureFrames));
      await conn.closed();
    });
    await using stream = new MjpegClient(upstream.url);
    await using snapshots = new MjpegClient(upstream.url + "snapshot", { reconnect: quick });
    lend(stream, 65536, 8);
    stream.start();
    assert.deepEqual((await receive(stream, 8)).map((r) => r.sum), fixtureSums);
    await stream.stop();
    lend(snapshots, 65536, 3);
    snapshots.start();
    const got = await receive(snapshots, 3);
    assert.equal(got.length, 3);
    for (const r of got) assert.notEqual(fixtureSums.indexOf(r.sum), -1);
    assert.ok(snapshots.stats.reconnects >= 2);
  });

  it("counts one overrun while the application holds every buffer, and discards", async () => {
    await using upstream = await startUpstream((conn) => eightThenIdle(conn));
    await using client = startClient(upstream.url, 2);
    await until(() => client.stats.frames === 8, "8 frames");
    const stats = client.stats;
    assert.equal(stats.overruns, 1);
    assert.equal(stats.discardedFrames, 6);
    assert.equal(stats.queued, 0);
    assert.equal(stats.ready, 2);
    const got = await receive(client, 2);
    assert.deepEqual(got.map((r) => r.sum), fixtureSums.slice(0, 2));
    await assertStopsPromptly(client);
    await assertPoolIntact(client, 2);
  });
});
