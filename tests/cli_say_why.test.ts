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
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import process from "node:process";
import { jpegSize } from "../src/internal/jpeg_dc_decoder.ts";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";
import { finished, runCli, sendSignal, startServe, waitForLog } from "./helpers/cli_run.ts";
import { installFakeCamera, tempDir } from "./helpers/sources_util.ts";
import { fixtures, sha256 } from "./helpers/sources_http.ts";
import type { StreamStats } from "../src/hono/stream_stats.ts";
import { requireTools } from "./helpers/tools.ts";

const QUICK = ["--offline-after", "1", "--keepalive", "0.5", "--stats-interval", "0"];

async function stats(url: string): Promise<StreamStats> {
  return await (await fetch(`${url}/stats?summary=1`)).json();
}

async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`expected ${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The first part a viewer of the stream gets. */
async function firstPart(url: string) {
  const controller = new AbortController();
  const response = await fetch(`${url}/stream.mjpg`, { signal: controller.signal });
  const reader = response.body!.pipeThrough(new MjpegDecoderStream()).getReader();
  const { value } = await reader.read();
  controller.abort();
  await reader.cancel().catch(() => {});
  return value!;
}

/** Waits for the source to report `pattern` as its last error, and checks what a user sees. */
async function saysWhy(
  url: string,
  child: Parameters<typeof waitForLog>[0],
  name: string,
  state: string,
  pattern: RegExp,
  size = { width: 640, height: 480 },
): Promise<void> {
  const s = await until(`${state} in /stats`, 20_000, async () => {
    const s = await stats(url);
    return s.status.state === state && pattern.test(s.status.lastError ?? "") ? s : undefined;
  });
  assert.equal(s.status.online, false);
  assert.match(String(s.source?.lastError), pattern, "the source's own report too");
  // One log line says why (a cause that came before may have its own line).
  await waitForLog(child, new RegExp(`\\[${name}\\] source ${state}[^\\n]*(?:${pattern.source})`));
  // Not a black box: the viewer gets the offline card, the size of the last
  // frame (640x480 when there never was one).
  // A source may say it failed before `offlineAfter` has passed since its last frame.
  const part = await until("the offline card", 10_000, async () => {
    const part = await firstPart(url);
    return part.headers.get("x-frame-kind") === "offline" ? part : undefined;
  });
  assert.deepEqual(jpegSize(part.data), size);
  // And the page carries the place where it says so.
  assert.match(await (await fetch(`${url}/`)).text(), /data-out="status"/);
}

describe("mjpeg serve says why there are no frames", () => {
  it("a relay to an upstream that refuses connections", async () => {
    const port = await closedPort();
    const { child, url } = await startServe([
      "--url",
      `http://127.0.0.1:${port}/stream.mjpg`,
      ...QUICK,
    ]);
    try {
      await saysWhy(url, child, "url", "retrying", /ECONNREFUSED|refused/);
    } finally {
      sendSignal(child, "SIGTERM");
      await finished(child, 10_000);
    }
  });

  it("a relay to an HTML page", async (t) => {
    if (!requireTools(t, "python3")) return;
    const dir = tempDir("html");
    writeFileSync(join(dir.path, "index.html"), "<html><body>a camera's web page</body></html>");
    const port = await closedPort();
    const python = spawn("python3", ["-m", "http.server", "-b", "127.0.0.1", String(port)], {
      cwd: dir.path,
      stdio: "ignore",
    });
    try {
      await until(
        "python's http.server",
        10_000,
        async () =>
          (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.ok ? true : undefined,
      );
      const { child, url } = await startServe(["--url", `http://127.0.0.1:${port}/`, ...QUICK]);
      try {
        await saysWhy(url, child, "url", "retrying", /expected Content-Type multipart.*text\/html/);
      } finally {
        sendSignal(child, "SIGTERM");
        await finished(child, 10_000);
      }
    } finally {
      python.kill("SIGKILL");
      dir.remove();
    }
  });

  it("a webcam that fails after start: ffmpeg's error, not its banner", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    // A character device that is no camera: the start check passes, ffmpeg fails.
    const { child, url } = await startServe(["--webcam", "/dev/null", ...QUICK]);
    try {
      await saysWhy(url, child, "webcam", "retrying", /Inappropriate ioctl for device/);
      assert.doesNotMatch(
        String((await stats(url)).status.lastError),
        /ffmpeg version|configuration:/,
      );
    } finally {
      sendSignal(child, "SIGTERM");
      await finished(child, 10_000);
    }
  });

  it("a file another program has not written yet is waited for, and said", async () => {
    const dir = tempDir("later");
    const path = join(dir.path, "image.jpg");
    const { child, url } = await startServe(["--file", path, ...QUICK]);
    try {
      await saysWhy(url, child, "file", "retrying", /waiting for .*image\.jpg to be a file/);
    } finally {
      sendSignal(child, "SIGTERM");
      await finished(child, 10_000);
      dir.remove();
    }
  });

  it("a camera that goes away later: retried, said once for many retries, and back when it is", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const dir = tempDir("gone");
    installFakeCamera(dir.path, "rpicam-vid");
    const frames = join(dir.path, "frames");
    const writeFrames = () => {
      mkdirSync(frames, { recursive: true });
      for (const [i, frame] of fixtures.entries()) writeFileSync(join(frames, `${i}.jpg`), frame);
    };
    writeFrames();
    const absent = join(dir.path, "absent");
    const starts = () => readdirSync(dir.path).filter((f) => f.startsWith("run.")).length;
    const { child, url } = await startServe(
      ["--camera", "--width", "320", "--height", "240", ...QUICK],
      {
        env: {
          PATH: `${dir.path}:${process.env.PATH}`,
          FAKE_CAMERA_DIR: dir.path,
          FAKE_CAMERA_FRAMES: frames,
          FAKE_CAMERA_ABSENT: absent,
        },
      },
    );
    const hashes = fixtures.map(sha256);
    try {
      await until("frames", 20_000, async () => (await stats(url)).status.online || undefined);
      // The ribbon cable comes loose: the running rpicam-vid fails, and every
      // start after it finds no camera, as rpicam-apps says it.
      writeFileSync(absent, "");
      rmSync(frames, { recursive: true });
      const before = starts();
      await saysWhy(
        url,
        child,
        "camera",
        "retrying",
        /no camera found \("no cameras available"\)/,
        { width: 320, height: 240 },
      );
      await until("three more failed starts", 20_000, () => {
        return Promise.resolve(starts() >= before + 3 ? true : undefined);
      });
      assert.equal(child.exitCode, null, "still serving: a camera that went away is retried");
      const said = child.output.stderr.match(/source retrying[^\n]*no camera found/g) ?? [];
      assert.equal(said.length, 1, `one line for ${starts() - before} failed starts:\n${said}`);
      // Every line says why, and since the last frame: the source's failure
      // is news at once, not only once offlineAfter has passed.
      const lastFrame = (await stats(url)).latest!.timestamp;
      const lines = child.output.stderr.match(/\[camera\] source retrying[^\n]*/g) ?? [];
      for (const line of lines) {
        const since = Date.parse(line.match(/\(no frame since (\S+)\): \S/)?.[1] ?? "");
        assert.ok(Math.abs(since - lastFrame) < 300, `since the last frame, with why: ${line}`);
      }

      // Plugged back in: the next start serves the camera's frames again.
      writeFrames();
      rmSync(absent);
      await waitForLog(child, /\[camera\] camera online: frames are coming again after/, 30_000);
      const s = await stats(url);
      assert.equal(s.status.state, "running");
      assert.equal(s.status.lastError, null);
      const shot = await fetch(`${url}/snapshot.jpg`);
      assert.equal(shot.status, 200);
      assert.ok(hashes.includes(sha256(new Uint8Array(await shot.arrayBuffer()))));
    } finally {
      sendSignal(child, "SIGTERM");
      const result = await finished(child, 10_000);
      assert.equal(result.code, 0, result.stderr);
      dir.remove();
    }
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
    const dir = tempDir("mistakes");
    try {
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
    } finally {
      dir.remove();
    }
  });

  it("names the config file's setting", async () => {
    const dir = tempDir("mistakes-config");
    const config = join(dir.path, "streams.json");
    writeFileSync(
      config,
      JSON.stringify({
        streams: {
          front: { type: "pattern" },
          usb: { type: "webcam", device: "/dev/video98" },
        },
      }),
    );
    try {
      const result = await runCli(["serve", "--port", "0", "--config", config], {
        timeoutMs: 20_000,
      });
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /config file .*streams\.json: streams\.usb\.device: expected a video device, got \/dev\/video98/,
      );
    } finally {
      dir.remove();
    }
  });
});
