import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { main } from "../src/cli.ts";
import { parseServeArgs } from "../src/cli/serve_flags.ts";
import { parseCameraList } from "../src/sources/camera_list.ts";
import {
  finished,
  repoRoot,
  runCli,
  sendSignal,
  startServe,
  waitForLog,
} from "./helpers/cli_run.ts";
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
      camera: 1,
      extraArgs: ["--awb", "indoor", "--ev", "0.5"],
      programs: ["/opt/rpicam/rpicam-vid"],
      restart: false,
      minRestartDelayMs: 100,
      maxRestartDelayMs: 2000,
      healthyRunMs: 30_000,
      stallTimeoutMs: 8000,
      stopGraceMs: 500,
    };
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
      "--camera-args",
      "--awb indoor --ev 0.5",
      "--camera-program",
      "/opt/rpicam/rpicam-vid",
      "--no-restart",
      "--min-restart-delay-ms",
      "100",
      "--max-restart-delay-ms",
      "2000",
      "--healthy-run-ms",
      "30000",
      "--stall-timeout-ms",
      "8000",
      "--stop-grace-ms",
      "500",
    ); // deno-fmt-ignore
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
        JSON.stringify({ streams: { cam: { type: "camera", maxRestartDelayMs: 100 } } }),
      );
      const bad = await mjpeg("serve", "--config", file);
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        /config streams\.cam\.maxRestartDelayMs: expected the longest restart delay \(default 10000 ms\) to be at least the first \(default 500 ms\)/,
      );
      writeFileSync(
        file,
        JSON.stringify({ streams: { cam: { type: "camera", stallTimeoutMs: -1 } } }),
      );
      const negative = await mjpeg("serve", "--config", file);
      assert.equal(negative.code, 2);
      assert.match(negative.stderr, /config streams\.cam\.stallTimeoutMs: .*>=0/);
    } finally {
      dir.remove();
    }

    const cases: [string[], RegExp][] = [
      [["--camera", "--stall-timeout-ms", "soon"], /--stall-timeout-ms: expected a number/],
      [["--camera", "--min-restart-delay-ms=-5"], /--min-restart-delay-ms: .*>=0/],
      [["--camera", "--camera-args", "--awb 'indoor"], /--camera-args: expected a closing '/],
      [
        ["--pattern", "--stall-timeout-ms", "100"],
        /--stall-timeout-ms: expected only with --camera, --webcam, --command, not with --pattern/,
      ],
      [
        ["--url", "http://x/", "--no-restart"],
        /--no-restart: expected only with --camera, --webcam, --command, not with --url/,
      ],
      [
        ["--webcam", "/dev/video0", "--camera-args", "-n"],
        /--camera-args: expected only with --camera, not with --webcam/,
      ],
    ]; // deno-fmt-ignore
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
              stallTimeoutMs: 400,
              minRestartDelayMs: 20,
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
        "--min-restart-delay-ms",
        "50",
        "--max-restart-delay-ms",
        "200",
      ], { env }); // deno-fmt-ignore
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

const fakeHello = fileURLToPath(new URL("./helpers/sources_fake_rpicam_hello.sh", import.meta.url));
const listing = (name: string) => join(repoRoot, "tests/fixtures/rpicam", name);

/** A directory with the stand-in rpicam-hello under `names`, and the env that puts it on PATH. */
function helloDir(list: string, ...names: string[]) {
  const dir = tempDir("hello");
  for (const name of names) {
    copyFileSync(fakeHello, join(dir.path, name));
    chmodSync(join(dir.path, name), 0o755);
  }
  // The stand-in needs cat and basename; no rpicam-hello is in /usr/bin or /bin off a Pi.
  const env = {
    PATH: `${dir.path}:/usr/bin:/bin`,
    FAKE_CAMERA_DIR: dir.path,
    FAKE_CAMERA_LIST: listing(list),
  };
  return { dir, env };
}

