/**
 * The short version of `npm run bench`'s memory comparison: the viewer page
 * (`<mjpeg-view>`) on a 640x480 30 fps stream in headless Chromium for a
 * minute. Every bitmap it makes is closed (counted by patching
 * `createImageBitmap` and `ImageBitmap.prototype.close` before the page's
 * scripts run), and after a warm-up neither the memory the browser allocated
 * (the anonymous and shared part of its processes' PSS) nor the page's JS
 * heap grows beyond a bound. The ten-minute run and the `<img>`
 * page beside it are in docs/benchmarks.md. It runs with the server on Node
 * only: the page is the same and the server's runtime only sends it the same
 * bytes, so a run on each runtime would spend two more CI minutes on one check.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startBrowser, until } from "./helpers/browser_view.ts";
import {
  meanBetween,
  MEMORY_FLAGS,
  type MemorySample,
  sampleMemory,
  startMemoryServer,
} from "./helpers/browser_memory.ts";
import { requireTools } from "./helpers/tools.ts";
import { runsOn } from "./helpers/runtime.ts";

const SECONDS = 60;
const INTERVAL = 5;

describe("<mjpeg-view> memory in headless Chromium", () => {
  it("closes every bitmap and stays flat for a minute at 640x480, 30 fps", async (t) => {
    if (!runsOn(t, "node", "Chromium's memory with the element")) return;
    if (!requireTools(t, "chromium")) return;
    await using stream = await startMemoryServer(30, 640, 480);
    const browser = await startBrowser(MEMORY_FLAGS);
    try {
      await browser.goto(`${stream.server.url}/`);
      assert.ok(await until(() => stream.hub.stats.viewers === 1), "the page is watching");
      const samples: MemorySample[] = [];
      const started = performance.now();
      for (let s = 0; s <= SECONDS; s += INTERVAL) {
        const wait = started + s * 1000 - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const sample = await sampleMemory(browser, s);
        samples.push(sample);
        assert.ok(
          sample.bitmapsCreated - sample.bitmapsClosed <= 1,
          `at ${s} s, ${sample.bitmapsCreated} bitmaps made and ${sample.bitmapsClosed} closed`,
        );
      }
      const end = await browser.evaluate(
        `({ ...document.querySelector("mjpeg-view").stats, created: __bitmaps.created })`,
      ) as { frames: number; openBitmaps: number; width: number; created: number };
      const last = samples.at(-1)!;
      assert.equal(end.width, 640);
      // The shared 2-core machine may not paint all 30 fps; it must paint most.
      assert.ok(end.frames > SECONDS * 15, `frames painted: ${end.frames}`);
      assert.ok(end.created >= end.frames, "a bitmap for every frame painted");
      assert.ok(end.openBitmaps <= 1);

      // Growth is measured between the minute's two windows (15-30 s and 45-60 s).
      const window = (key: "pss" | "pssAnon" | "heap") =>
        [
          meanBetween(samples, key, 15, 30),
          meanBetween(samples, key, 45, 60),
        ] as const;
      const [pss, anon, heap] = [window("pss"), window("pssAnon"), window("heap")];
      console.log(
        `# ${SECONDS} s: PSS ${pss[0].toFixed(1)} → ${
          pss[1].toFixed(1)
        } MiB over ${last.processes} ` +
          `processes (anonymous and shared ${anon[0].toFixed(1)} → ${anon[1].toFixed(1)} MiB), ` +
          `JS heap ${heap[0].toFixed(2)} → ${heap[1].toFixed(2)} MiB, ${end.frames} frames, ` +
          `${last.bitmapsCreated} bitmaps made, ${last.bitmapsClosed} closed`,
      );
      console.log(`# PSS every ${INTERVAL} s: ${samples.map((s) => s.pss.toFixed(0)).join(" ")}`);
      // A leak of one 640x480 bitmap per frame would add ~1.2 MiB a frame:
      // gigabytes in this minute. The bound leaves room for the noise of a
      // short run on a busy machine, not for a leak. It is on the memory the
      // browser allocated; the file-backed rest of PSS moves whenever another
      // Chromium on the machine starts or stops (reported, not asserted).
      assert.ok(anon[1] < anon[0] * 1.1, `anonymous PSS grew from ${anon[0]} to ${anon[1]} MiB`);
      assert.ok(heap[1] < heap[0] * 1.1 + 0.25, `JS heap grew from ${heap[0]} to ${heap[1]} MiB`);
    } finally {
      await browser.close();
    }
  });
});
