import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCameraList } from "../src/sources/camera_list.ts";
import { mjpeg, runCli } from "./helpers/cli_run.ts";
import { installProgram } from "./helpers/fake_camera.ts";
import { fixturePath } from "./helpers/fixtures.ts";
import { tempDir } from "./helpers/temp_dir.ts";

const fakeHello = fileURLToPath(new URL("./helpers/sources_fake_rpicam_hello.sh", import.meta.url));
const listing = (name: string) => fixturePath(`rpicam/${name}`);

/** A directory with the stand-in rpicam-hello under `names`, and the env that puts it on PATH. */
function helloDir(list: string, ...names: string[]) {
  const dir = tempDir("hello");
  installProgram(fakeHello, dir.path, ...names);
  // The stand-in needs cat and basename; no rpicam-hello is in /usr/bin or /bin off a Pi.
  const env = {
    PATH: `${dir.path}:/usr/bin:/bin`,
    FAKE_CAMERA_DIR: dir.path,
    FAKE_CAMERA_LIST: listing(list),
  };
  return Object.assign(dir, { env });
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
      ].map((m) => ({ ...m, camera }));
    assert.deepEqual(
      pi5.map((c) => ({ ...c, modes: c.modes.map((m) => ({ ...m, camera: c.index })) })),
      [
        {
          index: 0,
          model: "imx708",
          pixelArray: { width: 4608, height: 2592 },
          bitDepth: 10,
          colourFilter: "RGGB",
          device: "/base/axi/pcie@120000/rp1/i2c@88000/imx708@1a",
          modes: modes(0),
        },
        {
          index: 1,
          model: "imx708_wide",
          pixelArray: { width: 4608, height: 2592 },
          bitDepth: 10,
          colourFilter: "RGGB",
          device: "/base/axi/pcie@120000/rp1/i2c@80000/imx708@1a",
          modes: modes(1),
        },
      ],
    );

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
    });
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
    using dir = helloDir("list-pi4-imx219-imx477.txt", "rpicam-hello");
    const table = await runCli(["cameras"], { env: dir.env });
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
    const json = await runCli(["cameras", "--json"], { env: dir.env });
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
  });

  it("falls back to libcamera-hello, and says clearly when there is no camera or no program", async () => {
    {
      using old = helloDir("list-2021-imx477.txt", "libcamera-hello");
      const r = await runCli(["cameras"], { env: old.env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /^0 +imx477 +2028x1080 +- +SRGGB12_CSI2P +\/base\/soc\/i2c0mux\/i2c@1\/imx477@1a$/m,
      );
    }
    {
      using none = helloDir("list-none.txt", "rpicam-hello");
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
    }
    using empty = tempDir("no-hello");
    const r = await runCli(["cameras"], { env: { PATH: empty.path } });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /no program to list cameras: tried "rpicam-hello" and "libcamera-hello", none found on PATH/,
    );
    const bad = await mjpeg("cameras", "--list");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown option '--list'; expected one of --json/);
  });
});
