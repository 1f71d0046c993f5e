import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { commandSource, webcamArgs, webcamSource } from "../src/sources/command.ts";
import { SourceError } from "../src/sources/process.ts";
import { fixtureFiles, fixturePath, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { isJpeg } from "./helpers/jpeg.ts";
import { take } from "./helpers/sources.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";

/** ffmpeg with no questions and no chatter: only errors on stderr. */
const QUIET = ["-nostdin", "-hide_banner", "-loglevel", "error"];

describe("commandSource", () => {
  it("splits a program's raw JPEG output into byte-exact frames", async () => {
    const frames = await take(
      commandSource("cat", fixtureFiles, { restart: false, log: () => {} }),
      8,
    );
    assert.deepEqual(frames.map((f) => sha256(f.data)), fixtureSums);
    assert.deepEqual(frames.map((f) => f.sequence), [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("reads ffmpeg's raw MJPEG (-f mjpeg) and multipart (-f mpjpeg) output", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    for (const format of ["mjpeg", "mpjpeg"]) {
      // -c copy: ffmpeg passes the fixture JPEGs through untouched.
      const source = commandSource("ffmpeg", [
        ...QUIET,
        ...["-i", fixturePath("frames/%03d.jpg"), "-c", "copy", "-f", format, "-"],
      ], { restart: false, log: () => {} });
      const frames = await take(source, 8);
      assert.deepEqual(frames.map((f) => sha256(f.data)), fixtureSums, format);
    }
  });

  it("decodes ffmpeg encoding live from a test source", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const source = commandSource("ffmpeg", [
      ...QUIET,
      ...[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=25",
        "-frames:v",
        "5",
        "-f",
        "mjpeg",
        "-",
      ],
    ], { restart: false, log: () => {} });
    const frames = [];
    for await (const frame of source.frames(AbortSignal.timeout(10_000))) frames.push(frame);
    assert.equal(frames.length, 5, "the source ends when the program exits and restart is off");
    assert.ok(frames.every((f) => isJpeg(f.data)));
  });

  it("restarts a program that exits, and fails with its stderr when restart is off", async () => {
    const lines: string[] = [];
    const restarting = commandSource("cat", [fixtureFiles[0]!], {
      restart: { initialDelay: 10 },
      log: (l) => lines.push(l),
    });
    const frames = await take(restarting, 3);
    assert.deepEqual(frames.map((f) => f.sequence), [0, 1, 2]);
    assert.ok(lines.filter((l) => l.includes("source restarted")).length >= 2, lines.join("\n"));

    const failing = commandSource("sh", ["-c", "echo 'no such device' >&2; exit 4"], {
      restart: false,
      log: () => {},
    });
    await assert.rejects(take(failing, 1), (error: Error) => {
      assert.ok(error instanceof SourceError);
      assert.match(error.message, /exited \(status 4\) after 0 frames/);
      assert.match(error.message, /no such device/);
      return true;
    });
  });

  it("gives up after restart.limit failed restarts in a row, with the program's last words", async () => {
    const lines: string[] = [];
    const dying = commandSource("sh", ["-c", "echo 'sensor gone' >&2; exit 3"], {
      restart: { initialDelay: 1, maxDelay: 4, limit: 3 },
      log: (l) => lines.push(l),
    });
    await assert.rejects(take(dying, 1), (error: Error) => {
      assert.ok(error instanceof SourceError);
      assert.match(error.message, /gave up after 3 restarts in a row: sh exited \(status 3\)/);
      assert.match(error.message, /sensor gone/);
      return true;
    });
    const delays = lines.map((l) => /restart #\d+ in (\d+) ms/.exec(l)?.[1]).filter(Boolean);
    assert.deepEqual(delays, ["1", "2", "4"], "the shared backoff: doubling, capped, no jitter");
  });

  it("passes arguments verbatim, never through a shell", async () => {
    using dir = tempDir("command");
    const marker = join(dir.path, "PWNED");
    const source = commandSource("cat", [
      fixtureFiles[0]!,
      `; touch ${marker}`,
      `$(touch ${marker})`,
    ], {
      restart: false,
      log: () => {},
    });
    await assert.rejects(async () => {
      for await (const _ of source.frames(AbortSignal.timeout(5000))) { /* drain */ }
    }, /No such file/);
    assert.ok(!existsSync(marker));
  });

  it("builds the webcam preset that copies the camera's JPEGs without re-encoding", () => {
    assert.equal(
      webcamArgs({ device: "/dev/video2", width: 1280, height: 720, fps: 30 }).join(" "),
      "-hide_banner -loglevel error -f v4l2 -input_format mjpeg -video_size 1280x720 -framerate 30 -i /dev/video2 -c copy -f mjpeg -",
    );
    assert.equal(webcamSource().description, "webcam /dev/video0");
    assert.throws(() => webcamArgs({ device: "video0; rm -rf /" }), /device/);
    assert.throws(() => commandSource("", []), /expected a program name/);
    assert.throws(() => commandSource("cat", [], { restart: "yes" } as never), /restart/);
  });
});
