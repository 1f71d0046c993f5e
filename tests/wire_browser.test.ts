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
import { openPage } from "./helpers/chromium.ts";
import { fixture, fixtureSums } from "./helpers/fixtures.ts";
import { run } from "./helpers/processes.ts";
import { repoRoot } from "./helpers/runtime.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";
import { sleep, until } from "./helpers/wait.ts";

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
  ], { timeoutMs: 60_000 });
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
      await sleep(1);
    },
  });
}

describe("./wire in a browser", () => {
  it("bundles for the browser with no node: import and no zod", async () => {
    using dir = tempDir("wire-bundle");
    const code = await bundle("src/wire/mod.ts", join(dir.path, "wire.js"));
    assert.deepEqual(browserProblems(code), []);
    assert.match(code, /MjpegDecoderStream/, "the bundle exports the decoder");
    console.log(`# ./wire bundle: ${(code.length / 1024).toFixed(1)} KiB minified`);
  });

  it("the check fails for an entry that does need Node or zod (./client)", async () => {
    using dir = tempDir("client-bundle");
    const problems = browserProblems(await bundle("src/client/mod.ts", join(dir.path, "c.js")));
    assert.ok(problems.includes("contains zod"), `${problems}`);
    assert.ok(problems.includes("imports node:net"), `${problems}`);
  });

  it("headless Chromium decodes ffmpeg's and GStreamer's multipart bodies byte-exact", async (t) => {
    if (!requireTools(t, "chromium")) return;
    using dir = tempDir("wire-browser");
    const code = await bundle("src/wire/mod.ts", join(dir.path, "wire.js"));
    const bodies: Record<string, [Uint8Array, string]> = {
      "/ffmpeg": [fixture("ffmpeg.mpjpeg"), "multipart/x-mixed-replace;boundary=ffmpeg"],
      "/gstreamer": [
        fixture("gstreamer.multipart"),
        "multipart/x-mixed-replace; boundary=ThisRandomString",
      ],
    };
    await using server = await serve({
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
    await using page = await openPage(`${server.url}/`);
    type Result = {
      frames: { sequence: number; sha256: string }[];
      stats: { frames: number; resyncs: number };
    };
    type Done = { results?: Result[]; error?: string; userAgent?: string };
    const done = await until(
      () => page.evaluate("window.done ?? null") as Promise<Done | null>,
      "the page to finish decoding",
      30_000,
    );
    assert.equal(done.error, undefined);
    assert.match(done.userAgent!, /Chrome\//);
    for (const result of done.results!) {
      assert.deepEqual(result.frames.map((f) => f.sha256), fixtureSums);
      assert.deepEqual(result.frames.map((f) => f.sequence), [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.equal(result.stats.frames, 8);
      assert.equal(result.stats.resyncs, 0);
    }
  });
});
