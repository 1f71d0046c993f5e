/**
 * Camera outages in-process: what a hub's stream viewers get while no frame
 * comes (the last frame again, then the offline card), what `/stats` and
 * snapshots say, byte-identical frames, and demand. Short delays (100 ms
 * keepalive, 400 ms offline) keep it quick; the bounds have slack for a busy
 * machine. The real command through a real outage: cli_outage.test.ts.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameHub } from "../src/server/frame_hub.ts";
import { mjpegResponse } from "../src/server/mjpeg_response.ts";
import { snapshotResponse } from "../src/server/snapshot_response.ts";
import { mjpegApp } from "../src/hono/mjpeg_app.ts";
import { jpegSize } from "../src/internal/jpeg_dc_decoder.ts";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";
import type { Frame } from "../src/frame.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { sleep } from "./helpers/wait.ts";

const [a, b, c] = fixtureFrames as [Uint8Array, Uint8Array, Uint8Array];
const quick = { keepalive: 100, offlineAfter: 400 };

/** Reads a multipart response's parts as they come, with the time each arrived. */
function partsOf(response: Response) {
  const parts: { frame: Frame; at: number }[] = [];
  const reader = response.body!
    .pipeThrough(new MjpegDecoderStream({ contentType: response.headers.get("content-type") }))
    .getReader();
  const done = (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done || !value) return;
      parts.push({ frame: value, at: Date.now() });
    }
  })();
  return { parts, stop: async () => (await reader.cancel().catch(() => {}), await done) };
}

// The hub's timers are unref'd (a server's sockets keep a process alive, not
// they); here nothing else would, while a test awaits a keepalive.
let alive: ReturnType<typeof setInterval>;
before(() => alive = setInterval(() => {}, 1000));
after(() => clearInterval(alive));

const kind = (frame: Frame) => frame.headers.get("x-frame-kind") ?? "frame";

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`expected ${what} within ${ms} ms`);
    await sleep(10);
  }
}

