import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameHub } from "../src/server/frame_hub.ts";
import { mjpegApp } from "../src/hono/mod.ts";
import { constantTimeEqual } from "../src/hono/auth.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";

const [a, b] = fixtureFrames as [Uint8Array, Uint8Array];
const basic = (user: string, password: string) => "Basic " + btoa(`${user}:${password}`);

/** Reads the first chunks of a stream response, then leaves. */
async function firstBytes(response: Response, min = 1): Promise<Uint8Array> {
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  while (length < min) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  await reader.cancel();
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) out.set(chunk, (offset += chunk.length) - chunk.length);
  return out;
}

describe("mjpegApp routes", () => {
  it("serves the stream, snapshot, stats and page for one hub", async () => {
    const hub = new FrameHub();
    hub.publish(a);
    const app = mjpegApp({ streams: hub, title: "Door" });
    const stream = await app.request("/stream.mjpg");
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get("content-type")!, /^multipart\/x-mixed-replace;boundary=/);
    const bytes = await firstBytes(stream, 100);
    assert.match(new TextDecoder().decode(bytes.subarray(0, 60)), /^--mjpegstream\r\n/);

    const snapshot = await app.request("/snapshot.jpg");
    assert.equal(sha256(new Uint8Array(await snapshot.arrayBuffer())), sha256(a));

    const stats = await (await app.request("/stats")).json();
    assert.equal(stats.framesPublished, 1);
    assert.equal(stats.viewers, 0, "the stream above left");
    assert.ok(Array.isArray(stats.viewerStats));
    const summary = await (await app.request("/stats?summary=1")).json();
    assert.equal(summary.viewerStats, undefined);

    const page = await app.request("/");
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const html = await page.text();
    assert.match(html, /<title>Door<\/title>/);
    assert.match(html, /data-stream="stream.mjpg"/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, "no external assets");
  });

  it("answers mjpg-streamer's ?action=stream and ?action=snapshot", async () => {
    const hub = new FrameHub();
    hub.publish(b);
    const app = mjpegApp({ streams: hub });
    const stream = await app.request("/?action=stream");
    assert.match(stream.headers.get("content-type")!, /^multipart\/x-mixed-replace/);
    await stream.body!.cancel();
    const snapshot = await app.request("/?action=snapshot");
    assert.equal(sha256(new Uint8Array(await snapshot.arrayBuffer())), sha256(b));
    assert.equal((await app.request("/?action=dance")).status, 400);
    assert.equal(hub.stats.viewers, 0);
  });

  it("serves several named streams", async () => {
    const front = new FrameHub(), back = new FrameHub();
    front.publish(a);
    back.publish(b);
    const app = mjpegApp({ streams: { front, back } });
    const snap = async (path: string) =>
      sha256(new Uint8Array(await (await app.request(path)).arrayBuffer()));
    assert.equal(await snap("/back/snapshot.jpg"), sha256(b));
    assert.equal(await snap("/front/snapshot.jpg"), sha256(a));
    assert.equal(await snap("/snapshot.jpg"), sha256(a), "the first stream is also at /");
    assert.equal(await snap("/back/?action=snapshot"), sha256(b));
    const stream = await app.request("/back/stream.mjpg");
    assert.equal(back.stats.viewers, 1);
    await stream.body!.cancel();
    const all = await (await app.request("/stats")).json();
    assert.deepEqual(Object.keys(all.streams), ["front", "back"]);
    assert.equal((await app.request("/back")).status, 301);
    const missing = await app.request("/side/stream.mjpg");
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /unknown stream "side", expected one of front, back/);
    const page = await (await app.request("/")).text();
    assert.match(page, /data-stream="front\/stream.mjpg"/);
    assert.match(page, /data-stream="back\/stream.mjpg"/);
  });

  it("answers HEAD on a stream with headers only, leaving no viewer behind", async () => {
    const hub = new FrameHub();
    const app = mjpegApp({ streams: hub });
    const response = await app.request("/stream.mjpg", { method: "HEAD" });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^multipart\/x-mixed-replace/);
    assert.equal(hub.stats.viewers, 0);
  });

  it("answers HEAD with the same headers as GET, also for a boundary that needs quoting", async () => {
    for (const boundary of ["my frame", "a:b", "mjpegstream"]) {
      const hub = new FrameHub({ boundary });
      const app = mjpegApp({ streams: hub });
      const head = await app.request("/stream.mjpg", { method: "HEAD" });
      const get = await app.request("/stream.mjpg");
      await get.body!.cancel();
      const quoted = /^[0-9A-Za-z'+_\-.]+$/.test(boundary) ? boundary : `"${boundary}"`;
      assert.equal(get.headers.get("content-type"), `multipart/x-mixed-replace;boundary=${quoted}`);
      assert.deepEqual([...head.headers], [...get.headers], boundary);
      assert.equal(hub.stats.viewers, 0);
    }
  });

  it("caps fps from ?fps=N and refuses nonsense", async () => {
    const hub = new FrameHub();
    const app = mjpegApp({ streams: hub, fps: 15 });
    const low = await app.request("/stream.mjpg?fps=2");
    const high = await app.request("/stream.mjpg?fps=60");
    const caps = hub.stats.viewerStats.map((v) => v.fpsCap);
    assert.deepEqual(caps, [2, 15], "?fps lowers the cap, never raises it");
    await low.body!.cancel();
    await high.body!.cancel();
    const bad = await app.request("/stream.mjpg?fps=fast");
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /expected fps between 0 and 1000, got "fast"/);
  });

  it("refuses viewers beyond maxViewers with 503", async () => {
    const hub = new FrameHub();
    const app = mjpegApp({ streams: hub, maxViewers: 2 });
    const one = await app.request("/stream.mjpg");
    const two = await app.request("/stream.mjpg");
    const three = await app.request("/stream.mjpg");
    assert.equal(three.status, 503);
    assert.match(await three.text(), /at most 2 viewers/);
    await one.body!.cancel();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const again = await app.request("/stream.mjpg");
    assert.equal(again.status, 200, "a viewer left, so there is room again");
    await two.body!.cancel();
    await again.body!.cancel();
  });
});

