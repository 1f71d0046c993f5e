/**
 * Camera outages as a user meets them: a real `mjpeg serve` whose camera (a
 * program that writes the fixture JPEGs, then stops writing until the test
 * lets it go on) pauses, read by curl and ffmpeg, and through two relays.
 * Viewers stay connected and keep getting parts (the last frame again, then
 * the offline card), `/stats` and the log say offline and since when, a
 * snapshot is refused rather than old, and the camera's next frames arrive
 * byte-exact. Also: byte-identical frames dropped on request.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jpegSize } from "../src/internal/jpeg_dc_decoder.ts";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";
import type { Frame } from "../src/frame.ts";
import type { StreamStats } from "../src/hono/stream_stats.ts";
import { startServe, stopCleanly } from "./helpers/cli_run.ts";
import { disposable } from "./helpers/dispose.ts";
import { fixtureFrames as fixtures, fixtureSums as hashes } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { waitForLog } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";
import { runsOn } from "./helpers/runtime.ts";
import { sleep, until } from "./helpers/wait.ts";
// Quick outage settings, so a test sees keepalives, the card and the way back in seconds.
const QUICK = [
  "--keepalive",
  "0.5",
  "--offline-after",
  "2",
  "--snapshot-max-age",
  "1.5",
  "--stats-interval",
  "0",
];

/**
 * A camera that pauses: once the file `start` exists it writes fixtures 1-3,
 * then nothing until the file `resume` exists, then fixtures 4-8 in a loop,
 * 5 a second.
 */
function pausingCamera(dir: string): string {
  for (const [i, frame] of fixtures.entries()) writeFileSync(join(dir, `${i + 1}.jpg`), frame);
  const script = join(dir, "camera.sh");
  writeFileSync(
    script,
    `d="$1"
while [ ! -e "$d/start" ]; do sleep 0.1; done
for i in 1 2 3; do cat "$d/$i.jpg"; sleep 0.2; done
while [ ! -e "$d/resume" ]; do sleep 0.1; done
while :; do for i in 4 5 6 7 8; do cat "$d/$i.jpg"; sleep 0.2; done; done
`,
  );
  return `sh ${script} ${dir}`;
}

/** A program reading a URL, its stdout kept. */
function reader(command: string, args: string[]): ChildProcess & { out: Uint8Array[] } {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] }) as
    & ChildProcess
    & { out: Uint8Array[] };
  child.out = [];
  child.stdout!.on("data", (chunk: Uint8Array) => child.out.push(chunk));
  child.stderr!.resume();
  return child;
}

function bytesOf(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Every complete part of a multipart body (or JPEG of a raw one). */
async function partsOf(bytes: Uint8Array): Promise<Frame[]> {
  const frames: Frame[] = [];
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new MjpegDecoderStream());
  for await (const frame of stream) frames.push(frame);
  return frames;
}

const kind = (frame: Frame) => frame.headers.get("x-frame-kind") ?? "frame";

async function stats(url: string): Promise<StreamStats> {
  return await (await fetch(`${url}/stats?summary=1`)).json();
}

