import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cameraArgs, cameraSource, diagnoseCamera } from "../src/sources/camera.ts";
import { patchEnv } from "./helpers/env.ts";
import { fakeCameraDir } from "./helpers/fake_camera.ts";
import { isJpeg } from "./helpers/jpeg.ts";
import { isAlive, runningInGroup } from "./helpers/processes.ts";
import { take } from "./helpers/sources.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";

const EXACT =
  "-t 0 -n --codec mjpeg --width 640 --height 480 --framerate 15 -q 80 --flush -v 0 -o -";

describe("cameraSource", () => {
  it("builds exactly the rpicam-vid command line, then the optional flags", () => {
    assert.equal(cameraArgs().join(" "), EXACT);
    assert.equal(
      cameraArgs({
        width: 1280,
        height: 720,
        fps: 30,
        quality: 90,
        camera: 1,
        rotation: 180,
        hflip: true,
        vflip: true,
        extraArgs: ["--awb", "indoor"],
      }).join(" "),
      "-t 0 -n --codec mjpeg --width 1280 --height 720 --framerate 30 -q 90 --flush -v 0 -o - " +
        "--camera 1 --rotation 180 --hflip --vflip --awb indoor",
    );
  });

  it("names rpicam-apps' failures to open a camera, and only those", () => {
    assert.match(
      diagnoseCamera(["ERROR: *** no cameras available ***"], "rpicam-vid")!,
      /^rpicam-vid: no camera found/,
    );
    assert.match(
      diagnoseCamera(["ERROR: *** selected camera is not available ***"], "rpicam-vid")!,
      /no camera with that number/,
    );
    assert.match(
      diagnoseCamera(
        ["ERROR: *** failed to acquire camera /base/soc/i2c0mux/i2c@1/imx708@1a ***"],
        "libcamera-vid",
      )!,
      /^libcamera-vid: the camera is in use by another program/,
    );
    assert.equal(
      diagnoseCamera(["ERROR: *** Device timeout detected ***"], "rpicam-vid"),
      undefined,
    );
    assert.equal(diagnoseCamera([], "rpicam-vid"), undefined);
  });

  it("rejects out-of-range options with a message naming the option", () => {
    assert.throws(() => cameraSource({ width: 10 }), /width.*(>=|32)/);
    assert.throws(() => cameraSource({ quality: 101 }), /quality/);
    assert.throws(() => cameraSource({ rotation: 90 as 0 }), /rotation/);
    assert.throws(() => cameraSource({ colour: true } as never), /colour/);
  });

  it("runs rpicam-vid from PATH with the exact arguments and decodes its JPEGs", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    using camera = fakeCameraDir(["rpicam-vid", "libcamera-vid"]);
    using _env = patchEnv(camera.env);
    const lines: string[] = [];
    const frames = await take(
      cameraSource({ width: 320, height: 240, log: (l) => lines.push(l) }),
      3,
    );
    assert.deepEqual(frames.map((f) => f.sequence), [0, 1, 2]);
    assert.ok(frames.every((f) => isJpeg(f.data)));
    const all = camera.runs();
    assert.equal(all.length, 1);
    assert.deepEqual(
      all[0]!.argv,
      ["rpicam-vid", ...EXACT.replace("640", "320").replace("480", "240").split(" ")],
    );
    assert.ok(!isAlive(all[0]!.pid), "the camera process is gone after stop");
    assert.deepEqual(runningInGroup(all[0]!.pid), [], "and so is its ffmpeg");
    assert.match(lines.join("\n"), /started rpicam-vid/);
  });

  it("restarts the camera program when it crashes and logs its stderr", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    using camera = fakeCameraDir(["rpicam-vid"], { FAKE_CAMERA_CRASH_AFTER: "3" });
    using _env = patchEnv(camera.env);
    const lines: string[] = [];
    const frames = await take(
      cameraSource({
        width: 160,
        height: 120,
        fps: 30,
        restart: { initialDelay: 50 },
        log: (l) => lines.push(l),
      }),
      8,
    );
    assert.deepEqual(frames.map((f) => f.sequence), [0, 1, 2, 3, 4, 5, 6, 7]);
    const all = camera.runs();
    assert.ok(all.length >= 3, `expected at least 3 runs, got ${all.length}`);
    const restarts = lines.filter((l) => l.includes("source restarted"));
    assert.ok(restarts.length >= 2, lines.join("\n"));
    assert.match(restarts[0]!, /exited \(status 3\) after 3 frames/);
    assert.match(restarts[0]!, /sensor timeout after 3 frames/);
    assert.match(restarts[1]!, /in 100 ms/, "the delay doubles");
    for (const run of all) assert.ok(!isAlive(run.pid), `run ${run.pid} is gone`);
  });

  it("falls back to libcamera-vid when rpicam-vid is not on PATH", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    using camera = fakeCameraDir(["libcamera-vid"]);
    using _env = patchEnv(camera.env);
    await take(cameraSource({ width: 160, height: 120, log: () => {} }), 1);
    assert.equal(camera.runs()[0]!.argv[0], "libcamera-vid");
  });

  it("fails clearly, naming both programs, when neither is installed", async () => {
    using dir = tempDir("camera");
    using _env = patchEnv({ PATH: dir.path });
    await assert.rejects(
      take(cameraSource({ log: () => {} }), 1),
      /tried "rpicam-vid" and "libcamera-vid", none found on PATH/,
    );
  });
});
