/**
 * Security review, the parts about secrets: credentials given to the `mjpeg`
 * command (Basic auth, a token, a relay or polled URL with a password) never reach its
 * log, not even when clients send wrong ones, and nothing is served without
 * them, and a redirect carries them to no other origin. Real processes on
 * this runtime, real sockets on 127.0.0.1.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startCamera } from "./helpers/camera.ts";
import { runCli, SMALL_PATTERN, startServe } from "./helpers/cli_run.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { serveMultipart, startUpstream } from "./helpers/upstream.ts";
import { firstFrames } from "./helpers/viewers.ts";
import { sleep } from "./helpers/wait.ts";

const PASSWORD = "pw-Zq81-never-logged";
const TOKEN = "tok-Hx47-never-logged";
const RELAY_PASSWORD = "relay-Kd29-never-logged";
const DIGEST_PASSWORD = "dg:@%-Wm52-never-logged";
const WRONG_PASSWORD = "wrong-Tb68-never-logged";

describe("secrets stay out of the logs", () => {
  it("serve, relay and probe log no password or token, whatever clients send", async () => {
    await using upstream = await startServe([
      ...SMALL_PATTERN,
      "--auth",
      `viewer:${PASSWORD}`,
      "--stats-interval",
      "1",
    ]);
    // The relay holds a password in its upstream URL; it must not log it.
    const upstreamWithCredentials = upstream.url.replace("http://", `http://viewer:${PASSWORD}@`);
    await using relay = await startServe([
      "--url",
      `${upstreamWithCredentials}/stream.mjpg`,
      "--token",
      TOKEN,
      "--stats-interval",
      "1",
    ]);
    // Wrong and missing credentials: refused, and not echoed anywhere.
    for (
      const headers of [
        {},
        { Authorization: `Basic ${btoa(`viewer:${RELAY_PASSWORD}`)}` },
        { Authorization: `Bearer ${RELAY_PASSWORD}` },
      ]
    ) {
      const refused = await fetch(`${upstream.url}/stream.mjpg`, { headers });
      assert.equal(refused.status, 401);
      assert.doesNotMatch(await refused.text(), /never-logged/);
      assert.equal((await fetch(`${relay.url}/snapshot.jpg`, { headers })).status, 401);
    }
    // The right ones work, through the relay as well.
    await firstFrames(`${relay.url}/stream.mjpg?token=${TOKEN}`, 3, 15_000);
    // probe with credentials in its URL prints stats with the URL redacted.
    const probe = await runCli([
      "probe",
      `${upstreamWithCredentials}/stream.mjpg`,
      "--interval",
      "1",
      "--seconds",
      "2",
    ], { timeoutMs: 20_000 });
    assert.equal(probe.code, 0, probe.stderr);
    assert.match(probe.stdout + probe.stderr, /viewer:\*\*\*@/);
    // Let a stats line or two go by while viewers come and go.
    await sleep(1200);
    const logs = [
      ...await Promise.all([relay.stop("SIGTERM"), upstream.stop("SIGTERM")]),
      probe,
    ];
    const all = logs.map((r) => r.stdout + r.stderr).join("\n");
    for (const secret of [PASSWORD, TOKEN, RELAY_PASSWORD, btoa(`viewer:${PASSWORD}`)]) {
      assert.ok(!all.includes(secret), `a secret reached the log:\n${all}`);
    }
  });

  it("a relay's credentials follow a redirect on their own origin only, and reach no log", async () => {
    // Another origin (another port) that a redirect points at; it must see no credentials.
    await using elsewhere = await startUpstream((conn) => serveMultipart(conn, { intervalMs: 50 }));
    await using redirector = await startUpstream(async (conn) => {
      const path = conn.request.line.split(" ")[1];
      // Credentials go out only when asked for, as a camera asks.
      if (!conn.request.headers.has("authorization")) {
        return void await conn.head(401, { "WWW-Authenticate": 'Basic realm="cam"' });
      }
      const location = path === "/first" ? "/second" : `http://127.0.0.1:${elsewhere.port}/stream`;
      await conn.head(302, { Location: location, "Content-Length": "0" });
    });
    await using relay = await startServe([
      "--url",
      `http://viewer:${RELAY_PASSWORD}@127.0.0.1:${redirector.port}/first`,
      "--stats-interval",
      "1",
    ]);
    await firstFrames(`${relay.url}/stream.mjpg`, 3, 15_000);
    const basic = `Basic ${btoa(`viewer:${RELAY_PASSWORD}`)}`;
    const asked = redirector.accepted.map((c) => c.request);
    assert.deepEqual(asked.slice(0, 3).map((r) => r.line.split(" ")[1]), [
      "/first",
      "/first",
      "/second",
    ]);
    assert.equal(asked[0]!.headers.get("authorization"), undefined);
    for (const request of asked.slice(1)) {
      assert.equal(request.headers.get("authorization"), basic);
    }
    for (const conn of elsewhere.accepted) {
      assert.equal(conn.request.headers.get("authorization"), undefined);
    }
    await sleep(1200); // a stats line or two
    const log = await relay.stop("SIGTERM");
    for (const secret of [RELAY_PASSWORD, btoa(`viewer:${RELAY_PASSWORD}`)]) {
      assert.ok(!(log.stdout + log.stderr).includes(secret), `a secret reached the log`);
    }
  });

  it("Digest: relay, probe, snapshot and record log no password, right or wrong, nor a hash of one", async () => {
    using dir = tempDir("secrets");
    await using camera = await startCamera({
      algorithms: ["SHA-256"],
      password: DIGEST_PASSWORD,
      frames: 10_000,
      interval: 0.05,
    });
    const withPassword = (password: string) =>
      camera.url.replace("://", `://admin:${encodeURIComponent(password)}@`) + "stream";
    await using relay = await startServe([
      "--url",
      withPassword(DIGEST_PASSWORD),
      "--stats-interval",
      "1",
    ]);
    await firstFrames(`${relay.url}/stream.mjpg`, 3, 15_000);
    const runs = await Promise.all([
      runCli(["probe", withPassword(DIGEST_PASSWORD), "--interval", "1", "--seconds", "2"]),
      runCli(["snapshot", withPassword(DIGEST_PASSWORD), "-o", join(dir.path, "a.jpg")]),
      runCli([
        "record",
        withPassword(DIGEST_PASSWORD),
        "-o",
        join(dir.path, "a.mjpeg"),
        "--frames",
        "3",
      ]),
      runCli(["snapshot", withPassword(WRONG_PASSWORD), "-o", join(dir.path, "b.jpg")]),
      runCli([
        "probe",
        camera.url + "stream",
        "--auth",
        `admin:${WRONG_PASSWORD}`,
        "--seconds",
        "2",
      ]),
    ]);
    assert.deepEqual(
      runs.map((r) => r.code),
      [0, 0, 0, 1, 1],
      runs.map((r) => r.stderr).join("\n"),
    );
    await sleep(1200); // a stats line or two
    const all = [await relay.stop("SIGTERM"), ...runs]
      .map((r) => r.stdout + r.stderr).join("\n");
    assert.match(all, /admin:\*\*\*@/);
    // What the camera got: every Digest response (a hash of the password) stays out too.
    const hashes = camera.requests.flatMap((r) => r.fields?.response ?? []);
    assert.ok(hashes.length >= 5);
    for (
      const secret of [
        DIGEST_PASSWORD,
        encodeURIComponent(DIGEST_PASSWORD),
        WRONG_PASSWORD,
        ...hashes,
      ]
    ) {
      assert.ok(!all.includes(secret), `a secret reached the log: ${secret}\n${all}`);
    }
  });

  it("Digest: serve --poll logs no password, right or wrong, nor a hash of one, nor shows one in /stats", async () => {
    await using camera = await startCamera({
      algorithms: ["SHA-256"],
      password: DIGEST_PASSWORD,
      mode: "snapshot",
    });
    const withPassword = (password: string) =>
      camera.url.replace("://", `://admin:${encodeURIComponent(password)}@`) + "snapshot.jpg";
    await using good = await startServe([
      "--poll",
      withPassword(DIGEST_PASSWORD),
      "--fps",
      "5",
      "--stats-interval",
      "1",
    ]);
    // Refused 3 times in a row, a wrong password ends the poll, and serve with it (status 1).
    const wrong = await runCli(["serve", "--port", "0", "--poll", withPassword(WRONG_PASSWORD)]);
    assert.equal(wrong.code, 1, wrong.stderr);
    assert.match(wrong.stderr, /not asking again/);
    await firstFrames(`${good.url}/stream.mjpg`, 1, 15_000);
    const stats = await (await fetch(`${good.url}/stats`)).text();
    assert.match(stats, /"state":"running"/);
    await sleep(1200); // a stats line or two
    const all = [await good.stop("SIGTERM"), wrong]
      .map((r) => r.stdout + r.stderr).join("\n") + stats;
    assert.match(all, /poll http:\/\/127\.0\.0\.1:\d+\/snapshot\.jpg at up to 5 fps/);
    const hashes = camera.requests.flatMap((r) => r.fields?.response ?? []);
    assert.ok(hashes.length >= 2 * 3, `${hashes.length} Digest answers`);
    for (
      const secret of [
        DIGEST_PASSWORD,
        encodeURIComponent(DIGEST_PASSWORD),
        WRONG_PASSWORD,
        encodeURIComponent(WRONG_PASSWORD),
        ...hashes,
      ]
    ) {
      assert.ok(!all.includes(secret), `a secret reached the log: ${secret}\n${all}`);
    }
  });
});
