/**
 * Headless Chromium loads the viewer page: its `<mjpeg-view>` paints the
 * stream pixel-exact, the picture changes when the source does, the live
 * stats show, and so does why there is no picture when the camera is offline. Screenshots come over the DevTools protocol; pixels are
 * compared through ffmpeg (raw RGB), so no image library is needed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openPage } from "./helpers/chromium.ts";
import { defer } from "./helpers/dispose.ts";
import { fixtureFiles, fixtureFrames } from "./helpers/fixtures.ts";
import { run } from "./helpers/processes.ts";
import { startStack } from "./helpers/stack.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";
import { runsOn } from "./helpers/runtime.ts";
import { until } from "./helpers/wait.ts";

const TOKEN = "browser-test-token";
const WIDTH = 320, HEIGHT = 240;

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
  it("paints the stream in <mjpeg-view>, follows the source, and shows live stats", async (t) => {
    if (!runsOn(t, "node", "the viewer page in Chromium")) return;
    if (!requireTools(t, "chromium", "ffmpeg", "ffprobe")) return;
    await using stack = await startStack({ app: { auth: { token: TOKEN } } });
    const { hub, server } = stack;
    let current = 0;
    const timer = setInterval(() => hub.publish(fixtureFrames[current]!), 1000 / 30);
    await using _timer = defer(() => clearInterval(timer));
    using dir = tempDir("chromium");
    await using page = await openPage(`${server.url}/?token=${TOKEN}`, [
      "--window-size=600,400",
      "--hide-scrollbars",
    ]);
    const painted = async () =>
      await page.evaluate(`document.querySelector("mjpeg-view")?.stats?.frames ?? 0`) as number;
    const frames = await Promise.all(fixtureFiles.map(rgb));
    const seen: number[] = [];
    for (const [shot, frame] of [[1, 0], [2, 4]] as const) {
      current = frame;
      // Wait for frames painted after the switch, so the screenshot shows the new one.
      const before = await painted();
      await until(
        async () => await painted() > before + 5,
        "frames painted after the switch",
        10_000,
        100,
      );
      const file = join(dir.path, `shot${shot}.png`);
      const { data } = await page.send("Page.captureScreenshot", { format: "png" });
      writeFileSync(file, Buffer.from(data as string, "base64"));
      const match = whichFrame(await rgb(file), frames);
      assert.ok(match.error < 8, `screenshot ${shot} shows a fixture frame (error ${match.error})`);
      seen.push(match.index);
      console.log(
        `# screenshot ${shot}: frame ${match.index + 1}, error ${match.error.toFixed(2)}`,
      );
    }
    assert.deepEqual(seen, [0, 4], "each screenshot shows the frame being published then");

    const state = await page.evaluate(`(() => {
      const view = document.querySelector("mjpeg-view");
      return { token: view.getAttribute("token"), width: view.stats.width,
        fps: document.querySelector("[data-out=fps]").textContent,
        viewers: document.querySelector("[data-out=viewers]").textContent,
        snapshot: document.querySelector("a[data-snapshot]").href };
    })()`) as { token: string; width: number; fps: string; viewers: string; snapshot: string };
    assert.equal(state.token, TOKEN, "the page hands its ?token= to the view");
    assert.equal(state.width, 320);
    // The publisher shares this process with the pixel search, so only check the figure is live.
    const fps = Number(state.fps);
    assert.ok(fps > 0 && fps < 40, `the page shows the view's fps, got ${state.fps}`);
    assert.equal(state.viewers, "1");
    assert.match(state.snapshot, /snapshot\.jpg\?token=browser-test-token$/);
  });

  it("drops the stream while the tab is hidden, takes it up when shown, and says when it reconnects", async (t) => {
    if (!runsOn(t, "node", "the viewer page in Chromium")) return;
    if (!requireTools(t, "chromium")) return;
    await using stack = await startStack({ fps: 30, frames: fixtureFrames.slice(0, 1) });
    const { hub, server } = stack;
    await using page = await openPage(`${server.url}/`);
    await until(() => hub.stats.viewers === 1, "the page to open the stream");
    await until(
      async () =>
        Number(await page.evaluate(`document.querySelector("mjpeg-view").stats?.width`)) === 320,
      "the view to paint at the frame's size",
    );
    // Another tab in front hides this one.
    const { targetId } = await page.send("Target.createTarget", { url: "about:blank" });
    await until(() => hub.stats.viewers === 0, "hidden: the stream to be closed");
    await page.send("Target.closeTarget", { targetId });
    await until(() => hub.stats.viewers === 1, "shown again: one stream, not two");
    // The server goes away: the page says when the view tries again.
    await server.close();
    const state = await until(
      async () => {
        const text = await page.evaluate(
          `document.querySelector("[data-out=state]").textContent`,
        ) as string;
        return /reconnecting in \d+ s/.test(text) ? text : undefined;
      },
      "the page to say when it reconnects",
      10_000,
      100,
    );
    assert.match(state, /^reconnecting in \d+ s$/);
  });

  it("says when the camera is offline, since when and why, and nothing once frames come again", async (t) => {
    if (!runsOn(t, "node", "the viewer page in Chromium")) return;
    if (!requireTools(t, "chromium")) return;
    await using stack = await startStack({ hub: { keepalive: 200, offlineAfter: 500 } });
    const { hub, server } = stack;
    let live = true;
    const timer = setInterval(() => live && hub.publish(fixtureFrames[0]!), 1000 / 30);
    await using _timer = defer(() => clearInterval(timer));
    await using page = await openPage(`${server.url}/`);
    const status = `document.querySelector("[data-out=status]")`;
    /** Waits for the page's status line to pass `check`; returns it and whether it shows. */
    const shown = async (what: string, check: (text: string) => boolean) => {
      const text = await until(
        async () => {
          const text = String(await page.evaluate(`${status}?.textContent`));
          return check(text) ? { text } : undefined;
        },
        `the page to say ${what}`,
        10_000,
        100,
      );
      const display = await page.evaluate(`getComputedStyle(${status}).display`);
      return { text: text.text, visible: display !== "none" };
    };
    // Frames come: the view paints them (fps shows) and the page says nothing more.
    await until(() => hub.stats.viewers === 1, "the page to open the stream");
    await until(
      async () =>
        Number(await page.evaluate(`document.querySelector("[data-out=fps]")?.textContent`)) > 0,
      "the page's fps",
      10_000,
      100,
    );
    assert.deepEqual(await shown("nothing", (text) => text === ""), { text: "", visible: false });

    // The camera stops and its source says why.
    live = false;
    hub.reportSourceStatus({
      state: "retrying",
      lastError: "fetch failed: connect ECONNREFUSED 10.0.0.7:80",
      since: Date.now(),
    });
    const why = await shown("why", (text) => text.includes("ECONNREFUSED"));
    const since = new Date(hub.status.since).toISOString().slice(11, 19);
    assert.match(
      why.text,
      new RegExp(
        `^camera offline, retrying since ${since} UTC \\(\\d+ s\\): ` +
          "fetch failed: connect ECONNREFUSED 10\\.0\\.0\\.7:80$",
      ),
    );
    assert.equal(why.visible, true);

    // A source that says nothing: offline once offlineAfter has passed. (Not a
    // `running` report: that is a sign of life, as a polled camera's unchanged answers are.)
    hub.reportSourceStatus(undefined);
    const offline = await shown("offline", (text) => !text.includes("retrying"));
    assert.match(offline.text, new RegExp(`^camera offline since ${since} UTC \\(\\d+ s\\)$`));

    live = true;
    assert.deepEqual(await shown("nothing again", (text) => text === ""), {
      text: "",
      visible: false,
    });
  });
});