describe("outages", () => {
  it("keeps stream viewers fed with the last frame, then the offline card, then live frames at once", async () => {
    const hub = new FrameHub(quick);
    hub.publish(a);
    const stream = partsOf(mjpegResponse(hub, { viewerTimeout: 0 }));
    try {
      await until(() => stream.parts.some((p) => kind(p.frame) === "offline"), 3000, "a card");
      const parts = stream.parts.map((p) => p.frame);
      assert.equal(kind(parts[0]!), "frame");
      assert.equal(sha256(parts[0]!.data), sha256(a));
      const keepalives = parts.filter((f) => kind(f) === "keepalive");
      // 400 ms of outage at 100 ms: about 3 repeats before the card.
      assert.ok(
        keepalives.length >= 2 && keepalives.length <= 5,
        `${keepalives.length} keepalives`,
      );
      for (const k of keepalives) assert.equal(sha256(k.data), sha256(a), "the same bytes again");
      const card = parts.find((f) => kind(f) === "offline")!;
      assert.deepEqual(jpegSize(card.data), jpegSize(a), "the card is the size of the last frame");
      assert.equal(hub.status.online, false);
      assert.equal(hub.status.state, "offline");

      // The card keeps coming (repeated every keepalive) while the outage lasts.
      const cardsBefore = stream.parts.filter((p) => kind(p.frame) === "offline").length;
      await sleep(350);
      const cardsAfter = stream.parts.filter((p) => kind(p.frame) === "offline").length;
      assert.ok(cardsAfter - cardsBefore >= 2, `${cardsAfter - cardsBefore} cards in 350 ms`);

      // The camera is back: its frame comes next, byte-exact, within a moment.
      const sent = Date.now();
      hub.publish(b);
      await until(() => stream.parts.some((p) => sha256(p.frame.data) === sha256(b)), 1000, "b");
      const live = stream.parts.find((p) => sha256(p.frame.data) === sha256(b))!;
      assert.equal(kind(live.frame), "frame");
      assert.ok(live.at - sent < 200, `live frame after ${live.at - sent} ms`);
      assert.equal(hub.status.online, true);
      assert.equal(hub.status.state, "running");
      assert.ok(hub.stats.keepalivesSent >= keepalives.length + 1);
    } finally {
      await stream.stop();
      hub.close();
    }
  });

  it("draws the card once per change and hands the same part to every viewer", async () => {
    const hub = new FrameHub(quick);
    hub.publish(a);
    const viewers = Array.from({ length: 50 }, () => hub.subscribe({ keepalive: true }));
    for (const viewer of viewers) await viewer.next(); // the latest frame
    const cards = await Promise.all(viewers.map(async (viewer) => {
      for (;;) {
        const part = await viewer.next();
        if (part?.kind === "offline") return part;
      }
    }));
    assert.ok(cards.every((card) => card === cards[0]), "one card object for all viewers");
    assert.ok(cards.every((card) => card.part === cards[0]!.part), "encoded once");
    for (const viewer of viewers) viewer.close();
    hub.close();
  });

  it("gives code that subscribes only camera frames, never keepalives or cards", async () => {
    const hub = new FrameHub(quick);
    hub.publish(a);
    const viewer = hub.subscribe();
    assert.equal((await viewer.next())?.data, a);
    const next = viewer.next();
    await sleep(600);
    hub.publish(c);
    const got = await next;
    assert.equal(got?.data, c);
    assert.equal(got?.kind, "frame");
    assert.equal(viewer.stats.keepalivesSent, 0);
    viewer.close();
    hub.close();
  });

  it("says when the camera went offline and came back, once per change", async () => {
    const hub = new FrameHub(quick);
    const seen: string[] = [];
    const unwatch = hub.watchStatus((s) => seen.push(`${s.state}${s.online ? "+" : "-"}`));
    hub.publish(a);
    const lastFrame = Date.now();
    await until(() => hub.status.state === "offline", 2000, "offline");
    await sleep(200);
    assert.ok(Math.abs(hub.status.since - lastFrame) < 50, "offline since the last frame");
    hub.publish(b);
    const back = Date.now();
    assert.ok(Math.abs(hub.status.since - back) < 50, "online since it came back");
    unwatch();
    assert.deepEqual(seen, ["running+", "offline-", "running+"]);
    hub.close();
  });

  it("with keepalive 0 and offlineAfter 0 sends nothing but frames", async () => {
    const hub = new FrameHub({ keepalive: 0, offlineAfter: 0 });
    hub.publish(a);
    const stream = partsOf(mjpegResponse(hub, { viewerTimeout: 0 }));
    await sleep(500);
    await stream.stop();
    assert.equal(stream.parts.length, 1);
    assert.equal(hub.status.online, true, "never offline");
    hub.close();
  });

  it("refuses outage settings out of range, saying what is expected", () => {
    assert.throws(() => new FrameHub({ keepalive: 10 }), /keepalive 0 \(off\) or at least 100/);
    assert.throws(() => new FrameHub({ keepalive: 120_000 }), /keepalive between 0 and 60000/);
    assert.throws(() => new FrameHub({ offlineAfter: -1 }), /offlineAfter between 0 and/);
    assert.throws(
      () => mjpegApp({ streams: new FrameHub(), snapshotMaxAge: -5 }),
      /snapshotMaxAge/,
    );
  });
});

