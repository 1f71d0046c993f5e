/**
 * `mjpeg serve --poll` as a user runs it: a snapshot camera polled from the
 * command line and from a config file, its state in `/stats`, its failures
 * logged once, a Digest camera over https with `--ca`, and bad flags refused.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startCamera } from "./helpers/camera.ts";
import { makeCertificates } from "./helpers/tls_certs.ts";
import { assertUsageErrors, startServe, stopCleanly, writeConfig } from "./helpers/cli_run.ts";
import { fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { waitForLog } from "./helpers/processes.ts";
import { startSnapshotCamera } from "./helpers/snapshot_camera.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";
import { until } from "./helpers/wait.ts";

type SourceStatus = Record<string, unknown> | null;

/** Reads `/stats` until its `source` satisfies `ready` (10 s at most); returns that source. */
async function statsWhen(url: string, ready: (source: SourceStatus) => boolean) {
  let last: SourceStatus = null;
  return await until(
    async () => {
      last = ((await (await fetch(url)).json()) as { source: SourceStatus }).source;
      return ready(last) && last;
    },
    () => `${url} to show the source ready, got ${JSON.stringify(last)}`,
    10_000,
    100,
  );
}

/** The JPEG a server is serving now, as a checksum. */
async function snapshotSum(url: string): Promise<string> {
  return sha256(new Uint8Array(await (await fetch(url)).arrayBuffer()));
}

describe("mjpeg serve --poll", () => {
  it("serves a snapshot camera polled at --fps, its state in /stats, its failures logged once", async () => {
    await using camera = await startSnapshotCamera();
    using dir = tempDir("cli-poll");
    const config = writeConfig(dir.path, {
      port: 0,
      statsInterval: 0,
      streams: {
        door: { type: "poll", url: `${camera.url}/changing`, fps: 5 },
        garage: { type: "poll", url: `${camera.url}/404`, fps: 5, timeout: 2 },
      },
    });
    await using serve = await startServe(["--config", config]);
    const door = await statsWhen(`${serve.url}/door/stats`, (s) => Number(s?.published) >= 3);
    assert.equal(door.state, "running");
    assert.equal(door.lastError, null);
    assert.equal(door.connections, 1, "one kept-alive connection");
    assert.ok(
      fixtureSums.includes(await snapshotSum(`${serve.url}/door/snapshot.jpg`)),
      "the camera's JPEG, byte-exact",
    );

    const garage = await statsWhen(`${serve.url}/garage/stats`, (s) => Number(s?.failures) >= 3);
    assert.equal(garage.state, "retrying");
    assert.match(
      String(garage.lastError),
      /^expected a 2xx status, got 404 Not Found \("text\/html" "<html>/,
    );
    const { stderr } = await stopCleanly(serve);
    const lines = stderr.split("\n").filter((line) => line.includes("[garage] poll"));
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0]!, /\[garage\] poll http:\/\/127\.0\.0\.1:\d+\/404: expected a 2xx/);
  });

  it("takes --poll URL --fps N and --timeout S from the command line", async () => {
    await using camera = await startSnapshotCamera();
    await using serve = await startServe([
      "--poll",
      `${camera.url}/changing`,
      "--fps",
      "4",
      "--timeout",
      "3",
      "--stats-interval",
      "0",
    ]);
    // Logged just after "listening on", maybe in a later read of the pipe.
    await waitForLog(serve, /poll http:\/\/127\.0\.0\.1:\d+\/changing at up to 4 fps/);
    const source = await statsWhen(`${serve.url}/stats`, (s) => Number(s?.published) >= 2);
    assert.equal(source.state, "running");
    await stopCleanly(serve);
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
    await using serve = await startServe([
      "--poll",
      camera.url.replace("://", "://admin:s3cret@") + "snapshot.jpg",
      "--fps",
      "5",
      "--ca",
      certs.caFile,
      "--stats-interval",
      "0",
    ]);
    const source = await statsWhen(`${serve.url}/stats`, (s) => Number(s?.unchanged) >= 2);
    assert.equal(source.state, "running", JSON.stringify(source));
    assert.equal(source.published, 1, "the same image, published once");
    assert.equal(
      await snapshotSum(`${serve.url}/snapshot.jpg`),
      fixtureSums[0],
      "the camera's JPEG, byte-exact",
    );
    assert.ok(camera.requests.some((r) => r.valid), "answered the Digest challenge");
    await stopCleanly(serve);
  });

  it("refuses bad polling flags and config with exit status 2", async () => {
    await assertUsageErrors(["serve"], [
      [["--poll", "ftp://camera/x"], /expected an http:\/\/ or https:\/\/ URL/],
      [["--poll", "http://camera/x", "--fps", "0"], /--fps/],
      [["--poll", "http://camera/x", "--timeout", "0"], /--timeout/],
      [["--url", "http://camera/x", "--timeout", "5"], /--timeout: expected only with --poll/],
      [["--poll", "http://camera/x", "--url", "http://camera/y"], /expected one source/],
    ]);
  });
});
