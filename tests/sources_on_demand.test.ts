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
import { FrameHub } from "../src/server/frame_hub.ts";
import { cameraSource } from "../src/sources/camera.ts";
import { pipeToHub } from "../src/sources/source.ts";
import { testPattern } from "../src/sources/test_pattern.ts";
import { patchEnv } from "./helpers/env.ts";
import { fakeCameraDir } from "./helpers/fake_camera.ts";
import { fixturePath, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { requireTools } from "./helpers/tools.ts";
import { sleep, until } from "./helpers/wait.ts";

describe("pipeToHub with onDemand", () => {
  it("runs the stand-in rpicam-vid only while the hub is wanted, once for viewers who come together", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    using camera = fakeCameraDir(["rpicam-vid"], { FAKE_CAMERA_FRAMES: fixturePath("frames") });
    using _env = patchEnv(camera.env);
    const cameras = () => ({ started: camera.runs().length, running: camera.running() });
    const hub = new FrameHub();
    const stop = new AbortController();
    const source = cameraSource({ width: 320, height: 240, fps: 2, log: () => {} });
    const piping = pipeToHub(source, hub, stop.signal, { onDemand: 500 });
    try {
      await sleep(700);
      assert.deepEqual(cameras(), { started: 0, running: 0 }, "none while idle");
      assert.equal(hub.status.state, "stopped");

      const viewers = [hub.subscribe(), hub.subscribe(), hub.subscribe()];
      const firsts = await Promise.all(viewers.map((v) => v.next()));
      for (const frame of firsts) {
        assert.equal(frame?.kind, "frame");
        assert.equal(sha256(frame!.data), fixtureSums[0], "the camera's first frame, byte-exact");
      }
      assert.deepEqual(cameras(), { started: 1, running: 1 });
      assert.equal(hub.status.state, "running");

      // One viewer leaving changes nothing; the last one starts the idle time.
      viewers[0]!.close();
      await sleep(700);
      assert.equal(cameras().running, 1, "still watched by two");
      const left = Date.now();
      for (const v of viewers) v.close();
      await until(() => cameras().running === 0, "the camera stopped", 10_000, 50);
      const after = Date.now() - left;
      assert.ok(after >= 450 && after < 5000, `stopped ${after} ms after the last viewer left`);
      // The process is gone a moment before its exit reaches the source.
      await until(() => hub.status.state === "stopped", "the status stopped", 5000, 50);
      assert.equal(cameras().started, 1);
    } finally {
      stop.abort();
      const published = await piping;
      assert.ok(published >= 1, `${published} frames published`);
      assert.equal(cameras().running, 0, "no camera left behind");
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