describe("mjpegApp access control", () => {
  it("requires Basic credentials on every route, with 401 and no frame bytes", async () => {
    const hub = new FrameHub();
    hub.publish(a);
    const app = mjpegApp({ streams: hub, auth: { username: "pi", password: "raspberry" } });
    for (const path of ["/", "/stream.mjpg", "/snapshot.jpg", "/stats", "/?action=stream"]) {
      for (const authorization of [undefined, basic("pi", "wrong"), basic("root", "raspberry")]) {
        const headers: Record<string, string> = authorization ? { authorization } : {};
        const response = await app.request(path, { headers });
        assert.equal(response.status, 401, `${path} with ${authorization}`);
        assert.match(response.headers.get("www-authenticate")!, /^Basic realm=/);
        assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
      }
    }
    assert.equal(hub.stats.viewersTotal, 0, "no viewer was ever subscribed");
    const ok = await app.request("/snapshot.jpg", {
      headers: { authorization: basic("pi", "raspberry") },
    });
    assert.equal(ok.status, 200);
  });

  it("accepts a bearer token in the header or as ?token=", async () => {
    const hub = new FrameHub();
    hub.publish(a);
    const app = mjpegApp({ streams: hub, auth: { token: "correct-horse-battery" } });
    assert.equal((await app.request("/snapshot.jpg")).status, 401);
    assert.equal(
      (await app.request("/snapshot.jpg", { headers: { authorization: "Bearer wrong-horse" } }))
        .status,
      401,
    );
    const header = await app.request("/snapshot.jpg", {
      headers: { authorization: "Bearer correct-horse-battery" },
    });
    assert.equal(header.status, 200);
    assert.equal((await app.request("/stats?token=correct-horse-battery")).status, 200);
  });

  it("compares secrets in constant time by hashing both sides", async () => {
    assert.equal(await constantTimeEqual("secret", "secret"), true);
    assert.equal(await constantTimeEqual("secret", "secreT"), false);
    assert.equal(await constantTimeEqual("", "secret"), false);
  });

  it("sends no CORS headers by default and allows only the configured origin", async () => {
    const hub = new FrameHub();
    hub.publish(a);
    const closed = mjpegApp({ streams: hub });
    const plain = await closed.request("/snapshot.jpg", { headers: { origin: "https://x.test" } });
    assert.equal(plain.headers.get("access-control-allow-origin"), null);

    const app = mjpegApp({ streams: hub, cors: { origin: ["https://dash.test"] } });
    const allowed = await app.request("/snapshot.jpg", {
      headers: { origin: "https://dash.test" },
    });
    assert.equal(allowed.headers.get("access-control-allow-origin"), "https://dash.test");
    const other = await app.request("/snapshot.jpg", { headers: { origin: "https://evil.test" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const stream = await app.request("/stream.mjpg", { headers: { origin: "https://dash.test" } });
    assert.equal(stream.headers.get("access-control-allow-origin"), "https://dash.test");
    await stream.body!.cancel();
  });

  it("answers a CORS preflight without credentials when auth is on", async () => {
    const app = mjpegApp({
      streams: new FrameHub(),
      cors: { origin: "https://dash.test" },
      auth: { token: "correct-horse-battery" },
    });
    const response = await app.request("/stats", {
      method: "OPTIONS",
      headers: {
        origin: "https://dash.test",
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
    });
    assert.equal(response.status, 204);
    assert.match(response.headers.get("access-control-allow-headers")!, /authorization/i);
  });

  it("validates options with a clear message", () => {
    assert.throws(
      () => mjpegApp({ streams: {} }),
      /invalid mjpegApp options: streams: expected at least one stream, got \{\}/,
    );
    assert.throws(
      () => mjpegApp({ streams: new FrameHub(), auth: { username: "pi" } }),
      /expected username and password together/,
    );
    assert.throws(
      () => mjpegApp({ streams: new FrameHub(), maxViewers: 0 }),
      /maxViewers: .*got 0/,
    );
  });
});
