import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameHub } from "../src/server/frame_hub.ts";
import { mjpegResponse } from "../src/server/mjpeg_response.ts";
import { snapshotResponse } from "../src/server/snapshot_response.ts";
import { streamControl } from "../src/runtime/stream_control.ts";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";
import type { Frame } from "../src/frame.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { sleep } from "./helpers/wait.ts";

const [a, b, c, d] = fixtureFrames as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];

/** Reads `count` frames from a multipart response with the project's decoder. */
async function readFrames(response: Response, count: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  const stream = response.body!.pipeThrough(
    new MjpegDecoderStream({ contentType: response.headers.get("content-type") }),
  );
  const reader = stream.getReader();
  while (frames.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    frames.push(value);
  }
  await reader.cancel();
  return frames;
}

describe("FrameHub", () => {
  it("gives a new viewer the latest frame, then each newer one", async () => {
    const hub = new FrameHub();
    hub.publish(a);
    const viewer = hub.subscribe();
    assert.equal((await viewer.next())?.data, a);
    const waiting = viewer.next();
    hub.publish(b);
    assert.equal((await waiting)?.data, b);
    viewer.close();
  });

  it("keeps one frame per viewer: a slow viewer skips to the newest and counts the drops", async () => {
    const hub = new FrameHub();
    const viewer = hub.subscribe();
    for (const frame of [a, b, c, d]) hub.publish(frame);
    const got = await viewer.next();
    assert.equal(got?.data, d, "newest wins");
    assert.equal(got?.sequence, 3);
    assert.equal(viewer.stats.framesDropped, 3);
    assert.equal(viewer.stats.framesSent, 1);
    assert.equal(hub.stats.framesDropped, 3);
    viewer.close();
  });

  it("shares frames by reference and encodes each part once for every viewer", async () => {
    const hub = new FrameHub();
    const viewers = [hub.subscribe(), hub.subscribe(), hub.subscribe()];
    const published = hub.publish(a);
    const got = await Promise.all(viewers.map((v) => v.next()));
    for (const frame of got) {
      assert.equal(frame, published);
      assert.equal(frame?.data, a, "the same Uint8Array, not a copy");
      assert.equal(frame?.part, published.part, "the same encoded part");
    }
    viewers.forEach((v) => v.close());
  });

  it("does not wait on viewers: publishing to 1000 idle viewers returns at once", () => {
    const hub = new FrameHub();
    const viewers = Array.from({ length: 1000 }, () => hub.subscribe());
    for (let i = 0; i < 100; i++) hub.publish(fixtureFrames[i % 8]!);
    assert.equal(hub.stats.framesPublished, 100);
    assert.equal(hub.stats.framesDropped, 99 * 1000);
    viewers.forEach((v) => v.close());
    assert.equal(hub.stats.viewers, 0);
  });

  it("caps a viewer's fps and sends the newest frame when the cap allows", async () => {
    const hub = new FrameHub();
    const viewer = hub.subscribe({ fps: 10 });
    let i = 0;
    const timer = setInterval(() => hub.publish(fixtureFrames[i++ % 8]!), 10);
    const started = performance.now();
    let frames = 0;
    while (performance.now() - started < 1000) {
      await viewer.next();
      frames++;
    }
    clearInterval(timer);
    viewer.close();
    assert.ok(
      frames >= 9 && frames <= 12,
      `expected about 10 frames in 1 s at fps=10, got ${frames}`,
    );
  });

  it("wakes waiters on publish and ends them on close", async () => {
    const hub = new FrameHub();
    const next = hub.nextFrame();
    const viewer = hub.subscribe();
    const pending = viewer.next();
    hub.publish(b);
    assert.equal((await next).data, b);
    assert.equal((await pending)?.data, b);
    const ended = viewer.next();
    const waiting = hub.nextFrame();
    hub.close();
    assert.equal(await ended, undefined);
    await assert.rejects(waiting, /closed/);
    assert.throws(() => hub.publish(a), /expected an open hub/);
  });

  it("tells watchers of every join and leave as it happens, with the leaver's final counts", async () => {
    const hub = new FrameHub();
    const events: string[] = [];
    const unwatch = hub.watch((e) =>
      events.push(`${e.type} ${e.viewer.id} sent=${e.viewer.framesSent} now=${e.viewers}`)
    );
    const first = hub.subscribe();
    const second = hub.subscribe();
    hub.publish(a);
    assert.equal((await first.next())?.data, a);
    first.close();
    first.close(); // a second close tells nobody
    unwatch();
    second.close();
    assert.deepEqual(events, [
      "join 0 sent=0 now=1",
      "join 1 sent=0 now=2",
      "leave 0 sent=1 now=1",
    ]);
    hub.close();
  });

  it("unsubscribes when the signal aborts", async () => {
    const hub = new FrameHub();
    const controller = new AbortController();
    const viewer = hub.subscribe({ signal: controller.signal });
    assert.equal(hub.stats.viewers, 1);
    const pending = viewer.next();
    controller.abort();
    assert.equal(await pending, undefined);
    assert.equal(hub.stats.viewers, 0);
  });

  it("adds X-Timestamp with the publish time and keeps the frame's own headers", () => {
    const hub = new FrameHub();
    const before = Date.now();
    const frame = hub.publish(a, { "X-Camera": "door" });
    const stamp = Number(frame.headers.get("x-timestamp")) * 1000;
    assert.ok(
      stamp >= before - 1 && stamp <= Date.now() + 1,
      `X-Timestamp ${stamp} near ${before}`,
    );
    const part = new TextDecoder().decode(frame.part.subarray(0, 200));
    assert.match(part, /^Content-Type: image\/jpeg\r\nContent-Length: \d+\r\n/);
    assert.match(part, /x-camera: door\r\n/);
    assert.match(part, /x-timestamp: \d+\.\d{6}\r\n/);
  });

  it("rejects what is not a frame, and bad options, with what it expected", () => {
    const hub = new FrameHub();
    assert.throws(
      () => hub.publish("jpeg" as unknown as Uint8Array),
      /expected a Uint8Array or a Frame, got string/,
    );
    assert.throws(() => hub.publish(new Uint8Array(0)), /expected JPEG bytes, got 0 bytes/);
    assert.throws(() => hub.subscribe({ fps: -1 }), /fps: .*got -1/);
    assert.throws(() => new FrameHub({ boundary: 7 as unknown as string }), /boundary/);
  });
});

