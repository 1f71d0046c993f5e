/**
 * `mjpegApp`'s `/control` in-process, with a source's own `StreamControls`:
 * what the route does with its answers and errors, under a prefix, and how the
 * app checks its `controls` option. The camera's end to end is in
 * cli_camera_controls.test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { FrameHub } from "../src/server/frame_hub.ts";
import { ControlError, mjpegApp, type StreamControls } from "../src/hono/mod.ts";

/** A dimmer: one number between 0 and 10, kept in memory. */
function dimmer(): StreamControls & { calls: Record<string, unknown>[] } {
  let level = 5;
  const calls: Record<string, unknown>[] = [];
  const describe = () => ({
    level: { type: "integer" as const, min: 0, max: 10, default: 5, value: level, description: "" },
    on: { type: "boolean" as const, default: true, value: true, description: "" },
  });
  return {
    calls,
    describe,
    set(changes) {
      calls.push(changes);
      if ("boom" in changes) return Promise.reject(new Error("the dimmer broke"));
      const next = changes.level;
      if (next !== undefined && (typeof next !== "number" || next < 0 || next > 10)) {
        return Promise.reject(new ControlError(`level: expected 0 to 10, got ${next}`));
      }
      const changed = next !== undefined && next !== level ? ["level"] : [];
      if (typeof next === "number") level = next;
      return Promise.resolve({ changed, controls: describe() });
    },
  };
}

const post = (body: string, type = "application/json") => ({
  method: "POST",
  headers: { "Content-Type": type },
  body,
});

