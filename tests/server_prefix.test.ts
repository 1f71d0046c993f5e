/**
 * mjpegApp mounted under a prefix, as crowsnest and OctoPrint put cameras
 * under /webcam/: `outer.route("/webcam", mjpegApp(…))` keeps the page, its
 * links, the stream, the snapshot and the stats working — in-process, and in
 * headless Chromium, whose <mjpeg-view> (and its script) must load under the
 * prefix.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { FrameHub } from "../src/server/mod.ts";
import { mjpegApp } from "../src/hono/mod.ts";
import { MjpegDecoderStream } from "../src/wire/mod.ts";
import { openPage } from "./helpers/chromium.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { publishFixtures, serveLocal } from "./helpers/stack.ts";
import { requireTools } from "./helpers/tools.ts";
import { until } from "./helpers/wait.ts";

const [a, b] = fixtureFrames as [Uint8Array, Uint8Array];
const TOKEN = "prefix-test-token";

/** The first frame of a stream response, then the stream is cancelled. */
async function firstFrame(response: Response): Promise<Uint8Array> {
  const frames = response.body!.pipeThrough(
    new MjpegDecoderStream({ contentType: response.headers.get("content-type") }),
  );
  for await (const frame of frames) return frame.data;
  throw new Error("expected a frame, got the end of the stream");
}

