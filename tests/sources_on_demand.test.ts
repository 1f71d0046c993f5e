/**
 * `pipeToHub(source, hub, signal, { onDemand })`, the API under
 * `mjpeg serve --on-demand`, with the stand-in rpicam-vid
 * (helpers/sources_fake_rpicam.sh) run by `cameraSource`: no process until a
 * viewer subscribes, one for viewers who subscribe together, each of whom
 * gets the camera's first frame, and none again once the idle time after the
 * last one has passed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { FrameHub } from "../src/server/frame_hub.ts";
import { cameraSource } from "../src/sources/camera.ts";
import { pipeToHub } from "../src/sources/source.ts";
import { testPattern } from "../src/sources/test_pattern.ts";
import { fixtures, sha256 } from "./helpers/sources_http.ts";
import { fakeCameraRuns, installFakeCamera, tempDir } from "./helpers/sources_util.ts";
import { requireTools } from "./helpers/tools.ts";

const hashes = fixtures.map(sha256);

async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`expected ${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("pipeToHub with onDemand", () => {
  it("runs the stand-in rpicam-vid only while the hub is wanted, once for viewers who come together", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const dir = tempDir("pipe-on-demand");
    installFakeCamera(dir.path, "rpicam-vid");
    const saved = { ...process.env };
    Object.assign(process.env, {
      PATH: `${dir.path}:${process.env.PATH}`,
      FAKE_CAMERA_DIR: dir.path,
      FAKE_CAMERA_FRAMES: fileURLToPath(new URL("./fixtures/frames", import.meta.url)),
    });
    const hub = new FrameHub();
    const stop = new AbortController();
    const camera = cameraSource({ width: 320, height: 240, fps: 2, log: () => {} });
    const piping = pipeToHub(camera, hub, stop.signal, { onDemand: 500 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.deepEqual(fakeCameraRuns(dir.path), { started: 0, running: 0 }, "none while idle");
      assert.equal(hub.status.state, "stopped");

      const viewers = [hub.subscribe(), hub.subscribe(), hub.subscribe()];
      const firsts = await Promise.all(viewers.map((v) => v.next()));
      for (const frame of firsts) {
        assert.equal(frame?.kind, "frame");
        assert.equal(sha256(frame!.data), hashes[0], "the camera's first frame, byte-exact");
      }
      assert.deepEqual(fakeCameraRuns(dir.path), { started: 1, running: 1 });
      assert.equal(hub.status.state, "running");

      // One viewer leaving changes nothing; the last one starts the idle time.
      viewers[0]!.close();
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.equal(fakeCameraRuns(dir.path).running, 1, "still watched by two");
      const left = Date.now();
      for (const v of viewers) v.close();
      await until("the camera stopped", 10_000, () => fakeCameraRuns(dir.path).running === 0);
      const after = Date.now() - left;
      assert.ok(after >= 450 && after < 5000, `stopped ${after} ms after the last viewer left`);
      // The process is gone a moment before its exit reaches the source.
      await until("the status stopped", 5000, () => hub.status.state === "stopped");
      assert.equal(fakeCameraRuns(dir.path).started, 1);
    } finally {
      stop.abort();
      const published = await piping;
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
      assert.ok(published >= 1, `${published} frames published`);
      assert.equal(fakeCameraRuns(dir.path).running, 0, "no camera left behind");
      dir.remove();
    }
  });

  it("refuses an onDemand out of range and a hub that cannot say it is wanted", async () => {
    const signal = AbortSignal.abort();
    await assert.rejects(
      pipeToHub(testPattern(), new FrameHub(), signal, { onDemand: -1 }),
      /pipeToHub options: onDemand: .*expected/,
    );
    await assert.rejects(
      pipeToHub(testPattern(), { publish: () => {} }, signal, { onDemand: 1000 }),
      /pipeToHub: expected a FrameHub \(with wanted and watchDemand\) for onDemand, got Object/,
    );
  });
});
