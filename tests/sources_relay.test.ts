import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameHub } from "../src/server/frame_hub.ts";
import { httpSource } from "../src/sources/http.ts";
import { pipeToHub } from "../src/sources/source.ts";
import { fixtures, readFrames, serveHub, sha256 } from "./helpers/sources_http.ts";

const fixtureHashes = fixtures.map(sha256);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("httpSource", () => {
  it("relays a chain serve → relay → client with byte-exact frames", async () => {
    const upstream = new FrameHub();
    const relay = new FrameHub();
    const upstreamServer = await serveHub(upstream);
    const relayServer = await serveHub(relay);
    const stop = new AbortController();
    const piping = pipeToHub(httpSource(`${upstreamServer.url}/`), relay, stop.signal);
    const publishing = (async () => {
      for (let i = 0; !stop.signal.aborted && i < 400; i++) {
        upstream.publish(fixtures[i % fixtures.length]!);
        await pause(20);
      }
    })();
    try {
      const frames = await readFrames(
        `${relayServer.url}/`,
        AbortSignal.timeout(10_000),
        (f) => f.length >= 16,
      );
      assert.equal(frames.length, 16);
      const hashes = frames.map((f) => sha256(f.data));
      for (const hash of hashes) {
        assert.ok(fixtureHashes.includes(hash), "frame changed on the way");
      }
      // The order survives the chain: each frame is the fixture after the previous one (or later).
      const indexes = hashes.map((h) => fixtureHashes.indexOf(h));
      const advancing = indexes.slice(1).filter((v, i) => v === (indexes[i]! + 1) % 8).length;
      assert.ok(advancing >= 10, `frames mostly arrive in order: ${indexes.join(",")}`);
    } finally {
      stop.abort();
      await piping;
      await publishing;
      await relayServer.close();
      await upstreamServer.close();
      upstream.close();
      relay.close();
    }
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
