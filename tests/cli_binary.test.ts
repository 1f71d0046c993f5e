import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";
import { finished, repoRoot, runCli, sendSignal, startServe } from "./helpers/cli_run.ts";
import { isJpeg, tempDir } from "./helpers/sources_util.ts";
import { requireTools } from "./helpers/tools.ts";

describe("standalone binary (bun build --compile)", () => {
  it("builds offline, and ffmpeg and curl read the stream it serves", async (t) => {
    if (!requireTools(t, "ffmpeg", "curl")) return;
    const dir = tempDir("binary");
    try {
      const binary = join(dir.path, "mjpeg");
      const build = spawnSync(
        join(repoRoot, "node_modules/.bin/bun"),
        ["build", "--compile", "src/cli.ts", "--outfile", binary],
        { cwd: repoRoot, encoding: "utf8", timeout: 120_000 },
      );
      assert.equal(build.status, 0, build.stderr);

      const help = await runCli(["--help"], { command: [binary] });
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Usage: mjpeg <command>/);

      const { child, url } = await startServe(
        ["--pattern", "--width", "320", "--height", "240", "--fps", "10", "--stats-interval", "0"],
        { command: [binary] },
      );
      try {
        const ffmpeg = spawnSync("ffmpeg", [
          "-nostdin",
          "-loglevel",
          "error",
          "-i",
          `${url}/stream.mjpg`,
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
        const curl = spawnSync("curl", ["-sf", "-m", "10", "-o", shot, `${url}/snapshot.jpg`]);
        assert.equal(curl.status, 0);
        assert.ok(isJpeg(readFileSync(shot)));
      } finally {
        sendSignal(child, "SIGINT");
        const result = await finished(child, 10_000);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /listening on .*\(bun\)/);
      }
    } finally {
      dir.remove();
    }
  });
});
