import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseServeArgs } from "../src/cli/serve_flags.ts";
import { cameraOptionsSchema } from "../src/sources/camera.ts";
import { assertUsageErrors, startServe, stopCleanly, writeConfig } from "./helpers/cli_run.ts";
import { FakeCamera, fakeCameraDir } from "./helpers/fake_camera.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { waitForLog } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { firstFrames } from "./helpers/viewers.ts";
import { until } from "./helpers/wait.ts";

/** The camera stream's settings that `mjpeg serve ARGS` would run. */
async function cameraSpec(...args: string[]): Promise<Record<string, unknown>> {
  const { config } = await parseServeArgs(args);
  return config!.streams.camera as Record<string, unknown>;
}

describe("mjpeg serve: camera settings", () => {
  it("--camera alone, --camera N and --camera=N select the camera source", async () => {
    assert.deepEqual(await cameraSpec("--camera"), { type: "camera" });
    assert.deepEqual(await cameraSpec("--camera", "1"), { type: "camera", camera: 1 });
    assert.deepEqual(await cameraSpec("--camera=2", "--port", "0"), { type: "camera", camera: 2 });
    assert.deepEqual(await cameraSpec("--camera", "--width", "320"), {
      type: "camera",
      width: 320,
    });
    assert.deepEqual(await cameraSpec("--port", "0", "--camera"), { type: "camera" });
    const cases: [string[], RegExp][] = [
      [["--camera", "front"], /--camera: expected a number, got "front"/],
      [["--camera=16"], /--camera: .*expected number to be <=15/],
      [["--camera=1.5"], /--camera: .*expected int/],
      [["--camera", "1", "--pattern"], /expected one source, got --pattern and --camera/],
    ];
    await assertUsageErrors(["serve"], cases);
  });

  it("sets every camera option from flags and from the config file alike", async () => {
    const settings = {
      width: 1280,
      height: 720,
      fps: 30,
      quality: 90,
      rotation: 180,
      hflip: true,
      vflip: true,
      shutter: 20000,
      gain: 2.5,
      exposure: "long",
      awb: "indoor",
      ev: 0.5,
      brightness: -0.1,
      contrast: 1.2,
      saturation: 0,
      sharpness: 2,
      autofocusMode: "manual",
      lensPosition: 2,
      camera: 1,
      extraArgs: ["--denoise", "cdn_off", "--metering", "spot"],
      programs: ["/opt/rpicam/rpicam-vid"],
      // Durations in seconds, as every flag and config key takes them.
      restart: { initialDelay: 0.1, maxDelay: 2 },
      healthyRun: 30,
      stallTimeout: 8,
      stopGrace: 0.5,
    };
    // Every option cameraSource() takes is here (all but log and onStatus, which the command
    // sets itself), each other than its default, so an option added without a flag or config
    // key fails here.
    assert.deepEqual(
      Object.keys(settings).sort(),
      Object.keys(cameraOptionsSchema.shape).filter((k) => k !== "log" && k !== "onStatus").sort(),
    );
    const defaults = cameraOptionsSchema.parse({}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(settings)) {
      assert.notDeepEqual(value, defaults[key], `${key} differs from its default`);
    }
    const fromFlags = await cameraSpec(
      "--camera",
      "1",
      "--width",
      "1280",
      "--height",
      "720",
      "--fps",
      "30",
      "--quality",
      "90",
      "--rotation",
      "180",
      "--hflip",
      "--vflip",
      "--shutter",
      "20000",
      "--gain",
      "2.5",
      "--exposure",
      "long",
      "--awb",
      "indoor",
      "--ev",
      "0.5",
      "--brightness",
      "-0.1",
      "--contrast",
      "1.2",
      "--saturation",
      "0",
      "--sharpness",
      "2",
      "--autofocus-mode",
      "manual",
      "--lens-position",
      "2",
      "--camera-args",
      "--denoise cdn_off --metering spot",
      "--camera-program",
      "/opt/rpicam/rpicam-vid",
      "--restart-delay",
      "0.1",
      "--restart-max-delay",
      "2",
      "--healthy-run",
      "30",
      "--stall-timeout",
      "8",
      "--stop-grace",
      "0.5",
    );
    assert.deepEqual(fromFlags, { type: "camera", ...settings });

    using dir = tempDir("camera-config");
    const file = writeConfig(dir.path, { streams: { cam: { type: "camera", ...settings } } });
    const fromFile = (await parseServeArgs(["--config", file])).config;
    assert.deepEqual(fromFile!.streams.cam, { type: "camera", ...settings });

    // The same checks hold in the file, naming the setting.
    const badFiles: [Record<string, unknown>, RegExp][] = [
      [
        { restart: { maxDelay: 0.1 } },
        /config file \S+: streams\.cam\.restart\.maxDelay: expected maxDelay \(default 10 s\) to be at least initialDelay \(default 0\.5 s\)/,
      ],
      [
        { fps: 0.1 },
        /config file \S+: streams\.cam\.fps: expected more than 0.2 fps: the stall timeout \(5 s\)/,
      ],
      [
        { gain: 100 },
        /config file \S+: streams\.cam\.gain: expected a number between 0 and 64 \(0: automatic\)/,
      ],
      [
        { stallTimeout: -1 },
        /config file \S+: streams\.cam\.stallTimeout: expected between 0 and 600 seconds/,
      ],
    ];
    for (const [camera, message] of badFiles) {
      writeConfig(dir.path, { streams: { cam: { type: "camera", ...camera } } });
      await assertUsageErrors(["serve"], [[["--config", file], message]]);
    }
    // A slow camera is fine with a stall timeout longer than its frame time.
    writeConfig(dir.path, { streams: { cam: { type: "camera", fps: 0.1, stallTimeout: 15 } } });
    assert.equal((await parseServeArgs(["--config", file])).config!.streams.cam!.type, "camera");

    const cases: [string[], RegExp][] = [
      [["--camera", "--stall-timeout", "soon"], /--stall-timeout: expected a number/],
      [["--camera", "--restart-delay=-5"], /--restart-delay: expected between 0 and 600 seconds/],
      [
        ["--camera", "--no-restart", "--restart-max-delay", "5"],
        /--no-restart: expected no restart delays with it, got --restart-max-delay/,
      ],
      [["--camera", "--camera-args", "--awb 'indoor"], /--camera-args: expected a closing '/],
      // The camera's settings are checked as cameraSource() and POST /control check them.
      [["--camera", "--brightness", "2"], /--brightness: expected a number between -1 and 1$/m],
      [["--camera", "--ev", "-11"], /--ev: expected a number between -10 and 10 stops$/m],
      [["--camera", "--awb", "sunny"], /--awb: expected one of auto, incandescent, .*, custom$/m],
      [["--camera", "--lens-position", "near"], /--lens-position: expected a number, got "near"/],
      [["--camera", "--width", "16"], /--width: expected a whole number between 32 and 4608 px/],
      [
        ["--camera", "--camera-args", "--awb indoor"],
        /--camera-args: expected no --awb: it is the camera's awb setting; give it as that \(--awb/,
      ],
      [
        ["--camera", "--camera-args", "-o out.mjpeg"],
        /--camera-args: expected no -o: mjpeg passes it to rpicam-vid itself/,
      ],
      [
        ["--camera", "--fps", "0.1"],
        /--fps: expected more than 0.2 fps: the stall timeout \(5 s\) restarts a camera/,
      ],
      [
        ["--camera", "--shutter", "9000000", "--stall-timeout", "8"],
        /--shutter: expected an exposure shorter than 8000000 µs/,
      ],
      [["--pattern", "--awb", "auto"], /--awb: expected only with --camera, not with --pattern/],
      [
        ["--pattern", "--stall-timeout", "100"],
        /--stall-timeout: expected only with --camera, --webcam, --command, not with --pattern/,
      ],
      [
        ["--url", "http://x/", "--no-restart"],
        /--no-restart: expected only with --camera, --webcam, --command, not with --url/,
      ],
      [
        ["--webcam", "/dev/video0", "--camera-args", "-n"],
        /--camera-args: expected only with --camera, not with --webcam/,
      ],
    ];
    await assertUsageErrors(["serve"], cases);
    // Restart settings reach the webcam and command sources too.
    const { config } = await parseServeArgs([
      "--command",
      "ffmpeg -i x -f mjpeg -",
      "--no-restart",
    ]);
    assert.deepEqual(config!.streams.command, {
      type: "command",
      command: "ffmpeg",
      args: ["-i", "x", "-f", "mjpeg", "-"],
      restart: false,
    });
  });

  it("the config file's stall timeout and programs reach the camera that runs", async () => {
    using fake = new FakeCamera();
    fake.jpeg("once", 0);
    fake.plan("default", ["write once.jpg", "hang"]);
    const file = writeConfig(fake.dir.path, {
      streams: {
        cam: {
          type: "camera",
          programs: [fake.program],
          stallTimeout: 0.4,
          restart: { initialDelay: 0.02 },
        },
      },
    });
    await using server = await startServe(["--config", file, "--stats-interval", "0"]);
    await waitForLog(server, /no frame for 400 ms from pid \d+; stopping it to restart/);
    await waitForLog(server, /stalled \(no frame for 400 ms\).*restart #1 in 20 ms/);
    await stopCleanly(server);
  });
});

describe("mjpeg serve: two cameras", () => {
  it("serves two stand-in cameras as two named streams, each run with its --camera N", async () => {
    using dir = fakeCameraDir();
    // Camera 0 sends fixtures 1-4, camera 1 fixtures 5-8: a frame tells which camera sent it.
    for (const [camera, files] of [[0, [0, 1, 2, 3]], [1, [4, 5, 6, 7]]] as const) {
      mkdirSync(join(dir.path, `frames/camera${camera}`), { recursive: true });
      for (const i of files) {
        writeFileSync(join(dir.path, `frames/camera${camera}/${i}.jpg`), fixtureFrames[i]!);
      }
    }
    const file = writeConfig(dir.path, {
      streams: {
        front: { type: "camera", camera: 0, width: 320, height: 240, fps: 10 },
        back: { type: "camera", camera: 1, width: 320, height: 240, fps: 10 },
      },
    });
    const env = { ...dir.env, FAKE_CAMERA_FRAMES: join(dir.path, "frames") };
    await using server = await startServe(["--config", file, "--stats-interval", "0"], { env });
    const [front, back] = await Promise.all(
      ["front", "back"].map((name) => firstFrames(`${server.url}/${name}/stream.mjpg`, 6, 20_000)),
    );
    assert.ok(
      front!.every((f) => fixtureSums.slice(0, 4).includes(sha256(f.data))),
      "front: camera 0",
    );
    assert.ok(
      back!.every((f) => fixtureSums.slice(4).includes(sha256(f.data))),
      "back: camera 1",
    );
    const base = "-t 0 -n --codec mjpeg --width 320 --height 240 --framerate 10 -q 80 " +
      "--flush -v 0 -o -";
    assert.deepEqual(
      dir.runs().map((run) => run.argv.join(" ")).sort(),
      [`rpicam-vid ${base} --camera 0`, `rpicam-vid ${base} --camera 1`],
    );
    const result = await stopCleanly(server);
    assert.match(result.stderr, /stream front: camera 0 rpicam-vid/);
    assert.match(result.stderr, /stream back: camera 1 rpicam-vid/);
  });
});

describe("mjpeg serve: no camera attached", () => {
  it("logs one clear line, retries with backoff, and streams once the camera is there", async () => {
    const absent = "absent";
    using dir = fakeCameraDir(["rpicam-vid"]);
    const env = {
      ...dir.env,
      FAKE_CAMERA_ABSENT: join(dir.path, absent),
      FAKE_CAMERA_FRAMES: join(dir.path, "frames"),
    };
    writeFileSync(join(dir.path, absent), "");
    mkdirSync(join(dir.path, "frames"));
    writeFileSync(join(dir.path, "frames/1.jpg"), fixtureFrames[0]!);
    await using server = await startServe([
      "--camera",
      "--stats-interval",
      "0",
      "--restart-delay",
      "0.05",
      "--restart-max-delay",
      "0.2",
    ], { env });
    // 50 + 100 + 200 + 200 ms between runs: five runs in well under 10 s, each refused.
    await until(
      () => dir.runs().length >= 5,
      () => `5 runs (${dir.runs().length} so far)`,
      10_000,
    );
    const log = server.output.stderr;
    const lines = log.split("\n").filter((l) => /\[camera\] camera:/.test(l));
    assert.equal(
      lines.filter((l) => l.includes("no camera found")).length,
      1,
      `one line for the missing camera:\n${log}`,
    );
    assert.match(
      log,
      /\[camera\] camera: rpicam-vid: no camera found \("no cameras available"\): check the ribbon cable and that "mjpeg cameras" lists the camera; retrying in 50 ms, then up to every 200 ms/,
    );
    assert.doesNotMatch(log, /ERROR: \*\*\*/, "rpicam-vid's stderr is not dumped");
    assert.equal(lines.length, 2, `only the first start and that line:\n${lines.join("\n")}`);

    rmSync(join(dir.path, absent)); // the camera is plugged in
    const frames = await firstFrames(`${server.url}/stream.mjpg`, 2);
    assert.equal(sha256(frames[1]!.data), fixtureSums[0]);
    await waitForLog(
      server,
      /camera: frames again after \d+ runs that failed with "rpicam-vid: no camera found/,
    );
    await stopCleanly(server);
  });
});
