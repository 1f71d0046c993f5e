/**
 * `./wire` in a real browser: the entry is bundled for the browser with
 * `bun build --target=browser`, the bundle must hold no `node:` import and no
 * zod, and headless Chromium decodes real multipart bodies (written by ffmpeg
 * and GStreamer) with it, streamed over HTTP in small pieces. Every frame is
 * checked byte-exact: its sha256 computed in the page must equal the sha256
 * of the JPEG ffmpeg wrote.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { serve } from "../src/server/mod.ts";
import { openPage } from "./helpers/server_cdp.ts";
import { run, serverTempDir } from "./helpers/server_run.ts";
import { repoRoot } from "./helpers/cli_run.ts";
import { requireTools } from "./helpers/tools.ts";
import { fixture, frames, sha256 } from "./helpers/wire.ts";

const bun = join(repoRoot, "node_modules", ".bin", "bun");

/** Bundles `entry` for the browser, minified (no comments left to match), `node:` kept external. */
async function bundle(entry: string, outfile: string): Promise<string> {
  const result = await run(bun, [
    "build",
    join(repoRoot, entry),
    "--target=browser",
    "--format=esm",
    "--minify",
    // Left as imports, not polyfilled, so a node: import shows in the bundle.
    "--external=node:*",
    `--outfile=${outfile}`,
  ], 60_000);
  assert.equal(result.code, 0, result.stderr);
  return readFileSync(outfile, "utf8");
}

/** What in a bundle shows it would not run in a browser, or carries zod. */
function browserProblems(code: string): string[] {
  const problems: string[] = [];
  for (const m of code.matchAll(/(?:from|import|require)\s*\(?\s*["'](node:[\w/]+)["']/g)) {
    problems.push(`imports ${m[1]}`);
  }
  if (/\bzod\b|\$Zod|ZodError/.test(code)) problems.push("contains zod");
  return [...new Set(problems)];
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>wire</title>
<script type="module">
import { MjpegDecoderStream } from "/wire.js";
const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
async function decode(path) {
  const response = await fetch(path);
  const decoder = new MjpegDecoderStream({ contentType: response.headers.get("content-type") });
  const reader = response.body.pipeThrough(decoder).getReader();
  const out = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out.push({ sequence: value.sequence, sha256: hex(await crypto.subtle.digest("SHA-256", value.data)) });
  }
  return { frames: out, stats: { ...decoder.stats } };
}
Promise.all(["/ffmpeg", "/gstreamer"].map(decode)).then(
  (results) => { window.done = { results, userAgent: navigator.userAgent }; },
  (error) => { window.done = { error: String(error) }; },
);
</script>`;

/** A body sent in small pieces, so the decoder sees parts split anywhere. */
function dribble(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    async pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at += size));
      await new Promise((resolve) => setTimeout(resolve, 1));
    },
  });
}

describe("./wire in a browser", () => {
  it("bundles for the browser with no node: import and no zod", async () => {
    const dir = serverTempDir("wire-bundle");
    try {
      const code = await bundle("src/wire/mod.ts", join(dir.path, "wire.js"));
      assert.deepEqual(browserProblems(code), []);
      assert.match(code, /MjpegDecoderStream/, "the bundle exports the decoder");
      console.log(`# ./wire bundle: ${(code.length / 1024).toFixed(1)} KiB minified`);
    } finally {
      dir.remove();
    }
  });

  it("the check fails for an entry that does need Node or zod (./client)", async () => {
    const dir = serverTempDir("client-bundle");
    try {
      const problems = browserProblems(await bundle("src/client/mod.ts", join(dir.path, "c.js")));
      assert.ok(problems.includes("contains zod"), `${problems}`);
      assert.ok(problems.includes("imports node:net"), `${problems}`);
    } finally {
      dir.remove();
    }
  });

  it("headless Chromium decodes ffmpeg's and GStreamer's multipart bodies byte-exact", async (t) => {
    if (!requireTools(t, "chromium")) return;
    const dir = serverTempDir("wire-browser");
    const code = await bundle("src/wire/mod.ts", join(dir.path, "wire.js"));
    const bodies: Record<string, [Uint8Array, string]> = {
      "/ffmpeg": [fixture("ffmpeg.mpjpeg"), "multipart/x-mixed-replace;boundary=ffmpeg"],
      "/gstreamer": [
        fixture("gstreamer.multipart"),
        "multipart/x-mixed-replace; boundary=ThisRandomString",
      ],
    };
    const server = await serve({
      fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === "/") return new Response(PAGE, { headers: { "Content-Type": "text/html" } });
        if (path === "/wire.js") {
          return new Response(code, { headers: { "Content-Type": "text/javascript" } });
        }
        const body = bodies[path];
        if (!body) return new Response("not found", { status: 404 });
        return new Response(dribble(body[0], 997), { headers: { "Content-Type": body[1] } });
      },
    }, { port: 0, hostname: "127.0.0.1" });
    const page = await openPage(`${server.url}/`);
    try {
      type Result = {
        frames: { sequence: number; sha256: string }[];
        stats: { frames: number; resyncs: number };
      };
      type Done = { results?: Result[]; error?: string; userAgent?: string };
      let done: Done | undefined;
      for (let i = 0; i < 300 && !done; i++) {
        done = (await page.evaluate("window.done ?? null") as Done | null) ?? undefined;
        if (!done) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(done, "the page finished decoding");
      assert.equal(done.error, undefined);
      assert.match(done.userAgent!, /Chrome\//);
      const want = frames.map(sha256);
      for (const result of done.results!) {
        assert.deepEqual(result.frames.map((f) => f.sha256), want);
        assert.deepEqual(result.frames.map((f) => f.sequence), [0, 1, 2, 3, 4, 5, 6, 7]);
        assert.equal(result.stats.frames, 8);
        assert.equal(result.stats.resyncs, 0);
      }
    } finally {
      await page.close();
      await server.close();
      dir.remove();
    }
  });
});
