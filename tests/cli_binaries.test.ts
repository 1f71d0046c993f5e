import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";
import { runCli, startServe, stopCleanly } from "./helpers/cli_run.ts";
import { fakeCameraDir } from "./helpers/fake_camera.ts";
import { fixturePath, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { isJpeg } from "./helpers/jpeg.ts";
import { repoRoot, runsOn } from "./helpers/runtime.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { inCI, requireTools } from "./helpers/tools.ts";
import { firstFrames } from "./helpers/viewers.ts";
import { verifyUnit } from "./helpers/systemd.ts";

// Debian's libc6-arm64-cross puts the arm64 loader and libc here; qemu-user's -L points at it.
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const ELF_MACHINE = { "linux-arm64": 0xb7, "linux-x64": 0x3e } as const;

/** Runs `npm run build:binaries` for one target into `dir`; returns the file. */
function buildBinary(target: "linux-arm64" | "linux-x64", dir: string): string {
  const build = spawnSync(
    join(repoRoot, "node_modules/.bin/bun"),
    ["scripts/build_binaries.ts", "--out", dir, "--target", target],
    { cwd: repoRoot, encoding: "utf8", timeout: 300_000 },
  );
  assert.equal(build.status, 0, build.stderr);
  const binary = join(dir, `mjpeg-${target}`);
  // The ELF header's e_machine (bytes 18-19) says which CPU the file is for.
  const header = new Uint8Array(20);
  const fd = openSync(binary, "r");
  readSync(fd, header, 0, 20, 0);
  closeSync(fd);
  assert.deepEqual([...header.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], "an ELF file");
  assert.equal(header[18]! | (header[19]! << 8), ELF_MACHINE[target], `built for ${target}`);
  return binary;
}

describe("standalone binaries (npm run build:binaries)", () => {
  it("builds the x64 binary, and ffmpeg and curl read the stream it serves", async (t) => {
    if (
      !runsOn(t, "bun", "the binaries bun build --compile makes, whichever runtime runs the suite")
    ) return;
    if (!requireTools(t, "ffmpeg", "curl", "systemd-analyze")) return;
    using dir = tempDir("binary");
    const binary = buildBinary("linux-x64", dir.path);
    const help = await runCli(["--help"], { command: [binary] });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: mjpeg <command>/);
    // Its service runs the binary itself, with no runtime and no working directory.
    const unit = await runCli(["service", "print", "--camera"], { command: [binary] });
    assert.equal(unit.code, 0, unit.stderr);
    assert.deepEqual(verifyUnit(unit.stdout), [binary, "serve", "--camera"]);
    assert.doesNotMatch(unit.stdout, /WorkingDirectory=/);

    await using server = await startServe(
      ["--pattern", "--width", "320", "--height", "240", "--fps", "10", "--stats-interval", "0"],
      { command: [binary] },
    );
    const ffmpeg = spawnSync("ffmpeg", [
      "-nostdin",
      "-loglevel",
      "error",
      "-i",
      `${server.url}/stream.mjpg`,
      "-frames:v",
      "3",
      "-c:v",
      "copy",
      "-f",
      "mjpeg",
      "-",
    ], { timeout: 20_000 }); // deno-fmt-ignore
    assert.equal(ffmpeg.status, 0, String(ffmpeg.stderr));
    const frames = [];
    const decoded = new Blob([ffmpeg.stdout]).stream()
      .pipeThrough(new MjpegDecoderStream({ contentType: "image/jpeg" }));
    for await (const frame of decoded) frames.push(frame);
    assert.equal(frames.length, 3);
    assert.ok(frames.every((f) => isJpeg(f.data)));

    const shot = join(dir.path, "shot.jpg");
    const curl = spawnSync("curl", ["-sf", "-m", "10", "-o", shot, `${server.url}/snapshot.jpg`]);
    assert.equal(curl.status, 0);
    assert.ok(isJpeg(readFileSync(shot)));
    const result = await stopCleanly(server);
    assert.match(result.stderr, /listening on .*\(bun\)/);
  });

  it("builds the arm64 binary, which under qemu-aarch64 serves a stand-in rpicam-vid's frames byte-exact", async (t) => {
    if (
      !runsOn(t, "bun", "the binaries bun build --compile makes, whichever runtime runs the suite")
    ) return;
    if (!requireTools(t, "qemu-aarch64")) return;
    if (!existsSync(join(ARM64_SYSROOT, "lib/ld-linux-aarch64.so.1"))) {
      const message = `needs ${ARM64_SYSROOT} (apt-get install libc6-arm64-cross)`;
      if (inCI) throw new Error(`CI must run every test: ${message}`);
      t.skip(message);
      return;
    }
    using dir = fakeCameraDir();
    const binary = buildBinary("linux-arm64", dir.path);
    const env = { ...dir.env, FAKE_CAMERA_FRAMES: fixturePath("frames") };
    const qemu = ["qemu-aarch64", "-L", ARM64_SYSROOT, binary];
    const help = await runCli(["--help"], { command: qemu, timeoutMs: 60_000 });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: mjpeg <command>/);

    await using server = await startServe(
      ["--camera", "--width", "320", "--height", "240", "--fps", "10", "--stats-interval", "0"],
      { command: qemu, env },
    );
    const frames = await firstFrames(`${server.url}/stream.mjpg`, 10, 60_000);
    // Every frame is one of the stand-in's files, byte for byte, in the order it wrote them
    // (a slow viewer may skip some, never reorder or alter one).
    const indexes = frames.map((f) => fixtureSums.indexOf(sha256(f.data)));
    assert.ok(indexes.every((i) => i >= 0), `frames not from the fixtures: ${indexes}`);
    for (let i = 1; i < indexes.length; i++) {
      assert.notEqual(indexes[i], indexes[i - 1], `frame ${i} repeats the one before`);
    }
    const runs = dir.runs();
    assert.equal(runs.length, 1);
    assert.equal(
      runs[0]!.argv.join(" "),
      "rpicam-vid -t 0 -n --codec mjpeg --width 320 --height 240 --framerate 10 -q 80 --flush -v 0 -o -",
    );
    const result = await stopCleanly(server, "SIGINT", 30_000);
    assert.match(result.stderr, /listening on .*\(bun\)/);
    assert.match(result.stderr, /stopped/);
  });
});
