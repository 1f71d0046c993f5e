import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { main } from "../src/cli.ts";
import { parseServeArgs } from "../src/cli/serve_flags.ts";
import { cameraOptionsSchema } from "../src/sources/camera.ts";
import { finished, sendSignal, startServe, waitForLog } from "./helpers/cli_run.ts";
import { FakeCamera } from "./helpers/reliability_sources_stack.ts";
import { fixtures, readFrames, sha256 } from "./helpers/sources_http.ts";
import { installFakeCamera, tempDir } from "./helpers/sources_util.ts";

async function mjpeg(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "", stderr = "";
  const code = await main(args, { stdout: (t) => stdout += t, stderr: (t) => stderr += t });
  return { code, stdout, stderr };
}

/** The camera stream's settings that `mjpeg serve ARGS` would run. */
async function cameraSpec(...args: string[]): Promise<Record<string, unknown>> {
  const { config } = await parseServeArgs(args);
  return config!.streams.camera as Record<string, unknown>;
}

/** The argv of every run of the stand-in camera in `dir`, by pid. */
function runs(dir: string): string[][] {
  return readdirSync(dir).filter((n) => n.startsWith("run.")).map((n) =>
    readFileSync(join(dir, n), "utf8").trimEnd().split("\n")
  );
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
    for (const [args, message] of cases) {
      const r = await mjpeg("serve", ...args);
      assert.equal(r.code, 2, `mjpeg serve ${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, `mjpeg serve ${args.join(" ")}`);
    }
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
    // Every option cameraSource() takes is here (all but log, which the command sets itself),
    // each other than its default, so an option added without a flag or config key fails here.
    assert.deepEqual(
      Object.keys(settings).sort(),
      Object.keys(cameraOptionsSchema.shape).filter((k) => k !== "log").sort(),
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

    const dir = tempDir("camera-config");
    try {
      const file = join(dir.path, "streams.json");
      writeFileSync(file, JSON.stringify({ streams: { cam: { type: "camera", ...settings } } }));
      const { config } = await parseServeArgs(["--config", file]);
      assert.deepEqual(config!.streams.cam, { type: "camera", ...settings });

      // The same checks hold in the file, naming the setting.
      writeFileSync(
        file,
        JSON.stringify({ streams: { cam: { type: "camera", restart: { maxDelay: 0.1 } } } }),
      );
      const bad = await mjpeg("serve", "--config", file);
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        /config file \S+: streams\.cam\.restart\.maxDelay: expected maxDelay \(default 10 s\) to be at least initialDelay \(default 0\.5 s\)/,
      );
      writeFileSync(
        file,
        JSON.stringify({ streams: { cam: { type: "camera", fps: 0.1 } } }),
      );
      const slow = await mjpeg("serve", "--config", file);
      assert.equal(slow.code, 2);
      assert.match(
        slow.stderr,
        /config file \S+: streams\.cam\.fps: expected more than 0.2 fps: the stall timeout \(5 s\)/,
      );
      writeFileSync(
        file,
        JSON.stringify({ streams: { cam: { type: "camera", fps: 0.1, stallTimeout: 15 } } }),
      );
      assert.equal((await parseServeArgs(["--config", file])).config!.streams.cam!.type, "camera");
      writeFileSync(
        file,
        JSON.stringify({ streams: { cam: { type: "camera", gain: 100 } } }),
      );
      const gain = await mjpeg("serve", "--config", file);
      assert.equal(gain.code, 2);
      assert.match(
        gain.stderr,
        /config file \S+: streams\.cam\.gain: expected a number between 0 and 64 \(0: automatic\)/,
      );
      writeFileSync(
        file,
        JSON.stringify({ streams: { cam: { type: "camera", stallTimeout: -1 } } }),
      );
      const negative = await mjpeg("serve", "--config", file);
      assert.equal(negative.code, 2);
      assert.match(
        negative.stderr,
        /config file \S+: streams\.cam\.stallTimeout: expected between 0 and 600 seconds/,
      );
    } finally {
      dir.remove();
    }

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
    for (const [args, message] of cases) {
      const r = await mjpeg("serve", ...args);
      assert.equal(r.code, 2, `mjpeg serve ${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, `mjpeg serve ${args.join(" ")}`);
    }
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
    const fake = new FakeCamera();
    try {
      fake.jpeg("once", 0);
      fake.plan("default", ["write once.jpg", "hang"]);
      const file = join(fake.dir.path, "streams.json");
      writeFileSync(
        file,
        JSON.stringify({
          streams: {
            cam: {
              type: "camera",
              programs: [fake.program],
              stallTimeout: 0.4,
              restart: { initialDelay: 0.02 },
            },
          },
        }),
      );
      const { child } = await startServe(["--config", file, "--stats-interval", "0"]);
      try {
        await waitForLog(child, /no frame for 400 ms from pid \d+; stopping it to restart/);
        await waitForLog(child, /stalled \(no frame for 400 ms\).*restart #1 in 20 ms/);
      } finally {
        sendSignal(child, "SIGINT");
        const result = await finished(child, 10_000);
        assert.equal(result.code, 0, result.stderr);
      }
    } finally {
      fake.dir.remove();
    }
  });
});

