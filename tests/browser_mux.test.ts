/**
 * Eight cameras on one page in headless Chromium over HTTP/1.1, where a
 * browser opens at most six connections to a host: the viewer page's eight
 * `<mjpeg-view>`s share one multiplexed request and all eight stay live,
 * each painting its own camera's frames with its own stats — while eight
 * views with a request each leave two waiting (the limit the test is about).
 * A view that leaves takes its camera out of the shared request; a hidden
 * tab leaves none open. The server runs on this test's runtime.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { FrameHub, serve } from "../src/server/mod.ts";
import { mjpegApp } from "../src/hono/mod.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { sleep } from "./helpers/wait.ts";
import { htmlResponse, startBrowser, until, viewPage } from "./helpers/browser_view.ts";
import { requireTools } from "./helpers/tools.ts";
import { runsOn } from "./helpers/runtime.ts";

const NAMES = ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"];

/** Each view's state, frames and the sha256 of its snapshot (null before a frame). */
const VIEWS = `Promise.all([...document.querySelectorAll("mjpeg-view")].map(async (view) => {
  let sha = null;
  try {
    const blob = await view.snapshot();
    const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    sha = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  } catch {}
  return { name: view.getAttribute("stream") ?? view.id, frames: view.stats.frames, state: view.stats.state, sha };
}))`;

type ViewInfo = { name: string; frames: number; state: string; sha: string | null };

describe("eight cameras on one page", () => {
  it("all eight stay live over one multiplexed request; eight requests would leave two waiting", async (t) => {
    if (!runsOn(t, "bun", "eight views in Chromium over one multiplexed request")) return;
    if (!requireTools(t, "chromium")) return;
    // Camera i shows fixture i only, so a frame painted in the wrong view would show.
    const hubs = Object.fromEntries(NAMES.map((name) => [name, new FrameHub()]));
    const timer = setInterval(() => {
      NAMES.forEach((name, i) => hubs[name]!.publish(fixtureFrames[i]!));
    }, 100);
    const requests = { mux: 0, stream: 0 };
    const outer = new Hono();
    outer.use("*", async (c, next) => {
      const path = new URL(c.req.url).pathname;
      if (path === "/mux.mjpg") requests.mux++;
      if (path.endsWith("/stream.mjpg")) requests.stream++;
      await next();
    });
    outer.get("/t/direct.html", () =>
      htmlResponse(viewPage(
        NAMES.map((name) =>
          `<mjpeg-view id="${name}" src="/${name}/stream.mjpg" style="width:160px;height:120px"></mjpeg-view>`
        ).join(""),
      )));
    outer.route("/", mjpegApp({ streams: hubs }));
    const server = await serve(outer, { port: 0, hostname: "127.0.0.1" });
    // Big enough for all eight on screen (a view off screen rightly pauses).
    const browser = await startBrowser(["--window-size=1600,1200"]);
    const viewers = () => NAMES.map((name) => hubs[name]!.stats.viewers);
    try {
      await browser.goto(`${server.url}/`);
      await browser.waitFor(
        `[...document.querySelectorAll("mjpeg-view")].every((v) => v.stats.frames >= 10)`,
        "all eight views painting",
        20_000,
      );
      const first = await browser.evaluate(VIEWS) as ViewInfo[];
      await sleep(1000);
      const later = await browser.evaluate(VIEWS) as ViewInfo[];
      assert.deepEqual(later.map((v) => v.name), NAMES);
      later.forEach((view, i) => {
        assert.equal(view.state, "live", view.name);
        assert.ok(view.frames > first[i]!.frames + 3, `${view.name} keeps painting`);
        assert.equal(view.sha, sha256(fixtureFrames[i]!), `${view.name} shows its own camera`);
      });
      assert.equal(requests.mux, 1, "one multiplexed request for the page");
      assert.equal(requests.stream, 0, "and no request per camera");
      assert.deepEqual(viewers(), NAMES.map(() => 1));

      // A view that leaves: the shared request is made again without its camera.
      await browser.evaluate(`document.querySelector('mjpeg-view[stream="c3"]').remove()`);
      assert.ok(
        await until(() => viewers().join() === "1,1,0,1,1,1,1,1"),
        `c3 left the shared request: ${viewers()}`,
      );
      const rest = await browser.evaluate(VIEWS) as ViewInfo[];
      await browser.waitFor(
        `[...document.querySelectorAll("mjpeg-view")].every((v, i) => v.stats.frames > ${
          JSON.stringify(rest.map((v) => v.frames))
        }[i] + 3)`,
        "the seven others painting again",
      );
      assert.equal(requests.mux, 2);

      // A hidden tab holds no request at all.
      const { targetId } = await browser.send("Target.createTarget", { url: "about:blank" });
      assert.ok(await until(() => viewers().every((n) => n === 0)), `hidden: ${viewers()}`);
      await browser.send("Target.closeTarget", { targetId });
      assert.ok(
        await until(() => viewers().join() === "1,1,0,1,1,1,1,1"),
        `shown: ${viewers()}`,
      );

      // The same eight cameras with a request each: the browser's six per host.
      await browser.goto(`${server.url}/t/direct.html`);
      await sleep(4000);
      const direct = await browser.evaluate(VIEWS) as ViewInfo[];
      const live = direct.filter((v) => v.frames > 0).length;
      console.log(`# eight views with a request each: ${live} live, ${8 - live} waiting`);
      assert.equal(
        live,
        6,
        `six connections per host: ${JSON.stringify(direct.map((v) => v.frames))}`,
      );
    } finally {
      await browser.close();
      clearInterval(timer);
      await server.close();
    }
  });
});
