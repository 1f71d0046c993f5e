/**
 * "Say why", tried as a user would: a relay to an upstream that refuses
 * connections or answers an HTML page, a webcam that fails after start, and
 * a file that is not there yet say so in `/stats`, on the viewer page and in
 * one log line, and viewers see the offline card rather than a black box.
 * Mistakes no retry mends (a mistyped folder, a device or program that does
 * not exist) stop `mjpeg serve` at start with exit status 2, naming the flag
 * or the config file's setting, before it listens; a camera that goes away
 * later is retried, said once, and serves again when it is back.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StreamStats } from "../src/hono/stream_stats.ts";
import { jpegSize } from "../src/internal/jpeg_dc_decoder.ts";
import {
  runCli,
  type ServeProcess,
  startServe,
  stopCleanly,
  writeConfig,
} from "./helpers/cli_run.ts";
import { fakeCameraDir } from "./helpers/fake_camera.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { freePort } from "./helpers/ports.ts";
import { start, waitForLog } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";
import { firstFrames } from "./helpers/viewers.ts";
import { until } from "./helpers/wait.ts";

const QUICK = ["--offline-after", "1", "--keepalive", "0.5", "--stats-interval", "0"];

async function stats(url: string): Promise<StreamStats> {
  return await (await fetch(`${url}/stats?summary=1`)).json();
}

/** Waits for the source to report `pattern` as its last error, and checks what a user sees. */
async function saysWhy(
  server: ServeProcess,
  name: string,
  state: string,
  pattern: RegExp,
  size = { width: 640, height: 480 },
): Promise<void> {
  const { url } = server;
  const s = await until(
    async () => {
      const s = await stats(url);
      return s.status.state === state && pattern.test(s.status.lastError ?? "") && s;
    },
    `${state} in /stats`,
    20_000,
    100,
  );
  assert.equal(s.status.online, false);
  assert.match(String(s.source?.lastError), pattern, "the source's own report too");
  // One log line says why (a cause that came before may have its own line).
  await waitForLog(server, new RegExp(`\\[${name}\\] source ${state}[^\\n]*(?:${pattern.source})`));
  // Not a black box: the viewer gets the offline card, the size of the last
  // frame (640x480 when there never was one). A source may say it failed
  // before `offlineAfter` has passed since its last frame.
  const card = await until(
    async () => {
      const [part] = await firstFrames(`${url}/stream.mjpg`, 1);
      return part!.headers.get("x-frame-kind") === "offline" && part;
    },
    "the offline card",
    10_000,
    100,
  );
  assert.deepEqual(jpegSize(card.data), size);
  // And the page carries the place where it says so.
  assert.match(await (await fetch(`${url}/`)).text(), /data-out="status"/);
}

