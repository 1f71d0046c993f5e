/**
 * A camera's settings changed while it runs, in-process: `cameraSource().controls`
 * against the stand-in rpicam-vid (tests/helpers/sources_fake_rpicam.sh), which
 * records each run's argv and, with FAKE_CAMERA_EXCLUSIVE=1, refuses to start
 * while another run still holds the camera, as rpicam-vid does.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cameraSource } from "../src/sources/camera.ts";
import { CAMERA_SETTING_NAMES } from "../src/sources/camera_settings.ts";
import { ControlError } from "../src/internal/controls.ts";
import type { Frame } from "../src/frame.ts";
import { patchEnv } from "./helpers/env.ts";
import { type FakeCameraDir, fakeCameraDir } from "./helpers/fake_camera.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { isAlive } from "./helpers/processes.ts";

const BASE = "-t 0 -n --codec mjpeg";
const OUT = "-q 80 --flush -v 0 -o -";

/** The argv of every run of the stand-in in `dir`, oldest first. */
function runs(dir: string): { pid: number; argv: string }[] {
  return readdirSync(dir).filter((n) => n.startsWith("run.")).map((n) => ({
    pid: Number(n.slice(4)),
    argv: readFileSync(join(dir, n), "utf8").trimEnd().split("\n").join(" "),
    at: statSync(join(dir, n)).mtimeMs,
  })).sort((a, b) => a.at - b.at).map(({ pid, argv }) => ({ pid, argv }));
}

/**
 * A stand-in camera in a temporary PATH directory: fixtures 1-4 at 320x240,
 * fixtures 5-8 at 640x480, so a frame tells which run sent it.
 */
function standIn(): FakeCameraDir {
  const dir = fakeCameraDir();
  for (const [size, files] of [["320x240", [0, 1, 2, 3]], ["640x480", [4, 5, 6, 7]]] as const) {
    mkdirSync(join(dir.path, "frames", size), { recursive: true });
    for (const i of files) {
      writeFileSync(join(dir.path, "frames", size, `${i}.jpg`), fixtureFrames[i]!);
    }
  }
  Object.assign(dir.env, {
    FAKE_CAMERA_FRAMES: join(dir.path, "frames"),
    FAKE_CAMERA_EXCLUSIVE: "1",
  });
  return dir;
}

async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  using _env = patchEnv(vars);
  return await fn();
}

const small = sha256s([0, 1, 2, 3]);
const large = sha256s([4, 5, 6, 7]);
function sha256s(indexes: number[]): Set<string> {
  return new Set(indexes.map((i) => sha256(fixtureFrames[i]!)));
}

/**
 * Reads `source` until `done` says so (or 20 s pass), calling `onFrame` for
 * each frame without waiting for what it starts.
 */
