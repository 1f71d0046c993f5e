/**
 * `<mjpeg-view>` against a plain `<img>`, side by side in one run: two
 * headless Chromiums, one on the viewer page (the element), one on a page
 * with only `<img src="stream.mjpg">`, both watching the same 640x480 30 fps
 * stream for `--duration` seconds (10 minutes by default). Every `--interval`
 * seconds each browser's total PSS (all its processes, from
 * /proc/<pid>/smaps_rollup) and its page's JS heap after a forced collection
 * are sampled; the table gives them per minute and the growth from minute 2
 * to the end (means over 30 s windows). Exits 1 when the element's PSS or
 * heap grew 2 % or more, or a bitmap was left open.
 *
 *   bun bench/browser_memory.ts [--duration=600] [--interval=10]
 */
import process from "node:process";
import { startBrowser, until } from "../tests/helpers/browser_view.ts";
import {
  meanBetween,
  MEMORY_FLAGS,
  type MemorySample,
  sampleMemory,
  startMemoryServer,
} from "../tests/helpers/browser_memory.ts";

const flags = new Map(
  process.argv.slice(2).map((a) => {
    const match = /^--(duration|interval)=(\d+)$/.exec(a);
    if (!match) {
      console.error(
        `browser_memory: expected --duration=S or --interval=S, got ${JSON.stringify(a)}`,
      );
      process.exit(2);
    }
    return [match[1]!, Number(match[2])] as const;
  }),
);
const duration = flags.get("duration") ?? 600;
const interval = flags.get("interval") ?? 10;
if (duration < 180) {
  console.error(
    `browser_memory: expected --duration of at least 180 s (minute 2 to the end), got ${duration}`,
  );
  process.exit(2);
}

await using stream = await startMemoryServer(30, 640, 480);
const view = await startBrowser(MEMORY_FLAGS);
const img = await startBrowser(MEMORY_FLAGS);
try {
  await view.goto(`${stream.server.url}/`);
  await img.send("Page.navigate", { url: `${stream.server.url}/img.html` });
  if (!await until(() => stream.hub.stats.viewers === 2, 20_000)) {
    throw new Error(`expected both pages watching, got ${stream.hub.stats.viewers} viewers`);
  }
  const samples = { view: [] as MemorySample[], img: [] as MemorySample[] };
  const started = performance.now();
  for (let t = 0; t <= duration; t += interval) {
    const wait = started + t * 1000 - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const [v, i] = await Promise.all([sampleMemory(view, t), sampleMemory(img, t)]);
    samples.view.push(v);
    samples.img.push(i);
    if (t % 60 === 0) {
      console.error(
        `# ${t} s: view PSS ${v.pss.toFixed(0)} MiB heap ${v.heap.toFixed(2)} MiB; ` +
          `img PSS ${i.pss.toFixed(0)} MiB heap ${i.heap.toFixed(2)} MiB`,
      );
    }
  }
  const stats = await view.evaluate(`document.querySelector("mjpeg-view").stats`) as {
    frames: number;
    openBitmaps: number;
    reconnects: number;
  };
  const viewers = stream.hub.stats.viewerStats;
  const last = samples.view.at(-1)!;
  const growth = (list: MemorySample[], key: "pss" | "pssAnon" | "heap") => {
    const from = meanBetween(list, key, 105, 135);
    const to = meanBetween(list, key, duration - 30, duration);
    return { from, to, percent: (to / from - 1) * 100 };
  };
  const row = (name: string, list: MemorySample[]) => {
    const pss = growth(list, "pss");
    const anon = growth(list, "pssAnon");
    const heap = growth(list, "heap");
    const minutes = list.filter((s) => s.t % 60 === 0 && s.t > 0).map((s) => s.pss.toFixed(0));
    const change = (g: ReturnType<typeof growth>, digits: number) =>
      `${g.from.toFixed(digits)} → ${g.to.toFixed(digits)} (${sign(g.percent)} %)`;
    return {
      line: `| ${name} | ${list[0]!.processes} | ${minutes.join(" · ")} | ${change(pss, 0)} | ${
        change(anon, 0)
      } | ${change(heap, 2)} |`,
      pss,
      anon,
      heap,
    };
  };
  const v = row("viewer page, `<mjpeg-view>`", samples.view);
  const i = row("plain `<img>` page", samples.img);
  console.log(
    `\n${duration} s at ${stream.fps} fps, 640x480 test pattern (~${
      Math.round(stream.frameSize / 1024)
    } KiB a frame), Chromium ${await view.evaluate(
      "navigator.userAgent.match(/Chrome\\/([\\d.]+)/)[1]",
    )}, ` +
      `both pages in the same run; PSS summed over each browser's processes (anonymous + shared: ` +
      `Pss_Anon + Pss_Shmem, without the file-backed pages); JS heap after a forced GC\n`,
  );
  console.log(
    "| page | processes | PSS per minute, MiB | PSS minute 2 → end, MiB | of it anonymous + shared | JS heap minute 2 → end, MiB |",
  );
  console.log("| --- | --- | --- | --- | --- | --- |");
  console.log(v.line);
  console.log(i.line);
  console.log(
    `\nthe element painted ${stats.frames} frames (${(stats.frames / duration).toFixed(1)} fps), ` +
      `made ${last.bitmapsCreated} ImageBitmaps and closed ${last.bitmapsClosed} ` +
      `(${stats.openBitmaps} open at the end), reconnected ${stats.reconnects} times; ` +
      `the server sent ${
        viewers.map((s) => `${(s.framesSent / duration).toFixed(1)} fps`).join(" and ")
      } ` +
      `to the two pages`,
  );
  const failures: string[] = [];
  if (v.pss.percent >= 2) {
    failures.push(`the element page's PSS grew ${v.pss.percent.toFixed(2)} %`);
  }
  if (v.heap.percent >= 2) failures.push(`its JS heap grew ${v.heap.percent.toFixed(2)} %`);
  if (last.bitmapsCreated - last.bitmapsClosed > 1) failures.push("bitmaps were left open");
  if (failures.length > 0) {
    console.error(`FAIL: ${failures.join("; ")}`);
    process.exitCode = 1;
  }
} finally {
  await view.close();
  await img.close();
}

function sign(percent: number): string {
  return `${percent >= 0 ? "+" : ""}${percent.toFixed(2)}`;
}