describe("mjpeg serve: two cameras", () => {
  it("serves two stand-in cameras as two named streams, each run with its --camera N", async () => {
    const dir = tempDir("two-cameras");
    try {
      installFakeCamera(dir.path, "rpicam-vid");
      // Camera 0 sends fixtures 1-4, camera 1 fixtures 5-8: a frame tells which camera sent it.
      for (const [camera, files] of [[0, [0, 1, 2, 3]], [1, [4, 5, 6, 7]]] as const) {
        mkdirSync(join(dir.path, `frames/camera${camera}`), { recursive: true });
        for (const i of files) {
          writeFileSync(join(dir.path, `frames/camera${camera}/${i}.jpg`), fixtures[i]!);
        }
      }
      const file = join(dir.path, "streams.json");
      writeFileSync(
        file,
        JSON.stringify({
          streams: {
            front: { type: "camera", camera: 0, width: 320, height: 240, fps: 10 },
            back: { type: "camera", camera: 1, width: 320, height: 240, fps: 10 },
          },
        }),
      );
      const env = {
        PATH: `${dir.path}:${process.env.PATH}`,
        FAKE_CAMERA_DIR: dir.path,
        FAKE_CAMERA_FRAMES: join(dir.path, "frames"),
      };
      const { child, url } = await startServe(["--config", file, "--stats-interval", "0"], {
        env,
      });
      try {
        const [front, back] = await Promise.all(
          ["front", "back"].map((name) =>
            readFrames(
              `${url}/${name}/stream.mjpg`,
              AbortSignal.timeout(20_000),
              (f) => f.length >= 6,
            )
          ),
        );
        const sums = fixtures.map(sha256);
        assert.equal(front!.length, 6);
        assert.equal(back!.length, 6);
        assert.ok(
          front!.every((f) => sums.slice(0, 4).includes(sha256(f.data))),
          "front: camera 0",
        );
        assert.ok(back!.every((f) => sums.slice(4).includes(sha256(f.data))), "back: camera 1");
        const base = "-t 0 -n --codec mjpeg --width 320 --height 240 --framerate 10 -q 80 " +
          "--flush -v 0 -o -";
        assert.deepEqual(
          runs(dir.path).map((argv) => argv.join(" ")).sort(),
          [`rpicam-vid ${base} --camera 0`, `rpicam-vid ${base} --camera 1`],
        );
      } finally {
        sendSignal(child, "SIGINT");
        const result = await finished(child, 10_000);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /stream front: camera 0 rpicam-vid/);
        assert.match(result.stderr, /stream back: camera 1 rpicam-vid/);
      }
    } finally {
      dir.remove();
    }
  });
});

describe("mjpeg serve: no camera attached", () => {
  it("logs one clear line, retries with backoff, and streams once the camera is there", async () => {
    const dir = tempDir("no-camera");
    try {
      installFakeCamera(dir.path, "rpicam-vid");
      const absent = join(dir.path, "absent");
      writeFileSync(absent, "");
      const env = {
        PATH: `${dir.path}:${process.env.PATH}`,
        FAKE_CAMERA_DIR: dir.path,
        FAKE_CAMERA_ABSENT: absent,
        FAKE_CAMERA_FRAMES: join(dir.path, "frames"),
      };
      mkdirSync(join(dir.path, "frames"));
      writeFileSync(join(dir.path, "frames/1.jpg"), fixtures[0]!);
      const { child, url } = await startServe([
        "--camera",
        "--stats-interval",
        "0",
        "--restart-delay",
        "0.05",
        "--restart-max-delay",
        "0.2",
      ], { env });
      try {
        // 50 + 100 + 200 + 200 ms between runs: five runs in well under 10 s, each refused.
        const deadline = Date.now() + 10_000;
        while (runs(dir.path).length < 5 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.ok(runs(dir.path).length >= 5, `expected 5 runs, got ${runs(dir.path).length}`);
        const log = child.output.stderr;
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

        rmSync(absent); // the camera is plugged in
        const frames = await readFrames(
          `${url}/stream.mjpg`,
          AbortSignal.timeout(10_000),
          (f) => f.length >= 2,
        );
        assert.equal(sha256(frames[1]!.data), sha256(fixtures[0]!));
        await waitForLog(
          child,
          /camera: frames again after \d+ runs that failed with "rpicam-vid: no camera found/,
        );
      } finally {
        sendSignal(child, "SIGINT");
        const result = await finished(child, 10_000);
        assert.equal(result.code, 0, result.stderr);
      }
    } finally {
      dir.remove();
    }
  });
});