describe("mjpeg serve says why there are no frames", () => {
  it("a relay to an upstream that refuses connections", async () => {
    const port = await freePort();
    await using server = await startServe([
      "--url",
      `http://127.0.0.1:${port}/stream.mjpg`,
      ...QUICK,
    ]);
    await saysWhy(server, "url", "retrying", /ECONNREFUSED|refused/);
    await stopCleanly(server, "SIGTERM");
  });

  it("a relay to an HTML page", async (t) => {
    if (!requireTools(t, "python3")) return;
    using dir = tempDir("html");
    writeFileSync(join(dir.path, "index.html"), "<html><body>a camera's web page</body></html>");
    const port = await freePort();
    await using _python = start(["python3", "-m", "http.server", "-b", "127.0.0.1", String(port)], {
      cwd: dir.path,
    });
    await until(
      async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.ok,
      "python's http.server",
      10_000,
      100,
    );
    await using server = await startServe(["--url", `http://127.0.0.1:${port}/`, ...QUICK]);
    await saysWhy(server, "url", "retrying", /expected Content-Type multipart.*text\/html/);
    await stopCleanly(server, "SIGTERM");
  });

  it("a webcam that fails after start: ffmpeg's error, not its banner", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    // A character device that is no camera: the start check passes, ffmpeg fails.
    await using server = await startServe(["--webcam", "/dev/null", ...QUICK]);
    await saysWhy(server, "webcam", "retrying", /Inappropriate ioctl for device/);
    assert.doesNotMatch(
      String((await stats(server.url)).status.lastError),
      /ffmpeg version|configuration:/,
    );
    await stopCleanly(server, "SIGTERM");
  });

  it("a file another program has not written yet is waited for, and said", async () => {
    using dir = tempDir("later");
    const path = join(dir.path, "image.jpg");
    await using server = await startServe(["--file", path, ...QUICK]);
    await saysWhy(server, "file", "retrying", /waiting for .*image\.jpg to be a file/);
    await stopCleanly(server, "SIGTERM");
  });

  it("a camera that goes away later: retried, said once for many retries, and back when it is", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    using dir = tempDir("gone");
    const frames = join(dir.path, "frames");
    const writeFrames = () => {
      mkdirSync(frames, { recursive: true });
      for (const [i, frame] of fixtureFrames.entries()) {
        writeFileSync(join(frames, `${i}.jpg`), frame);
      }
    };
    writeFrames();
    const absent = join(dir.path, "absent");
    using camera = fakeCameraDir(["rpicam-vid"], {
      FAKE_CAMERA_FRAMES: frames,
      FAKE_CAMERA_ABSENT: absent,
    });
    const starts = () => camera.runs().length;
    await using server = await startServe(
      ["--camera", "--width", "320", "--height", "240", ...QUICK],
      { env: camera.env },
    );
    const { url } = server;
    await until(async () => (await stats(url)).status.online, "frames", 20_000, 100);
    // The ribbon cable comes loose: the running rpicam-vid fails, and every
    // start after it finds no camera, as rpicam-apps says it.
    writeFileSync(absent, "");
    rmSync(frames, { recursive: true });
    const before = starts();
    await saysWhy(
      server,
      "camera",
      "retrying",
      /no camera found \("no cameras available"\)/,
      { width: 320, height: 240 },
    );
    await until(() => starts() >= before + 3, "three more failed starts", 20_000, 50);
    assert.equal(server.exitCode, null, "still serving: a camera that went away is retried");
    const said = server.output.stderr.match(/source retrying[^\n]*no camera found/g) ?? [];
    assert.equal(said.length, 1, `one line for ${starts() - before} failed starts:\n${said}`);
    // Every line says why, and since the last frame: the source's failure is
    // news at once, not only once offlineAfter has passed.
    const lastFrame = (await stats(url)).latest!.timestamp;
    const lines = server.output.stderr.match(/\[camera\] source retrying[^\n]*/g) ?? [];
    for (const line of lines) {
      const since = Date.parse(line.match(/\(no frame since (\S+)\): \S/)?.[1] ?? "");
      assert.ok(Math.abs(since - lastFrame) < 300, `since the last frame, with why: ${line}`);
    }

    // Plugged back in: the next start serves the camera's frames again.
    writeFrames();
    rmSync(absent);
    await waitForLog(server, /\[camera\] camera online: frames are coming again after/, 30_000);
    const s = await stats(url);
    assert.equal(s.status.state, "running");
    assert.equal(s.status.lastError, null);
    const shot = await fetch(`${url}/snapshot.jpg`);
    assert.equal(shot.status, 200);
    assert.ok(fixtureSums.includes(sha256(new Uint8Array(await shot.arrayBuffer()))));
    await stopCleanly(server, "SIGTERM");
  });
});

describe("mistakes no retry mends stop mjpeg serve at start (exit 2)", () => {
  async function refused(args: string[], pattern: RegExp): Promise<void> {
    const result = await runCli(["serve", "--port", "0", ...args], { timeoutMs: 20_000 });
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /listening on/, "nothing half-started");
  }

  it("names the flag: a mistyped folder, an empty one, a missing device, an unknown program", async () => {
    using dir = tempDir("mistakes");
    {
      mkdirSync(join(dir.path, "frames"));
      await refused(
        ["--file", join(dir.path, "framez")],
        /mjpeg serve: --file: expected a JPEG file or a folder, got .*framez: no such file or folder/,
      );
      await refused(
        ["--file", join(dir.path, "nowhere", "image.jpg")],
        /--file: expected a file or a folder, got .*: no such folder .*nowhere/,
      );
      await refused(
        ["--file", join(dir.path, "frames")],
        /--file: expected \.jpg files in the folder .*frames, found none/,
      );
      await refused(
        ["--webcam", "/dev/video99"],
        /--webcam: expected a video device, got \/dev\/video99: no such device; (the video devices here are|there is no \/dev\/video)/,
      );
      await refused(
        ["--command", "no-such-program-here --flag"],
        /--command: no program to run: tried "no-such-program-here", none found on PATH/,
      );
    }
  });

  it("names the config file's setting", async () => {
    using dir = tempDir("mistakes-config");
    const config = writeConfig(dir.path, {
      streams: {
        front: { type: "pattern" },
        usb: { type: "webcam", device: "/dev/video98" },
      },
    });
    const result = await runCli(["serve", "--port", "0", "--config", config], {
      timeoutMs: 20_000,
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /config file .*streams\.json: streams\.usb\.device: expected a video device, got \/dev\/video98/,
    );
  });
});
