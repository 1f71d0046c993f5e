import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";
import { mjpeg, runCli, startServe, stopCleanly, writeConfig } from "./helpers/cli_run.ts";
import { fakeCameraDir } from "./helpers/fake_camera.ts";
import { fixtureFiles, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { isJpeg } from "./helpers/jpeg.ts";
import { background } from "./helpers/task.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";
import { firstFrames, readFrames } from "./helpers/viewers.ts";
import { sleep } from "./helpers/wait.ts";

async function decodeFile(path: string, contentType: string): Promise<Uint8Array[]> {
  const bytes = readFileSync(path);
  const body = new Blob([bytes]).stream().pipeThrough(new MjpegDecoderStream({ contentType }));
  const frames: Uint8Array[] = [];
  for await (const frame of body) frames.push(frame.data);
  return frames;
}

describe("mjpeg serve, probe, snapshot, record", () => {
  it("serves the test pattern; snapshot, record and probe read it; SIGINT stops it", async () => {
    using dir = tempDir("cli");
    await using server = await startServe(
      ["--pattern", "--width", "320", "--height", "240", "--fps", "15", "--stats-interval", "1"],
    );
    const stream = `${server.url}/stream.mjpg`;
    const shot = await mjpeg("snapshot", stream, "-o", join(dir.path, "now.jpg"));
    assert.equal(shot.code, 0, shot.stderr);
    assert.ok(isJpeg(readFileSync(join(dir.path, "now.jpg"))));
    assert.match(shot.stderr, /wrote \d+ bytes to .*now\.jpg/);

    const rec = await mjpeg("record", stream, "-o", join(dir.path, "out.mjpeg"), "--frames", "5");
    assert.equal(rec.code, 0, rec.stderr);
    const raw = await decodeFile(join(dir.path, "out.mjpeg"), "image/jpeg");
    assert.equal(raw.length, 5);
    assert.ok(raw.every(isJpeg));

    const multi = await mjpeg(
      "record",
      stream,
      "-o",
      join(dir.path, "out.multipart"),
      "--seconds",
      "0.5",
      "--format",
      "multipart",
    ); // deno-fmt-ignore
    assert.equal(multi.code, 0, multi.stderr);
    const parts = await decodeFile(
      join(dir.path, "out.multipart"),
      "multipart/x-mixed-replace; boundary=mjpegstream",
    );
    assert.ok(parts.length >= 2, `got ${parts.length} frames in 1.5 s`);

    const probe = await mjpeg("probe", stream, "--interval", "0.4", "--seconds", "1");
    assert.equal(probe.code, 0, probe.stderr);
    assert.match(probe.stdout, /fps/i);
    assert.match(probe.stdout, /streaming/);

    await sleep(1200); // a stats line and the leave lines
    const result = await stopCleanly(server);
    assert.match(result.stderr, /stream pattern: test pattern 320x240@15fps/);
    assert.match(result.stderr, /viewer \d+ joined \(1 watching\)/);
    assert.match(result.stderr, /viewer \d+ left after \d+ frames/);
    assert.match(result.stderr, /\[pattern\] stats: [\d.]+ fps in, \d+ viewers/);
    assert.match(result.stderr, /SIGINT: stopping\n.*stopped\n$/);
  });

  it("serves several named streams from a config file, and relays one with --url", async () => {
    using dir = tempDir("cli");
    const folder = join(dir.path, "frames");
    mkdirSync(folder);
    fixtureFiles.forEach((file, i) => copyFileSync(file, join(folder, `${i}.jpg`)));
    const config = writeConfig(dir.path, {
      statsInterval: 0,
      auth: "viewer:s3cret",
      streams: {
        demo: { type: "pattern", width: 160, height: 120, fps: 5 },
        files: { type: "file", path: folder, fps: 20 },
      },
    });
    await using upstream = await startServe(["--config", config]);
    // The relay passes credentials in the URL; MjpegClient sends them as Basic auth.
    const withCredentials = upstream.url.replace("http://", "http://viewer:s3cret@");
    const basic = { Authorization: `Basic ${btoa("viewer:s3cret")}` };
    await using relay = await startServe([
      "--url",
      `${withCredentials}/files/stream.mjpg`,
      "--stats-interval",
      "0",
    ]);
    assert.equal((await fetch(`${upstream.url}/files/stream.mjpg`)).status, 401);
    const direct = await firstFrames(`${upstream.url}/files/stream.mjpg`, 8, 10_000, basic);
    assert.ok(direct.every((f) => fixtureSums.includes(sha256(f.data))));
    const relayed = await firstFrames(`${relay.url}/stream.mjpg`, 8);
    assert.ok(
      relayed.every((f) => fixtureSums.includes(sha256(f.data))),
      "relayed frames are byte-exact",
    );
    const snapshot = await fetch(`${upstream.url}/demo/snapshot.jpg`, { headers: basic });
    assert.equal(snapshot.status, 200);
    assert.ok(isJpeg(new Uint8Array(await snapshot.arrayBuffer())));
    const [, up] = await Promise.all([
      stopCleanly(relay, "SIGTERM"),
      stopCleanly(upstream, "SIGTERM"),
    ]);
    assert.match(up.stderr, /stream files: file .*frames → http:\/\/\S+\/files\/stream\.mjpg/);
  });

  it("runs the camera program from PATH, and fails clearly without one", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    using camera = fakeCameraDir();
    {
      await using server = await startServe([
        "--camera",
        "--width",
        "320",
        "--height",
        "240",
        "--stats-interval",
        "0",
      ], { env: camera.env });
      await firstFrames(`${server.url}/stream.mjpg`, 3);
      const result = await stopCleanly(server);
      assert.match(
        result.stderr,
        /started rpicam-vid -t 0 -n --codec mjpeg --width 320 --height 240 --framerate 15/,
      );
    }
    using empty = tempDir("cli-empty");
    // Said before anything listens, as a mistake in the command line is.
    const result = await runCli(["serve", "--port", "0", "--camera"], {
      env: { PATH: empty.path },
      timeoutMs: 15_000,
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /--camera: no program to run: tried "rpicam-vid" and "libcamera-vid", none found on PATH/,
    );
    assert.doesNotMatch(result.stderr, /listening on/);
  });

  it("serves a command's output with a token and a viewer limit", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const command =
      "ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=160x120:rate=10 -f mpjpeg -";
    await using server = await startServe(
      [
        "--command",
        command,
        "--token",
        "secret-token-1",
        "--max-viewers",
        "1",
        "--cors",
        "https://dash.example",
        "--stats-interval",
        "0",
      ],
    );
    assert.equal((await fetch(`${server.url}/stream.mjpg`)).status, 401);
    const cors = await fetch(`${server.url}/snapshot.jpg?token=secret-token-1`, {
      headers: { Origin: "https://dash.example" },
    });
    assert.equal(cors.headers.get("access-control-allow-origin"), "https://dash.example");
    await cors.body?.cancel();
    await using first = background((signal) =>
      readFrames(`${server.url}/stream.mjpg?token=secret-token-1`, signal)
    );
    await sleep(500);
    const second = await fetch(`${server.url}/stream.mjpg?token=secret-token-1`);
    assert.equal(second.status, 503);
    await second.body?.cancel();
    assert.ok((await first.stop()).length >= 1);
    await stopCleanly(server);
  });
});
