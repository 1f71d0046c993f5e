import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { main } from "../src/cli.ts";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";
import { finished, runCli, sendSignal, startServe } from "./helpers/cli_run.ts";
import { fixtures, readFrames, sha256 } from "./helpers/sources_http.ts";
import { installFakeCamera, isJpeg, tempDir } from "./helpers/sources_util.ts";
import { requireTools } from "./helpers/tools.ts";

const fixtureHashes = fixtures.map(sha256);

async function mjpeg(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "", stderr = "";
  const code = await main(args, { stdout: (t) => stdout += t, stderr: (t) => stderr += t });
  return { code, stdout, stderr };
}

async function decodeFile(path: string, contentType: string): Promise<Uint8Array[]> {
  const bytes = readFileSync(path);
  const body = new Blob([bytes]).stream().pipeThrough(new MjpegDecoderStream({ contentType }));
  const frames: Uint8Array[] = [];
  for await (const frame of body) frames.push(frame.data);
  return frames;
}

describe("mjpeg serve, probe, snapshot, record", () => {
  it("serves the test pattern; snapshot, record and probe read it; SIGINT stops it", async () => {
    const dir = tempDir("cli");
    const { child, url } = await startServe(
      ["--pattern", "--width", "320", "--height", "240", "--fps", "15", "--stats-interval", "1"],
    );
    try {
      const stream = `${url}/stream.mjpg`;
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

      await new Promise((resolve) => setTimeout(resolve, 1200)); // a stats line and the leave lines
      sendSignal(child, "SIGINT");
      const result = await finished(child, 10_000);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /stream pattern: test pattern 320x240@15fps/);
      assert.match(result.stderr, /viewer \d+ joined \(1 watching\)/);
      assert.match(result.stderr, /viewer \d+ left after \d+ frames/);
      assert.match(result.stderr, /\[pattern\] stats: [\d.]+ fps in, \d+ viewers/);
      assert.match(result.stderr, /SIGINT: stopping\n.*stopped\n$/);
    } finally {
      child.kill("SIGKILL");
      dir.remove();
    }
  });

  it("serves several named streams from a config file, and relays one with --url", async () => {
    const dir = tempDir("cli");
    const folder = join(dir.path, "frames");
    (await import("node:fs")).mkdirSync(folder);
    fixtures.forEach((_, i) =>
      copyFileSync(
        new URL(`./fixtures/frames/00${i + 1}.jpg`, import.meta.url),
        join(folder, `${i}.jpg`),
      )
    );
    const config = join(dir.path, "streams.json");
    writeFileSync(
      config,
      JSON.stringify({
        statsInterval: 0,
        auth: "viewer:s3cret",
        streams: {
          demo: { type: "pattern", width: 160, height: 120, fps: 5 },
          files: { type: "file", path: folder, fps: 20 },
        },
      }),
    );
    const upstream = await startServe(["--config", config]);
    // The relay passes credentials in the URL; MjpegClient sends them as Basic auth.
    const withCredentials = upstream.url.replace("http://", "http://viewer:s3cret@");
    const basic = { Authorization: `Basic ${btoa("viewer:s3cret")}` };
    const relay = await startServe([
      "--url",
      `${withCredentials}/files/stream.mjpg`,
      "--stats-interval",
      "0",
    ]);
    try {
      assert.equal((await fetch(`${upstream.url}/files/stream.mjpg`)).status, 401);
      const direct = await readFrames(
        `${upstream.url}/files/stream.mjpg`,
        AbortSignal.timeout(10_000),
        (f) => f.length >= 8,
        basic,
      );
      assert.ok(direct.every((f) => fixtureHashes.includes(sha256(f.data))));
      const relayed = await readFrames(
        `${relay.url}/stream.mjpg`,
        AbortSignal.timeout(10_000),
        (f) => f.length >= 8,
      );
      assert.equal(relayed.length, 8);
      assert.ok(
        relayed.every((f) => fixtureHashes.includes(sha256(f.data))),
        "relayed frames are byte-exact",
      );
      const snapshot = await fetch(`${upstream.url}/demo/snapshot.jpg`, { headers: basic });
      assert.equal(snapshot.status, 200);
      assert.ok(isJpeg(new Uint8Array(await snapshot.arrayBuffer())));
      sendSignal(relay.child, "SIGTERM");
      sendSignal(upstream.child, "SIGTERM");
      assert.equal((await finished(relay.child, 10_000)).code, 0);
      const up = await finished(upstream.child, 10_000);
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stderr, /stream files: file .*frames → http:\/\/\S+\/files\/stream\.mjpg/);
    } finally {
      relay.child.kill("SIGKILL");
      upstream.child.kill("SIGKILL");
      dir.remove();
    }
  });

  it("runs the camera program from PATH, and fails clearly without one", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const dir = tempDir("cli");
    installFakeCamera(dir.path, "rpicam-vid");
    const env = { PATH: `${dir.path}:${process.env.PATH}`, FAKE_CAMERA_DIR: dir.path };
    const { child, url } = await startServe([
      "--camera",
      "--width",
      "320",
      "--height",
      "240",
      "--stats-interval",
      "0",
    ], { env });
    try {
      const frames = await readFrames(
        `${url}/stream.mjpg`,
        AbortSignal.timeout(10_000),
        (f) => f.length >= 3,
      );
      assert.equal(frames.length, 3);
      sendSignal(child, "SIGINT");
      const result = await finished(child, 10_000);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stderr,
        /started rpicam-vid -t 0 -n --codec mjpeg --width 320 --height 240 --framerate 15/,
      );
    } finally {
      child.kill("SIGKILL");
    }
    const empty = tempDir("cli-empty");
    try {
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
    } finally {
      empty.remove();
      dir.remove();
    }
  });

  it("serves a command's output with a token and a viewer limit", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const command =
      "ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=160x120:rate=10 -f mpjpeg -";
    const { child, url } = await startServe(
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
    try {
      assert.equal((await fetch(`${url}/stream.mjpg`)).status, 401);
      const cors = await fetch(`${url}/snapshot.jpg?token=secret-token-1`, {
        headers: { Origin: "https://dash.example" },
      });
      assert.equal(cors.headers.get("access-control-allow-origin"), "https://dash.example");
      await cors.body?.cancel();
      const viewing = new AbortController();
      const first = readFrames(`${url}/stream.mjpg?token=secret-token-1`, viewing.signal);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const second = await fetch(`${url}/stream.mjpg?token=secret-token-1`);
      assert.equal(second.status, 503);
      await second.body?.cancel();
      viewing.abort();
      assert.ok((await first).length >= 1);
    } finally {
      sendSignal(child, "SIGINT");
      const result = await finished(child, 10_000);
      assert.equal(result.code, 0, result.stderr);
    }
  });
});
