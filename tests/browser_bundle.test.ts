/**
 * The `<mjpeg-view>` script the server serves: the committed bundle
 * (src/hono/mjpeg_view_bundle.ts) must be byte for byte what its sources
 * build to today — regenerate it with `npm run build:browser` — and must
 * carry no `node:` import, no zod and no package import. `GET /mjpeg-view.js`
 * answers it with an ETag and 304 on `If-None-Match`, before auth; the
 * viewer page loads it from its own server, which its Content-Security-
 * Policy allows, and keeps a plain `<img>` for browsers without JavaScript.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FrameHub } from "../src/server/mod.ts";
import { mjpegApp } from "../src/hono/mod.ts";
import { MJPEG_VIEW_ETAG, MJPEG_VIEW_JS } from "../src/hono/mjpeg_view_bundle.ts";
import { buildViewBundle, BUNDLE_MODULE } from "../scripts/build_browser.ts";
import { repoRoot } from "./helpers/runtime.ts";

describe("the <mjpeg-view> bundle", () => {
  it("is what its sources build to now (else: npm run build:browser, and commit it)", () => {
    const { script, module } = buildViewBundle();
    const committed = readFileSync(join(repoRoot, BUNDLE_MODULE), "utf8");
    assert.ok(
      committed === module,
      `${BUNDLE_MODULE} differs from a fresh build of src/browser/ ` +
        `(${committed.length} vs ${module.length} bytes): run npm run build:browser and commit it`,
    );
    assert.equal(MJPEG_VIEW_JS, script);
  });

  it("is one dependency-free browser script: no node:, no zod, no package import", () => {
    assert.doesNotMatch(MJPEG_VIEW_JS, /(?:from|import)\s*\(?\s*["'](?:node:|[^"'./])/);
    assert.doesNotMatch(MJPEG_VIEW_JS, /\bzod\b|\$Zod|ZodError/);
    assert.match(MJPEG_VIEW_JS, /customElements\.define/);
    assert.match(MJPEG_VIEW_JS, /"mjpeg-view"/);
    assert.ok(MJPEG_VIEW_JS.length < 64 * 1024, `${MJPEG_VIEW_JS.length} bytes minified`);
    console.log(`# mjpeg-view.js: ${(MJPEG_VIEW_JS.length / 1024).toFixed(1)} KiB minified`);
  });
});

describe("GET /mjpeg-view.js", () => {
  it("answers the script with an ETag, 304 when the browser has it, before auth", async () => {
    const app = mjpegApp({
      streams: { front: new FrameHub(), back: new FrameHub() },
      auth: { token: "bundle-test-token" },
    });
    const response = await app.request("/mjpeg-view.js");
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(response.headers.get("etag"), MJPEG_VIEW_ETAG);
    assert.match(MJPEG_VIEW_ETAG, /^"[A-Za-z0-9_-]{32}"$/);
    assert.equal(response.headers.get("cache-control"), "no-cache");
    assert.equal(await response.text(), MJPEG_VIEW_JS);

    for (const tag of [MJPEG_VIEW_ETAG, `W/${MJPEG_VIEW_ETAG}`, `"old", ${MJPEG_VIEW_ETAG}`, "*"]) {
      const again = await app.request("/mjpeg-view.js", { headers: { "If-None-Match": tag } });
      assert.equal(again.status, 304, tag);
      assert.equal(again.headers.get("etag"), MJPEG_VIEW_ETAG);
      assert.equal(await again.text(), "");
    }
    const stale = await app.request("/mjpeg-view.js", { headers: { "If-None-Match": '"old"' } });
    assert.equal(stale.status, 200);
    assert.equal((await stale.text()).length, MJPEG_VIEW_JS.length);
    const head = await app.request("/mjpeg-view.js", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    assert.equal((await app.request("/stats")).status, 401, "everything else still needs auth");
  });

  it("is what the viewer page loads, which its Content-Security-Policy allows; no-JS gets an <img>", async () => {
    const app = mjpegApp({ streams: new FrameHub() });
    const page = await app.request("/");
    const html = await page.text();
    assert.match(html, /<script type="module" src="mjpeg-view\.js"><\/script>/);
    assert.match(html, /<mjpeg-view src="stream\.mjpg"/);
    assert.match(html, /<noscript><img src="stream\.mjpg" alt="[^"]+"><\/noscript>/);
    const csp = page.headers.get("content-security-policy")!;
    assert.match(csp, /script-src 'self' 'unsafe-inline'/);
    assert.match(csp, /default-src 'self'/, "fetch of the stream and stats: this server only");
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, "no external assets");
  });
});