async function readWhile(
  source: { frames(signal: AbortSignal): AsyncIterable<Frame> },
  onFrame: (frame: Frame, all: Frame[]) => boolean,
): Promise<Frame[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20_000);
  const all: Frame[] = [];
  try {
    for await (const frame of source.frames(controller.signal)) {
      all.push(frame);
      if (!onFrame(frame, all)) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return all;
}

describe("cameraSource controls", () => {
  it("describe every setting: type, range or choices, default and current value", () => {
    const { controls } = cameraSource({ brightness: 0.2, awb: "daylight", log: () => {} });
    const all = controls.describe();
    assert.deepEqual(Object.keys(all), CAMERA_SETTING_NAMES);
    assert.deepEqual(all.brightness, {
      type: "number",
      min: -1,
      max: 1,
      step: 0.05,
      default: 0,
      value: 0.2,
      description: "brightness",
    });
    assert.equal(all.awb!.value, "daylight");
    assert.deepEqual(all.awb!.choices, [
      "auto",
      "incandescent",
      "tungsten",
      "fluorescent",
      "indoor",
      "daylight",
      "cloudy",
      "custom",
    ]);
    assert.deepEqual(all.shutter, {
      type: "integer",
      min: 0,
      max: 700_000_000,
      step: 100,
      default: 0,
      value: 0,
      unit: "µs",
      zero: "automatic",
      description: "exposure time",
    });
    assert.equal(all.lensPosition!.nullable, true);
    assert.equal(all.lensPosition!.value, null);
    assert.equal(all.hflip!.type, "boolean");
    assert.deepEqual(all.rotation!.choices, [0, 180]);
  });

  it("refuses an unknown control listing the known ones, and a value out of range naming it", async () => {
    const { controls } = cameraSource({ log: () => {} });
    await assert.rejects(
      controls.set({ colour: 1 }),
      (error: Error) =>
        error instanceof ControlError &&
        error.message ===
          `unknown control "colour", expected one of ${CAMERA_SETTING_NAMES.join(", ")}`,
    );
    await assert.rejects(
      controls.set({ brightness: 3 }),
      /^ControlError: brightness: expected a number between -1 and 1, got 3$/,
    );
    await assert.rejects(
      controls.set({ awb: "sunny", quality: 0 }),
      /quality: expected a whole number between 1 and 100, got 0; awb: expected one of auto, .*custom, got "sunny"/,
    );
    await assert.rejects(
      controls.set({ fps: 0.15 }),
      /fps: expected more than 0.2 fps: the stall timeout \(5 s\) restarts a camera .*, got 0.15/,
    );
    await assert.rejects(controls.set([] as never), /expected an object of setting → value/);
    assert.equal(controls.describe().brightness!.value, 0, "nothing changed");
  });

  it(
    "a change restarts rpicam-vid with exactly the new arguments, after the old one exited, " +
      "and the frames go on",
    async () => {
      const camera = standIn();
      try {
        const lines: string[] = [];
        const states: string[] = [];
        const source = cameraSource({
          width: 320,
          height: 240,
          fps: 20,
          log: (l) => lines.push(l),
          onStatus: (status) => states.push(status.state),
        });
        let change: Promise<unknown> | undefined;
        const frames = await withEnv(camera.env, () =>
          readWhile(source, (_frame, all) => {
            if (all.length === 3) {
              change = source.controls.set({ width: 640, height: 480, awb: "daylight", ev: -1 });
            }
            // Until three frames of the new run came.
            return all.filter((f) => large.has(sha256(f.data))).length < 3;
          }));
        const result = await change;
        const hashes = frames.map((f) => sha256(f.data));
        const firstLarge = hashes.findIndex((h) => large.has(h));
        assert.ok(firstLarge >= 3, `frames of the first run came first: ${firstLarge}`);
        assert.ok(hashes.slice(0, firstLarge).every((h) => small.has(h)), "byte-exact, run 1");
        assert.ok(hashes.slice(firstLarge).every((h) => large.has(h)), "byte-exact, run 2");
        assert.deepEqual(
          frames.map((f) => f.sequence),
          frames.map((_, i) => i),
          "sequence numbers go on",
        );
        const all = runs(camera.path);
        assert.deepEqual(all.map((r) => r.argv), [
          `rpicam-vid ${BASE} --width 320 --height 240 --framerate 20 ${OUT}`,
          `rpicam-vid ${BASE} --width 640 --height 480 --framerate 20 ${OUT} --awb daylight --ev -1`,
        ]);
        assert.deepEqual((result as { changed: string[] }).changed, [
          "width",
          "height",
          "awb",
          "ev",
        ]);
        assert.equal(source.description, "camera rpicam-vid|libcamera-vid 640x480@20fps");
        // A restart asked for is no failure: /stats and the viewers never hear of one.
        assert.deepEqual(states, ["starting", "running"], "the states the source reported");
        const log = lines.join("\n");
        assert.match(
          log,
          /camera: settings changed: width 320 → 640, height 240 → 480, awb auto → daylight, ev 0 → -1; restarting the camera with them/,
        );
        assert.doesNotMatch(log, /source restarted|in use|failed/, "a change is no failure");
        for (const run of all) assert.ok(!isAlive(run.pid), `run ${run.pid} is gone`);
      } finally {
        camera.remove();
      }
    },
  );

  it("changes made together are applied in order, the last wins, and share one restart", async () => {
    const camera = standIn();
    try {
      const lines: string[] = [];
      const source = cameraSource({ width: 320, height: 240, fps: 20, log: (l) => lines.push(l) });
      const changes: Promise<{ changed: string[] }>[] = [];
      const frames = await withEnv(camera.env, () =>
        readWhile(source, (_, all) => {
          if (all.length === 2) {
            // Three changes at once, none awaited: the old program is still stopping.
            changes.push(source.controls.set({ brightness: 0.1 }));
            changes.push(source.controls.set({ brightness: 0.2, contrast: 2 }));
            changes.push(source.controls.set({ brightness: 0.3 }));
          }
          return all.length < 6;
        }));
      const results = await Promise.all(changes);
      assert.deepEqual(results.map((r) => r.changed), [
        ["brightness"],
        ["brightness", "contrast"],
        ["brightness"],
      ]);
      assert.deepEqual(runs(camera.path).map((r) => r.argv), [
        `rpicam-vid ${BASE} --width 320 --height 240 --framerate 20 ${OUT}`,
        `rpicam-vid ${BASE} --width 320 --height 240 --framerate 20 ${OUT} --brightness 0.3 ` +
        "--contrast 2",
      ]);
      assert.equal(frames.length, 6);
      assert.equal(source.controls.describe().brightness!.value, 0.3);
      assert.equal(lines.filter((l) => l.includes("settings changed")).length, 3);
      assert.doesNotMatch(lines.join("\n"), /in use|source restarted/);
    } finally {
      camera.remove();
    }
  });

  it("a change made before the camera runs is kept; one made while it waits to retry starts it at once", async () => {
    const camera = standIn();
    try {
      const absent = join(camera.path, "absent");
      writeFileSync(absent, ""); // no camera attached, until the file goes
      const lines: string[] = [];
      const source = cameraSource({
        width: 320,
        height: 240,
        fps: 20,
        restart: { initialDelay: 60_000 }, // only a change can end this wait within the test
        log: (l) => lines.push(l),
      });
      await source.controls.set({ saturation: 0 });
      assert.match(lines.join("\n"), /saturation 1 → 0; the camera starts with them/);
      const started = Date.now();
      const frames = await withEnv({ ...camera.env, FAKE_CAMERA_ABSENT: absent }, async () => {
        const reading = readWhile(source, (_, all) => all.length < 2);
        while (!lines.some((l) => l.includes("no camera found")) && Date.now() - started < 15_000) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        rmSync(absent); // plugged in
        await source.controls.set({ sharpness: 2 });
        return await reading;
      });
      assert.equal(frames.length, 2);
      assert.ok(Date.now() - started < 15_000, "the minute's wait was cut short");
      assert.deepEqual(runs(camera.path).map((r) => r.argv), [
        `rpicam-vid ${BASE} --width 320 --height 240 --framerate 20 ${OUT} --saturation 0`,
        `rpicam-vid ${BASE} --width 320 --height 240 --framerate 20 ${OUT} --saturation 0 ` +
        "--sharpness 2",
      ]);
    } finally {
      camera.remove();
    }
  });
});
