/**
 * Headless Chromium loads the viewer page: the stream is painted, the picture
 * changes when the source does, and the live stats show. Pixels are compared
 * through ffmpeg (raw RGB), so no image library is needed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { CHROMIUM_FLAGS, openPage } from "./helpers/chromium.ts";
import { defer } from "./helpers/dispose.ts";
import { fixtureFiles, fixtureFrames } from "./helpers/fixtures.ts";
import { run } from "./helpers/processes.ts";
import { startStack } from "./helpers/stack.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";
import { until } from "./helpers/wait.ts";

const TOKEN = "browser-test-token";
const WIDTH = 320, HEIGHT = 240;

function chromium(profile: string, ...args: string[]) {
  return run("chromium", [
    ...CHROMIUM_FLAGS,
    "--hide-scrollbars",
    `--user-data-dir=${profile}`,
    "--window-size=600,400",
    ...args,
  ], { timeoutMs: 30_000 });
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
    await using stack = await startStack({ app: { auth: { token: TOKEN } } });
    const { hub, server } = stack;
    let current = 0;
    const timer = setInterval(() => hub.publish(fixtureFrames[current]!), 1000 / 30);
    await using _timer = defer(() => clearInterval(timer));
    using dir = tempDir("chromium");
    const page = `${server.url}/?token=${TOKEN}`;
    const frames = await Promise.all(
      fixtureFiles.map(rgb),
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
  });
  it("drops the stream while hidden, takes it up when shown, and backs off on errors", async (t) => {
    if (!requireTools(t, "chromium")) return;
    await using stack = await startStack({ fps: 30, frames: fixtureFrames.slice(0, 1) });
    const { hub, server } = stack;
    await using page = await openPage(`${server.url}/`);
    // Headless tabs are never hidden; stand in for the browser's visibility state.
    const setHidden = (hidden: boolean) =>
      page.evaluate(
        `Object.defineProperty(document, "hidden", { configurable: true, get: () => ${hidden} });` +
          `document.dispatchEvent(new Event("visibilitychange"));`,
      );
    await until(() => hub.stats.viewers === 1, "the page to open the stream");
    await until(
      async () => Number(await page.evaluate(`document.querySelector("img").naturalWidth`)) === 320,
      "the image to be decoded at the frame's size",
    );
    await setHidden(true);
    await until(() => hub.stats.viewers === 0, "hidden: the stream to be closed");
    await setHidden(false);
    await until(() => hub.stats.viewers === 1, "shown again: one stream, not two");
    // Its first frame's load event resets the backoff; the errors below must come after it.
    await until(
      async () =>
        await page.evaluate(`document.querySelector("[data-out=state]").textContent`) === "",
      "shown again: a frame loaded (the state no longer paused)",
    );
    // A failing stream is retried with growing delays, not hammered.
    const states: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      states.push(
        await page.evaluate(
          `document.querySelector("img").dispatchEvent(new Event("error"));` +
            `document.querySelector("[data-out=state]").textContent`,
        ),
      );
    }
    assert.deepEqual(states, [
      "reconnecting in 1 s",
      "reconnecting in 2 s",
      "reconnecting in 4 s",
    ]);
  });
});