describe("mjpegResponse", () => {
  it("sends the headers browsers and proxies need", () => {
    const hub = new FrameHub({ boundary: "frame" });
    const response = mjpegResponse(hub);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "multipart/x-mixed-replace;boundary=frame");
    assert.equal(
      response.headers.get("cache-control"),
      "no-cache, no-store, must-revalidate, private",
    );
    assert.equal(response.headers.get("pragma"), "no-cache");
    assert.equal(response.headers.get("age"), "0");
    assert.equal(response.headers.get("x-accel-buffering"), "no");
    void response.body!.cancel();
  });

  it("streams byte-exact frames a decoder reads back, newest first", async () => {
    const hub = new FrameHub();
    hub.publish(a);
    const response = mjpegResponse(hub);
    const reading = readFrames(response, 3);
    await sleep(20);
    hub.publish(b);
    await sleep(20);
    hub.publish(c);
    const frames = await reading;
    assert.deepEqual(frames.map((f) => sha256(f.data)), [a, b, c].map(sha256));
    assert.ok(frames.every((f) => f.headers.has("x-timestamp")));
    await sleep(0);
    assert.equal(hub.stats.viewers, 0, "cancelling the body unsubscribed");
  });

  it("streams an async iterable in order and stops it when the viewer leaves", async () => {
    let finished = false;
    async function* source() {
      try {
        for (let i = 0;; i++) yield fixtureFrames[i % 8]!;
      } finally {
        finished = true;
      }
    }
    const frames = await readFrames(mjpegResponse(source(), { boundary: "x y" }), 10);
    assert.deepEqual(frames.map((f) => sha256(f.data)), [...fixtureFrames, a, b].map(sha256));
    await sleep(10);
    assert.ok(finished, "the generator's finally ran");
  });

  it("ends cleanly through its stream control (what serve() calls on shutdown)", async () => {
    const hub = new FrameHub();
    hub.publish(a);
    const response = mjpegResponse(hub);
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    const control = streamControl(response.body);
    assert.ok(control);
    control.end();
    assert.equal((await reader.read()).done, true);
    await control.done;
    assert.equal(hub.stats.viewers, 0);
  });

  it("refuses a boundary or part headers with a hub, whose parts are shared", () => {
    assert.throws(() => mjpegResponse(new FrameHub(), { boundary: "b" }), /expected no boundary/);
    assert.throws(
      () => mjpegResponse(42 as unknown as FrameHub),
      /expected a FrameHub or an async iterable/,
    );
  });
});

describe("snapshotResponse", () => {
  it("answers with the latest JPEG, byte-exact", async () => {
    const hub = new FrameHub();
    hub.publish(a);
    hub.publish(b);
    const response = await snapshotResponse(hub);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "image/jpeg");
    assert.equal(response.headers.get("content-length"), String(b.length));
    assert.equal(sha256(new Uint8Array(await response.arrayBuffer())), sha256(b));
  });

  it("waits for a first frame", async () => {
    const hub = new FrameHub();
    setTimeout(() => hub.publish(c), 50);
    const response = await snapshotResponse(hub, { timeout: 2000 });
    assert.equal(response.status, 200);
    assert.equal(sha256(new Uint8Array(await response.arrayBuffer())), sha256(c));
  });

  it("answers 503 with a clear message when no frame comes in time", async () => {
    const started = Date.now();
    const response = await snapshotResponse(new FrameHub(), { timeout: 100 });
    assert.ok(Date.now() - started >= 90);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "1");
    assert.match(
      await response.text(),
      /expected a camera frame, but no frame arrived within 100 ms/,
    );
  });
});
