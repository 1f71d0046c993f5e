/**
 * Fault injection for sources: a scripted fake rpicam-vid crashes 20 times,
 * hangs (also ignoring SIGINT), writes garbage between and inside JPEGs, and
 * exits at start every time. Throughout, a viewer on the real server (FrameHub
 * → Hono app → serve() on 127.0.0.1) keeps its one connection and gets the
 * camera's frames byte for byte; restarts back off and reset after a good
 * run; no process is left behind. Set RELIABILITY_FIGURES=1 to print the
 * figures the README quotes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import process from "node:process";
import { type CameraOptions, cameraSource } from "../src/sources/camera.ts";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";
import { jpegLength } from "../src/wire/jpeg.ts";
import { defer } from "./helpers/dispose.ts";
import { FakeCamera } from "./helpers/fake_camera.ts";
import { sha256 } from "./helpers/hash.ts";
import { labelledJpeg } from "./helpers/jpeg.ts";
import { runningInGroup } from "./helpers/processes.ts";
import { startStack } from "./helpers/stack.ts";
import { median } from "./helpers/statistics.ts";
import { background } from "./helpers/task.ts";
import { type Seen, Viewer } from "./helpers/viewers.ts";
import { sleep, until } from "./helpers/wait.ts";
import { garbageStream } from "./helpers/reliability_sources_garbage.ts";

function figures(name: string, values: Record<string, unknown>): void {
  if (process.env.RELIABILITY_FIGURES) console.log(`figures ${name}: ${JSON.stringify(values)}`);
}

function camera(cam: FakeCamera, log: string[], options: CameraOptions) {
  return cameraSource({
    programs: [cam.program],
    width: 320,
    height: 240,
    fps: 30,
    stopGrace: 300,
    log: (line) => log.push(line),
    ...options,
  });
}

/**
 * The real server stack fed by `cam`'s source, and a viewer that connected
 * before its first frame. close() closes the viewer, then the stack (and so
 * the camera's processes); disposal does that too, and closes the hub.
 */
async function watchCamera(cam: FakeCamera, log: string[], options: CameraOptions) {
  const stack = await startStack();
  const viewer = new Viewer(stack.server.url);
  const close = async () => {
    await viewer.close();
    await stack.close();
  };
  const watched = {
    stack,
    viewer,
    close,
    async [Symbol.asyncDispose]() {
      await close();
      await stack[Symbol.asyncDispose]();
    },
  };
  try {
    assert.equal(await viewer.status, 200);
  } catch (error) {
    await watched[Symbol.asyncDispose]();
    throw error;
  }
  void stack.feed(camera(cam, log, options));
  return watched;
}

/** Plan lines writing `count` labelled frames `r<run>f<j>` about 30 fps apart. */
function frameOps(cam: FakeCamera, run: number | string, count: number): string[] {
  const ops: string[] = [];
  for (let j = 0; j < count; j++) ops.push(`write ${cam.jpeg(`r${run}f${j}`, j)}`, "sleep 0.03");
  return ops;
}

function labels(cam: FakeCamera, seen: Seen[]): string[] {
  return seen.map((s) => cam.labels.get(s.hash) ?? `unknown ${s.hash.slice(0, 12)}`);
}

/** The restart delays the source logged, in order. */
function restartDelays(log: string[]): number[] {
  return log.flatMap((l) => {
    const m = / source restarted: .* in (\d+) ms$/.exec(l);
    return m ? [Number(m[1])] : [];
  });
}

/** Arrival time at `viewer` of the first frame whose label starts with `prefix`. */
function firstArrival(cam: FakeCamera, viewer: Viewer, prefix: string): number | undefined {
  return viewer.frames.find((s) => cam.labels.get(s.hash)?.startsWith(prefix))?.at;
}

function assertNoProcessLeft(cam: FakeCamera): void {
  const runs = cam.runs();
  assert.ok(runs.length > 0, "the fake camera ran");
  for (const run of runs) {
    assert.deepEqual(runningInGroup(run.pid), [], `run ${run.k}'s process group is gone`);
  }
}

