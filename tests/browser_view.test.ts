/**
 * `<mjpeg-view>` in real headless Chromium (over the DevTools protocol),
 * against servers running on this test's runtime: it paints frames that
 * change and closes every bitmap; sends the token and the fps cap; comes
 * back after the server restarts; treats keepalive parts as life but gives up
 * on a server that sends nothing (stall, then reconnect); drops its request
 * while the tab is hidden, while it is off screen and once removed; reads an
 * mjpg-streamer-style stream from another origin through CORS; and backs off
 * from a URL that is not MJPEG, saying why.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { FrameHub, type MjpegServer, serve } from "../src/server/mod.ts";
import { mjpegApp } from "../src/hono/mod.ts";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { publishFixtures } from "./helpers/stack.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { sleep } from "./helpers/wait.ts";
import { htmlResponse, startBrowser, until, viewPage } from "./helpers/browser_view.ts";
import { requireTools } from "./helpers/tools.ts";
import { runsOn } from "./helpers/runtime.ts";

const TOKEN = "view-test-token";
const encoder = new TextEncoder();
const fixtureChecksums = new Set(fixtureSums);

/** One multipart part as mjpg-streamer writes it (X-Timestamp from its monotonic clock). */
function streamerPart(jpeg: Uint8Array, boundary: string): Uint8Array[] {
  const seconds = performance.now() / 1000;
  const head = `Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n` +
    `X-Timestamp: ${Math.floor(seconds)}.${
      String(Math.floor((seconds % 1) * 1e6)).padStart(6, "0")
    }\r\n\r\n`;
  return [encoder.encode(head), jpeg, encoder.encode(`\r\n--${boundary}\r\n`)];
}

/** sha256 of the view's snapshot, computed in the page. */
const SNAPSHOT_SHA = (id: string) =>
  `(async () => { const blob = await document.getElementById(${JSON.stringify(id)}).snapshot();
    const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    return [blob.type, [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")]; })()`;

/** A cheap hash of the canvas pixels, to see the picture change. */
const PIXELS = (id: string) =>
  `(() => { const c = document.getElementById(${
    JSON.stringify(id)
  }).shadowRoot.querySelector("canvas");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let h = 0; for (let i = 0; i < d.length; i += 97) h = (h * 31 + d[i]) | 0; return h; })()`;

const stats = (id: string) => `document.getElementById(${JSON.stringify(id)}).stats`;

