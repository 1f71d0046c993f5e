import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { open, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FrameHub } from "../src/server/frame_hub.ts";
import { fileSource } from "../src/sources/file.ts";
import { pipeToHub } from "../src/sources/source.ts";
import { disposable } from "./helpers/dispose.ts";
import { fixtureFiles, fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { take } from "./helpers/sources.ts";
import { serveHub } from "./helpers/stack.ts";
import { background } from "./helpers/task.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { readFrames } from "./helpers/viewers.ts";
import { sleep, until } from "./helpers/wait.ts";

describe("fileSource", () => {
  it("never serves a half-written file while a writer rewrites it 100 times", async () => {
    using dir = tempDir("file");
    const path = join(dir.path, "image.jpg");
    writeFileSync(path, fixtureFrames[0]!);
    await using hub = disposable(new FrameHub(), (h) => h.close());
    await using server = await serveHub(hub);
    await using _piping = background((signal) =>
      pipeToHub(fileSource(path, { pollInterval: 4 }), hub, signal)
    );
    await using viewer = background((signal) => readFrames(`${server.url}/`, signal));
    const written: string[] = [];
    for (let i = 1; i <= 100; i++) {
      const jpeg = fixtureFrames[i % fixtureFrames.length]!;
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
        await sleep(i % 3 === 0 ? 12 : i % 4);
        await handle.write(jpeg.subarray(cut), 0, jpeg.length - cut, cut);
        await handle.close();
      }
      written.push(sha256(jpeg));
      await sleep(15 + (i % 3) * 5);
    }
    await sleep(100);
    const served = await viewer.stop();
    assert.ok(served.length >= 30, `expected most rewrites to be served, got ${served.length}`);
    for (const frame of served) {
      assert.ok(fixtureSums.includes(sha256(frame.data)), `frame ${frame.sequence} is torn`);
    }
    assert.equal(sha256(served.at(-1)!.data), written.at(-1), "the last version is served");
    assert.equal(sha256(hub.latest!.data), written.at(-1));
  });

  it("waits for the file, then publishes only when the picture changes", async () => {
    using dir = tempDir("file");
    const path = join(dir.path, "image.jpg");
    const lines: string[] = [];
    const frames: Uint8Array[] = [];
    const source = fileSource(path, { pollInterval: 5, log: (l) => lines.push(l) });
    await using reading = background(async (signal) => {
      for await (const f of source.frames(signal)) frames.push(f.data);
    });
    await sleep(40);
    writeFileSync(path, fixtureFrames[0]!); // the file appears
    // Waited for, not slept on: on a busy machine a 5 ms poll can lag 100 ms.
    await until(() => frames.length === 1, "the first picture");
    writeFileSync(path, fixtureFrames[0]!); // same bytes, new mtime
    await sleep(100); // polls that see the new mtime and the same bytes
    writeFileSync(path, fixtureFrames[1]!);
    await until(() => frames.length === 2, "the second picture");
    await sleep(60);
    await reading.stop();
    assert.deepEqual(frames.map(sha256), [fixtureSums[0], fixtureSums[1]]);
    assert.deepEqual(lines, [`file source: waiting for ${path} to be a file`]);
  });

  it("plays a folder of JPEGs in name order, looping, skipping broken files", async () => {
    using dir = tempDir("folder");
    fixtureFiles.slice(0, 3).forEach((file, i) => copyFileSync(file, join(dir.path, `f${i}.jpg`)));
    writeFileSync(join(dir.path, "f1b.jpg"), fixtureFrames[3]!.subarray(0, 500)); // cut short
    writeFileSync(join(dir.path, "notes.txt"), "not an image");
    const skipped: string[] = [];
    const started = performance.now();
    const frames = await take(
      fileSource(dir.path, { fps: 50, log: (l) => skipped.push(l) }),
      7,
    );
    assert.deepEqual(
      frames.map((f) => sha256(f.data)),
      [0, 1, 2, 0, 1, 2, 0].map((i) => fixtureSums[i]),
    );
    assert.ok(performance.now() - started >= 6 * 20 * 0.8, "paced at about 50 fps");
    assert.ok(skipped.some((l) => l.includes("f1b.jpg")), skipped.join("\n"));
  });

  it("rejects bad options and an empty folder clearly", async () => {
    assert.throws(() => fileSource(""), /expected a file or folder path/);
    assert.throws(() => fileSource("x.jpg", { fps: 0 }), /fps/);
    using dir = tempDir("empty");
    await assert.rejects(take(fileSource(dir.path), 1), /expected \.jpg files in the folder/);
  });
});
