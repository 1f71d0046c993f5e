/**
 * The multiplexed stream: `muxResponse` fans several hubs into one
 * multipart response whose parts name their stream, each part the hub's own
 * encoded bytes; per stream the newest frame wins, a silent camera holds up
 * nobody and a busy one starves nobody; a leaving viewer leaves every hub.
 * `GET /mux.mjpg?streams=…` in mjpegApp, in-process and over a real server
 * on this runtime (read with curl), including its limits and auth, and a
 * viewer that takes no bytes dropped from a real server after viewerTimeout.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameHub, muxResponse, serve } from "../src/server/mod.ts";
import { mjpegApp } from "../src/hono/mod.ts";
import { MjpegDemuxStream, type MuxFrame } from "../src/wire/mod.ts";
import { probe } from "./helpers/attack_sockets.ts";
import { defer } from "./helpers/dispose.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { paddedJpeg } from "./helpers/jpeg.ts";
import { run } from "./helpers/processes.ts";
import { publishFixtures } from "./helpers/stack.ts";
import { sleep, until } from "./helpers/wait.ts";
import { collect } from "./helpers/bytes.ts";
import { requireTools } from "./helpers/tools.ts";

const [a, b, c, d] = fixtureFrames as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];

/** A reader of a multiplexed response's frames. */
function demux(response: Response): ReadableStreamDefaultReader<MuxFrame> {
  return response.body!.pipeThrough(
    new MjpegDemuxStream({ contentType: response.headers.get("content-type") }),
  ).getReader();
}

async function read(reader: ReadableStreamDefaultReader<MuxFrame>, count: number) {
  const out: MuxFrame[] = [];
  while (out.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    out.push(value);
  }
  return out;
}

