/**
 * https on the client's own transport (node:tls on Deno, Bun and Node), with
 * certificates made by openssl at test time and a camera in Python's ssl
 * module: frames byte-exact with the camera's CA given, and each kind of
 * untrusted certificate refused with its reason named.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { MjpegClient } from "../src/client/client.ts";
import { cameraFetch } from "../src/client/camera_fetch.ts";
import { httpSource } from "../src/sources/http.ts";
import { startCamera } from "./helpers/camera.ts";
import { type Certificates, makeCertificates } from "./helpers/tls_certs.ts";
import { lend, receive } from "./helpers/client_checks.ts";
import { defer } from "./helpers/dispose.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { requireTools } from "./helpers/tools.ts";

let certs: Certificates | undefined;
before(() => {
  certs = makeCertificates();
});
after(() => certs?.[Symbol.dispose]());

async function firstError(url: string, options = {}): Promise<string> {
  const client = new MjpegClient(url, { failFast: true, ...options });
  try {
    for await (const _ of client.frames()) return "a frame came";
  } catch (error) {
    return (error as Error).message;
  }
  return "ended";
}

describe("https with the camera's CA", () => {
  for (const host of ["127.0.0.1", "localhost"]) {
    it(`reads byte-exact frames from https://${host}/`, async (t) => {
      if (!requireTools(t, "openssl", "python3")) return;
      await using camera = await startCamera({
        auth: "none",
        cert: certs!.good.cert,
        key: certs!.good.key,
        frames: 8,
        interval: 0.01,
      });
      const url = camera.url.replace("127.0.0.1", host) + "stream";
      await using client = new MjpegClient(url, { ca: certs!.caPem });
      lend(client, 65536, 16);
      client.start();
      assert.deepEqual((await receive(client, 8, 10_000)).map((r) => r.sum), fixtureSums);
      assert.equal(client.stats.discardedFrames, 0);
      assert.equal(client.stats.abortedFrames, 0);
    });
  }

  it("answers Digest over https, and a snapshot comes whole", async (t) => {
    if (!requireTools(t, "openssl", "python3")) return;
    await using camera = await startCamera({
      algorithms: ["SHA-256"],
      mode: "snapshot",
      cert: certs!.good.cert,
      key: certs!.good.key,
    });
    const url = camera.url + "snapshot.jpg";
    const fetchCamera = cameraFetch({
      url,
      credentials: { username: "admin", password: "secret" },
      ca: certs!.caPem,
    });
    const response = await fetchCamera(new Request(url));
    assert.equal(response.status, 200);
    assert.equal(sha256(new Uint8Array(await response.arrayBuffer())), sha256(fixtureFrames[0]!));
    await camera.logged(2);
    assert.equal(camera.requests[1]!.problem, null);
  });
});

describe("the relay over https", () => {
  it("relays byte-exact frames from a Digest camera behind its own CA", async (t) => {
    if (!requireTools(t, "openssl", "python3")) return;
    await using camera = await startCamera({
      algorithms: ["MD5"],
      cert: certs!.good.cert,
      key: certs!.good.key,
      frames: 8,
      interval: 0.01,
    });
    const source = httpSource(camera.url.replace("://", "://admin:secret@") + "stream", {
      ca: certs!.caPem,
      frameQueueSize: 16, // the default 2 drops frames a slow consumer misses, by design
    });
    const controller = new AbortController();
    const sums: string[] = [];
    for await (const frame of source.frames(controller.signal)) {
      sums.push(sha256(frame.data));
      if (sums.length === 8) break;
    }
    controller.abort();
    assert.deepEqual(sums, fixtureSums);
    assert.equal(source.description, `relay ${camera.url}stream`);
  });
});

describe("an untrusted certificate is refused with its reason", () => {
  const cases = [
    [
      "self-signed",
      "selfSigned",
      undefined,
      /got a self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)/,
    ],
    ["expired", "expired", "ca", /got a certificate that has expired \(CERT_HAS_EXPIRED\)/],
    [
      "another host's",
      "otherHost",
      "ca",
      /got a certificate for another host \(DNS:camera\.example\) \(ERR_TLS_CERT_ALTNAME_INVALID\)/,
    ],
    [
      "from an unknown CA",
      "good",
      undefined,
      /got a certificate signed by an unknown CA \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/,
    ],
  ] as const;
  for (const [name, which, ca, expected] of cases) {
    it(name, async (t) => {
      if (!requireTools(t, "openssl", "python3")) return;
      const pair = certs![which];
      await using camera = await startCamera({
        auth: "none",
        cert: pair.cert,
        key: pair.key,
        frames: 2,
      });
      const message = await firstError(camera.url + "stream", ca ? { ca: certs!.caPem } : {});
      assert.match(message, /^TLS: expected a trusted certificate from 127\.0\.0\.1:\d+, got /);
      assert.match(message, expected);
      assert.match(
        message,
        /trust its CA with the ca option \(--ca FILE\), or skip the check with insecure \(--insecure\)/,
      );
      assert.equal(camera.requests.length, 0, "no request went to an untrusted server");
    });
  }

  it("insecure reads from a self-signed camera", async (t) => {
    if (!requireTools(t, "openssl", "python3")) return;
    await using camera = await startCamera({
      auth: "none",
      cert: certs!.selfSigned.cert,
      key: certs!.selfSigned.key,
      frames: 8,
      interval: 0.01,
    });
    await using client = new MjpegClient(camera.url + "stream", { insecure: true });
    lend(client, 65536, 16);
    client.start();
    assert.deepEqual((await receive(client, 8, 10_000)).map((r) => r.sum), fixtureSums);
    assert.equal(client.stats.discardedFrames, 0);
  });

  it("a server that does not speak TLS is an error, not a hang", async () => {
    const sockets = new Set<Socket>();
    const plain = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    await using _plain = defer(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => plain.close(resolve));
    });
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    const port = (plain.address() as { port: number }).port;
    const started = Date.now();
    const message = await firstError(`https://127.0.0.1:${port}/`, {
      headTimeout: 5000,
      reconnect: { limit: 0 },
    });
    assert.match(
      message,
      /last error: TLS: expected a TLS handshake from 127\.0\.0\.1:\d+, got something else: is it an http:\/\/ server\?$/,
    );
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });
});