describe("mjpegApp /control", () => {
  it("serves any source's StreamControls: 400 for a ControlError, 500 for anything else", async () => {
    const controls = dimmer();
    const lines: string[] = [];
    const app = mjpegApp({
      streams: new FrameHub(),
      controls,
      loopbackOnly: true,
      log: (l) => lines.push(l),
    });
    const url = "http://127.0.0.1/control";
    const read = await app.request(url);
    assert.equal(read.status, 200);
    assert.equal(read.headers.get("cache-control"), "no-store");
    assert.equal((await read.json()).controls.level.value, 5);

    const changed = await app.request(url, post('{"level":7}'));
    assert.deepEqual(await changed.json(), { changed: ["level"], controls: controls.describe() });
    const form = await app.request(
      url,
      post("level=3&on=off", "application/x-www-form-urlencoded"),
    );
    assert.equal(form.status, 200);
    assert.deepEqual(controls.calls.at(-1), { level: 3, on: false }, "form text as the types say");
    const bad = await app.request(url, post('{"level":11}'));
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), "400 Bad Request: level: expected 0 to 10, got 11\n");
    const twice = await app.request(
      url,
      post("level=1&level=2", "application/x-www-form-urlencoded"),
    );
    assert.equal(twice.status, 400);
    assert.match(await twice.text(), /expected each control once, got level twice/);
    // A proxy on this machine makes anyone's request come from 127.0.0.1 (nginx's default
    // even sends Host: 127.0.0.1): what a proxy says it forwarded needs credentials.
    for (const header of ["X-Forwarded-For", "Forwarded", "X-Real-IP", "Via"]) {
      const proxied = await app.request(url, { headers: { [header]: "203.0.113.7" } });
      assert.equal(proxied.status, 403, header);
      assert.match(await proxied.text(), new RegExp(`through a proxy \\(${header}\\)`, "i"));
    }
    const withAuth = mjpegApp({ streams: new FrameHub(), controls, auth: { token: "t0ken-1234" } });
    const authorised = await withAuth.request(url, {
      headers: { "X-Forwarded-For": "203.0.113.7", Authorization: "Bearer t0ken-1234" },
    });
    assert.equal(authorised.status, 200, "with credentials, a proxied request is fine");
    const broken = await app.request(url, post('{"boom":1}'));
    assert.equal(broken.status, 500);
    assert.match(lines.join("\n"), /a request failed \(answered 500\): .*the dimmer broke/);
  });

  it("works under a prefix, and answers 404 for streams without controls", async () => {
    const front = new FrameHub();
    const back = new FrameHub();
    const controls = dimmer();
    const site = new Hono();
    site.route(
      "/webcam",
      mjpegApp({ streams: { front, back }, controls: { back: controls }, loopbackOnly: true }),
    );
    const ok = await site.request("http://localhost/webcam/back/control");
    assert.equal(ok.status, 200);
    const none = await site.request("http://localhost/webcam/front/control");
    assert.equal(none.status, 404);
    assert.equal(
      (await site.request("http://localhost/webcam/control")).status,
      404,
      "the root is front's",
    );
  });

  it("offers the controls on the viewer page exactly where /control would take its requests", async () => {
    const hub = new FrameHub();
    const offered = async (app: ReturnType<typeof mjpegApp>, url: string) => {
      const page = await app.request(url);
      assert.equal(page.status, 200, url);
      const html = await page.text();
      const forms = [...html.matchAll(/<details data-control="([^"]*)">/g)].map((m) => m[1]);
      // The page's own request for the document answers as the page promised.
      const base = new URL(url);
      for (const path of forms) {
        const control = new URL(path!, base);
        control.search = base.search;
        assert.equal((await app.request(control.href)).status, 200, control.href);
      }
      return forms;
    };
    const loopback = mjpegApp({ streams: hub, controls: dimmer(), loopbackOnly: true });
    assert.deepEqual(await offered(loopback, "http://127.0.0.1:8080/"), ["control"]);
    assert.deepEqual(await offered(loopback, "http://localhost:8080/"), ["control"]);
    assert.deepEqual(
      await offered(loopback, "http://rebound.example:8080/"),
      [],
      "not through a name that is not loopback's",
    );
    const reachable = mjpegApp({ streams: hub, controls: dimmer() });
    assert.deepEqual(await offered(reachable, "http://127.0.0.1:8080/"), [], "off: no form");
    const guarded = mjpegApp({ streams: hub, controls: dimmer(), auth: { token: "page-token" } });
    assert.deepEqual(await offered(guarded, "http://cam.example/?token=page-token"), ["control"]);
    assert.equal((await guarded.request("http://cam.example/")).status, 401, "nor a page without");
    const plain = mjpegApp({ streams: hub, loopbackOnly: true });
    assert.deepEqual(await offered(plain, "http://127.0.0.1/"), [], "a source without controls");

    const named = mjpegApp({
      streams: { front: hub, back: new FrameHub() },
      controls: { back: dimmer() },
      loopbackOnly: true,
    });
    assert.deepEqual(await offered(named, "http://127.0.0.1/"), ["back/control"], "the index");
    assert.deepEqual(await offered(named, "http://127.0.0.1/back/"), ["control"]);
    assert.deepEqual(await offered(named, "http://127.0.0.1/front/"), []);
  });

  it("checks its controls option against the streams", () => {
    const hub = new FrameHub();
    assert.throws(
      () => mjpegApp({ streams: { a: hub }, controls: { b: dimmer() } }),
      /controls: unknown stream "b", expected one of a/,
    );
    assert.throws(
      () => mjpegApp({ streams: { a: hub }, controls: dimmer() }),
      /controls: expected a record of stream name → controls for named streams/,
    );
    assert.throws(
      () => mjpegApp({ streams: hub, controls: { a: dimmer() } }),
      /controls: expected the controls of the one stream, got a record/,
    );
    assert.throws(
      () => mjpegApp({ streams: hub, controls: { describe: 1 } as never }),
      /controls: expected controls \(describe and set\)/,
    );
    assert.throws(
      () => mjpegApp({ streams: { control: hub } }),
      /streams: expected a FrameHub or a record of name → FrameHub/,
    );
  });
});