describe("muxResponse", () => {
  it("sends each hub's frames named by X-Stream, byte-exact, the hub's own part bytes", async () => {
    const front = new FrameHub(), back = new FrameHub();
    const response = muxResponse({ front, back });
    assert.match(response.headers.get("content-type")!, /^multipart\/x-mixed-replace;boundary=/);
    const reader = response.body!.getReader();
    const opening = new TextDecoder().decode((await reader.read()).value);
    assert.equal(opening, "--mjpegstream\r\n");
    const published = front.publish(a);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) chunks.push((await reader.read()).value!);
    assert.equal(new TextDecoder().decode(chunks[0]), "X-Stream: front\r\n");
    // No copy, no re-encoding: the middle chunk is a view of the hub's own part.
    assert.equal(chunks[1]!.buffer, published.part.buffer);
    assert.equal(new TextDecoder().decode(chunks[2]), "\r\n--mjpegstream\r\n");
    await reader.cancel();
    assert.equal(front.stats.viewers + back.stats.viewers, 0, "cancelling leaves both hubs");

    const again = demux(muxResponse({ front, back }));
    const first = await read(again, 1); // front's latest, at once
    back.publish(b);
    front.publish(c);
    const next = await read(again, 2);
    assert.deepEqual(
      [...first, ...next].map((f) => [f.stream, sha256(f.data)]).sort(),
      [["back", sha256(b)], ["front", sha256(a)], ["front", sha256(c)]].sort(),
    );
    await again.cancel();
  });

  it("keeps the newest frame per stream, and a busy stream does not starve a quiet one", async () => {
    const busy = new FrameHub(), quiet = new FrameHub();
    const reader = demux(muxResponse({ busy, quiet }));
    // Nobody reads while the busy camera publishes 50 frames and the quiet one 1.
    for (let i = 0; i < 50; i++) busy.publish(fixtureFrames[i % fixtureFrames.length]!);
    quiet.publish(d);
    const got = await read(reader, 2);
    assert.deepEqual(got.map((f) => f.stream).sort(), ["busy", "quiet"], "one of each, not 50 + 1");
    assert.equal(
      sha256(got.find((f) => f.stream === "busy")!.data),
      sha256(fixtureFrames[49 % 8]!),
    );
    assert.equal(busy.stats.framesDropped, 49);
    await reader.cancel();
  });

  it("a camera that sends nothing holds up no other", async () => {
    const live = new FrameHub(), dead = new FrameHub();
    const reader = demux(muxResponse({ dead, live }));
    let n = 0;
    const timer = setInterval(() => live.publish(fixtureFrames[n++ % 8]!), 10);
    try {
      const got = await read(reader, 10);
      assert.equal(got.length, 10);
      assert.ok(got.every((f) => f.stream === "live"));
    } finally {
      clearInterval(timer);
      await reader.cancel();
    }
  });

  it("keeps a stream's viewers fed through its camera's outage: keepalives, then the card, named", async () => {
    // The hubs' outage timers do not keep a process alive (connections do); this does.
    const alive = setInterval(() => {}, 1000);
    await using _alive = defer(() => clearInterval(alive));
    const front = new FrameHub({ keepalive: 200, offlineAfter: 700 }), back = new FrameHub();
    const reader = demux(muxResponse({ front, back }));
    try {
      front.publish(a);
      const kind = (f: MuxFrame) => f.headers.get("x-frame-kind") ?? "frame";
      // Bounded: without the outage parts nothing would come.
      const deadline = setTimeout(() => reader.cancel(), 10_000);
      const got = await read(reader, 6);
      clearTimeout(deadline);
      assert.equal(got.length, 6, "six parts within 10 s of the camera's last frame");
      assert.ok(got.every((f) => f.stream === "front"), "the quiet back stream sends nothing");
      assert.deepEqual(got.map(kind).slice(0, 2), ["frame", "keepalive"]);
      for (const f of got.filter((f) => kind(f) === "keepalive")) {
        assert.equal(sha256(f.data), sha256(a), "the last frame again, byte for byte");
      }
      assert.equal(kind(got.at(-1)!), "offline", "then the card");
      // The camera's next frame ends the outage at once.
      front.publish(b);
      const [next] = await read(reader, 1);
      assert.equal(kind(next!), "frame");
      assert.equal(sha256(next!.data), sha256(b));
    } finally {
      await reader.cancel();
    }
    // Off on request: nothing comes while the camera is quiet.
    const quiet = new FrameHub({ keepalive: 100, offlineAfter: 200 });
    quiet.publish(a);
    const off = demux(muxResponse({ quiet }, { keepalive: false }));
    try {
      assert.equal((await read(off, 1))[0]!.headers.get("x-frame-kind"), null);
      const more = await Promise.race([
        off.read().then(() => "a part"),
        sleep(800).then(() => "nothing"),
      ]);
      assert.equal(more, "nothing");
    } finally {
      await off.cancel();
    }
  });

  it("ends when every hub closes, caps fps per stream, and leaves on abort", async () => {
    const one = new FrameHub(), two = new FrameHub();
    const reader = demux(muxResponse({ one, two }));
    one.close();
    two.publish(a);
    assert.equal((await read(reader, 1))[0]!.stream, "two", "a closed hub leaves the others");
    two.close();
    assert.equal((await reader.read()).done, true, "the response ends with the last hub");

    const capped = new FrameHub();
    const controller = new AbortController();
    const slow = demux(muxResponse({ capped }, { fps: 5, signal: controller.signal }));
    let n = 0;
    const timer = setInterval(() => capped.publish(fixtureFrames[n++ % 8]!), 10);
    await read(slow, 1);
    // After the first frame, 6 more at 5 fps take 1.2 s (less one the pipe may read ahead).
    const started = performance.now();
    await read(slow, 6);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    assert.ok(elapsed > 900, `6 frames at 5 fps take at least 1 s, took ${elapsed.toFixed(0)} ms`);
    controller.abort();
    assert.equal(capped.stats.viewers, 0, "aborting the signal leaves the hub at once");
  });

  it("drops a viewer whose connection takes no bytes from every hub, as stalled", async () => {
    const front = new FrameHub(), back = new FrameHub();
    const response = muxResponse({ front, back }, { viewerTimeout: 300 });
    const reader = response.body!.getReader();
    await reader.read(); // the opening; then nothing more is read
    let n = 0;
    const timer = setInterval(() => {
      front.publish(fixtureFrames[n++ % 8]!);
      back.publish(fixtureFrames[n % 8]!);
    }, 20);
    try {
      const gone = performance.now();
      for (let i = 0; i < 100 && front.stats.viewers + back.stats.viewers > 0; i++) await sleep(20);
      assert.equal(front.stats.viewers + back.stats.viewers, 0, "left both hubs");
      assert.ok(performance.now() - gone < 1500);
      assert.equal(front.stats.viewersStalled, 1);
      assert.equal(back.stats.viewersStalled, 1);
      await assert.rejects(reader.read(), /viewer stalled: no bytes taken for 300 ms/);
    } finally {
      clearInterval(timer);
    }
  });

  it("says what was wrong with its arguments", () => {
    const hub = new FrameHub();
    assert.throws(() => muxResponse({}), /expected at least one hub, got none/);
    assert.throws(() => muxResponse({ "a b": hub }), /expected a stream name of 1 to 64/);
    // @ts-expect-error: not a hub
    assert.throws(() => muxResponse({ a: {} }), /expected a FrameHub for "a"/);
    // @ts-expect-error: an unknown option
    assert.throws(() => muxResponse({ a: hub }, { boundary: "x" }), /boundary/);
    assert.equal(hub.stats.viewers, 0);
  });
});

