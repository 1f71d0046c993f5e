import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MjpegClient } from "../mod.ts";
import { fetchWithRedirects, MAX_REDIRECTS } from "../src/runtime/redirects.ts";
import { lend, receive, startClient } from "./helpers/client_checks.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { serveMultipart, startUpstream } from "./helpers/upstream.ts";
import { until } from "./helpers/wait.ts";

/** A fetch that answers from a table of URL → [status, Location], and logs what it was asked. */
function scripted(routes: Record<string, [number, string?]>) {
  const asked: Request[] = [];
  const fetchOnce = (request: Request) => {
    asked.push(request);
    const [status, location] = routes[request.url] ?? [200];
    const headers: HeadersInit = location === undefined ? {} : { Location: location };
    return Promise.resolve(new Response(status === 200 ? "ok" : null, { status, headers }));
  };
  return { asked, fetchOnce };
}

describe("the client's redirect follower", () => {
  it("MjpegClient fetches nothing but http(s), even from a Request it is given", async () => {
    using dir = tempDir("redirect");
    const path = join(dir.path, "local.jpg");
    writeFileSync(path, fixtureFrames[0]!);
    // Deno's and Bun's fetch read file: URLs; the client must not ask them to.
    await using client = startClient(new Request(`file://${path}`), 2, {
      reconnect: { initialDelay: 20, maxDelay: 20 },
    });
    await until(() => client.stats.reconnects >= 1, "a second attempt");
    assert.equal(client.stats.frames, 0);
    assert.match(client.stats.lastError ?? "", /expected an http: or https: URL, got "file:"/);
  });

  it("a caller's own fetch is asked one hop at a time, redirect: manual, and the client follows", async () => {
    await using target = await startUpstream((conn) => serveMultipart(conn, { count: 8 }));
    await using upstream = await startUpstream(async (conn) => {
      const path = conn.request.line.split(" ")[1];
      if (path === "/file") await conn.head(302, { Location: "file:///etc/passwd" });
      else if (!conn.request.headers.has("authorization")) {
        await conn.head(401, { "WWW-Authenticate": 'Basic realm="cam"', "Content-Length": "0" });
      } else await conn.head(307, { Location: `http://127.0.0.1:${target.port}/stream` });
    });
    const modes: RequestRedirect[] = [];
    const ownFetch = (request: Request) => {
      modes.push(request.redirect);
      return globalThis.fetch(request);
    };
    await using client = new MjpegClient(
      upstream.url.replace("http://", "http://u:secret@") + "away",
      {
        fetch: ownFetch,
      },
    );
    await using refused = new MjpegClient(upstream.url + "file", {
      fetch: ownFetch,
      reconnect: { initialDelay: 20, maxDelay: 20 },
    });
    lend(client, 65536, 8);
    client.start();
    assert.deepEqual((await receive(client, 8)).map((r) => r.sum), fixtureSums);
    assert.deepEqual(modes.slice(0, 3), ["manual", "manual", "manual"]);
    // The password goes out only when the camera asks for it, and only to the camera.
    assert.equal(upstream.accepted[0]!.request.headers.get("authorization"), undefined);
    assert.equal(
      upstream.accepted[1]!.request.headers.get("authorization"),
      `Basic ${btoa("u:secret")}`,
    );
    assert.equal(target.accepted[0]!.request.headers.get("authorization"), undefined);
    refused.start();
    await until(() => refused.stats.reconnects >= 1, "a second attempt");
    assert.match(
      refused.stats.lastError ?? "",
      /expected a redirect to an http: or https: URL, got "file:"/,
    );
  });

  it("stops after MAX_REDIRECTS hops, keeps or drops credentials by origin, turns a 303 into a GET", async () => {
    const loop = scripted({ "http://a/": [302, "/"] });
    await assert.rejects(
      fetchWithRedirects(loop.fetchOnce, new Request("http://a/")),
      /expected at most 5 redirects, got more \(the last to "\/"\)/,
    );
    assert.equal(loop.asked.length, MAX_REDIRECTS + 1);
    assert.ok(loop.asked.every((r) => r.redirect === "manual"));

    const hops = scripted({
      "http://a/1": [301, "/2"],
      "http://a/2": [303, "https://b/3"],
      "https://b/3": [308, "http://user:pw@a/4"],
    });
    const response = await fetchWithRedirects(
      hops.fetchOnce,
      new Request("http://a/1", {
        method: "POST",
        body: "x",
        headers: { Authorization: "Bearer t", Cookie: "c=1", "X-Other": "kept" },
      }),
    );
    assert.equal(await response.text(), "ok");
    const seen = hops.asked.map((r) => [
      r.url,
      r.method,
      r.headers.get("authorization"),
      r.headers.get("cookie"),
      r.headers.get("x-other"),
    ]);
    assert.deepEqual(seen, [
      ["http://a/1", "POST", "Bearer t", "c=1", "kept"],
      // 301 after a POST: a GET on the same origin, credentials kept.
      ["http://a/2", "GET", "Bearer t", "c=1", "kept"],
      // Another origin: credentials dropped, and not restored on the way back;
      // the Location's own user:pass is dropped too.
      ["https://b/3", "GET", null, null, "kept"],
      ["http://a/4", "GET", null, null, "kept"],
    ]);

    const withBody = scripted({ "http://a/": [307, "/next"] });
    await assert.rejects(
      fetchWithRedirects(
        withBody.fetchOnce,
        new Request("http://a/", { method: "PUT", body: "x" }),
      ),
      /expected a redirect that needs no request body again, got 307/,
    );
    for (const location of ["data:image/jpeg;base64,/9j/", "blob:http://a/x", "javascript:1"]) {
      const odd = scripted({ "http://a/": [302, location] });
      await assert.rejects(
        fetchWithRedirects(odd.fetchOnce, new Request("http://a/")),
        /expected a redirect to an http: or https: URL, got "(data|blob|javascript):"/,
      );
    }
  });
});
