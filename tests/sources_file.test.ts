import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { open, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FrameHub } from "../src/server/frame_hub.ts";
import { fileSource } from "../src/sources/file.ts";
import { pipeToHub } from "../src/sources/source.ts";
import { fixtures, readFrames, serveHub, sha256 } from "./helpers/sources_http.ts";
import { take, tempDir } from "./helpers/sources_util.ts";

const fixtureHashes = fixtures.map(sha256);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("fileSource", () => {
  it("never serves a half-written file while a writer rewrites it 100 times", async () => {
    const dir = tempDir("file");
    const path = join(dir.path, "image.jpg");
    writeFileSync(path, fixtures[0]!);
    const hub = new FrameHub();
    const server = await serveHub(hub);
    const stop = new AbortController();
    const piping = pipeToHub(fileSource(path, { pollInterval: 4 }), hub, stop.signal);
    const viewing = new AbortController();
    const viewer = readFrames(`${server.url}/`, viewing.signal);
    try {
      const written: string[] = [];
      for (let i = 1; i <= 100; i++) {
        const jpeg = fixtures[i % fixtures.length]!;
        if (i % 5 === 0) {
          // The safe way: write a temporary file and rename it over the old one.
          await writeFile(`${path}.tmp`, jpeg);
          await rename(`${path}.tmp`, path);
        } else {
          // The unsafe way (what many capture scripts do): truncate and write in
          // pieces, with pauses, so a reader can see a torn file.
          const handle = await open(path, "w");
          const cut = Math.floor(jpeg.length * ((i % 7) + 1) / 8);
          await handle.write(jpeg.subarray(0, cut), 0, cut, 0);
          await pause(i % 3 === 0 ? 12 : i % 4);
          await handle.write(jpeg.subarray(cut), 0, jpeg.length - cut, cut);
          await handle.close();
        }
        written.push(sha256(jpeg));
        await pause(15 + (i % 3) * 5);
      }
      await pause(100);
      viewing.abort();
      const served = await viewer;
      assert.ok(served.length >= 30, `expected most rewrites to be served, got ${served.length}`);
      for (const frame of served) {
        assert.ok(fixtureHashes.includes(sha256(frame.data)), `frame ${frame.sequence} is torn`);
      }
      assert.equal(sha256(served.at(-1)!.data), written.at(-1), "the last version is served");
      assert.equal(sha256(hub.latest!.data), written.at(-1));
    } finally {
      viewing.abort();
      stop.abort();
      await piping;
      await server.close();
      hub.close();
      dir.remove();
    }
  });

  it("waits for the file, then publishes only when the picture changes", async () => {
    const dir = tempDir("file");
    const path = join(dir.path, "image.jpg");
    try {
      const lines: string[] = [];
      const controller = new AbortController();
      const frames: Uint8Array[] = [];
      const source = fileSource(path, { pollInterval: 5, log: (l) => lines.push(l) });
      const reading = (async () => {
        for await (const f of source.frames(controller.signal)) {
          frames.push(f.data);
        }
      })();
      await pause(40);
      writeFileSync(path, fixtures[0]!); // the file appears
      await pause(60);
      writeFileSync(path, fixtures[0]!); // same bytes, new mtime
      await pause(60);
      writeFileSync(path, fixtures[1]!);
      await pause(60);
      controller.abort();
      await reading;
      assert.deepEqual(frames.map(sha256), [fixtureHashes[0], fixtureHashes[1]]);
      assert.deepEqual(lines, [`file source: waiting for ${path} to be a file`]);
    } finally {
      dir.remove();
    }
  });

  it("plays a folder of JPEGs in name order, looping, skipping broken files", async () => {
    const dir = tempDir("folder");
    try {
      fixtures.slice(0, 3).forEach((_, i) =>
        copyFileSync(
          new URL(`./fixtures/frames/00${i + 1}.jpg`, import.meta.url),
          join(dir.path, `f${i}.jpg`),
        )
      );
      writeFileSync(join(dir.path, "f1b.jpg"), fixtures[3]!.subarray(0, 500)); // cut short
      writeFileSync(join(dir.path, "notes.txt"), "not an image");
      const skipped: string[] = [];
      const started = performance.now();
      const frames = await take(
        fileSource(dir.path, { fps: 50, log: (l) => skipped.push(l) }),
        7,
      );
      assert.deepEqual(
        frames.map((f) => sha256(f.data)),
        [0, 1, 2, 0, 1, 2, 0].map((i) => fixtureHashes[i]),
      );
      assert.ok(performance.now() - started >= 6 * 20 * 0.8, "paced at about 50 fps");
      assert.ok(skipped.some((l) => l.includes("f1b.jpg")), skipped.join("\n"));
    } finally {
      dir.remove();
    }
  });

  it("rejects bad options and an empty folder clearly", async () => {
    assert.throws(() => fileSource(""), /expected a file or folder path/);
    assert.throws(() => fileSource("x.jpg", { fps: 0 }), /fps/);
    const dir = tempDir("empty");
    try {
      await assert.rejects(take(fileSource(dir.path), 1), /expected \.jpg files in the folder/);
    } finally {
      dir.remove();
    }
  });
});
