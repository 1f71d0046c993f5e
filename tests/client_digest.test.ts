/**
 * Digest auth as IP cameras ask for it, against a camera written in Python's
 * standard library (tests/helpers/camera_server.py: http.server + hashlib)
 * that checks every field of every Authorization, and cross-checked with
 * curl --digest: for each header curl sent, our computation from the same
 * nonce, cnonce and nc gives curl's response.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { MjpegClient } from "../src/client/client.ts";
import { cameraFetch, MAX_AUTH_FAILURES } from "../src/client/camera_fetch.ts";
import { digestResponse } from "../src/client/digest.ts";
import { parseChallenges } from "../src/client/www_authenticate.ts";
import { type CameraConfig, type CameraRequest, startCamera } from "./helpers/camera.ts";
import { readSums, readToEnd } from "./helpers/client_checks.ts";
import { fixtureSums } from "./helpers/fixtures.ts";
import { requireTools } from "./helpers/tools.ts";
import { serveMultipart, startUpstream } from "./helpers/upstream.ts";
import { sleep } from "./helpers/wait.ts";

const HASHES: Record<string, string> = {
  "MD5": "md5",
  "SHA-256": "sha256",
  "SHA-512-256": "sha512-256",
};

function withCredentials(url: string, user = "admin", password = "secret"): string {
  return url.replace("://", `://${user}:${password}@`);
}

/** Every Authorization the camera got validated (the unauthenticated first asks aside). */
function assertAllValid(requests: CameraRequest[]): void {
  const answered = requests.filter((r) => r.authorization !== null);
  assert.ok(answered.length > 0, "expected answers to the challenge");
  for (const r of answered) assert.equal(r.problem, null, `${r.authorization}`);
}

describe("WWW-Authenticate", () => {
  it("several challenges in one header are told apart from their parameters", () => {
    const challenges = parseChallenges(
      'Digest realm="a, b", nonce="n\\"1", algorithm=SHA-256, qop="auth,auth-int", ' +
        'Negotiate abc+/==, Digest realm="a, b", nonce="n2", Basic realm="cam", charset="UTF-8"',
    );
    assert.deepEqual(challenges.map((c) => c.scheme), ["digest", "negotiate", "digest", "basic"]);
    assert.equal(challenges[0]!.params.get("realm"), "a, b");
    assert.equal(challenges[0]!.params.get("nonce"), 'n"1');
    assert.equal(challenges[0]!.params.get("qop"), "auth,auth-int");
    assert.equal(challenges[1]!.params.get("token68"), "abc+/==");
    assert.equal(challenges[3]!.params.get("charset"), "UTF-8");
  });
});

