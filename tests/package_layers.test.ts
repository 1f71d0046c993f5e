/**
 * The package's shape: deno.json and package.json export the same entry
 * points; each entry imports only its own layer and those below it (walked
 * over the static import graph); and each exports exactly its public names,
 * so an internal helper cannot slip into the API unnoticed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { checkLayers, layerOf, staticImports } from "./helpers/import_graph.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const denoExports: Record<string, string> = JSON.parse(
  readFileSync(new URL("../deno.json", import.meta.url), "utf8"),
).exports;
const npmExports: Record<string, { types: string; default: string }> = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
).exports;

// The runtime values each entry exports (types leave no trace at run time).
const PUBLIC: Record<string, string[]> = {
  ".": [
    "FrameHub",
    "MjpegClient",
    "MjpegDecoderStream",
    "MjpegEncoderStream",
    "MjpegProtocolError",
    "cameraSource",
    "commandSource",
    "fileSource",
    "httpSource",
    "mjpegApp",
    "mjpegResponse",
    "pipeToHub",
    "pollSource",
    "serve",
    "snapshotResponse",
    "testPattern",
    "webcamSource",
  ],
  "./wire": [
    "DEFAULT_BOUNDARY",
    "DEFAULT_MAX_FRAME_SIZE",
    "DEFAULT_MAX_HEADER_SIZE",
    "MjpegDecoderStream",
    "MjpegEncoderStream",
    "MjpegParser",
    "MjpegDemuxStream",
    "MjpegDemuxer",
    "MjpegProtocolError",
    "STREAM_HEADER",
    "encodeMjpegPart",
    "encodeOpening",
    "jpegLength",
    "multipartContentType",
    "parseContentType",
    "validateBoundary",
    "validateStreamName",
  ],
  "./client": ["AuthenticationError", "MjpegClient"],
  "./server": ["FrameHub", "mjpegResponse", "muxResponse", "serve", "snapshotResponse"],
  "./sources": [
    "ControlError",
    "SourceError",
    "cameraSource",
    "commandSource",
    "fileSource",
    "httpSource",
    "pipeToHub",
    "pollSource",
    "testPattern",
    "webcamSource",
  ],
  "./hono": ["ControlError", "mjpegApp"],
  "./browser": ["MjpegView", "TAG_NAME", "defineMjpegView"],
  "./cli": ["VERSION", "main"],
};

describe("entry points", () => {
  it("deno.json and package.json export the same subpaths, from the same sources", () => {
    assert.deepEqual(Object.keys(npmExports).sort(), Object.keys(denoExports).sort());
    for (const [subpath, source] of Object.entries(denoExports)) {
      const compiled = source.replace(/^\.\//, "./lib/").replace(/\.ts$/, "");
      assert.equal(npmExports[subpath]!.default, `${compiled}.js`, subpath);
      assert.equal(npmExports[subpath]!.types, `${compiled}.d.ts`, subpath);
    }
  });

  for (const [subpath, entry] of Object.entries(denoExports)) {
    it(`${subpath} imports only its own layer and those below it`, () => {
      const { files, forbidden } = checkLayers(root, entry.replace(/^\.\//, ""));
      assert.deepEqual(forbidden, [], `forbidden imports from ${subpath}`);
      assert.ok(files.length > 1, `expected ${entry} to re-export modules, walked ${files}`);
    });

    it(`${subpath} exports exactly its public values`, async () => {
      const module = await import(new URL(`../${entry}`, import.meta.url).href);
      assert.deepEqual(Object.keys(module).sort(), [...PUBLIC[subpath]!].sort());
    });
  }

  it("mjpeg --version, package.json and deno.json name the same version", async () => {
    const { VERSION } = await import("../src/cli.ts");
    const npm = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    const deno = JSON.parse(readFileSync(new URL("../deno.json", import.meta.url), "utf8"));
    assert.equal(npm.version, VERSION);
    assert.equal(deno.version, VERSION);
  });

  it("./browser reaches only src/browser/ and the wire layer (no node:, no zod)", () => {
    const { files, forbidden } = checkLayers(root, "src/browser/mod.ts");
    assert.deepEqual(forbidden, []);
    assert.deepEqual(files.filter((f) => !["browser", "wire"].includes(layerOf(f))), []);
    assert.ok(files.includes("src/wire/demuxer.ts"), `${files}`);
  });

  it("./wire reaches only src/wire/, src/frame.ts and src/errors.ts", () => {
    const { files } = checkLayers(root, "src/wire/mod.ts");
    assert.deepEqual(files.filter((f) => layerOf(f) !== "wire"), []);
    assert.ok(files.includes("src/wire/parser.ts") && files.includes("src/frame.ts"), `${files}`);
  });
});

describe("the layer check itself", () => {
  const fake: Record<string, string> = {
    "src/wire/mod.ts": [
      'export { a } from "./a.ts";',
      '/** @example\n * import { z } from "zod";\n */',
      '// import { x } from "../server/x.ts";',
    ].join("\n"),
    "src/wire/a.ts": [
      'import { z } from "zod";',
      'import type { Hub } from "../server/hub.ts";',
      'import process from "node:process";',
      "export const a = 1;",
    ].join("\n"),
    "src/server/hub.ts": 'import { Hono } from "hono";\nexport type Hub = 1;',
  };
  const read = (path: string) => fake[path.slice(root.length).replace(/^\//, "")] ?? "";

  it("reports every forbidden edge: a package, a higher layer, node:, transitively", () => {
    const { forbidden } = checkLayers(root, "src/wire/mod.ts", read);
    assert.deepEqual(
      forbidden.map((e) => `${e.from} -> ${e.to}`),
      [
        "src/wire/a.ts -> zod",
        "src/wire/a.ts -> src/server/hub.ts",
        "src/wire/a.ts -> node:process",
        "src/server/hub.ts -> hono",
      ],
    );
  });

  it("ignores imports written in comments and doc examples", () => {
    assert.deepEqual(staticImports(fake["src/wire/mod.ts"]!), ["./a.ts"]);
  });
});
