/**
 * Security review, the parts about secrets: credentials given to the `mjpeg`
 * command (Basic auth, a token, a relay URL with a password) never reach its
 * log, not even when clients send wrong ones, and nothing is served without
 * them, and a redirect carries them to no other origin. Real processes on
 * this runtime, real sockets on 127.0.0.1.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runCli, startServe } from "./helpers/cli_run.ts";
import { serveMultipart, startUpstream } from "./helpers/upstream.ts";
import { firstFrames } from "./helpers/viewers.ts";
import { sleep } from "./helpers/wait.ts";

const PASSWORD = "pw-Zq81-never-logged";
const TOKEN = "tok-Hx47-never-logged";
const RELAY_PASSWORD = "relay-Kd29-never-logged";

describe("secrets stay out of the logs", () => {
  it("serve, relay and probe log no password or token, whatever clients send", async () => {
    await using upstream = await startServe([
      "--pattern",
      "--width",
      "160",
      "--height",
      "120",
      "--fps",
      "10",
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
    assert.deepEqual(asked.slice(0, 2).map((r) => r.line.split(" ")[1]), ["/first", "/second"]);
    for (const request of asked) assert.equal(request.headers.get("authorization"), basic);
    for (const conn of elsewhere.accepted) {
      assert.equal(conn.request.headers.get("authorization"), undefined);
    }
    await sleep(1200); // a stats line or two
    const log = await relay.stop("SIGTERM");
    for (const secret of [RELAY_PASSWORD, btoa(`viewer:${RELAY_PASSWORD}`)]) {
      assert.ok(!(log.stdout + log.stderr).includes(secret), `a secret reached the log`);
    }
  });
});
