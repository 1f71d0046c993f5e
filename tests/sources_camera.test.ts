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
        shutter: 20000,
        gain: 2.5,
        exposure: "long",
        awb: "indoor",
        ev: -1,
        brightness: 0.1,
        contrast: 1.5,
        saturation: 0,
        sharpness: 2,
        autofocusMode: "manual",
        lensPosition: 0,
        extraArgs: ["--denoise", "cdn_off"],
      }).join(" "),
      "-t 0 -n --codec mjpeg --width 1280 --height 720 --framerate 30 -q 90 --flush -v 0 -o - " +
        "--camera 1 --rotation 180 --hflip --vflip --shutter 20000 --gain 2.5 --exposure long " +
        "--awb indoor --ev -1 --brightness 0.1 --contrast 1.5 --saturation 0 --sharpness 2 " +
        "--autofocus-mode manual --lens-position 0 --denoise cdn_off",
    );
    // A setting at its default is left to rpicam-vid: the command line is the same as without it.
    assert.equal(
      cameraArgs({ awb: "auto", contrast: 1, shutter: 0, lensPosition: null }).join(" "),
      EXACT,
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

  it("rejects out-of-range options with a message naming the option and its range", () => {
    assert.throws(
      () => cameraSource({ width: 10 }),
      /width: expected a whole number between 32 and 4608 px, got 10/,
    );
    assert.throws(
      () => cameraSource({ quality: 101 }),
      /quality: expected a whole number between 1 and 100, got 101/,
    );
    assert.throws(
      () => cameraSource({ rotation: 90 as 0 }),
      /rotation: expected one of 0, 180, got 90/,
    );
    assert.throws(() => cameraSource({ colour: true } as never), /colour/);
    assert.throws(
      () => cameraSource({ brightness: 2 }),
      /brightness: expected a number between -1 and 1, got 2/,
    );
    assert.throws(
      () => cameraSource({ awb: "sunny" as "auto" }),
      /awb: expected one of auto, incandescent, tungsten, fluorescent, indoor, daylight, cloudy, custom, got "sunny"/,
    );
    assert.throws(
      () => cameraSource({ shutter: 1.5 }),
      /shutter: expected a whole number between 0 and 700000000 µs \(0: automatic\), got 1.5/,
    );
    // Options mjpeg gives itself, or settings of their own, are not accepted as extra arguments:
    // rpicam-vid would refuse an option given twice.
    assert.throws(
      () => cameraSource({ extraArgs: ["--awb", "indoor"] }),
      /extraArgs\.0: expected no --awb: it is the camera's awb setting/,
    );
    assert.throws(
      () => cameraSource({ extraArgs: ["--analoggain=2"] }),
      /extraArgs\.0: expected no --analoggain: it is the camera's gain setting/,
    );
    assert.throws(
      () => cameraSource({ extraArgs: ["-o", "file.mjpeg"] }),
      /extraArgs\.0: expected no -o: mjpeg passes it to rpicam-vid itself/,
    );
    // A frame must come sooner than the stall timeout restarts a camera that sends none.
    assert.throws(
      () => cameraSource({ fps: 0.1 }),
      /fps: expected more than 0.2 fps: the stall timeout \(5 s\) restarts a camera/,
    );
    assert.throws(
      () => cameraSource({ shutter: 6_000_000 }),
      /shutter: expected an exposure shorter than 5000000 µs/,
    );
    assert.doesNotThrow(() => cameraSource({ fps: 0.1, stallTimeout: 15_000 }));
    assert.doesNotThrow(() => cameraSource({ shutter: 6_000_000, stallTimeout: 0 }));
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