describe("mjpeg cameras", () => {
  it("parses rpicam-hello --list-cameras: cameras, sensors, modes with fps and crop, devices", () => {
    const pi5 = parseCameraList(readFileSync(listing("list-pi5-imx708-pair.txt"), "utf8"));
    const modes = (camera: number) =>
      [
        {
          format: "SRGGB10_CSI2P",
          width: 1536,
          height: 864,
          fps: 120.13,
          crop: { x: 768, y: 432, width: 3072, height: 1728 },
        },
        {
          format: "SRGGB10_CSI2P",
          width: 2304,
          height: 1296,
          fps: 56.03,
          crop: { x: 0, y: 0, width: 4608, height: 2592 },
        },
        {
          format: "SRGGB10_CSI2P",
          width: 4608,
          height: 2592,
          fps: 14.35,
          crop: { x: 0, y: 0, width: 4608, height: 2592 },
        },
      ].map((m) => ({ ...m, camera })); // deno-fmt-ignore
    assert.deepEqual(
      pi5.map((c) => ({ ...c, modes: c.modes.map((m) => ({ ...m, camera: c.index })) })),
      [
        { index: 0, model: "imx708", pixelArray: { width: 4608, height: 2592 }, bitDepth: 10,
          colourFilter: "RGGB", device: "/base/axi/pcie@120000/rp1/i2c@88000/imx708@1a",
          modes: modes(0) },
        { index: 1, model: "imx708_wide", pixelArray: { width: 4608, height: 2592 }, bitDepth: 10,
          colourFilter: "RGGB", device: "/base/axi/pcie@120000/rp1/i2c@80000/imx708@1a",
          modes: modes(1) },
      ],
    ); // deno-fmt-ignore

    const pi4 = parseCameraList(readFileSync(listing("list-pi4-imx219-imx477.txt"), "utf8"));
    assert.deepEqual(pi4.map((c) => [c.index, c.model, c.device, c.modes.length]), [
      [0, "imx219", "/base/soc/i2c0mux/i2c@1/imx219@10", 8],
      [1, "imx477", "/base/soc/i2c0mux/i2c@1/imx477@1a", 4],
    ]);
    assert.equal(pi4[0]!.bitDepth, undefined, "older lists give no bit depth");
    assert.deepEqual(pi4[0]!.modes[4], {
      format: "SRGGB8",
      width: 640,
      height: 480,
      fps: 206.65,
      crop: { x: 1000, y: 752, width: 1280, height: 960 },
    }); // deno-fmt-ignore
    assert.deepEqual(pi4[1]!.modes.map((m) => `${m.format} ${m.width}x${m.height}@${m.fps}`), [
      "SRGGB10_CSI2P 1332x990@120.05",
      "SRGGB12_CSI2P 2028x1080@50.03",
      "SRGGB12_CSI2P 2028x1520@40.01",
      "SRGGB12_CSI2P 4056x3040@10",
    ]);

    const ov5647 = parseCameraList(
      readFileSync(listing("list-zero2w-ov5647-verbose.txt"), "utf8"),
    );
    assert.equal(ov5647.length, 1);
    assert.deepEqual(
      ov5647[0]!.modes.map((m) => `${m.width}x${m.height}@${m.fps}`),
      ["640x480@62.5", "1296x972@46.34", "1920x1080@32.81", "2592x1944@15.63"],
      "the controls block (ScalerCrop's 64x64 …) is not taken for modes",
    );

    const old = parseCameraList(readFileSync(listing("list-2021-imx477.txt"), "utf8"));
    assert.deepEqual(old[0]!.modes, [
      { format: "SRGGB10_CSI2P", width: 1332, height: 990 },
      { format: "SRGGB12_CSI2P", width: 2028, height: 1080 },
      { format: "SRGGB12_CSI2P", width: 2028, height: 1520 },
      { format: "SRGGB12_CSI2P", width: 4056, height: 3040 },
    ]);

    assert.deepEqual(parseCameraList(readFileSync(listing("list-none.txt"), "utf8")), []);
    assert.throws(
      () => parseCameraList("rpicam-hello: unrecognised option '--list-cameras'\n"),
      /expected "Available cameras" or "No cameras available!", got "rpicam-hello: unrecognised option/,
    );
  });

  it("prints the stand-in rpicam-hello's cameras as a table and as JSON", async () => {
    const { dir, env } = helloDir("list-pi4-imx219-imx477.txt", "rpicam-hello");
    try {
      const table = await runCli(["cameras"], { env });
      assert.equal(table.code, 0, table.stderr);
      assert.equal(
        table.stdout,
        [
          "CAMERA  SENSOR  SIZE       MAX FPS  FORMATS               DEVICE",
          "0       imx219  640x480     206.65  SRGGB10_CSI2P,SRGGB8  /base/soc/i2c0mux/i2c@1/imx219@10",
          "0       imx219  1640x1232    41.85  SRGGB10_CSI2P,SRGGB8  /base/soc/i2c0mux/i2c@1/imx219@10",
          "0       imx219  1920x1080    47.57  SRGGB10_CSI2P,SRGGB8  /base/soc/i2c0mux/i2c@1/imx219@10",
          "0       imx219  3280x2464    21.19  SRGGB10_CSI2P,SRGGB8  /base/soc/i2c0mux/i2c@1/imx219@10",
          "1       imx477  1332x990    120.05  SRGGB10_CSI2P         /base/soc/i2c0mux/i2c@1/imx477@1a",
          "1       imx477  2028x1080    50.03  SRGGB12_CSI2P         /base/soc/i2c0mux/i2c@1/imx477@1a",
          "1       imx477  2028x1520    40.01  SRGGB12_CSI2P         /base/soc/i2c0mux/i2c@1/imx477@1a",
          "1       imx477  4056x3040    10.00  SRGGB12_CSI2P         /base/soc/i2c0mux/i2c@1/imx477@1a",
          "",
        ].join("\n"),
      );
      const json = await runCli(["cameras", "--json"], { env });
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(
        JSON.parse(json.stdout),
        parseCameraList(readFileSync(listing("list-pi4-imx219-imx477.txt"), "utf8")),
      );
      const calls = readdirSync(dir.path).filter((n) => n.startsWith("hello."));
      assert.equal(calls.length, 2);
      for (const call of calls) {
        assert.equal(readFileSync(join(dir.path, call), "utf8"), "rpicam-hello\n--list-cameras\n");
      }
    } finally {
      dir.remove();
    }
  });

  it("falls back to libcamera-hello, and says clearly when there is no camera or no program", async () => {
    const old = helloDir("list-2021-imx477.txt", "libcamera-hello");
    try {
      const r = await runCli(["cameras"], { env: old.env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /^0 +imx477 +2028x1080 +- +SRGGB12_CSI2P +\/base\/soc\/i2c0mux\/i2c@1\/imx477@1a$/m,
      );
    } finally {
      old.dir.remove();
    }
    const none = helloDir("list-none.txt", "rpicam-hello");
    try {
      const table = await runCli(["cameras"], { env: none.env });
      assert.equal(table.code, 1);
      assert.equal(table.stdout, "");
      assert.match(
        table.stderr,
        /mjpeg cameras: no camera found \(rpicam-hello --list-cameras: "No cameras available!"\)/,
      );
      const json = await runCli(["cameras", "--json"], { env: none.env });
      assert.equal(json.code, 1);
      assert.deepEqual(JSON.parse(json.stdout), []);
    } finally {
      none.dir.remove();
    }
    const empty = tempDir("no-hello");
    try {
      const r = await runCli(["cameras"], { env: { PATH: empty.path } });
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /no program to list cameras: tried "rpicam-hello" and "libcamera-hello", none found on PATH/,
      );
      const bad = await mjpeg("cameras", "--list");
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /Unknown option '--list'; expected one of --json/);
    } finally {
      empty.remove();
    }
  }); // deno-fmt-ignore
});
