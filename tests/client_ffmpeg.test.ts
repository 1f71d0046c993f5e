import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MjpegClient } from "../mod.ts";
import {
  assertPoolIntact,
  assertStopsPromptly,
  receive,
  startClient,
} from "./helpers/client_checks.ts";
import { sha256 } from "./helpers/hash.ts";
import { freePort } from "./helpers/ports.ts";
import { type Child, start } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";

const SOURCE = ["-f", "lavfi", "-i", "testsrc=size=640x480:rate=30"];
const FRAMES = 30;

/**
 * ffmpeg's MJPEG encoder is deterministic, so encoding the same test source to
 * files gives the exact JPEGs its HTTP server sends.
 */
let reference: string[] | undefined;
function referenceSums(): string[] {
  if (reference) return reference;
  using dir = tempDir("client");
  const r = spawnSync("ffmpeg", [
    "-loglevel",
    "error",
    ...SOURCE,
    "-frames:v",
    String(FRAMES),
    "-f",
    "image2",
    join(dir.path, "%03d.jpg"),
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  reference = readdirSync(dir.path).sort().map((f) =>
    sha256(new Uint8Array(readFileSync(join(dir.path, f))))
  );
  return reference;
}

/**
 * `ffmpeg -listen 1` serves one client, then exits. A probe connection would
 * be that one client, so instead the MjpegClient's own reconnects (connection
 * refused, then retry) wait for it to listen.
 */
async function startFfmpeg(): Promise<Child & { url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const child = start([
    "ffmpeg",
    "-loglevel",
    "error",
    "-re",
    ...SOURCE,
    "-t",
    "20",
    "-f",
    "mpjpeg",
    "-listen",
    "1",
    url,
  ]);
  return Object.assign(child, { url });
}

const patient = { reconnect: { initialDelay: 50, maxDelay: 200, limit: 100 } };

describe("MjpegClient against ffmpeg's MJPEG HTTP server", () => {
  it("fills lent buffers with ffmpeg's frames, byte for byte, at its frame rate", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const sums = referenceSums();
    await using ffmpeg = await startFfmpeg();
    await using client = startClient(ffmpeg.url, 50, patient);
    const got = await receive(client, FRAMES, 10_000);
    assert.deepEqual(got.map((r) => r.sum), sums);
    assert.deepEqual(got.map((r) => r.sequence), Array.from({ length: FRAMES }, (_, i) => i));
    for (let i = 1; i < got.length; i++) assert.ok(got[i]!.timestamp >= got[i - 1]!.timestamp);
    const stats = client.stats;
    // -re paces ffmpeg at 30 fps; wide bounds, this is not a speed test.
    assert.ok(stats.fps > 15 && stats.fps < 60, `fps ${stats.fps}`);
    assert.equal(stats.discardedFrames, 0);
    assert.equal(stats.state, "streaming");
    await assertStopsPromptly(client);
    await assertPoolIntact(client, 50);
  });

  it("frames() yields ffmpeg's frames byte for byte", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    const sums = referenceSums();
    await using ffmpeg = await startFfmpeg();
    await using client = new MjpegClient(ffmpeg.url, { ...patient, frameQueueSize: 4 });
    const got: string[] = [];
    for await (const frame of client.frames()) {
      got.push(sha256(frame.data));
      if (got.length === 10) break;
    }
    assert.deepEqual(got, sums.slice(0, 10));
    assert.equal(
      client.stats.state,
      "stopped",
      "leaving the loop stops a client frames() started",
    );
  });
});