describe("GET /mux.mjpg in mjpegApp", () => {
  it("serves the named streams asked for, and says which names exist", async () => {
    const front = new FrameHub(), back = new FrameHub(), side = new FrameHub();
    front.publish(a);
    back.publish(b);
    side.publish(c);
    const app = mjpegApp({ streams: { front, back, side }, maxViewers: 2 });
    const response = await app.request("/mux.mjpg?streams=back,front,back");
    assert.equal(response.status, 200);
    const reader = demux(response);
    const got = await read(reader, 2);
    assert.deepEqual(got.map((f) => f.stream).sort(), ["back", "front"]);
    assert.equal(side.stats.viewers, 0, "a stream not asked for is not subscribed");
    assert.equal(front.stats.viewers, 1);

    const all = demux(await app.request("/mux.mjpg"));
    assert.deepEqual((await read(all, 3)).map((f) => f.stream).sort(), ["back", "front", "side"]);
    const full = await app.request("/mux.mjpg?streams=side");
    assert.equal(full.status, 503, "a multiplexed stream is one of the app's maxViewers");
    await all.cancel();
    await reader.cancel();
    await sleep(10);
    assert.equal(front.stats.viewers + back.stats.viewers + side.stats.viewers, 0);

    const unknown = await app.request("/mux.mjpg?streams=front,garage");
    assert.equal(unknown.status, 404);
    assert.match(
      await unknown.text(),
      /unknown stream "garage", expected one of front, back, side/,
    );
    const empty = await app.request("/mux.mjpg?streams=,");
    assert.equal(empty.status, 400);
    assert.match(await empty.text(), /expected streams=name,… from front, back, side/);
    assert.equal((await app.request("/mux.mjpg?fps=0")).status, 400);
    const head = await app.request("/mux.mjpg", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(front.stats.viewers, 0, "HEAD subscribes to nothing");
    const single = mjpegApp({ streams: front });
    assert.equal((await single.request("/mux.mjpg")).status, 404, "one stream has nothing to mux");
  });

  it("needs auth like every stream", async () => {
    const front = new FrameHub(), back = new FrameHub();
    const app = mjpegApp({ streams: { front, back }, auth: { token: "mux-test-token" } });
    assert.equal((await app.request("/mux.mjpg")).status, 401);
    const ok = await app.request("/mux.mjpg", {
      headers: { Authorization: "Bearer mux-test-token" },
    });
    assert.equal(ok.status, 200);
    await ok.body!.cancel();
  });

  it("a real server drops a viewer that takes no bytes for the app's viewerTimeout, and frees its place", async () => {
    // 400 KB parts: a viewer that never reads fills the socket buffers within a second.
    const big = fixtureFrames.map((frame) => paddedJpeg(frame, 400_000));
    const front = new FrameHub(), back = new FrameHub();
    const stops = [publishFixtures(front, 20, big), publishFixtures(back, 20, big)];
    const server = await serve(
      mjpegApp({ streams: { front, back }, viewerTimeout: 1000, maxViewers: 1 }),
      { port: 0, hostname: "127.0.0.1" },
    );
    const stalled = probe(
      Number(new URL(server.url).port),
      "GET /mux.mjpg?streams=front,back HTTP/1.1\r\nHost: a\r\n\r\n",
      false,
    );
    try {
      await until(() => front.stats.viewers === 1, "the viewer to join");
      const full = await fetch(`${server.url}/mux.mjpg`);
      assert.equal(full.status, 503, "its place is the only one");
      await full.body?.cancel();
      const started = Date.now();
      await until(
        () => front.stats.viewersStalled === 1 && back.stats.viewersStalled === 1,
        () =>
          `the viewer dropped from both hubs as stalled: ${
            JSON.stringify([front.stats.viewersStalled, back.stats.viewersStalled])
          }`,
        10_000,
        100,
      );
      const tookMs = Date.now() - started;
      assert.ok(tookMs < 8000, `dropped ${tookMs} ms after the 503 (timeout 1 s)`);
      assert.equal(front.stats.viewers + back.stats.viewers, 0);
      // The server closed it; a reader that never reads never sees the FIN,
      // so it reads what was buffered and then finds the end.
      stalled.socket.resume();
      await Promise.race([stalled.closed, sleep(5000)]);
      assert.notEqual(stalled.closedAfter(), undefined, "its connection is closed");
      const again = await fetch(`${server.url}/mux.mjpg?streams=back`);
      assert.equal(again.status, 200, "the place is free again");
      await again.body?.cancel();
    } finally {
      stalled.socket.destroy();
      for (const publisher of stops) publisher.stop();
      await server.close();
    }
  });

  it("curl reads it from a real server on this runtime, and shutdown ends it cleanly", async (t) => {
    if (!requireTools(t, "curl")) return;
    const front = new FrameHub(), back = new FrameHub();
    let n = 0;
    const timer = setInterval(() => {
      front.publish(fixtureFrames[n % 8]!);
      back.publish(fixtureFrames[(n + 4) % 8]!);
      n++;
    }, 20);
    const server = await serve(mjpegApp({ streams: { front, back } }), {
      port: 0,
      hostname: "127.0.0.1",
    });
    try {
      const curl = run("curl", [
        "-sS",
        "--max-time",
        "10",
        `${server.url}/mux.mjpg?streams=front,back`,
      ]);
      await sleep(800);
      assert.equal(front.stats.viewers, 1);
      await server.close();
      const result = await curl;
      assert.equal(result.code, 0, `curl saw a clean end: ${result.stderr}`);
      const out: MuxFrame[] = await collect(
        new Blob([result.stdout as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
          new MjpegDemuxStream({ contentType: "multipart/x-mixed-replace;boundary=mjpegstream" }),
        ),
      );
      const names = new Set(out.map((f) => f.stream));
      assert.deepEqual([...names].sort(), ["back", "front"]);
      const known = new Set(fixtureFrames.map(sha256));
      assert.ok(out.length > 10 && out.every((f) => known.has(sha256(f.data))), `${out.length}`);
    } finally {
      clearInterval(timer);
      await server.close();
    }
  });
});
