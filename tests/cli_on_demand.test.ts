/**
 * Cameras on demand, proven with the stand-in rpicam-vid
 * (helpers/sources_fake_rpicam.sh): it leaves a run.<pid> file per start, so
 * the test counts starts by the files and running cameras by /proc. No
 * process while nobody watches; exactly one for several viewers who arrive
 * together, each of whom gets the camera's first frame; stopped a set time
 * after the last viewer leaves; started again by the next viewer or by a
 * snapshot, which waits for the first frame.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import {
  finished,
  repoRoot,
  runCli,
  sendSignal,
  startServe,
  waitForLog,
} from "./helpers/cli_run.ts";
import { fixtures, sha256 } from "./helpers/sources_http.ts";
import { fakeCameraRuns as cameras, installFakeCamera, tempDir } from "./helpers/sources_util.ts";
import type { StreamStats } from "../src/hono/stream_stats.ts";
import { requireTools } from "./helpers/tools.ts";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";

const hashes = fixtures.map(sha256);

async function stats(url: string): Promise<StreamStats> {
  return await (await fetch(`${url}/stats?summary=1`)).json();
}

async function until<T>(what: string, ms: number, check: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`expected ${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Opens a stream and resolves with its first part and the time it came; `close()` leaves. */
async function viewer(url: string) {
  const controller = new AbortController();
  const response = await fetch(`${url}/stream.mjpg`, { signal: controller.signal });
  const reader = response.body!
    .pipeThrough(new MjpegDecoderStream({ contentType: response.headers.get("content-type") }))
    .getReader();
  const first = await reader.read();
  return {
    first: first.value!,
    close: () => {
      controller.abort();
      reader.cancel().catch(() => {});
    },
  };
}

