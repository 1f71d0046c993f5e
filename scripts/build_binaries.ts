/**
 * `npm run build:binaries`: the `mjpeg` command as single-file executables for
 * 64-bit Linux on ARM (Raspberry Pi OS) and on x86, with `bun build --compile`.
 *
 * Bun embeds a Bun runtime for the target in each file. For a target other
 * than the machine it runs on, Bun would download that runtime itself from
 * registry.npmjs.org, ignoring npm's registry settings and checking nothing.
 * This script instead fetches the runtime's npm package (`@oven/bun-linux-aarch64`
 * or `@oven/bun-linux-x64`, at the version of the Bun running it) with
 * `npm pack`, which goes through npm's cache and registry configuration,
 * checks it against the sha512 package-lock.json pins for that package, and
 * passes the runtime to Bun with `--compile-executable-path`. Once npm's cache
 * holds the package, building needs no network.
 *
 * Usage: `bun scripts/build_binaries.ts [--out DIR] [--target linux-arm64|linux-x64 ...]
 * [--bun-flags "FLAGS"]` (default: both targets into dist/, with {@linkcode BUILD_FLAGS};
 * `--bun-flags` replaces those, for bench/binary_startup.ts to compare them).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";

/** The targets we build, as `bun build --target` names them, with their runtime package. */
const TARGETS = {
  "linux-arm64": { bun: "bun-linux-arm64", arch: "arm64", pkg: "@oven/bun-linux-aarch64" },
  "linux-x64": { bun: "bun-linux-x64", arch: "x64", pkg: "@oven/bun-linux-x64" },
} as const;
type TargetName = keyof typeof TARGETS;

/**
 * What Bun gets besides the target. `--bytecode` stores JavaScriptCore bytecode
 * in the file, so start-up skips parsing the bundle (2.5 times faster on x64;
 * docs/benchmarks.md); it needs `--format=esm` for the CLI's top-level await.
 * `--minify` saves a little, and `--keep-names` keeps function names in stack
 * traces.
 */
const BUILD_FLAGS = ["--minify", "--keep-names", "--bytecode", "--format=esm"];

const root = resolve(import.meta.dirname ?? ".", "..");

function fail(message: string): never {
  console.error(`build:binaries: ${message}`);
  process.exit(1);
}

function run(command: string, args: string[], cwd = root): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  if (result.error) fail(`cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    fail(`${command} ${args.join(" ")} exited with status ${result.status}:\n${result.stderr}`);
  }
  return result.stdout;
}

/** The sha512 integrity package-lock.json pins for `pkg` at `version`. */
function lockedIntegrity(pkg: string, version: string): string {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
    packages?: Record<string, { version?: string; integrity?: string }>;
  };
  const entry = lock.packages?.[`node_modules/${pkg}`];
  if (!entry?.integrity || entry.version !== version) {
    fail(
      `expected package-lock.json to pin ${pkg}@${version} (an optional dependency of bun), ` +
        `got ${entry ? `version ${entry.version}` : "no entry"}; run npm install`,
    );
  }
  return entry.integrity;
}

/**
 * The Bun runtime for `target`: a path to pass as --compile-executable-path,
 * or undefined when the target is this machine (Bun then embeds itself).
 */
function runtimeFor(target: TargetName, version: string): string | undefined {
  const { arch, pkg } = TARGETS[target];
  if (process.platform === "linux" && process.arch === arch) return undefined;
  const cached = join(
    root,
    "node_modules",
    ".cache",
    "mjpeg-stream",
    `${pkg.slice(6)}-${version}`,
    "bun",
  );
  if (existsSync(cached)) return cached;

  const integrity = lockedIntegrity(pkg, version);
  const work = mkdtempSync(join(tmpdir(), "mjpeg-bun-runtime-"));
  try {
    const packed = JSON.parse(
      run(
        "npm",
        ["pack", `${pkg}@${version}`, "--pack-destination", work, "--json", "--silent"],
        work,
      ),
    ) as { filename: string }[];
    const tarball = join(work, packed[0]!.filename);
    const [algorithm, expected] = integrity.split("-", 2) as [string, string];
    const actual = createHash(algorithm).update(readFileSync(tarball)).digest("base64");
    if (actual !== expected) {
      fail(
        `${pkg}@${version}: expected ${integrity} (package-lock.json), got ${algorithm}-${actual}`,
      );
    }
    run("tar", ["-xzf", tarball, "-C", work, "package/bin/bun"]);
    mkdirSync(join(cached, ".."), { recursive: true });
    chmodSync(join(work, "package/bin/bun"), 0o755);
    renameSync(join(work, "package/bin/bun"), cached);
    return cached;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const { values } = parseArgs({
  options: {
    out: { type: "string", default: join(root, "dist") },
    target: { type: "string", multiple: true },
    "bun-flags": { type: "string" },
  },
});
const targets = (values.target ?? Object.keys(TARGETS)) as string[];
for (const t of targets) {
  if (!(t in TARGETS)) {
    fail(`--target: expected one of ${Object.keys(TARGETS).join(", ")}, got ${JSON.stringify(t)}`);
  }
}
const bun = join(root, "node_modules", ".bin", "bun");
const version = run(bun, ["--version"]).trim();
const out = resolve(values.out!);
mkdirSync(out, { recursive: true });
for (const target of targets as TargetName[]) {
  const runtime = runtimeFor(target, version);
  const outfile = join(out, `mjpeg-${target}`);
  run(bun, [
    "build",
    "--compile",
    `--target=${TARGETS[target].bun}`,
    ...(runtime ? [`--compile-executable-path=${runtime}`] : []),
    ...(values["bun-flags"] === undefined
      ? BUILD_FLAGS
      : values["bun-flags"].split(" ").filter((f) => f !== "")),
    "src/cli.ts",
    "--outfile",
    outfile,
  ]);
  console.log(`wrote ${outfile} (bun ${version}, ${target})`);
}