describe("Digest computation", () => {
  // The worked examples of RFC 7616 §3.9.1 and RFC 2617 §3.5.
  it("matches RFC 7616's MD5 and SHA-256 examples and RFC 2617's", () => {
    const rfc7616 = {
      sess: false,
      qop: "auth" as const,
      username: "Mufasa",
      password: "Circle of Life",
      realm: "http-auth@example.org",
      nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
      nc: "00000001",
      cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
      method: "GET",
      uri: "/dir/index.html",
    };
    assert.equal(digestResponse({ ...rfc7616, hash: "md5" }), "8ca523f5e9506fed4657c9700eebdbec");
    assert.equal(
      digestResponse({ ...rfc7616, hash: "sha256" }),
      "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    );
    assert.equal(
      digestResponse({
        ...rfc7616,
        hash: "md5",
        password: "Circle Of Life",
        realm: "testrealm@host.com",
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        cnonce: "0a4f113b",
      }),
      "6629fae49393a05397450978507c4ef1",
    );
  });
});

describe("Digest against a camera in Python", () => {
  const cases: [string, CameraConfig][] = [
    ["MD5, qop=auth", { algorithms: ["MD5"] }],
    ["MD5 named by no algorithm parameter", { algorithms: ["MD5-default"] }],
    ["MD5-sess", { algorithms: ["MD5-sess"] }],
    ["SHA-256", { algorithms: ["SHA-256"] }],
    ["SHA-256-sess", { algorithms: ["SHA-256-sess"] }],
    ["SHA-512-256", { algorithms: ["SHA-512-256"] }],
    ["SHA-512-256-sess", { algorithms: ["SHA-512-256-sess"] }],
    ["RFC 2617 without qop", { algorithms: ["MD5"], qop: null }],
    ["qop=auth-int only", { algorithms: ["SHA-256"], qop: "auth-int" }],
    ["no opaque", { algorithms: ["MD5"], opaque: null }],
    ["userhash", { algorithms: ["SHA-256"], userhash: true }],
  ];
  for (const [name, config] of cases) {
    it(`${name}: every field validates, and the frames are byte-exact`, async () => {
      await using camera = await startCamera({ ...config, frames: 8, interval: 0.01 });
      const sums = await readSums(withCredentials(camera.url) + "stream?ch=1", 10);
      assert.deepEqual(sums.slice(0, 8), fixtureSums);
      await camera.logged(3);
      assertAllValid(camera.requests);
      // Asked once without credentials, then answered; the reconnect reuses the nonce.
      assert.equal(camera.requests[0]!.authorization, null);
      assert.match(camera.requests[1]!.authorization ?? "", /^Digest /);
      assert.equal(camera.requests[1]!.fields!.uri, "/stream?ch=1");
      if (config.qop !== null) {
        assert.deepEqual(camera.requests.slice(1, 3).map((r) => r.fields!.nc), [
          "00000001",
          "00000002",
        ]);
        assert.equal(camera.requests[1]!.fields!.nonce, camera.requests[2]!.fields!.nonce);
        assert.match(camera.requests[1]!.fields!.cnonce ?? "", /^[0-9a-f]{32}$/);
      }
      assert.equal(camera.requests.length, 3, "one challenge for two connections");
    });
  }

  it("of several challenges (one header, or several headers) takes the strongest it knows", async () => {
    for (const splitHeaders of [false, true]) {
      await using camera = await startCamera({
        algorithms: ["MD5", "SHA-512-256", "SHA-256"],
        extraChallenges: ['Basic realm="IP Camera"', 'Newfangled realm="x"'],
        splitHeaders,
        frames: 3,
        interval: 0.01,
      });
      await readSums(withCredentials(camera.url) + "stream", 2);
      await camera.logged(2);
      assertAllValid(camera.requests);
      assert.equal(camera.requests[1]!.fields!.algorithm, "SHA-512-256");
    }
  });

  it("takes Basic when it is all that is offered, and sends it up front from then on", async () => {
    await using camera = await startCamera({ auth: "basic", frames: 3, interval: 0.01 });
    await readSums(withCredentials(camera.url) + "stream", 5);
    await camera.logged(3);
    assert.deepEqual(
      camera.requests.map((r) => r.authorization),
      [null, `Basic ${btoa("admin:secret")}`, `Basic ${btoa("admin:secret")}`],
    );
    assertAllValid(camera.requests);
  });

  it("answers a stale nonce with the new one, without counting a failure", async () => {
    // Each nonce is good for two answers, then stale=true; one frame per
    // connection: eight connections, three stale answers, and no give-up.
    await using camera = await startCamera({ algorithms: ["SHA-256"], staleAfter: 2, frames: 1 });
    const sums = await readSums(withCredentials(camera.url) + "stream", 8);
    assert.equal(sums.length, 8);
    await camera.logged(11);
    const stale = camera.requests.filter((r) => r.stale);
    assert.ok(stale.length >= 2, `expected stale nonces, got ${JSON.stringify(camera.requests)}`);
    for (const r of camera.requests.filter((r) => r.authorization !== null && !r.stale)) {
      assert.equal(r.problem, null);
    }
    // After each stale answer comes an answer with a new nonce, counted from 1.
    const afterStale = camera.requests[camera.requests.indexOf(stale[0]!) + 1]!;
    assert.equal(afterStale.fields!.nc, "00000001");
    assert.notEqual(afterStale.fields!.nonce, stale[0]!.fields!.nonce);
  });

  it("takes credentials from the URL percent-decoded, with : @ % in the password", async () => {
    const password = "p@ss:w%rd";
    await using camera = await startCamera({ user: "cam user", password, frames: 2 });
    await readSums(
      camera.url.replace("://", `://cam%20user:${encodeURIComponent(password)}@`) + "stream",
      2,
    );
    await camera.logged(2);
    assertAllValid(camera.requests);
    await using typed = await startCamera({ password, frames: 2 });
    await readSums(typed.url.replace("://", `://admin:${password}@`) + "stream", 2);
    await typed.logged(2);
    assertAllValid(typed.requests);
  });

  it("takes credentials from the auth option, a user name that is not ASCII as username*", async () => {
    await using camera = await startCamera({ user: "Jäsøn", password: "sécret", frames: 2 });
    await readSums(camera.url + "stream", 2, {
      auth: { username: "Jäsøn", password: "sécret" },
    });
    await camera.logged(2);
    assertAllValid(camera.requests);
    assert.equal(camera.requests[1]!.fields!["username*"], "UTF-8''J%C3%A4s%C3%B8n");
  });

  it("a wrong password: one clear error, backoff, and at most 3 refused logins", async () => {
    await using camera = await startCamera({ algorithms: ["MD5"], frames: 2 });
    const client = new MjpegClient(withCredentials(camera.url, "admin", "wrong") + "stream", {
      reconnect: { initialDelay: 100, maxDelay: 100, jitter: 0 },
    });
    const started = Date.now();
    await assert.rejects(
      readToEnd(client),
      /expected the camera to accept the password of user "admin", got 401 Unauthorized after answering its Digest challenge \(realm "IP Camera", algorithm MD5\), 3 times in a row; not asking again/,
    );
    await camera.logged(6);
    const refused = camera.requests.filter((r) => r.authorization !== null);
    assert.equal(refused.length, MAX_AUTH_FAILURES);
    for (const r of refused) assert.match(r.problem ?? "", /response does not match/);
    // The backoff was waited between the tries.
    assert.ok(Date.now() - started >= 2 * 100 * 0.9, "expected backoff between refusals");
    assert.equal(client.stats.state, "stopped");
    // And no more requests reach the camera from this client.
    client.start();
    await sleep(300);
    await client.stop();
    assert.equal(camera.requests.filter((r) => r.authorization !== null).length, 3);
  });

  it("a challenge with an unknown algorithm is an error naming it", async () => {
    await using camera = await startCamera({ algorithms: ["SHA3-512"], frames: 2 });
    const client = new MjpegClient(withCredentials(camera.url) + "stream", {
      failFast: true,
    });
    await assert.rejects(
      readToEnd(client),
      /expected a Digest algorithm among MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256, SHA-512-256-sess, got "SHA3-512"/,
    );
    await camera.logged(2, 300);
    assert.equal(camera.requests.length, 1, "nothing sent for a challenge we cannot answer");
  });

  it("credentials and Digest state stay with their camera across a redirect to another host", async () => {
    // The other host asks for Digest too: its challenge goes unanswered.
    await using other = await startCamera({ algorithms: ["MD5"], frames: 4 });
    const otherUrl = other.url.replace("127.0.0.1", "localhost") + "stream";
    await using redirector = await startUpstream(async (conn) => {
      const auth = conn.request.headers.get("authorization");
      if (auth === undefined) {
        await conn.head(401, {
          "WWW-Authenticate": 'Digest realm="r", nonce="abc", qop="auth", algorithm=MD5',
          "Content-Length": "0",
        });
      } else await conn.head(302, { Location: otherUrl, "Content-Length": "0" });
    });
    const client = new MjpegClient(withCredentials(redirector.url) + "first", { failFast: true });
    await assert.rejects(readToEnd(client), /expected a 2xx status, got 401 Unauthorized$/);
    assert.match(redirector.accepted[1]!.request.headers.get("authorization")!, /^Digest /);
    await other.logged(2, 500);
    assert.deepEqual(other.requests.map((r) => r.authorization), [null]);
  });

  it("a bearer token goes up front; Basic or Digest credentials are not sent to a token camera", async () => {
    await using upstream = await startUpstream(async (conn) => {
      if (conn.request.headers.get("authorization") === "Bearer tok-12345678") {
        await serveMultipart(conn, { count: 2 });
      } else {
        await conn.head(401, { "WWW-Authenticate": 'Bearer realm="x"', "Content-Length": "0" });
      }
    });
    assert.equal(
      (await readSums(upstream.url, 2, { auth: { token: "tok-12345678" } })).length,
      2,
    );
    const client = new MjpegClient(withCredentials(upstream.url), { failFast: true });
    await assert.rejects(
      readToEnd(client),
      /expected a Basic or Digest challenge for a user name and password, got Bearer \(give a token instead\)/,
    );
  });
});

describe("curl --digest against the same camera", () => {
  const cases: [string, CameraConfig][] = [
    ["MD5", { algorithms: ["MD5"] }],
    ["MD5-sess", { algorithms: ["MD5-sess"] }],
    ["SHA-256", { algorithms: ["SHA-256"] }],
    ["SHA-256-sess", { algorithms: ["SHA-256-sess"] }],
    ["no qop", { algorithms: ["MD5"], qop: null }],
    ["auth-int", { algorithms: ["MD5"], qop: "auth-int" }],
    ["userhash", { algorithms: ["SHA-256"], userhash: true }],
    // curl before 8.8 hashes SHA-512-256 as SHA-256, so that one is checked by Python alone.
  ];
  for (const [name, config] of cases) {
    it(`${name}: curl's header and ours both validate, and ours computes curl's response`, async (t) => {
      if (!requireTools(t, "curl")) return;
      await using camera = await startCamera({ ...config, mode: "snapshot" });
      const url = camera.url + "snapshot.jpg?size=2";
      const code = await new Promise<number | null>((resolve) => {
        const curl = spawn("curl", [
          "-sS",
          "--digest",
          "-u",
          "admin:secret",
          "-o",
          "/dev/null",
          url,
        ]);
        curl.on("close", resolve);
      });
      assert.equal(code, 0);
      const fetchCamera = cameraFetch({
        url,
        credentials: { username: "admin", password: "secret" },
      });
      const response = await fetchCamera(new Request(url));
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      await camera.logged(4);
      const answered = camera.requests.filter((r) => r.authorization !== null);
      assert.equal(answered.length, 2, "curl's answer and ours");
      assertAllValid(camera.requests);
      const [curls, ours] = answered as [CameraRequest, CameraRequest];
      // Our computation, fed curl's nonce, cnonce and nc, gives curl's response.
      const f = curls.fields!;
      const algorithm = f.algorithm ?? "MD5";
      const ourResponse = digestResponse({
        hash: HASHES[algorithm.replace(/-sess$/, "")]!,
        sess: algorithm.endsWith("-sess"),
        qop: f.qop as "auth" | "auth-int" | undefined,
        username: "admin",
        password: "secret",
        realm: f.realm!,
        nonce: f.nonce!,
        nc: f.nc ?? "",
        cnonce: f.cnonce ?? "",
        method: "GET",
        uri: f.uri!,
      });
      assert.equal(ourResponse, f.response);
      // And both sent the same fields, in the same form.
      assert.deepEqual(Object.keys(ours.fields!).sort(), Object.keys(f).sort());
      assert.equal(ours.fields!.uri, f.uri);
    });
  }
});