describe("mjpegApp under a prefix", () => {
  it("one stream at /webcam: redirect to /webcam/, relative links, stream, snapshot, stats, ?action", async () => {
    const hub = new FrameHub();
    hub.publish(a);
    const outer = new Hono();
    outer.get("/", (c) => c.text("the printer's own page"));
    outer.route("/webcam", mjpegApp({ streams: hub }));

    const bare = await outer.request("/webcam");
    assert.equal(bare.status, 301);
    assert.equal(new URL(bare.headers.get("location")!, "http://x/webcam").pathname, "/webcam/");
    const page = await (await outer.request("/webcam/")).text();
    assert.match(page, /data-stream="stream\.mjpg"/);
    assert.match(page, /data-stats="stats\?summary=1"/);
    assert.match(page, /href="snapshot\.jpg"/);
    assert.doesNotMatch(page, /(data-stream|data-stats|href)="\//, "no link leaves the prefix");

    assert.equal(sha256(await firstFrame(await outer.request("/webcam/stream.mjpg"))), sha256(a));
    assert.equal(
      sha256(await firstFrame(await outer.request("/webcam/?action=stream"))),
      sha256(a),
    );
    const snapshot = await outer.request("/webcam/snapshot.jpg");
    assert.equal(sha256(new Uint8Array(await snapshot.arrayBuffer())), sha256(a));
    const action = await outer.request("/webcam/?action=snapshot");
    assert.equal(sha256(new Uint8Array(await action.arrayBuffer())), sha256(a));
    const stats = await (await outer.request("/webcam/stats")).json();
    assert.equal(stats.framesPublished, 1);
    assert.equal(stats.viewers, 0, "every stream above was cancelled");
    assert.equal(await (await outer.request("/")).text(), "the printer's own page");
    assert.equal((await outer.request("/webcam/nothing")).status, 404);
  });

  it("named streams at /cams, with auth: index page, each stream, app-wide stats, unknown names", async () => {
    const front = new FrameHub(), back = new FrameHub();
    front.publish(a);
    back.publish(b);
    const outer = new Hono();
    outer.route("/cams", mjpegApp({ streams: { front, back }, auth: { token: TOKEN } }));
    const get = (path: string) =>
      outer.request(`${path}${path.includes("?") ? "&" : "?"}token=${TOKEN}`);

    assert.equal(
      (await outer.request("/cams/back/snapshot.jpg")).status,
      401,
      "auth under the prefix",
    );
    const index = await (await get("/cams/")).text();
    assert.match(index, /data-stream="front\/stream\.mjpg"/);
    assert.match(index, /data-stream="back\/stream\.mjpg"/);
    assert.equal((await get("/cams/back")).status, 301);
    assert.match(index, /<script type="module" src="mjpeg-view\.js">/);
    assert.match(index, /<mjpeg-view src="back\/stream\.mjpg" mux="mux\.mjpg" stream="back"/);
    const backPage = await (await get("/cams/back/")).text();
    assert.match(backPage, /data-stream="stream\.mjpg"/);
    assert.match(backPage, /<script type="module" src="\.\.\/mjpeg-view\.js">/);
    assert.doesNotMatch(backPage, /mux=/, "one stream needs no multiplexing");
    const script = await outer.request("/cams/mjpeg-view.js");
    assert.equal(script.status, 200, "the element's script is public: a ?token= page loads it");
    assert.match(script.headers.get("content-type")!, /^text\/javascript/);
    const mux = await get("/cams/mux.mjpg?streams=back");
    assert.equal(mux.status, 200);
    await mux.body!.cancel();
    assert.equal((await outer.request("/cams/mux.mjpg")).status, 401, "the streams are not");
    const snap = async (path: string) =>
      sha256(new Uint8Array(await (await get(path)).arrayBuffer()));
    assert.equal(await snap("/cams/back/snapshot.jpg"), sha256(b));
    assert.equal(await snap("/cams/front/?action=snapshot"), sha256(a));
    assert.equal(
      await snap("/cams/snapshot.jpg"),
      sha256(a),
      "the first stream is also at the root",
    );
    assert.equal(sha256(await firstFrame(await get("/cams/back/stream.mjpg"))), sha256(b));
    const all = await (await get("/cams/stats")).json();
    assert.deepEqual(Object.keys(all.streams), ["front", "back"]);
    assert.equal((await (await get("/cams/back/stats")).json()).framesPublished, 1);
    const missing = await get("/cams/side/stream.mjpg");
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /unknown stream "side", expected one of front, back/);
  });

  it("in headless Chromium, the page under /webcam/ loads its view, frames and live stats under the prefix", async (t) => {
    if (!requireTools(t, "chromium")) return;
    const hub = new FrameHub();
    using _publishing = publishFixtures(hub, 10);
    const outer = new Hono();
    const requested: string[] = [];
    outer.use("*", async (c, next) => {
      requested.push(new URL(c.req.url).pathname);
      await next();
    });
    outer.route("/webcam", mjpegApp({ streams: hub }));
    await using server = await serveLocal(outer);
    await using page = await openPage(`${server.url}/webcam`);
    type State = { width: number; src: string; fps: string };
    const state = await until(
      async () => {
        const now = await page.evaluate(`(() => {
        const view = document.querySelector("mjpeg-view");
        return view && { width: view.stats?.width ?? 0,
          src: new URL(view.getAttribute("src"), location.href).href,
          fps: document.querySelector("[data-out=fps]").textContent };
      })()`) as State | null;
        return now && now.width > 0 && Number(now.fps) > 0 ? now : undefined;
      },
      "the page's <mjpeg-view> to paint a frame and its stats to show fps",
      10_000,
    );
    assert.equal(new URL(state.src).pathname, "/webcam/stream.mjpg");
    assert.equal(state.width, 320, "the view painted a 320x240 frame");
    assert.ok(Number(state.fps) > 0, `the page shows the view's fps, got ${state.fps}`);
    assert.equal(hub.stats.viewers, 1);
    assert.ok(hub.stats.framesSent > 0);
    // Every request the page made stayed under the prefix (the bare /webcam was redirected).
    const outside = requested.filter((p) => p !== "/webcam" && !p.startsWith("/webcam/"));
    assert.deepEqual(outside.filter((p) => p !== "/favicon.ico"), []);
    assert.ok(requested.includes("/webcam/stats"), `${requested}`);
    assert.ok(requested.includes("/webcam/mjpeg-view.js"), "the element's script under the prefix");
    assert.ok(new Set(fixtureSums).size === fixtureFrames.length);
  });
});
