/**
 * Cameras on demand, proven with the stand-in rpicam-vid
 * (helpers/sources_fake_rpicam.sh): it leaves a run.<pid> file per start, so
 * the test counts starts by the files and running cameras by /proc. No
 * process while nobody watches; exactly one for several viewers who arrive
 * together, each of whom gets the camera's first frame; stopped a set time
 * after the last viewer leaves; started again by the next viewer or by a
 * snapshot, which waits for the first frame.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { StreamStats } from "../src/hono/stream_stats.ts";
import { assertUsageErrors, startServe, stopCleanly, writeConfig } from "./helpers/cli_run.ts";
import { type FakeCameraDir, fakeCameraDir } from "./helpers/fake_camera.ts";
import { fixturePath, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { waitForLog } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";
import { Viewer } from "./helpers/viewers.ts";
import { sleep, until } from "./helpers/wait.ts";

async function stats(url: string): Promise<StreamStats> {
  return await (await fetch(`${url}/stats?summary=1`)).json();
}

/** The stand-in camera, sending the fixtures in order (001 first) at the rate asked. */
function camera(): FakeCameraDir {
  return fakeCameraDir(["rpicam-vid"], { FAKE_CAMERA_FRAMES: fixturePath("frames") });
}

/** Starts of the camera so far, and how many still run. */
function cameras(dir: FakeCameraDir): { started: number; running: number } {
  return { started: dir.runs().length, running: dir.running() };
}

/** Connects a viewer and waits for its first part. */
async function watching(url: string): Promise<Viewer> {
  const viewer = new Viewer(url);
  await viewer.until((frames) => frames.length > 0, `a first frame from ${url}`, 15_000);
  return viewer;
}

describe("mjpeg serve --on-demand", () => {
  it("runs the camera only while watched: none idle, one for many, stopped after the delay, started again", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    using dir = camera();
    await using server = await startServe(
      [
        "--camera",
        "--on-demand",
        "2",
        "--width",
        "320",
        "--height",
        "240",
        // Slow enough that every viewer's first part can be the camera's first frame.
        "--fps",
        "2",
        "--stats-interval",
        "0",
      ],
      { env: dir.env },
    );
    const { url } = server;
    await waitForLog(server, /stops 2 s after the last viewer/);
    await sleep(1500);
    assert.deepEqual(cameras(dir), { started: 0, running: 0 }, "no camera while idle");
    assert.equal((await stats(url)).status.state, "stopped");

    // Five viewers at once start one camera, and each gets the first frame it
    // makes (fixture 001, byte-exact), not a card or a keepalive.
    const viewers = await Promise.all(Array.from({ length: 5 }, () => watching(url)));
    for (const v of viewers) assert.equal(v.frames[0]!.hash, fixtureSums[0], "its first frame");
    assert.deepEqual(cameras(dir), { started: 1, running: 1 });
    await waitForLog(server, /source starting/);
    assert.equal((await stats(url)).status.state, "running");

    // Everyone leaves: the camera runs on for 2 s, then stops.
    const left = Date.now();
    await Promise.all(viewers.map((v) => v.close()));
    await sleep(1000);
    assert.equal(cameras(dir).running, 1, "still running within the delay");
    await until(() => cameras(dir).running === 0, "the camera stopped", 10_000, 50);
    const stoppedAfter = Date.now() - left;
    assert.ok(stoppedAfter >= 1900 && stoppedAfter < 6000, `stopped after ${stoppedAfter} ms`);
    await waitForLog(server, /source stopped: nobody watches/);
    assert.equal((await stats(url)).status.state, "stopped");

    // A snapshot starts it again and waits for its first frame, never the last
    // one from before the stop.
    const shot = await fetch(`${url}/snapshot.jpg`);
    assert.equal(shot.status, 200);
    assert.equal(sha256(new Uint8Array(await shot.arrayBuffer())), fixtureSums[0]);
    assert.deepEqual(cameras(dir), { started: 2, running: 1 });
    await until(() => cameras(dir).running === 0, "stopped after the snapshot", 10_000, 50);

    // And the next viewer starts it once more.
    const again = await watching(url);
    assert.equal(again.frames[0]!.hash, fixtureSums[0], "a fresh first frame, not a stale one");
    assert.ok(
      again.marked.every((m) => m.at >= again.frames[0]!.at),
      "no repeat of an old frame before it",
    );
    assert.deepEqual(cameras(dir), { started: 3, running: 1 });
    await again.close();
    await stopCleanly(server, "SIGTERM");
    assert.equal(cameras(dir).running, 0, "no camera left behind");
  });

  it("takes onDemand per stream from a config file: the camera waits for a viewer, the pattern runs", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    using dir = camera();
    const config = writeConfig(dir.path, {
      keepalive: 0.5,
      snapshotMaxAge: 2,
      streams: {
        pattern: { type: "pattern", fps: 5 },
        cam: { type: "camera", width: 320, height: 240, fps: 2, onDemand: 1 },
      },
    });
    await using server = await startServe(["--config", config, "--stats-interval", "0"], {
      env: dir.env,
    });
    const { url } = server;
    await waitForLog(server, /stream cam: .*on demand.*\(runs while watched, stops 1 s after/);
    await waitForLog(server, /\[pattern\] camera online/);
    assert.equal((await stats(`${url}/pattern`)).status.state, "running");
    assert.equal((await stats(`${url}/cam`)).status.state, "stopped");
    assert.deepEqual(cameras(dir), { started: 0, running: 0 }, "no camera while idle");

    const viewer = await watching(`${url}/cam`);
    assert.equal(viewer.frames[0]!.hash, fixtureSums[0]);
    assert.deepEqual(cameras(dir), { started: 1, running: 1 });
    await viewer.close();
    await until(() => cameras(dir).running === 0, "the camera stopped", 10_000, 50);
    assert.equal((await stats(`${url}/pattern`)).status.state, "running", "the pattern runs on");
    await stopCleanly(server, "SIGTERM");
  });

  it("refuses a bad onDemand or outage setting in a config file, naming it", async () => {
    using dir = tempDir("on-demand-bad");
    const config = (name: string, settings: object) => writeConfig(dir.path, settings, name);
    await assertUsageErrors(["serve", "--port", "0", "--config"], [
      [
        [config("a.json", { streams: { cam: { type: "pattern", onDemand: "yes" } } })],
        /streams\.cam\.onDemand: expected true \(stop 10 s after the last viewer\), false, or seconds/,
      ],
      [
        [config("b.json", { keepalive: 0.05, streams: { cam: { type: "pattern" } } })],
        /keepalive: expected 0 \(off\) or at least 0\.1 seconds/,
      ],
      [
        [config("c.json", { streams: { cam: { type: "pattern", offlineAfter: -1 } } })],
        /streams\.cam\.offlineAfter: /,
      ],
    ]);
  });

  it("refuses a bad --on-demand value, saying what is expected", async () => {
    await assertUsageErrors(["serve"], [
      [["--on-demand=-1"], /--on-demand: expected between 0 and 86400 seconds/],
    ]);
  });
});
