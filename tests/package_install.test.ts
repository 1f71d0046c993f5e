/**
 * The package as another project uses it: `npm pack` (which builds lib/),
 * then a fresh project on the runtime running this test installs the tarball
 * and runs a small app — a FrameHub served by mjpegApp, read back by
 * MjpegClient, the frame checked byte-exact — and the `mjpeg` bin. The
 * user's code is type-checked against the shipped declarations: `tsc` for
 * Node, `deno check` for Deno (Bun runs TypeScript unchecked). Node runs the
 * compiled JavaScript with no TypeScript loader; Deno's project has its own
 * deno.json and no package.json.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixture } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { run } from "./helpers/processes.ts";
import { repoRoot, runtimeName } from "./helpers/runtime.ts";
import { tempDir } from "./helpers/temp_dir.ts";

const bin = (name: string) => join(repoRoot, "node_modules", ".bin", name);
const TYPES_NODE: string =
  JSON.parse(readFileSync(join(repoRoot, "node_modules/@types/node/package.json"), "utf8"))
    .version;
const JPEG = fixture("frames/003.jpg");

/**
 * Runs a command to completion in a user's shell (no test runner's or npm
 * script's variables steering the tools); rejects with its output when it
 * fails (unless `allowFailure`).
 */
async function sh(
  command: string,
  args: string[],
  cwd: string,
  options: { allowFailure?: boolean; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; out: string }> {
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", NO_COLOR: "1" };
  const r = await run(command, args, { cwd, env, timeoutMs: options.timeoutMs ?? 120_000 });
  const stdout = new TextDecoder().decode(r.stdout);
  const out = stdout + r.stderr;
  if (r.code !== 0 && !options.allowFailure) {
    throw new Error(`${command} ${args.join(" ")} exited ${r.code}:\n${out}`);
  }
  return { code: r.code, stdout, out };
}

// The user's app: the same source on every runtime, no node: imports.
const APP = `import { FrameHub, mjpegApp, MjpegClient, serve } from "@mjpeg/stream";
import { type Frame, MjpegDecoderStream } from "@mjpeg/stream/wire";

const jpeg = Uint8Array.from(atob("${btoa(String.fromCharCode(...JPEG))}"), (c) => c.charCodeAt(0));
const hub = new FrameHub();
const timer = setInterval(() => hub.publish(jpeg), 20);
const server = await serve(mjpegApp({ streams: hub }), { port: 0 });
let frame: Frame | undefined;
{
  await using client = new MjpegClient(\`\${server.url}/stream.mjpg\`);
  for await (const f of client.frames()) {
    frame = f;
    break;
  }
}
const snapshot = await fetch(\`\${server.url}/snapshot.jpg\`);
const decoded: Frame[] = [];
const bytes = snapshot.body!.pipeThrough(new MjpegDecoderStream({ contentType: "image/jpeg" }));
for await (const f of bytes) decoded.push(f);
clearInterval(timer);
await server.close();
const hex = async (data: Uint8Array) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", data.slice()))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
console.log(JSON.stringify({
  runtime: server.runtime,
  client: await hex(frame!.data),
  snapshot: await hex(decoded[0]!.data),
}));
`;

// A mistake the shipped declarations must catch: boundary is a string.
const WRONG = `import { FrameHub } from "@mjpeg/stream/server";
const boundary: number = new FrameHub().boundary;
console.log(boundary);
`;

/** Builds and packs the package into `dir`; returns the tarball's path. */
async function pack(dir: string): Promise<string> {
  await sh("npm", ["pack", "--silent", "--pack-destination", dir], repoRoot);
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack wrote a tarball");
  return join(dir, tarball);
}

/** Checks the app's output: the frame read back is the JPEG published. */
function checkApp(out: string, runtime: string): void {
  const result = JSON.parse(out.trim().split("\n").at(-1)!);
  assert.equal(result.runtime, runtime);
  assert.equal(result.client, sha256(JPEG), "MjpegClient read the published JPEG");
  assert.equal(result.snapshot, sha256(JPEG), "the wire decoder read the snapshot");
}

describe(`the packed package in a fresh ${runtimeName} project`, () => {
  it("installs, type-checks and runs the app and the mjpeg bin", async () => {
    using dir = tempDir("package");
    const tarball = await pack(dir.path);
    const listing = await sh("tar", ["-tzf", tarball], dir.path);
    assert.match(listing.out, /package\/lib\/src\/wire\/mod\.js/);
    assert.match(listing.out, /package\/lib\/src\/wire\/mod\.d\.ts/);
    assert.doesNotMatch(listing.out, /package\/src\/|package\/tests\//, "no sources or tests");
    const app = join(dir.path, "app");
    mkdirSync(app);
    writeFileSync(join(app, "app.ts"), APP);
    writeFileSync(join(app, "wrong.ts"), WRONG);
    const install = ["install", "--prefer-offline", "--no-audit", "--no-fund"];

    if (runtimeName === "node") {
      writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", type: "module" }));
      await sh("npm", [...install, tarball, `@types/node@${TYPES_NODE}`], app);
      const tsconfig = {
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          strict: true,
          skipLibCheck: false,
          types: ["node"],
          outDir: "out",
        },
      };
      writeFileSync(
        join(app, "tsconfig.json"),
        JSON.stringify({ ...tsconfig, files: ["app.ts"] }),
      );
      await sh(bin("tsc"), ["-p", "tsconfig.json"], app);
      checkApp((await sh("node", ["out/app.js"], app)).stdout, "node");
      writeFileSync(
        join(app, "tsconfig.wrong.json"),
        JSON.stringify({ ...tsconfig, files: ["wrong.ts"] }),
      );
      const wrong = await sh(bin("tsc"), ["-p", "tsconfig.wrong.json"], app, {
        allowFailure: true,
      });
      assert.match(wrong.out, /wrong\.ts.*Type 'string' is not assignable to type 'number'/s);
      assert.match(
        (await sh("node_modules/.bin/mjpeg", ["--version"], app)).out,
        /^mjpeg 0\.1\.0$/m,
      );
    } else if (runtimeName === "bun") {
      writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", type: "module" }));
      await sh(process.execPath, ["add", tarball], app);
      checkApp((await sh(process.execPath, ["app.ts"], app)).stdout, "bun");
      const version = await sh(process.execPath, ["node_modules/.bin/mjpeg", "--version"], app);
      assert.match(version.out, /^mjpeg 0\.1\.0$/m);
    } else {
      // Deno: its own deno.json, no package.json; node_modules filled by npm
      // from the tarball, as `deno install` would fill it from the registry.
      writeFileSync(
        join(app, "deno.json"),
        JSON.stringify({
          nodeModulesDir: "manual",
          // What `deno add npm:@mjpeg/stream` writes; subpaths resolve through it.
          imports: { "@mjpeg/stream": "npm:@mjpeg/stream@^0.1.0" },
        }),
      );
      await sh("npm", [...install, "--no-save", "--no-package-lock", tarball], app);
      assert.deepEqual(readdirSync(app).sort(), [
        "app.ts",
        "deno.json",
        "node_modules",
        "wrong.ts",
      ]);
      await sh(process.execPath, ["check", "app.ts"], app);
      checkApp((await sh(process.execPath, ["run", "-A", "app.ts"], app)).stdout, "deno");
      const wrong = await sh(process.execPath, ["check", "wrong.ts"], app, {
        allowFailure: true,
      });
      assert.match(wrong.out, /Type 'string' is not assignable to type 'number'/);
      const version = await sh(
        process.execPath,
        ["run", "-A", "node_modules/@mjpeg/stream/bin/mjpeg.js", "--version"],
        app,
      );
      assert.match(version.out, /^mjpeg 0\.1\.0$/m);
    }
  });
});