describe("<mjpeg-view> in headless Chromium", () => {
  it("paints changing frames, closes every bitmap, sends the token and fps, snapshots, overlays, goes fullscreen", async (t) => {
    if (!requireTools(t, "chromium")) return;
    const hub = new FrameHub();
    const { stop } = publishFixtures(hub, 30);
    const seen = { header: 0, query: 0 };
    const outer = new Hono();
    outer.use("/stream.mjpg", async (c, next) => {
      if (c.req.header("authorization") === `Bearer ${TOKEN}`) seen.header++;
      if (c.req.query("token") === TOKEN) seen.query++;
      await next();
    });
    outer.get("/t/view.html", () =>
      htmlResponse(viewPage(
        `<mjpeg-view id="v" src="/stream.mjpg" token="${TOKEN}" fps="15" overlay controls></mjpeg-view>
         <mjpeg-view id="q" src="/stream.mjpg" token="${TOKEN}" token-in="query"></mjpeg-view>
         <mjpeg-view id="none" src="/stream.mjpg"></mjpeg-view>
         <mjpeg-view id="odd" fit="zoom" stall-timeout="soon" token="${TOKEN}" fps="0"
           src="/stream.mjpg" style="width:100px;height:100px"></mjpeg-view>`,
      )));
    outer.route("/", mjpegApp({ streams: hub, auth: { token: TOKEN } }));
    const server = await serve(outer, { port: 0, hostname: "127.0.0.1" });
    const browser = await startBrowser();
    try {
      await browser.goto(`${server.url}/t/view.html`);
      await browser.waitFor(`${stats("v")}.frames >= 20 && ${stats("q")}.frames >= 20`, "frames");
      const first = await browser.evaluate(PIXELS("v"));
      await sleep(300);
      await browser.waitFor(`${PIXELS("v")} !== ${first}`, "the picture to change");

      const v = await browser.evaluate(stats("v")) as Record<string, number | null>;
      assert.equal(v.width, 320);
      assert.equal(v.height, 240);
      assert.ok(v.latency !== null && v.latency! >= 0 && v.latency! < 2000, `latency ${v.latency}`);
      assert.ok(v.fps! > 5 && v.fps! < 18, `fps under the cap of 15, got ${v.fps}`);
      assert.ok(
        hub.stats.viewerStats.some((s) => s.fpsCap === 15),
        "the server got ?fps=15 from the fps attribute",
      );
      assert.ok(
        seen.header >= 1 && seen.query >= 1,
        `token as header and query: ${JSON.stringify(seen)}`,
      );
      const log = await browser.evaluate("seen") as Record<
        string,
        { frame: number; errors: string[] }
      >;
      assert.ok(log.v!.frame >= 10, "frame events");
      assert.match(log.none!.errors[0] ?? "", /expected 200 OK from .*stream\.mjpg, got 401/);
      assert.equal(await browser.evaluate(`${stats("none")}.frames`), 0);

      // Every bitmap made was closed (the last one at most is being drawn).
      const bitmaps = await browser.evaluate(
        `({ ...__bitmaps, open: __bitmaps.recent.slice(0, -1).filter((b) => b.width > 0).length })`,
      ) as { created: number; closed: number; open: number };
      assert.ok(bitmaps.created >= 40, `bitmaps made: ${bitmaps.created}`);
      assert.ok(bitmaps.created - bitmaps.closed <= 2, JSON.stringify(bitmaps));
      assert.equal(bitmaps.open, 0, "the bitmaps kept by the counter are closed (0 wide)");
      assert.ok(
        (await browser.evaluate(
          `${stats("v")}.openBitmaps + ${stats("q")}.openBitmaps`,
        )) as number <=
          2,
      );

      const [type, sha] = await browser.evaluate(SNAPSHOT_SHA("v")) as [string, string];
      assert.equal(type, "image/jpeg");
      assert.ok(fixtureChecksums.has(sha), "the snapshot is a published JPEG, byte for byte");
      assert.match(
        await browser.evaluate(
          `document.getElementById("v").shadowRoot.querySelector(".overlay").textContent`,
        ) as string,
        /^\d+\.\d fps · \d+ ms$/,
      );
      assert.equal(
        await browser.evaluate(
          `getComputedStyle(document.getElementById("v").shadowRoot.querySelector(".overlay")).display`,
        ),
        "block",
      );
      assert.equal(
        await browser.evaluate(
          `document.getElementById("q").shadowRoot.querySelector(".overlay").hidden`,
        ),
        true,
        "no overlay without the attribute",
      );

      // Attributes it does not understand: said in error events, defaults used.
      assert.deepEqual(log.odd!.errors.slice(0, 3), [
        'expected fps to be a number from 0.1 to 1000, got "0"',
        'expected stall-timeout to be a number from 0.5 to 3600, got "soon"',
        'expected fit to be contain, cover, fill, got "zoom"',
      ]);
      const fit = (id: string) =>
        browser.evaluate(
          `getComputedStyle(document.getElementById(${
            JSON.stringify(id)
          }).shadowRoot.querySelector("canvas")).objectFit`,
        );
      assert.equal(await fit("odd"), "contain");
      await browser.evaluate(`document.getElementById("odd").setAttribute("fit", "cover")`);
      assert.equal(await fit("odd"), "cover");
      assert.ok((await browser.evaluate(`${stats("odd")}.frames`) as number) > 0);

      // The snapshot button's download: the JPEG as the server sent it, in a file.
      const downloads = tempDir("downloads");
      try {
        await browser.send("Page.setDownloadBehavior", {
          behavior: "allow",
          downloadPath: downloads.path,
        });
        await browser.evaluate(`document.getElementById("v").download("door.jpg")`);
        const file = join(downloads.path, "door.jpg");
        assert.ok(await until(() => existsSync(file)), "the download was saved");
        assert.ok(
          await until(() => fixtureChecksums.has(sha256(new Uint8Array(readFileSync(file))))),
        );
      } finally {
        downloads.remove();
      }

      const gesture = (expression: string) =>
        browser.send("Runtime.evaluate", { expression, awaitPromise: true, userGesture: true });
      await gesture(`document.getElementById("v").toggleFullscreen()`);
      await browser.waitFor(`document.fullscreenElement?.id === "v"`, "fullscreen");
      await gesture(`document.getElementById("v").toggleFullscreen()`);
      await browser.waitFor(`document.fullscreenElement === null`, "fullscreen to end");
    } finally {
      await browser.close();
      stop();
      await server.close();
    }
  });

  it("comes back after the server restarts; keepalive is life, silence is a stall", async (t) => {
    if (
      !runsOn(t, "deno", "the element's reconnects, visibility and cross-origin reads in Chromium")
    ) return;
    if (!requireTools(t, "chromium")) return;
    const hub = new FrameHub();
    const { stop } = publishFixtures(hub, 20);
    const requests = { stall: 0, keepalive: 0 };
    const bodies = new Set<{ close(): void }>();
    const jpeg = fixtureFrames[2]!;
    /** A stream that sends one part, then the same part every `every` ms (never, if 0). */
    const repeating = (every: number) => {
      let timer: ReturnType<typeof setInterval> | undefined;
      let handle: { close(): void };
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(encoder.encode("--b\r\n"));
          const send = () => streamerPart(jpeg, "b").forEach((piece) => c.enqueue(piece));
          send();
          if (every > 0) timer = setInterval(send, every);
          handle = {
            close() {
              clearInterval(timer);
              try {
                c.close();
              } catch { /* the client left */ }
            },
          };
          bodies.add(handle);
        },
        cancel() {
          clearInterval(timer);
          bodies.delete(handle);
        },
      });
      return new Response(body, {
        headers: { "Content-Type": "multipart/x-mixed-replace;boundary=b" },
      });
    };
    const outer = new Hono();
    outer.get("/t/view.html", () =>
      htmlResponse(viewPage(
        `<mjpeg-view id="v" src="/stream.mjpg"></mjpeg-view>
         <mjpeg-view id="silent" src="/stall" stall-timeout="1.5"></mjpeg-view>
         <mjpeg-view id="alive" src="/keepalive" stall-timeout="1.5"></mjpeg-view>`,
      )));
    outer.get("/stall", () => (requests.stall++, repeating(0)));
    outer.get("/keepalive", () => (requests.keepalive++, repeating(500)));
    outer.route("/", mjpegApp({ streams: hub }));
    let server: MjpegServer = await serve(outer, { port: 0, hostname: "127.0.0.1" });
    const browser = await startBrowser();
    try {
      await browser.goto(`${server.url}/t/view.html`);
      await browser.waitFor(`${stats("v")}.state === "live"`, "live");
      // Six seconds: four stall timeouts of the silent server, twelve keepalive parts.
      await sleep(6000);
      const log = await browser.evaluate("seen") as Record<string, Record<string, number>>;
      assert.ok(
        log.silent!.stall! >= 2,
        `the silent server stalled: ${JSON.stringify(log.silent)}`,
      );
      assert.ok(log.silent!.reconnect! >= 2);
      assert.ok(requests.stall >= 2, `and was asked again: ${requests.stall} requests`);
      assert.equal(log.alive!.stall, 0, `keepalive parts are life: ${JSON.stringify(log.alive)}`);
      assert.equal(log.alive!.reconnect, 0);
      assert.equal(requests.keepalive, 1, "one request for the keepalive stream");
      assert.ok(log.alive!.frame! >= 8, `keepalive frames painted: ${log.alive!.frame}`);
      assert.equal(
        await browser.evaluate(`${stats("alive")}.latency`),
        null,
        "a monotonic X-Timestamp gives no latency",
      );

      // The server restarts on the same port.
      const port = server.port;
      for (const body of bodies) body.close();
      await server.close();
      await browser.waitFor(
        `${stats("v")}.state === "reconnecting"`,
        "the view to see the server go",
      );
      const before = await browser.evaluate(`${stats("v")}.frames`) as number;
      await sleep(1500);
      server = await serve(outer, { port, hostname: "127.0.0.1" });
      await browser.waitFor(
        `${stats("v")}.state === "live" && ${stats("v")}.frames > ${before + 10}`,
        "frames again after the restart",
        40_000,
      );
      const v = await browser.evaluate(stats("v")) as { reconnects: number };
      assert.ok(v.reconnects >= 1, `reconnects counted: ${v.reconnects}`);
      assert.ok(hub.stats.viewers >= 1);
    } finally {
      await browser.close();
      stop();
      for (const body of bodies) body.close();
      await server.close();
    }
  });

  it("drops its request while the tab is hidden, while off screen, and once removed", async (t) => {
    if (
      !runsOn(t, "deno", "the element's reconnects, visibility and cross-origin reads in Chromium")
    ) return;
    if (!requireTools(t, "chromium")) return;
    const hub = new FrameHub();
    const { stop } = publishFixtures(hub, 20);
    const outer = new Hono();
    outer.get("/t/view.html", () =>
      htmlResponse(viewPage(
        `<mjpeg-view id="v" src="/stream.mjpg"></mjpeg-view><div style="height:4000px"></div>`,
      )));
    outer.route("/", mjpegApp({ streams: hub }));
    const server = await serve(outer, { port: 0, hostname: "127.0.0.1" });
    const browser = await startBrowser();
    const viewers = (n: number, what: string) =>
      until(() => hub.stats.viewers === n).then((ok) =>
        assert.ok(ok, `${what}: ${hub.stats.viewers} viewers`)
      );
    try {
      await browser.goto(`${server.url}/t/view.html`);
      await browser.waitFor(`${stats("v")}.state === "live"`, "live");
      await viewers(1, "watching");

      // Another tab in front hides this one.
      const { targetId } = await browser.send("Target.createTarget", { url: "about:blank" });
      await viewers(0, "hidden tab: the request is aborted");
      assert.equal(await browser.evaluate(`document.visibilityState`), "hidden");
      assert.equal(await browser.evaluate(`${stats("v")}.state`), "paused");
      await browser.send("Target.closeTarget", { targetId });
      await viewers(1, "shown again: one request");
      assert.equal(
        await browser.evaluate(`${stats("v")}.reconnects`),
        0,
        "resuming is not a reconnect",
      );

      await browser.evaluate(`window.scrollTo(0, 3000)`);
      await viewers(0, "scrolled off screen");
      await browser.evaluate(`window.scrollTo(0, 0)`);
      await viewers(1, "back on screen");

      await browser.evaluate(`document.getElementById("v").remove()`);
      await viewers(0, "removed from the page");
      await sleep(2500);
      assert.equal(hub.stats.viewers, 0, "no request comes back after removal");
      assert.equal(hub.stats.viewersTotal, 3, "exactly three requests in all");
    } finally {
      await browser.close();
      stop();
      await server.close();
    }
  });

  it("reads an mjpg-streamer-style stream from another origin, and backs off from one that is not MJPEG", async (t) => {
    if (
      !runsOn(t, "deno", "the element's reconnects, visibility and cross-origin reads in Chromium")
    ) return;
    if (!requireTools(t, "chromium")) return;
    const boundary = "boundarydonotcross";
    const requests = { notMjpeg: [] as number[], noCors: 0, basic: [] as string[] };
    // The camera: another origin, mjpg-streamer's URL, boundary and headers, CORS for anyone.
    const camera = await serve({
      fetch(request) {
        const url = new URL(request.url);
        const cors = url.pathname !== "/nocors/";
        const allow = {
          "Access-Control-Allow-Origin": "*",
          "Access-Control-Allow-Headers": "Authorization",
        };
        if (request.method === "OPTIONS") {
          return new Response(null, { status: 204, headers: allow });
        }
        if (url.searchParams.get("action") !== "stream") return new Response("no", { status: 404 });
        if (url.pathname === "/auth/") {
          const expected = `Basic ${btoa("viewer:secret pass")}`;
          requests.basic.push(request.headers.get("authorization") ?? "none");
          if (request.headers.get("authorization") !== expected) {
            return new Response("401", { status: 401, headers: allow });
          }
        }
        if (!cors) requests.noCors++;
        let n = 0;
        let timer: ReturnType<typeof setInterval> | undefined;
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(encoder.encode(`--${boundary}\r\n`));
            timer = setInterval(() => {
              try {
                streamerPart(fixtureFrames[n++ % 8]!, boundary).forEach((piece) =>
                  c.enqueue(piece)
                );
              } catch {
                clearInterval(timer);
              }
            }, 50);
          },
          cancel() {
            clearInterval(timer);
          },
        });
        return new Response(body, {
          headers: {
            "Content-Type": `multipart/x-mixed-replace;boundary=${boundary}`,
            "Cache-Control":
              "no-store, no-cache, must-revalidate, pre-check=0, post-check=0, max-age=0",
            "Server": "MJPG-Streamer/0.2",
            ...(cors ? allow : {}),
          },
        });
      },
    }, { port: 0, hostname: "127.0.0.1", shutdownTimeout: 500 });
    const outer = new Hono();
    outer.get("/t/view.html", () =>
      htmlResponse(viewPage(
        `<mjpeg-view id="cam" src="${camera.url}/?action=stream"></mjpeg-view>
         <mjpeg-view id="nocors" src="${camera.url}/nocors/?action=stream"></mjpeg-view>
         <mjpeg-view id="basic" src="${
          camera.url.replace("//", "//viewer:secret%20pass@")
        }/auth/?action=stream"></mjpeg-view>
         <mjpeg-view id="html" src="/login"></mjpeg-view>`,
      )));
    outer.get("/login", () => {
      requests.notMjpeg.push(performance.now());
      return htmlResponse("<!doctype html><title>Log in</title><form>…</form>");
    });
    outer.route("/", mjpegApp({ streams: new FrameHub() }));
    const server = await serve(outer, { port: 0, hostname: "127.0.0.1" });
    const browser = await startBrowser();
    try {
      await browser.goto(`${server.url}/t/view.html`);
      await browser.waitFor(
        `${stats("cam")}.frames >= 10`,
        "frames from the mjpg-streamer-style camera",
      );
      // fetch() refuses a URL with credentials: the view sends them as Basic (through CORS).
      await browser.waitFor(`${stats("basic")}.frames >= 3`, "frames with Basic from the URL");
      assert.equal(requests.basic[0], `Basic ${btoa("viewer:secret pass")}`);
      const cam = await browser.evaluate(stats("cam")) as Record<string, unknown>;
      assert.equal(cam.width, 320);
      assert.equal(cam.latency, null, "its X-Timestamp is not wall-clock time: no latency");
      const [, sha] = await browser.evaluate(SNAPSHOT_SHA("cam")) as [string, string];
      assert.ok(fixtureChecksums.has(sha));

      // A URL that is not MJPEG: an error saying why, then retries that back off.
      const started = performance.now();
      await sleep(7000);
      const log = await browser.evaluate("seen") as Record<
        string,
        { error: number; errors: string[] }
      >;
      assert.match(
        log.html!.errors[0] ?? "",
        /expected multipart\/x-mixed-replace or image\/jpeg from http:\/\/127\.0\.0\.1:\d+\/login, got text\/html/,
      );
      const tries = requests.notMjpeg.filter((at) => at >= started - 1000).length;
      // 1, 2, 4 s apart (each halved at worst by jitter): at most 5 requests in 8 s, never a loop.
      assert.ok(
        requests.notMjpeg.length >= 2 && requests.notMjpeg.length <= 5,
        `${requests.notMjpeg.length} requests in ~8 s`,
      );
      assert.ok(tries <= 5);
      const gaps = requests.notMjpeg.slice(1).map((at, i) => at - requests.notMjpeg[i]!);
      assert.ok(gaps.every((gap) => gap >= 400), `retries are spaced: ${gaps.map(Math.round)}`);
      assert.equal(await browser.evaluate(`${stats("html")}.state`), "reconnecting");
      assert.ok(log.nocors!.error >= 1, "a camera without CORS is an error too");
      assert.ok(requests.noCors <= 5, `and is retried with backoff: ${requests.noCors}`);
    } finally {
      await browser.close();
      await server.close();
      await camera.close();
    }
  });
});
