/**
 * Measuring a page's memory in headless Chromium over time, for the short
 * memory test and `npm run bench`'s ten-minute comparison: total PSS of the
 * browser's process tree (from /proc/<pid>/smaps_rollup, so memory shared
 * between its processes is counted once), the page's JS heap after a forced
 * collection (DevTools `HeapProfiler.collectGarbage`, `Runtime.getHeapUsage`),
 * and the ImageBitmaps the page made and closed. The stream is the viewer
 * page's: a hub publishing the test pattern at 640x480 and 30 fps from
 * frames rendered once up front, so encoding costs the server nothing while
 * every frame still differs from the last.
 */
import { readdirSync, readFileSync } from "node:fs";
import { Hono } from "hono";
import { FrameHub, type MjpegServer, serve } from "../../src/server/mod.ts";
import { mjpegApp } from "../../src/hono/mod.ts";
import { TestPatternRenderer } from "../../src/sources/test_pattern.ts";
import type { BrowserPage } from "./chromium.ts";
import { htmlResponse } from "./browser_view.ts";

/** One measurement of one browser. */
export interface MemorySample {
  /** Seconds since the measurement began. */
  t: number;
  /** Total PSS of the browser's processes, MiB. */
  pss: number;
  /**
   * The part of it in anonymous and shared memory (Pss_Anon + Pss_Shmem), MiB:
   * what the browser allocated. The rest is file-backed (the Chromium binary
   * and libraries), whose share moves when other Chromiums on the machine
   * start or stop.
   */
  pssAnon: number;
  /** How many processes that was. */
  processes: number;
  /** The page's JS heap in use after a forced collection, MiB. */
  heap: number;
  /** ImageBitmaps the page made and closed so far (0 for a page that makes none). */
  bitmapsCreated: number;
  bitmapsClosed: number;
}

/** The process ids of `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces and parentheses: the ppid follows the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch { /* the process ended */ }
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/**
 * Total PSS of a process tree in MiB, its anonymous and shared-memory part,
 * and how many processes it has.
 */
export function treePss(pid: number): { pss: number; pssAnon: number; processes: number } {
  let kib = 0;
  let anon = 0;
  let processes = 0;
  const field = (rollup: string, name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? 0);
  for (const member of processTree(pid)) {
    try {
      const rollup = readFileSync(`/proc/${member}/smaps_rollup`, "utf8");
      kib += field(rollup, "Pss");
      anon += field(rollup, "Pss_Anon") + field(rollup, "Pss_Shmem");
      processes++;
    } catch { /* the process ended */ }
  }
  return { pss: kib / 1024, pssAnon: anon / 1024, processes };
}

/** Measures one browser now. */
export async function sampleMemory(page: BrowserPage, t: number): Promise<MemorySample> {
  await page.send("HeapProfiler.collectGarbage");
  const heap = await page.send("Runtime.getHeapUsage") as { usedSize: number };
  const bitmaps = await page.evaluate(
    `window.__bitmaps ? [__bitmaps.created, __bitmaps.closed] : [0, 0]`,
  ) as [number, number];
  return {
    t,
    ...treePss(page.pid),
    heap: heap.usedSize / 1024 / 1024,
    bitmapsCreated: bitmaps[0],
    bitmapsClosed: bitmaps[1],
  };
}

/** The mean of a figure over the samples taken between `from` and `to` seconds. */
export function meanBetween(
  samples: MemorySample[],
  key: "pss" | "pssAnon" | "heap",
  from: number,
  to: number,
): number {
  const picked = samples.filter((s) => s.t >= from && s.t <= to).map((s) => s[key]);
  if (picked.length === 0) {
    throw new Error(`expected samples between ${from} and ${to} s, got none`);
  }
  return picked.reduce((a, b) => a + b, 0) / picked.length;
}

/**
 * Flags for a browser whose memory is measured: Chromium 156 otherwise starts
 * an on-device AI model service (~38 MiB) about three minutes in, to rate the
 * machine's performance class; naming the class skips that.
 */
export const MEMORY_FLAGS: string[] = [
  "--window-size=800,700",
  "--optimization-guide-performance-class=2",
];

/**
 * A server for the memory runs: the viewer page at `/`, a page with only a
 * `<mjpeg-view>` at `/view.html`, and one with only an `<img>` at `/img.html`.
 */
export interface MemoryServer extends AsyncDisposable {
  server: MjpegServer;
  hub: FrameHub;
  /** Frames per second published. */
  fps: number;
  /** JPEG bytes of a frame, on average. */
  frameSize: number;
}

/**
 * Starts the stream the memory runs watch: the test pattern at `width`x`height`.
 *
 * @param fps Frames per second.
 */
export async function startMemoryServer(
  fps = 30,
  width = 640,
  height = 480,
): Promise<MemoryServer> {
  const renderer = new TestPatternRenderer({ width, height });
  const now = Date.now();
  const frames = Array.from({ length: 90 }, (_, i) => renderer.render(i, now + i * 33));
  const hub = new FrameHub();
  let n = 0;
  const timer = setInterval(() => hub.publish(frames[n++ % frames.length]!), 1000 / fps);
  const outer = new Hono();
  outer.get(
    "/view.html",
    () =>
      htmlResponse(`<!doctype html><meta charset="utf-8"><title>view</title>
<script type="module" src="mjpeg-view.js"></script>
<body style="margin:0;background:#111"><mjpeg-view src="stream.mjpg"></mjpeg-view></body>`),
  );
  outer.get("/img.html", () =>
    htmlResponse(`<!doctype html><meta charset="utf-8"><title>img</title>
<body style="margin:0;background:#111"><img src="stream.mjpg" alt="camera"></body>`));
  outer.route("/", mjpegApp({ streams: hub, title: "memory" }));
  const server = await serve(outer, { port: 0, hostname: "127.0.0.1" });
  return {
    server,
    hub,
    fps,
    frameSize: Math.round(frames.reduce((sum, f) => sum + f.length, 0) / frames.length),
    async [Symbol.asyncDispose]() {
      clearInterval(timer);
      await server.close();
    },
  };
}
