import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../src/cli.ts";
import { finished, sendSignal, startServe, waitForLog } from "./helpers/cli_run.ts";
import { fixtures, sha256 } from "./helpers/sources_http.ts";
import { startSnapshotCamera } from "./helpers/snapshot_camera.ts";
import { tempDir } from "./helpers/sources_util.ts";
import { makeCertificates, startCamera } from "./helpers/camera.ts";
import { FIXTURE_FRAMES } from "./helpers/upstream.ts";
import { requireTools } from "./helpers/tools.ts";

const fixtureHashes = fixtures.map(sha256);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function mjpeg(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const code = await main(args, { stdout: () => {}, stderr: (t) => stderr += t });
  return { code, stderr };
}

/** Reads `/stats` until `ready` says yes (or 10 s pass). */
async function statsWhen(
  url: string,
  ready: (source: Record<string, unknown> | null) => boolean,
): Promise<Record<string, unknown> | null> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const stats = await (await fetch(url)).json() as { source: Record<string, unknown> | null };
    if (ready(stats.source) || Date.now() > deadline) return stats.source;
    await pause(100);
  }
}

describe("mjpeg serve --poll", () => {
  it("serves a snapshot camera polled at --fps, its state in /stats, its failures logged once", async () => {
    await using camera = await startSnapshotCamera();
    const dir = tempDir("cli-poll");
    const config = join(dir.path, "cameras.json");
    writeFileSync(
      config,
      JSON.stringify({
        port: 0,
        statsInterval: 0,
        streams: {
          door: { type: "poll", url: `${camera.url}/changing`, fps: 5 },
          garage: { type: "poll", url: `${camera.url}/404`, fps: 5, timeout: 2 },
        },
      }),
    );
    const { child, url } = await startServe(["--config", config]);
    try {
      const door = await statsWhen(`${url}/door/stats`, (s) => Number(s?.published) >= 3);
      assert.equal(door?.state, "ok");
      assert.equal(door?.lastError, null);
      assert.equal(door?.connections, 1, "one kept-alive connection");
      const shot = new Uint8Array(await (await fetch(`${url}/door/snapshot.jpg`)).arrayBuffer());
      assert.ok(fixtureHashes.includes(sha256(shot)), "the camera's JPEG, byte-exact");

      const garage = await statsWhen(`${url}/garage/stats`, (s) => Number(s?.failures) >= 3);
      assert.equal(garage?.state, "failing");
      assert.match(
        String(garage?.lastError),
        /^expected a 2xx status, got 404 Not Found \("text\/html" "<html>/,
      );
      const lines = child.output.stderr.split("\n").filter((l) => l.includes("[garage] poll"));
      assert.equal(lines.length, 1, child.output.stderr);
      assert.match(lines[0]!, /\[garage\] poll http:\/\/127\.0\.0\.1:\d+\/404: expected a 2xx/);
    } finally {
      sendSignal(child, "SIGINT");
      const result = await finished(child, 10_000);
      dir.remove();
      assert.equal(result.code, 0, result.stderr);
    }
  });

  it("takes --poll URL --fps N and --timeout S from the command line", async () => {
    await using camera = await startSnapshotCamera();
    const { child, url } = await startServe([
      "--poll",
      `${camera.url}/changing`,
      "--fps",
      "4",
      "--timeout",
      "3",
      "--stats-interval",
      "0",
    ]);
    try {
      // Logged just after "listening on", maybe in a later read of the pipe.
      await waitForLog(child, /poll http:\/\/127\.0\.0\.1:\d+\/changing at up to 4 fps/);
      const source = await statsWhen(`${url}/stats`, (s) => Number(s?.published) >= 2);
      assert.equal(source?.state, "ok");
    } finally {
      sendSignal(child, "SIGINT");
      await finished(child, 10_000);
    }
  });

  it("polls a Digest camera over https with --ca FILE, the password in the URL", async (t) => {
    if (!requireTools(t, "openssl", "python3")) return;
    using certs = makeCertificates();
    await using camera = await startCamera({
      algorithms: ["SHA-256"],
      password: "s3cret",
      mode: "snapshot",
      cert: certs.good.cert,
      key: certs.good.key,
    });
    const { child, url } = await startServe([
      "--poll",
      camera.url.replace("://", "://admin:s3cret@") + "snapshot.jpg",
      "--fps",
      "5",
      "--ca",
      certs.caFile,
      "--stats-interval",
      "0",
    ]);
    try {
      const source = await statsWhen(`${url}/stats`, (s) => Number(s?.unchanged) >= 2);
      assert.equal(source?.state, "ok", JSON.stringify(source));
      assert.equal(source?.published, 1, "the same image, published once");
      const shot = new Uint8Array(await (await fetch(`${url}/snapshot.jpg`)).arrayBuffer());
      assert.equal(sha256(shot), sha256(FIXTURE_FRAMES[0]!), "the camera's JPEG, byte-exact");
      assert.ok(camera.requests.some((r) => r.valid), "answered the Digest challenge");
    } finally {
      sendSignal(child, "SIGINT");
      await finished(child, 10_000);
    }
  });

  it("refuses bad polling flags and config with exit status 2", async () => {
    const bad = [
      [["serve", "--poll", "ftp://camera/x"], /expected an http:\/\/ or https:\/\/ URL/],
      [["serve", "--poll", "http://camera/x", "--fps", "0"], /--fps/],
      [["serve", "--poll", "http://camera/x", "--timeout", "0"], /--timeout/],
      [
        ["serve", "--url", "http://camera/x", "--timeout", "5"],
        /--timeout: expected only with --poll/,
      ],
      [["serve", "--poll", "http://camera/x", "--url", "http://camera/y"], /expected one source/],
    ] as const;
    for (const [args, message] of bad) {
      const result = await mjpeg(...args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