/** Labels are r<run>f<frame>; each must come after the one before it. */
function assertInOrder(seen: string[]): void {
  const key = (l: string) => l.match(/^r(\d+)f(\d+)$/)!.slice(1).map(Number) as [number, number];
  for (let i = 1; i < seen.length; i++) {
    const [r0, f0] = key(seen[i - 1]!);
    const [r1, f1] = key(seen[i]!);
    assert.ok(r1 > r0 || (r1 === r0 && f1 > f0), `${seen[i]} came after ${seen[i - 1]}`);
  }
}

describe("fault injection for the camera source, with a viewer on the real server", () => {
  it("survives 20 crashes: the viewer keeps its connection and gets every run's frames byte-exact", async () => {
    const CRASHES = 20;
    const PER_RUN = 4;
    using cam = new FakeCamera();
    const log: string[] = [];
    const expected: string[] = [];
    for (let k = 0; k <= CRASHES; k++) {
      const ops = frameOps(cam, k, PER_RUN);
      for (let j = 0; j < PER_RUN; j++) expected.push(`r${k}f${j}`);
      cam.plan(k, k < CRASHES ? [...ops, `stderr sensor timeout in run ${k}`, "exit 3"] : ops);
    }
    await using watched = await watchCamera(cam, log, {
      restart: { initialDelay: 10, maxDelay: 80 },
    });
    const { stack, viewer } = watched;
    const last = `r${CRASHES}f${PER_RUN - 1}`;
    await viewer.until(
      (f) => labels(cam, f).includes(last),
      () =>
        `the viewer to get ${last}; it has ${labels(cam, viewer.frames).slice(-3)}; log:\n${
          log.slice(-3).join("\n")
        }`,
      30_000,
    );
    assert.equal(viewer.endedEarly, undefined, "the viewer's one connection stayed open");
    // The source handed on every frame the camera wrote, in order, byte-exact.
    assert.deepEqual(labels(cam, stack.published), expected);
    // The viewer got only those frames, in order, and some from every run.
    const seen = labels(cam, viewer.frames);
    assertInOrder(seen);
    for (let k = 0; k <= CRASHES; k++) {
      assert.ok(seen.some((l) => l.startsWith(`r${k}f`)), `the viewer got frames of run ${k}`);
    }
    assert.ok(seen.length >= expected.length * 0.75, `${seen.length} of ${expected.length}`);

    const runs = cam.runs();
    assert.equal(runs.length, CRASHES + 1, "one run per crash, plus the last");
    const delays = restartDelays(log);
    assert.deepEqual(
      delays.slice(0, CRASHES),
      Array.from({ length: CRASHES }, (_, k) => Math.min(10 * 2 ** k, 80)),
      "the delay doubles from 10 ms up to 80 ms",
    );
    // On a starved host the last run can be restarted once more (its stall
    // watchdog fires) just as the test stops it; that restart too waits 80 ms.
    assert.ok(delays.length <= CRASHES + 1, `${delays.length} restarts for ${CRASHES} crashes`);
    assert.ok(delays.slice(CRASHES).every((d) => d === 80), `extra restart delays ${delays}`);
    const restarts = log.filter((l) => l.includes("source restarted"));
    restarts.forEach((line, k) => {
      assert.match(line, /exited \(status 3\) after 4 frames/);
      assert.ok(line.includes(`"sensor timeout in run ${k}"`), line);
    });
    const recoveries: number[] = [];
    const gaps: number[] = [];
    for (let k = 0; k < CRASHES; k++) {
      const crashed = runs[k]!.exitedAt!;
      const gap = runs[k + 1]!.startedAt - crashed;
      // ms stamps from `date` are truncated: allow 2 ms.
      assert.ok(gap >= delays[k]! - 2, `restart ${k} waited ${gap} ms, at least ${delays[k]}`);
      // Upper bound only rules out a hang: spawning a process on a loaded
      // 2-core CI machine has been seen to take over a second.
      assert.ok(
        gap <= delays[k]! + 3000,
        `restart ${k} waited ${gap} ms, at most ${delays[k]! + 3000}`,
      );
      gaps.push(gap);
      const resumed = firstArrival(cam, viewer, `r${k + 1}f`)!;
      recoveries.push(resumed - crashed);
    }
    figures("crashes", {
      crashes: CRASHES,
      delays,
      medianGapOverDelayMs: median(gaps.map((g, k) => g - delays[k]!)),
      recoveryMs: { median: median(recoveries), max: Math.max(...recoveries) },
      recoveryOverDelayMs: {
        median: median(recoveries.map((r, k) => r - delays[k]!)),
        max: Math.max(...recoveries.map((r, k) => r - delays[k]!)),
      },
      framesWritten: expected.length,
      framesAtViewer: seen.length,
    });
    await watched.close();
    assertNoProcessLeft(cam);
  });

  it("restarts a camera that hangs (alive, silent), even one that ignores SIGINT; new viewers get the last frame meanwhile", async () => {
    const STALL = 800;
    using cam = new FakeCamera();
    const log: string[] = [];
    cam.plan(0, [...frameOps(cam, 0, 6), "hang"]);
    cam.plan(1, [...frameOps(cam, 1, 6), "hang-hard"]);
    cam.plan(2, [...frameOps(cam, 2, 6), "hang"]);
    await using watched = await watchCamera(cam, log, {
      restart: { initialDelay: 10, maxDelay: 80 },
      stallTimeout: STALL,
    });
    const { stack, viewer } = watched;
    await viewer.until((f) => labels(cam, f).includes("r0f5"), "the viewer to get r0f5", 10_000);
    // The camera hangs now. A viewer joining gets the last frame at once, and so does a snapshot.
    await using late = new Viewer(stack.server.url);
    await late.until((f) => f.length > 0, "the late viewer's first frame", 2000);
    const snapshot = new Uint8Array(
      await (await fetch(`${stack.server.url}/snapshot.jpg`)).arrayBuffer(),
    );
    const restartedBefore = (at: number) =>
      stack.published.some((s) => cam.labels.get(s.hash)?.startsWith("r1") && s.at <= at);
    if (!restartedBefore(late.frames[0]!.at)) {
      assert.equal(labels(cam, late.frames)[0], "r0f5", "the late viewer's first frame");
      assert.equal(sha256(snapshot), sha256(labelledJpeg("r0f5", 5)), "the snapshot");
    }
    await viewer.until(
      (f) => labels(cam, f).includes("r2f5"),
      () => `the viewer to get r2f5; log:\n${log.join("\n")}`,
      15_000,
    );
    assert.equal(viewer.endedEarly, undefined, "the viewer's one connection stayed open");
    assert.equal(late.endedEarly, undefined);
    assertInOrder(labels(cam, viewer.frames));
    assert.deepEqual(labels(cam, stack.published), [
      ...Array.from({ length: 6 }, (_, j) => `r0f${j}`),
      ...Array.from({ length: 6 }, (_, j) => `r1f${j}`),
      ...Array.from({ length: 6 }, (_, j) => `r2f${j}`),
    ]);
    const runs = cam.runs();
    assert.equal(runs.length, 3);
    const stalls = log.filter((l) => l.includes(`no frame for ${STALL} ms from pid`));
    assert.equal(stalls.length, 2, log.join("\n"));
    assert.ok(stalls[0]!.includes(`pid ${runs[0]!.pid}`), stalls[0]!);
    assert.ok(stalls[1]!.includes(`pid ${runs[1]!.pid}`), stalls[1]!);
    const restarts = log.filter((l) => l.includes("source restarted"));
    assert.match(
      restarts[0]!,
      /stalled \(no frame for 800 ms\), stopped \(signal SIG\w+\) after 6/,
    );
    assert.match(
      restarts[1]!,
      /stalled \(no frame for 800 ms\), stopped \(signal SIG\w+\) after 6/,
    );
    // From the last frame before the hang to the first after, as the source
    // published them (bounds), and as the viewer got them (figures).
    const gap = (seen: Seen[], from: string, to: string) =>
      seen.find((s) => cam.labels.get(s.hash) === to)!.at -
      seen.find((s) => cam.labels.get(s.hash) === from)!.at;
    const outage1 = gap(viewer.frames, "r0f5", "r1f0");
    const outage2 = gap(viewer.frames, "r1f5", "r2f0");
    const hang1 = gap(stack.published, "r0f5", "r1f0");
    const hang2 = gap(stack.published, "r1f5", "r2f0");
    assert.ok(hang1 >= STALL && hang1 <= STALL + 2500, `first hang: ${hang1} ms`);
    // SIGINT is ignored: the stop waits stopGrace (300 ms) before SIGKILL.
    assert.ok(hang2 >= STALL + 300 && hang2 <= STALL + 3000, `second hang: ${hang2} ms`);
    figures("hangs", { stallTimeout: STALL, outage1, outage2, stopGrace: 300 });
    await late.close();
    await watched.close();
    assertNoProcessLeft(cam);
  });

  it("resyncs on garbage between and inside JPEGs: good frames still reach the viewer", async () => {
    using cam = new FakeCamera();
    const log: string[] = [];
    const { items, good } = garbageStream(cam, 40);
    cam.plan(0, [...items.flatMap((name) => [`write ${name}`, "sleep 0.02"]), "hang"]);
    const written = Buffer.concat(items.map((name) => cam.bytes(name)));
    // What the decoder makes of these bytes in one piece: the pipe's chunking must not matter.
    const oracle: string[] = [];
    const decoded = new Blob([new Uint8Array(written)]).stream()
      .pipeThrough(new MjpegDecoderStream({ contentType: "image/jpeg" }));
    for await (const frame of decoded) oracle.push(sha256(frame.data));
    await using watched = await watchCamera(cam, log, { stallTimeout: 10_000 });
    const { stack, viewer } = watched;
    const last = good[good.length - 1]!;
    await viewer.until(
      (f) => labels(cam, f).includes(last),
      () => `the viewer to get ${last}; log:\n${log.join("\n")}`,
      15_000,
    );
    assert.equal(viewer.endedEarly, undefined);
    assert.equal(cam.runs().length, 1, "garbage is no reason to restart the camera");
    assert.deepEqual(stack.published.map((s) => s.hash), oracle);
    const published = labels(cam, stack.published);
    const delivered = good.filter((g) => published.includes(g));
    // A good frame written right after a good frame that got through always gets through.
    for (let i = 1; i < items.length; i++) {
      const [before, now] = [cam.labelOf(items[i - 1]!), cam.labelOf(items[i]!)];
      if (before?.startsWith("g") && now?.startsWith("g") && published.includes(before)) {
        assert.ok(published.includes(now), `${now} after ${before}`);
      }
    }
    assert.ok(delivered.length >= good.length * 0.75, `${delivered.length} of ${good.length}`);
    // Whatever else came through is a complete JPEG the camera really wrote.
    for (const frame of stack.published) {
      if (cam.labels.get(frame.hash)?.startsWith("g")) continue;
      assert.equal(jpegLength(frame.data), frame.data.length, "a complete JPEG");
      assert.ok(written.indexOf(Buffer.from(frame.data)) >= 0, "bytes the camera wrote");
    }
    // The viewer got published frames only, in order, including every good one it saw.
    const order = new Map(stack.published.map((s, i) => [s.hash, i]));
    const positions = viewer.frames.map((s) => order.get(s.hash));
    assert.ok(positions.every((p, i) => p !== undefined && (i === 0 || p > positions[i - 1]!)));
    figures("garbage", {
      goodWritten: good.length,
      badItems: items.length - good.length,
      goodPublished: delivered.length,
      otherPublished: stack.published.length - delivered.length,
      atViewer: viewer.frames.length,
    });
    await watched.close();
    assertNoProcessLeft(cam);
  });

  it("backs off a camera that exits at start (no busy loop), keeps the last frame on offer, resumes, and resets the delay after a good run", async () => {
    const MIN = 20;
    const MAX = 320;
    const WINDOW = 3000;
    using cam = new FakeCamera();
    const log: string[] = [];
    cam.plan(0, [...frameOps(cam, 0, 5), "stderr lost the sensor", "exit 1"]);
    // A failure the camera source does not name (a missing camera is logged once and
    // retried quietly: cli_cameras.test.ts), so every restart is logged with its delay.
    cam.plan("default", [
      "stderr ERROR: *** failed to allocate capture buffers for stream ***",
      "exit 1",
    ]);
    await using watched = await watchCamera(cam, log, {
      restart: { initialDelay: MIN, maxDelay: MAX },
      healthyRun: 700,
    });
    const { stack, viewer } = watched;
    await until(() => cam.runs()[0]?.exitedAt !== undefined, "the first run to exit", 10_000);
    const t0 = cam.runs()[0]!.exitedAt!;
    // Mid-outage: a new viewer and a snapshot get the last frame, byte-exact.
    await sleep(500);
    await using late = new Viewer(stack.server.url);
    await late.until((f) => f.length > 0, "the late viewer's first frame", 2000);
    assert.equal(labels(cam, late.frames)[0], "r0f4");
    const snapshot = await fetch(`${stack.server.url}/snapshot.jpg`);
    assert.equal(snapshot.status, 200);
    assert.equal(
      sha256(new Uint8Array(await snapshot.arrayBuffer())),
      sha256(cam.bytes("r0f4.jpg")),
    );
    await sleep(t0 + WINDOW - Date.now());
    const inWindow = cam.runs().filter((r) => r.startedAt > t0 && r.startedAt <= t0 + WINDOW);
    // Even if starting took no time, the delays allow at most this many starts.
    let bound = 0;
    for (let sum = 0, d = MIN; sum + d <= WINDOW; sum += d, d = Math.min(d * 2, MAX)) bound++;
    assert.ok(
      inWindow.length <= bound,
      `${inWindow.length} starts in ${WINDOW} ms, at most ${bound}`,
    );
    assert.ok(inWindow.length >= 5, `${inWindow.length} starts in ${WINDOW} ms: it keeps trying`);

    // The camera comes back for a run longer than healthyRun, then fails again.
    const g = cam.runs().length + 1;
    cam.plan(g, ["stamp first", ...frameOps(cam, g, 24), "stderr lost sync", "exit 1"]);
    await viewer.until(
      (f) => labels(cam, f).includes(`r${g}f23`),
      () => `the viewer to get r${g}f23; log:\n${log.slice(-3).join("\n")}`,
      10_000,
    );
    await until(() => restartDelays(log).length >= g + 4, "four more restarts", 10_000);
    assert.equal(viewer.endedEarly, undefined, "the viewer's one connection stayed open");
    assert.equal(late.endedEarly, undefined);
    assertInOrder(labels(cam, viewer.frames));

    const delays = restartDelays(log);
    const expected = [
      ...Array.from({ length: g }, (_, k) => Math.min(MIN * 2 ** k, MAX)),
      MIN, // reset: run g was healthy
      MIN * 2,
      MIN * 4,
      MIN * 8,
    ];
    assert.deepEqual(delays.slice(0, g + 4), expected);
    const restarts = log.filter((l) => l.includes("source restarted"));
    assert.match(
      restarts[0]!,
      /exited \(status 1\) after 5 frames; last stderr lines: "lost the sensor"/,
    );
    for (const line of restarts.slice(1, g)) {
      assert.match(
        line,
        /exited \(status 1\) after 0 frames; last stderr lines: "ERROR: \*\*\* failed to allocate capture buffers for stream \*\*\*"/,
      );
    }
    assert.match(
      restarts[g]!,
      /exited \(status 1\) after 24 frames; last stderr lines: "lost sync"/,
    );
    const runs = cam.runs();
    const gaps: number[] = [];
    for (let k = 0; k < g + 4 && runs[k + 1]; k++) {
      const gap = runs[k + 1]!.startedAt - runs[k]!.exitedAt!;
      assert.ok(gap >= expected[k]! - 2, `restart ${k}: ${gap} ms, at least ${expected[k]}`);
      assert.ok(gap <= expected[k]! + 1000, `restart ${k}: ${gap} ms`);
      gaps.push(gap);
    }
    const firstWrite = cam.stamp("first", g)!;
    const resumed = firstArrival(cam, viewer, `r${g}f`)!;
    figures("exit at start", {
      startsIn3s: inWindow.length,
      bound,
      delays: delays.slice(0, g + 4),
      gaps,
      cameraBackToViewerMs: resumed - firstWrite,
      outageMs: resumed - t0,
    });
    await late.close();
    await watched.close();
    assertNoProcessLeft(cam);
  });

  it("grows the delay from a first delay of 0 too, and rejects a policy that would spin", async () => {
    assert.throws(
      () => cameraSource({ restart: { maxDelay: 0 } }),
      /restart\.maxDelay: expected maxDelay between 1 and 600000 milliseconds/,
    );
    assert.throws(
      () => cameraSource({ restart: { initialDelay: 500, maxDelay: 100 } }),
      /restart\.maxDelay: expected maxDelay >= initialDelay \(500\), got 100$/,
    );
    assert.throws(
      () => cameraSource({ stallTimeout: -1 }),
      /stallTimeout: expected stallTimeout between 0 and 600000 milliseconds/,
    );
    assert.throws(
      () => cameraSource({ healthyRun: 2 ** 31 }),
      /healthyRun: expected healthyRun between 0 and 86400000 milliseconds/,
    );
    assert.throws(() => cameraSource({ restart: "always" } as never), /restart/);
    using cam = new FakeCamera();
    cam.plan("default", ["stderr no camera", "exit 1"]);
    const log: string[] = [];
    {
      await using _running = background(async (signal) => {
        const source = camera(cam, log, { restart: { initialDelay: 0, maxDelay: 40 } });
        for await (const _ of source.frames(signal)) { /* no frames come */ }
      });
      await until(
        () => restartDelays(log).length >= 9,
        () => `9 restarts; log:\n${log.join("\n")}`,
        10_000,
      );
    }
    assert.deepEqual(restartDelays(log).slice(0, 9), [0, 1, 2, 4, 8, 16, 32, 40, 40]);
    assertNoProcessLeft(cam);
  });

  it("does not take a slow consumer for a hung camera: the stall clock runs only while waiting", async () => {
    using cam = new FakeCamera();
    cam.plan(0, [...frameOps(cam, 0, 3), "hang"]);
    const log: string[] = [];
    const got: string[] = [];
    const source = camera(cam, log, { stallTimeout: 300, restart: { initialDelay: 10 } });
    const started = Date.now();
    {
      const controller = new AbortController();
      await using _stop = defer(() => controller.abort());
      for await (const frame of source.frames(controller.signal)) {
        got.push(cam.labels.get(sha256(frame.data))!);
        if (got.length === 1) await sleep(900); // three stall timeouts holding one frame
        if (got.length === 3) break;
      }
    }
    assert.deepEqual(got, ["r0f0", "r0f1", "r0f2"]);
    assert.ok(Date.now() - started >= 900);
    assert.equal(cam.runs().length, 1, "no restart while the consumer held a frame");
    assert.deepEqual(log.filter((l) => l.includes("no frame for")), []);
    assertNoProcessLeft(cam);
  });
});
