import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { directBody } from "../src/runtime/fetch_connection.ts";
import { httpFetch } from "../src/runtime/http_fetch.ts";
import { KeepAlivePool } from "../src/runtime/keep_alive.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";

const big = new Uint8Array(4 << 20).map((_, i) => i * 7);

/** A node:http server counting TCP connections; each path answers one way. */
async function startServer() {
  let connections = 0;
  const server = createServer((req, res: ServerResponse) => {
    const path = req.url ?? "/";
    if (path === "/length") {
      res.writeHead(200, { "content-length": String(fixtureFrames[0]!.length) }).end(
        fixtureFrames[0],
      );
    } else if (path === "/chunked") {
      res.writeHead(200, { "content-type": "image/jpeg" });
      res.write(fixtureFrames[1]!.subarray(0, 10));
      res.end(fixtureFrames[1]!.subarray(10));
    } else if (path === "/close") {
      res.writeHead(200, { connection: "close", "content-length": "2" }).end("ok");
    } else if (path === "/big") {
      res.writeHead(200, { "content-length": String(big.length) }).end(big);
    } else if (path === "/304") {
      res.writeHead(304).end();
    } else res.writeHead(404).end();
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function bytes(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

describe("KeepAlivePool", () => {
  it("carries sequential requests over one connection when each body is read to its end", async () => {
    await using server = await startServer();
    using pool = new KeepAlivePool();
    for (let i = 0; i < 3; i++) {
      assert.equal(
        sha256(await bytes(await pool.fetch(new Request(`${server.url}/length`)))),
        sha256(fixtureFrames[0]!),
      );
      assert.equal(
        sha256(await bytes(await pool.fetch(new Request(`${server.url}/chunked`)))),
        sha256(fixtureFrames[1]!),
      );
      assert.equal((await pool.fetch(new Request(`${server.url}/304`))).status, 304);
    }
    assert.equal(server.connections(), 1);
    assert.equal(pool.connectionsOpened, 1);
  });

  it("opens a new connection after a body left half-read or a Connection: close", async () => {
    await using server = await startServer();
    using pool = new KeepAlivePool();
    const half = await pool.fetch(new Request(`${server.url}/big`));
    const reader = half.body!.getReader();
    await reader.read();
    await reader.cancel();
    assert.equal(await (await pool.fetch(new Request(`${server.url}/close`))).text(), "ok");
    assert.equal(await (await pool.fetch(new Request(`${server.url}/close`))).text(), "ok");
    assert.equal(server.connections(), 3);
  });
});

describe("directBody", () => {
  it("hands the socket transport's body over piece by piece, byte-exact, once", async () => {
    await using server = await startServer();
    for (const [path, expected] of [["/big", big], ["/chunked", fixtureFrames[1]!]] as const) {
      const response = await httpFetch(new Request(`${server.url}${path}`));
      const direct = directBody(response);
      assert.ok(direct);
      assert.equal(directBody(response), undefined, "taken once");
      const out = new Uint8Array(expected.length);
      let at = 0;
      await direct.pipe((piece) => {
        out.set(piece, at); // valid only during the call: copied
        at += piece.length;
      });
      assert.equal(at, expected.length);
      assert.equal(sha256(out), sha256(expected));
      await assert.rejects(response.arrayBuffer(), TypeError, "the stream is no longer readable");
    }
    const streamed = await httpFetch(new Request(`${server.url}/big`));
    assert.equal(sha256(await bytes(streamed)), sha256(big));
    assert.equal(directBody(streamed), undefined, "a body read as a stream has no direct reader");
    assert.equal(directBody(new Response("x")), undefined, "nor does another fetch's response");
  });
});
