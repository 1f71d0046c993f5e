/**
 * What real cameras' web servers do that a textbook server does not, each
 * against a real peer (Python's http.server, or a raw socket): HTTP/1.0
 * answers whose body ends at the close, Connection: close, an IPv6 literal
 * host, and a camera that is off (the connection itself times out).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { MjpegClient } from "../src/client/client.ts";
import { cameraFetch } from "../src/client/camera_fetch.ts";
import { startCamera } from "./helpers/camera.ts";
import { readSums, readToEnd } from "./helpers/client_checks.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { inCI } from "./helpers/tools.ts";
import { startUpstream } from "./helpers/upstream.ts";

/** Whether this machine can listen on the IPv6 loopback. */
function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(0, "::1", () => server.close(() => resolve(true)));
  });
}

describe("cameras' HTTP quirks", () => {
  it("an HTTP/1.0 stream with no length and no chunking: frames until the close, then a reconnect", async () => {
    await using camera = await startCamera({ http10: true, frames: 8, interval: 0.01 });
    const sums = await readSums(camera.url.replace("://", "://admin:secret@") + "stream", 12);
    assert.deepEqual(sums.slice(0, 8), fixtureSums);
    assert.deepEqual(sums.slice(8), fixtureSums.slice(0, 4));
  });

  it("an HTTP/1.0 snapshot whose body ends at the close comes whole", async () => {
    await using camera = await startCamera({ http10: true, mode: "snapshot" });
    const url = camera.url + "snapshot.jpg";
    const fetchCamera = cameraFetch({
      url,
      credentials: { username: "admin", password: "secret" },
    });
    const response = await fetchCamera(new Request(url));
    assert.equal(response.headers.get("content-length"), null);
    const body = new Uint8Array(await response.arrayBuffer());
    assert.equal(sha256(body), sha256(fixtureFrames[0]!));
    // And the client reads such a JPEG URL as a stream of one frame per connection.
    assert.deepEqual(await readSums(url.replace("://", "://admin:secret@"), 2), [
      fixtureSums[0],
      fixtureSums[0],
    ]);
  });

  it("Connection: close with a Content-Length: one whole JPEG per request", async () => {
    await using camera = await startCamera({ auth: "none", mode: "snapshot" });
    for (let i = 0; i < 3; i++) {
      const response = await cameraFetch({ url: camera.url })(new Request(camera.url));
      assert.equal(response.headers.get("connection"), "close");
      assert.equal(Number(response.headers.get("content-length")), fixtureFrames[0]!.length);
      assert.equal(sha256(new Uint8Array(await response.arrayBuffer())), fixtureSums[0]);
    }
  });

  it("an IPv6 literal host: http://[::1]:PORT/", async (t) => {
    if (!await ipv6Loopback()) {
      const message = "this machine has no IPv6 loopback (::1)";
      if (inCI) throw new Error(`CI must run every test: ${message}`);
      t.skip(message);
      return;
    }
    await using camera = await startCamera({ host: "::1", frames: 8, interval: 0.01 });
    assert.match(camera.url, /^http:\/\/\[::1\]:\d+\/$/);
    const sums = await readSums(camera.url.replace("://", "://admin:secret@") + "stream", 8);
    assert.deepEqual(sums, fixtureSums);
    await camera.logged(2);
    // The Host header carries the brackets, and Digest's uri is the path alone.
    assert.equal(camera.requests[1]!.problem, null);
    assert.equal(camera.requests[1]!.fields!.uri, "/stream");
  });

  it("a camera that is off: the connect timeout is named as such", async () => {
    await using hole = await startCamera({ blackhole: true });
    const client = new MjpegClient(hole.url + "stream", {
      headTimeout: 400,
      reconnect: { limit: 0 },
    });
    const started = Date.now();
    await assert.rejects(
      readToEnd(client),
      /last error: expected a connection to 127\.0\.0\.1:\d+ within the head timeout of 400 ms, got none after \d+ ms \(connect timeout\)$/,
    );
    const took = Date.now() - started;
    assert.ok(took >= 380 && took < 5000, `took ${took} ms`);
  });

  it("a server that accepts but never answers is a head timeout, not a connect timeout", async () => {
    await using silent = await startUpstream((conn) => conn.closed());
    const client = new MjpegClient(silent.url, { headTimeout: 300, reconnect: { limit: 0 } });
    await assert.rejects(
      readToEnd(client),
      /last error: expected a response head within 300 ms, got none after \d+ ms$/,
    );
  });
});
