/**
 * Headless Chromium loads the viewer page: the stream is painted, the picture
 * changes when the source does, and the live stats show. Pixels are compared
 * through ffmpeg (raw RGB), so no image library is needed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { FrameHub } from "../src/server/frame_hub.ts";
import { mjpegApp } from "../src/hono/mjpeg_app.ts";
import { serve } from "../src/runtime/serve.ts";
import { requireTools } from "./helpers/tools.ts";
import { fixtureFrames } from "./helpers/server_frames.ts";
import { run, serverTempDir } from "./helpers/server_run.ts";
import { openPage } from "./helpers/server_cdp.ts";

const TOKEN = "browser-test-token";
const WIDTH = 320, HEIGHT = 240;

function chromium(profile: string, ...args: string[]) {
  return run("chromium", [
    ..."--headless --no-sandbox --disable-gpu --disable-background-networking --disable-quic".split(
      " ",
    ),
    ..."--no-first-run --disable-component-update --disable-sync --hide-scrollbars".split(" "),
    `--user-data-dir=${profile}`,
    "--window-size=600,400",
    ...args,
  ], 30_000);
}

/** Decodes an image file to raw RGB with ffmpeg. */
async function rgb(file: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const probe = await run("ffprobe", [
    ..."-v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0".split(" "),
    file,
  ]);
  const [width, height] = new TextDecoder().decode(probe.stdout).trim().split(",").map(Number);
  const raw = await run("ffmpeg", [
    ...["-v", "error", "-i", file, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
  ]);
  assert.equal(raw.code, 0, raw.stderr);
  return { data: raw.stdout, width: width!, height: height! };
}

type Image = Awaited<ReturnType<typeof rgb>>;

/** Mean absolute difference per channel between `frame` and the screenshot region at (x, y). */
function difference(shot: Image, frame: Image, x: number, y: number, step = 1): number {
  let sum = 0, count = 0;
  for (let row = 0; row < HEIGHT; row += step) {
    for (let col = 0; col < WIDTH; col += step) {
      const s = ((y + row) * shot.width + x + col) * 3;
      const f = (row * WIDTH + col) * 3;
      for (let c = 0; c < 3; c++) sum += Math.abs(shot.data[s + c]! - frame.data[f + c]!);
      count += 3;
    }
  }
  return sum / count;
}

/** Which fixture frame the screenshot shows, and how closely. Searches the image's position. */
function whichFrame(shot: Image, frames: Image[]): { index: number; error: number } {
  let best = { x: 0, y: 0, error: Infinity };
  // The page puts the image near the top left; find it with a coarse comparison first.
  for (let y = 0; y <= 100; y++) {
    for (let x = 0; x <= 40; x++) {
      const error = difference(shot, frames[0]!, x, y, 8);
      if (error < best.error) best = { x, y, error };
    }
  }
  const errors = frames.map((frame) => difference(shot, frame, best.x, best.y));
  const index = errors.indexOf(Math.min(...errors));
  return { index, error: errors[index]! };
}

describe("the viewer page in headless Chromium", () => {
  it("paints the stream, follows the source, and shows live stats", async (t) => {
    if (!requireTools(t, "chromium", "ffmpeg", "ffprobe")) return;
    const hub = new FrameHub();
    let current = 0;
    const timer = setInterval(() => hub.publish(fixtureFrames[current]!), 1000 / 30);
    const server = await serve(mjpegApp({ streams: hub, auth: { token: TOKEN } }), {
      port: 0,
      hostname: "127.0.0.1",
    });
    const dir = serverTempDir("chromium");
    try {
      const page = `${server.url}/?token=${TOKEN}`;
      const frames = await Promise.all(
        [1, 2, 3, 4, 5, 6, 7, 8].map((i) => rgb(`tests/fixtures/frames/00${i}.jpg`)),
      );
      const seen: number[] = [];
      for (const [shot, frame] of [[1, 0], [2, 4]] as const) {
        current = frame;
        const file = join(dir.path, `shot${shot}.png`);
        const result = await chromium(
          join(dir.path, `profile${shot}`),
          `--screenshot=${file}`,
          page,
        );
        assert.equal(result.code, 0, result.stderr.slice(-2000));
        const match = whichFrame(await rgb(file), frames);
        assert.ok(
          match.error < 8,
          `screenshot ${shot} shows a fixture frame (error ${match.error})`,
        );
        seen.push(match.index);
        console.log(
          `# screenshot ${shot}: frame ${match.index + 1}, error ${match.error.toFixed(2)}`,
        );
      }
      assert.deepEqual(seen, [0, 4], "each screenshot shows the frame being published then");

      const dom = await chromium(
        join(dir.path, "profile-dom"),
        "--virtual-time-budget=3000",
        "--dump-dom",
        page,
      );
      const html = new TextDecoder().decode(dom.stdout);
      assert.match(html, /<img [^>]*src="[^"]*stream\.mjpg\?token=browser-test-token/);
      const fps = Number(html.match(/data-out="fps">([\d.]+)</)?.[1]);
      // The publisher shares this process with the pixel search, so only check the figure is live.
      assert.ok(fps > 0 && fps < 40, `the page shows the source's fps, got ${fps}`);
      assert.match(html, /data-out="viewers">1</);
      assert.match(html, /href="[^"]*snapshot\.jpg\?token=browser-test-token"/);
    } finally {
      clearInterval(timer);
      dir.remove();
      await server.close();
    }
  });
  it("drops the stream while hidden, takes it up when shown, and backs off on errors", async (t) => {
    if (!requireTools(t, "chromium")) return;
    const hub = new FrameHub();
    const timer = setInterval(() => hub.publish(fixtureFrames[0]!), 1000 / 30);
    const server = await serve(mjpegApp({ streams: hub }), { port: 0, hostname: "127.0.0.1" });
    const page = await openPage(`${server.url}/`);
    const viewers = async (n: number) => {
      for (let i = 0; i < 100 && hub.stats.viewers !== n; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      return hub.stats.viewers;
    };
    // Headless tabs are never hidden; stand in for the browser's visibility state.
    const setHidden = (hidden: boolean) =>
      page.evaluate(
        `Object.defineProperty(document, "hidden", { configurable: true, get: () => ${hidden} });` +
          `document.dispatchEvent(new Event("visibilitychange"));`,
      );
    try {
      assert.equal(await viewers(1), 1, "the page opened the stream");
      let width = 0;
      for (let i = 0; i < 50 && width !== 320; i++) {
        width = Number(await page.evaluate(`document.querySelector("img").naturalWidth`));
        if (width !== 320) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(width, 320, "the image is decoded at the frame's size");
      await setHidden(true);
      assert.equal(await viewers(0), 0, "hidden: the stream is closed");
      await setHidden(false);
      assert.equal(await viewers(1), 1, "shown again: one stream, not two");
      // A failing stream is retried with growing delays, not hammered.
      // Three failures in one script: a frame's load event between two evaluate() calls (the
      // stream is open) would reset the count, as it should for a stream that works again.
      const states = await page.evaluate(
        `[0, 1, 2].map(() => {` +
          `document.querySelector("img").dispatchEvent(new Event("error"));` +
          `return document.querySelector("[data-out=state]").textContent; })`,
      );
      assert.deepEqual(states, [
        "reconnecting in 1 s",
        "reconnecting in 2 s",
        "reconnecting in 4 s",
      ]);
    } finally {
      await page.close();
      clearInterval(timer);
      await server.close();
    }
  });
});