describe("mjpeg serve through a camera outage", () => {
  it("keeps curl and ffmpeg connected, says offline, refuses old snapshots, and resumes byte-exact", async (t) => {
    if (!runsOn(t, "deno", "what curl and ffmpeg see through an outage")) return;
    if (!requireTools(t, "curl", "ffmpeg")) return;
    using dir = tempDir("outage");
    await using server = await startServe(["--command", pausingCamera(dir.path), ...QUICK]);
    const { url } = server;
    const stream = `${url}/stream.mjpg`;
    const kill = (c: ChildProcess) => c.kill("SIGKILL");
    await using curl = disposable(reader("curl", ["-sN", "--max-time", "60", stream]), kill);
    const ffmpegOut = join(dir.path, "ffmpeg.mjpeg");
    await using ffmpeg = disposable(
      reader("ffmpeg", [
        "-nostdin",
        "-loglevel",
        "error",
        "-i",
        stream,
        "-c",
        "copy",
        "-f",
        "mjpeg",
        ffmpegOut,
      ]),
      kill,
    );
    await until(
      async () => {
        return (await stats(url)).viewers === 2 && true;
      },
      "curl and ffmpeg connected",
      15_000,
      100,
    );
    writeFileSync(join(dir.path, "start"), "");
    // The camera writes three frames and stops: offline 2 s later.
    await until(
      async () => {
        const s = await stats(url);
        return s.status.state === "offline" && s;
      },
      "offline in /stats",
      15_000,
      100,
    );
    const lastFrame = (await stats(url)).latest!.timestamp;
    const offline = await stats(url);
    assert.equal(offline.status.online, false);
    assert.ok(Math.abs(offline.status.since - lastFrame) < 300, "offline since the last frame");
    await waitForLog(server, /\[command\] camera offline: no frame since \d{4}-\d\d-\d\dT/);
    const snapshot = await fetch(`${url}/snapshot.jpg`);
    assert.equal(snapshot.status, 503);
    assert.equal(snapshot.headers.get("retry-after"), "5");
    assert.match(await snapshot.text(), /the camera is offline since/);
    // A long enough outage for nginx's 5 s proxy_read_timeout to have cut a quiet stream.
    await sleep(4000);
    assert.equal(curl.exitCode, null, "curl is still connected");
    assert.equal(ffmpeg.exitCode, null, "ffmpeg is still connected");
    writeFileSync(join(dir.path, "resume"), "");
    await waitForLog(server, /camera online: frames are coming again after \d+\.\d s/);
    await until(
      async () => {
        const parts = await partsOf(bytesOf(curl.out));
        return hashes.slice(3).every((h) => parts.some((p) => sha256(p.data) === h))
          ? true
          : undefined;
      },
      "frames 4-8 through curl",
      15_000,
      100,
    );
    await until(
      async () => {
        if (!existsSync(ffmpegOut)) return undefined;
        const jpegs = await partsOf(new Uint8Array(readFileSync(ffmpegOut)));
        return hashes.slice(3).every((h) => jpegs.some((p) => sha256(p.data) === h))
          ? true
          : undefined;
      },
      "frames 4-8 through ffmpeg",
      15_000,
      100,
    );

    const parts = await partsOf(bytesOf(curl.out));
    const kinds = parts.map(kind);
    const firstCard = kinds.indexOf("offline");
    const firstNew = parts.findIndex((p) => sha256(p.data) === hashes[3]);
    // Frames 1-3, then 003 again (keepalives), then cards, then the camera again.
    assert.deepEqual(parts.slice(0, 3).map((p) => sha256(p.data)), hashes.slice(0, 3));
    const keepalives = parts.slice(3, firstCard);
    assert.ok(keepalives.length >= 2, `${keepalives.length} keepalives before the card`);
    for (const k of keepalives) {
      assert.equal(kind(k), "keepalive");
      assert.equal(sha256(k.data), hashes[2], "the last frame, byte for byte");
    }
    const cards = parts.slice(firstCard, firstNew);
    // About 5 s of cards at one every 0.5 s.
    assert.ok(cards.length >= 6, `${cards.length} cards during the outage`);
    assert.ok(cards.every((c) => kind(c) === "offline"));
    assert.deepEqual(jpegSize(cards[0]!.data), jpegSize(fixtures[2]!), "the card fits the frame");
    assert.equal(kind(parts[firstNew]!), "frame");
    for (const p of parts.slice(firstNew)) {
      if (kind(p) === "frame") assert.ok(hashes.includes(sha256(p.data)), "byte-exact");
    }
    const live = await stats(url);
    assert.equal(live.status.online, true);
    assert.equal(live.status.state, "running");
    assert.ok(live.keepalivesSent >= keepalives.length + cards.length);
    const fresh = await fetch(`${url}/snapshot.jpg`);
    assert.equal(fresh.status, 200);
    assert.ok(hashes.slice(3).includes(sha256(new Uint8Array(await fresh.arrayBuffer()))));
    await stopCleanly(server, "SIGTERM");
  });

  it("two relays in a row keep the outage an outage: no keepalive is republished as a frame", async (t) => {
    if (!runsOn(t, "deno", "the relays' outage logic, not the transport")) return;
    using dir = tempDir("outage-relay");
    await using upstream = await startServe(["--command", pausingCamera(dir.path), ...QUICK]);
    await using relay = await startServe(["--url", `${upstream.url}/stream.mjpg`, ...QUICK]);
    await using last = await startServe(["--url", `${relay.url}/stream.mjpg`, ...QUICK]);
    await until(
      async () => {
        const [up, mid] = [await stats(upstream.url), await stats(relay.url)];
        return up.viewers === 1 && mid.viewers === 1 && true;
      },
      "the relays connected",
      15_000,
      100,
    );
    writeFileSync(join(dir.path, "start"), "");
    await until(
      async () => {
        const s = await stats(last.url);
        return s.status.state === "offline" && true;
      },
      "the last relay offline",
      20_000,
      100,
    );
    const before = await stats(last.url);
    const middle = await stats(relay.url);
    assert.equal(before.framesPublished, 3, "the three camera frames, nothing more");
    assert.equal(middle.framesPublished, 3);
    await sleep(3000);
    const after = await stats(last.url);
    assert.equal(after.framesPublished, 3, "keepalives and cards are not frames");
    assert.equal(after.status.online, false);
    assert.match(after.status.lastError ?? "", /its camera is offline/);
    writeFileSync(join(dir.path, "resume"), "");
    const resumed = await until(
      async () => {
        const s = await stats(last.url);
        return s.framesPublished >= 8 && s.status.online && s;
      },
      "new frames at the last relay",
      15_000,
      100,
    );
    assert.equal(resumed.status.state, "running");
    const shot = await fetch(`${last.url}/snapshot.jpg`);
    assert.equal(shot.status, 200);
    assert.ok(hashes.slice(3).includes(sha256(new Uint8Array(await shot.arrayBuffer()))));
    for (const server of [last, relay, upstream]) await stopCleanly(server, "SIGTERM");
  });

  it("--drop-same-frames sends a repeated JPEG once, counts the rest, and stays online", async () => {
    using dir = tempDir("same");
    writeFileSync(join(dir.path, "same.jpg"), fixtures[0]!);
    const script = join(dir.path, "same.sh");
    writeFileSync(script, `while :; do cat "$1"; sleep 0.1; done\n`);
    await using server = await startServe([
      "--command",
      `sh ${script} ${join(dir.path, "same.jpg")}`,
      "--drop-same-frames",
      ...QUICK,
    ]);
    const { url } = server;
    const s = await until(
      async () => {
        const s = await stats(url);
        return s.framesUnchanged >= 20 && s;
      },
      "repeats counted",
      15_000,
      100,
    );
    assert.equal(s.framesPublished, 1);
    assert.equal(s.status.online, true, "an unchanged picture is not an outage");
    const shot = await fetch(`${url}/snapshot.jpg`);
    assert.equal(shot.status, 200, "the picture is current, so the snapshot is given");
    await stopCleanly(server, "SIGTERM");
  });
});