describe("snapshots and frame age", () => {
  it("hands out a frame younger than maxAge, and waits for a new one when it is older", async () => {
    const hub = new FrameHub({ offlineAfter: 0 });
    hub.publish(a);
    const fresh = await snapshotResponse(hub, { maxAge: 1000 });
    assert.equal(fresh.status, 200);
    assert.equal(sha256(new Uint8Array(await fresh.arrayBuffer())), sha256(a));
    await sleep(300);
    const waiting = snapshotResponse(hub, { maxAge: 200, timeout: 2000 });
    await sleep(100);
    hub.publish(b);
    const renewed = await waiting;
    assert.equal(renewed.status, 200);
    assert.equal(sha256(new Uint8Array(await renewed.arrayBuffer())), sha256(b), "the new frame");
    hub.close();
  });

  it("answers 503 with Retry-After and the reason when the frame is too old", async () => {
    const hub = new FrameHub({ offlineAfter: 0 });
    hub.publish(a);
    await sleep(250);
    const started = Date.now();
    const response = await snapshotResponse(hub, { maxAge: 100, timeout: 200 });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "1");
    assert.ok(Date.now() - started >= 180, "waited for a new frame first");
    assert.match(await response.text(), /older than maxAge 100 ms/);
    hub.close();
  });

  it("answers 503 at once while the camera is offline", async () => {
    const hub = new FrameHub(quick);
    hub.publish(a);
    await sleep(500);
    const started = Date.now();
    const response = await snapshotResponse(hub, { maxAge: 300, timeout: 5000 });
    assert.ok(Date.now() - started < 1000, "no wait during a known outage");
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "5");
    assert.match(await response.text(), /the camera is offline since \d{4}-\d\d-\d\dT/);
    hub.close();
  });

  it("mjpegApp's /stats says online or offline and since when", async () => {
    const hub = new FrameHub(quick);
    const app = mjpegApp({ streams: hub });
    hub.publish(a);
    const online = await (await app.request("/stats?summary=1")).json();
    assert.equal(online.status.online, true);
    assert.equal(online.status.state, "running");
    await sleep(500);
    const offline = await (await app.request("/stats?summary=1")).json();
    assert.equal(offline.status.online, false);
    assert.equal(offline.status.state, "offline");
    assert.ok(typeof offline.status.since === "number");
    hub.close();
  });
});

describe("dropSameFrames", () => {
  it("does not send a byte-identical frame again, counts it, and keeps the camera online", async () => {
    const hub = new FrameHub({ dropSameFrames: true, keepalive: 100, offlineAfter: 400 });
    const viewer = hub.subscribe({ keepalive: true });
    hub.publish(a);
    assert.equal((await viewer.next())?.data, a);
    const same = new Uint8Array(a); // another buffer, the same bytes
    for (let i = 0; i < 8; i++) {
      hub.publish(same);
      await sleep(100);
    }
    assert.equal(hub.stats.framesUnchanged, 8);
    assert.equal(hub.stats.framesPublished, 1);
    assert.equal(hub.status.online, true, "identical frames show the camera is alive");
    // The keepalive still ran, with the same bytes, and no card.
    let keepalives = 0;
    for (;;) {
      const part = viewer.take();
      if (!part) break;
      assert.notEqual(part.kind, "offline");
      keepalives++;
    }
    assert.ok(hub.stats.keepalivesSent + keepalives >= 1);
    hub.publish(b);
    assert.equal((await viewer.next())?.data, b, "a different frame goes through");
    viewer.close();
    hub.close();
  });

  it("is off by default: the same bytes twice are two frames", () => {
    const hub = new FrameHub();
    hub.publish(a);
    hub.publish(new Uint8Array(a));
    assert.equal(hub.stats.framesPublished, 2);
    assert.equal(hub.stats.framesUnchanged, 0);
    hub.close();
  });
});

describe("demand", () => {
  it("is wanted while a viewer watches or a snapshot waits, and says so once per change", async () => {
    const hub = new FrameHub();
    const seen: boolean[] = [];
    hub.watchDemand((wanted) => seen.push(wanted));
    const first = hub.subscribe();
    const second = hub.subscribe();
    assert.equal(hub.wanted, true);
    first.close();
    second.close();
    assert.equal(hub.wanted, false);
    const snapshot = snapshotResponse(hub, { timeout: 1000 });
    await sleep(10);
    assert.equal(hub.wanted, true, "a snapshot waiting for a frame wants one");
    hub.publish(a);
    assert.equal((await snapshot).status, 200);
    assert.equal(hub.wanted, false);
    assert.deepEqual(seen, [true, false, true, false]);
    hub.close();
  });

  it("after a stop, a new viewer gets no stale frame and no card until the camera sends one", async () => {
    const hub = new FrameHub(quick);
    hub.publish(a);
    hub.reportSourceStatus({ state: "stopped", lastError: null });
    await sleep(500);
    assert.equal(hub.status.state, "stopped");
    const viewer = hub.subscribe({ keepalive: true });
    hub.reportSourceStatus({ state: "starting", lastError: null });
    assert.equal(viewer.take(), undefined, "nothing stale to start with");
    await sleep(200);
    assert.equal(viewer.take(), undefined, "no keepalive of a frame from before the stop");
    hub.publish(c);
    assert.equal((await viewer.next())?.data, c);
    viewer.close();
    hub.close();
  });
});