describe("mjpeg serve --on-demand", () => {
  it("runs the camera only while watched: none idle, one for many, stopped after the delay, started again", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const dir = tempDir("on-demand");
    installFakeCamera(dir.path, "rpicam-vid");
    const env = {
      PATH: `${dir.path}:${process.env.PATH}`,
      FAKE_CAMERA_DIR: dir.path,
      FAKE_CAMERA_FRAMES: join(repoRoot, "tests/fixtures/frames"),
    };
    const { child, url } = await startServe(
      [
        "--camera",
        "--on-demand",
        "2",
        "--width",
        "320",
        "--height",
        "240",
        // Slow enough that every viewer's first part can be the camera's first frame.
        "--fps",
        "2",
        "--stats-interval",
        "0",
      ],
      { env },
    );
    try {
      await waitForLog(child, /stops 2 s after the last viewer/);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(cameras(dir.path), { started: 0, running: 0 }, "no camera while idle");
      assert.equal((await stats(url)).status.state, "stopped");

      // Five viewers at once start one camera, and each gets the first frame
      // it makes (fixture 001, byte-exact), not a card or a keepalive.
      const viewers = await Promise.all(Array.from({ length: 5 }, () => viewer(url)));
      for (const v of viewers) {
        assert.equal(sha256(v.first.data), hashes[0], "the camera's first frame");
        assert.equal(v.first.headers.get("x-frame-kind"), null, "not a card or keepalive");
      }
      assert.deepEqual(cameras(dir.path), { started: 1, running: 1 });
      await waitForLog(child, /source starting/);
      assert.equal((await stats(url)).status.state, "running");

      // Everyone leaves: the camera runs on for 2 s, then stops.
      const left = Date.now();
      for (const v of viewers) v.close();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(cameras(dir.path).running, 1, "still running within the delay");
      await until(
        "the camera stopped",
        10_000,
        () => cameras(dir.path).running === 0 ? true : undefined,
      );
      const stoppedAfter = Date.now() - left;
      assert.ok(stoppedAfter >= 1900 && stoppedAfter < 6000, `stopped after ${stoppedAfter} ms`);
      await waitForLog(child, /source stopped: nobody watches/);
      assert.equal((await stats(url)).status.state, "stopped");

      // A snapshot starts it again and waits for its first frame, never the
      // last one from before the stop.
      const shot = await fetch(`${url}/snapshot.jpg`);
      assert.equal(shot.status, 200);
      assert.equal(sha256(new Uint8Array(await shot.arrayBuffer())), hashes[0]);
      assert.deepEqual(cameras(dir.path), { started: 2, running: 1 });
      await until(
        "stopped after the snapshot",
        10_000,
        () => cameras(dir.path).running === 0 ? true : undefined,
      );

      // And the next viewer starts it once more.
      const again = await viewer(url);
      assert.equal(sha256(again.first.data), hashes[0], "a fresh first frame, not a stale one");
      assert.deepEqual(cameras(dir.path), { started: 3, running: 1 });
      again.close();
    } finally {
      sendSignal(child, "SIGTERM");
      const result = await finished(child, 10_000);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(cameras(dir.path).running, 0, "no camera left behind");
      dir.remove();
    }
  });

  it("takes onDemand per stream from a config file: the camera waits for a viewer, the pattern runs", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const dir = tempDir("on-demand-config");
    installFakeCamera(dir.path, "rpicam-vid");
    const config = join(dir.path, "streams.json");
    writeFileSync(
      config,
      JSON.stringify({
        keepalive: 0.5,
        snapshotMaxAge: 2,
        streams: {
          pattern: { type: "pattern", fps: 5 },
          cam: { type: "camera", width: 320, height: 240, fps: 2, onDemand: 1 },
        },
      }),
    );
    const env = {
      PATH: `${dir.path}:${process.env.PATH}`,
      FAKE_CAMERA_DIR: dir.path,
      FAKE_CAMERA_FRAMES: join(repoRoot, "tests/fixtures/frames"),
    };
    const { child, url } = await startServe(["--config", config, "--stats-interval", "0"], {
      env,
    });
    try {
      await waitForLog(child, /stream cam: .*on demand.*\(runs while watched, stops 1 s after/);
      await waitForLog(child, /\[pattern\] camera online/);
      assert.equal((await stats(`${url}/pattern`)).status.state, "running");
      assert.equal((await stats(`${url}/cam`)).status.state, "stopped");
      assert.deepEqual(cameras(dir.path), { started: 0, running: 0 }, "no camera while idle");

      const v = await viewer(`${url}/cam`);
      assert.equal(sha256(v.first.data), hashes[0]);
      assert.deepEqual(cameras(dir.path), { started: 1, running: 1 });
      v.close();
      await until("the camera stopped", 10_000, () => cameras(dir.path).running === 0 || undefined);
      assert.equal((await stats(`${url}/pattern`)).status.state, "running", "the pattern runs on");
    } finally {
      sendSignal(child, "SIGTERM");
      const result = await finished(child, 10_000);
      assert.equal(result.code, 0, result.stderr);
      dir.remove();
    }
  });

  it("refuses a bad onDemand or outage setting in a config file, naming it", async () => {
    const dir = tempDir("on-demand-bad");
    try {
      for (
        const [settings, expected] of [
          [
            { streams: { cam: { type: "pattern", onDemand: "yes" } } },
            /streams\.cam\.onDemand: expected true \(stop 10 s after the last viewer\), false, or seconds/,
          ],
          [
            { keepalive: 0.05, streams: { cam: { type: "pattern" } } },
            /keepalive: expected 0 \(off\) or at least 0\.1 seconds/,
          ],
          [
            { streams: { cam: { type: "pattern", offlineAfter: -1 } } },
            /streams\.cam\.offlineAfter: /,
          ],
        ] as const
      ) {
        const config = join(dir.path, "streams.json");
        writeFileSync(config, JSON.stringify(settings));
        const result = await runCli(["serve", "--port", "0", "--config", config], {
          timeoutMs: 15_000,
        });
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, expected);
        assert.doesNotMatch(result.stderr, /listening on/);
      }
    } finally {
      dir.remove();
    }
  });

  it("refuses a bad --on-demand value, saying what is expected", async () => {
    const { main } = await import("../src/cli.ts");
    let stderr = "";
    const code = await main(["serve", "--on-demand=-1"], {
      stdout: () => {},
      stderr: (t) => stderr += t,
    });
    assert.equal(code, 2);
    assert.match(stderr, /--on-demand: expected between 0 and 86400 seconds/);
  });
});
