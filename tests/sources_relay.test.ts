import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameHub } from "../src/server/frame_hub.ts";
import { httpSource } from "../src/sources/http.ts";
import { pipeToHub } from "../src/sources/source.ts";
import { disposable } from "./helpers/dispose.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { serveHub } from "./helpers/stack.ts";
import { background } from "./helpers/task.ts";
import { firstFrames } from "./helpers/viewers.ts";
import { sleep } from "./helpers/wait.ts";

describe("httpSource", () => {
  it("relays a chain serve → relay → client with byte-exact frames", async () => {
    await using upstream = disposable(new FrameHub(), (h) => h.close());
    await using relay = disposable(new FrameHub(), (h) => h.close());
    await using upstreamServer = await serveHub(upstream);
    await using relayServer = await serveHub(relay);
    await using _piping = background((signal) =>
      pipeToHub(httpSource(`${upstreamServer.url}/`), relay, signal)
    );
    await using _publishing = background(async (signal) => {
      for (let i = 0; !signal.aborted && i < 400; i++) {
        upstream.publish(fixtureFrames[i % fixtureFrames.length]!);
        await sleep(20);
      }
    });
    const frames = await firstFrames(`${relayServer.url}/`, 16);
    const hashes = frames.map((f) => sha256(f.data));
    for (const hash of hashes) {
      assert.ok(fixtureSums.includes(hash), "frame changed on the way");
    }
    // The order survives the chain: each frame is the fixture after the previous one (or later).
    const indexes = hashes.map((h) => fixtureSums.indexOf(h));
    const advancing = indexes.slice(1).filter((v, i) => v === (indexes[i]! + 1) % 8).length;
    assert.ok(advancing >= 10, `frames mostly arrive in order: ${indexes.join(",")}`);
  });

  it("rejects a URL that is not http(s), and hides credentials in its description", () => {
    assert.throws(
      () => httpSource("ftp://example.com/x"),
      /expected an http:\/\/ or https:\/\/ URL/,
    );
    assert.throws(() => httpSource("not a url"), /expected an http:\/\/ or https:\/\/ URL/);
    assert.equal(
      httpSource("http://me:secret@127.0.0.1:9/s").description,
      "relay http://127.0.0.1:9/s",
    );
  });
});
