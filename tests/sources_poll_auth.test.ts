/**
 * Snapshot polling through the same authenticated request as the client:
 * a Digest camera over https with its own CA (Python's http.server, hashlib
 * and ssl, certificates made by openssl at test time), a wrong password that
 * ends the source before an account would lock, one TLS connection kept for
 * every request, `insecure`, and an untrusted certificate refused with its
 * reason.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { AuthenticationError, MAX_AUTH_FAILURES } from "../src/client/camera_fetch.ts";
import { pollSource, type PollSourceOptions, type PollStatus } from "../src/sources/poll.ts";
import { SourceError } from "../src/sources/process.ts";
import { startCamera } from "./helpers/camera.ts";
import { type Certificates, makeCertificates } from "./helpers/tls_certs.ts";
import { sha256 } from "./helpers/hash.ts";
import { requireTools } from "./helpers/tools.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sleep } from "./helpers/wait.ts";
import { startSnapshotCamera } from "./helpers/snapshot_camera.ts";

let certs: Certificates | undefined;
before(() => {
  if (requireTools({ skip() {} }, "openssl")) certs = makeCertificates();
});
after(() => certs?.[Symbol.dispose]());

/** Polls for `ms`; returns the frames' hashes, the log and the last status. */
async function poll(url: string, ms: number, options: PollSourceOptions) {
  const log: string[] = [];
  let status: PollStatus | undefined;
  const sums: string[] = [];
  const stop = AbortSignal.timeout(ms);
  const source = pollSource(url, {
    log: (line) => log.push(line),
    onStatus: (s) => status = s,
    ...options,
  });
  for await (const frame of source.frames(stop)) sums.push(sha256(frame.data));
  return { sums, log, status: status! };
}

describe("pollSource with auth and https", () => {
  it("polls a Digest camera over https with its CA, the challenge answered once", async (t) => {
    if (!requireTools(t, "openssl", "python3")) return;
    await using camera = await startCamera({
      algorithms: ["SHA-256", "MD5"],
      mode: "snapshot",
      cert: certs!.good.cert,
      key: certs!.good.key,
    });
    const url = camera.url.replace("://", "://admin:secret@") + "snapshot.jpg";
    const run = await poll(url, 1200, { fps: 10, ca: certs!.caPem });
    assert.deepEqual(run.sums, [sha256(fixtureFrames[0]!)], "one image, published once");
    assert.ok(run.status.unchanged >= 2, `${run.status.unchanged} unchanged`);
    assert.equal(run.status.state, "running");
    assert.deepEqual(run.log, []);
    const requests = await camera.logged(run.status.requests + 1);
    // The first request is challenged; from then on Digest goes up front, nonce count rising.
    assert.equal(requests[0]!.authorization, null);
    const answered = requests.slice(1);
    assert.ok(answered.length >= 3);
    for (const request of answered) assert.equal(request.problem, null, request.problem!);
    // The camera may log one more request than the poller counted: the one in flight when the
    // run's time ran out.
    assert.ok(answered.length - run.status.requests <= 1, `${answered.length} answered`);
    assert.ok(answered.every((r) => r.authorization !== null), "no request challenged twice");
    assert.ok(answered.every((r) => r.fields?.algorithm === "SHA-256"));
  });

  it("ends after a wrong password is refused MAX_AUTH_FAILURES times, as the client does, and says why", async (t) => {
    if (!requireTools(t, "python3")) return;
    await using camera = await startCamera({ mode: "snapshot", password: "right" });
    const log: string[] = [];
    let status: PollStatus | undefined;
    // Credentials in the auth option this time (the other tests put them in the URL).
    const source = pollSource(camera.url + "snapshot.jpg", {
      auth: { username: "admin", password: "wrong" },
      fps: 20,
      retry: { initialDelay: 20, maxDelay: 40, jitter: 0 },
      log: (line) => log.push(line),
      onStatus: (s) => status = s,
    });
    const error = await (async () => {
      for await (const _ of source.frames(AbortSignal.timeout(10_000))) { /* none expected */ }
    })().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.equal(error.kind, "exhausted");
    assert.match(error.message, /3 times in a row; not asking again/);
    assert.equal(status?.state, "retrying");
    assert.equal(status?.lastError, error.message, "/stats says why");
    assert.equal(status?.failures, MAX_AUTH_FAILURES);
    // Each refusal is a challenge and a refused answer; then the camera is left alone.
    await camera.logged(2 * MAX_AUTH_FAILURES);
    await sleep(200);
    assert.equal(camera.requests.length, 2 * MAX_AUTH_FAILURES);
    // One line for the refusals (not one per request); the last is the error thrown.
    assert.equal(log.length, 1, log.join("\n"));
    assert.match(log[0]!, /expected the camera to accept the password of user "admin", got 401/);
    assert.ok(!log.join("\n").includes("wrong"), "the password never reaches the log");
  });

  it("keeps one TLS connection for every request to an https camera", async (t) => {
    if (!requireTools(t, "openssl")) return;
    const tls = {
      cert: readFileSync(certs!.good.cert, "utf8"),
      key: readFileSync(certs!.good.key, "utf8"),
    };
    await using camera = await startSnapshotCamera({ tls });
    const run = await poll(`${camera.url}/changing`, 1200, { fps: 10, ca: certs!.caPem });
    assert.ok(run.sums.length >= 4, `${run.sums.length} images`);
    assert.ok(run.sums.every((sum) => fixtureSums.includes(sum)), "byte-exact");
    assert.equal(camera.counts.connections, 1, "one TLS connection");
    assert.equal(run.status.connections, 1);
    assert.equal(camera.counts.maxInFlight, 1);
  });

  it("takes a self-signed certificate with insecure", async (t) => {
    if (!requireTools(t, "openssl", "python3")) return;
    await using camera = await startCamera({
      auth: "none",
      mode: "snapshot",
      cert: certs!.selfSigned.cert,
      key: certs!.selfSigned.key,
    });
    const run = await poll(camera.url + "snapshot.jpg", 800, { fps: 10, insecure: true });
    assert.deepEqual(run.sums, [sha256(fixtureFrames[0]!)]);
    assert.equal(run.status.state, "running");
    assert.deepEqual(camera.tlsErrors, []);
  });

  it("refuses an untrusted certificate with the reason and the way out", async (t) => {
    if (!requireTools(t, "openssl", "python3")) return;
    await using camera = await startCamera({
      auth: "none",
      mode: "snapshot",
      cert: certs!.selfSigned.cert,
      key: certs!.selfSigned.key,
    });
    const source = pollSource(camera.url + "snapshot.jpg", { retry: { limit: 0 }, log: () => {} });
    const error = await (async () => {
      for await (const _ of source.frames(AbortSignal.timeout(10_000))) { /* none expected */ }
    })().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof SourceError, String(error));
    assert.match(error.message, /expected a trusted certificate .*self-signed.*--ca FILE/);
  });
});
