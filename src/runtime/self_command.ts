/**
 * The command line that runs this program again, for `mjpeg service` to put
 * in a systemd unit: the compiled binary, or the runtime with its script.
 *
 * @module
 */
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** How to start this program again. */
export interface SelfCommand {
  /** What runs it: a single-file binary built by `bun build --compile`, or a runtime. */
  kind: "binary" | "deno" | "bun" | "node";
  /** The absolute program path, then its arguments up to the `mjpeg` command's own. */
  argv: string[];
  /**
   * The project directory (with package.json or deno.json) when running from
   * sources: runtimes resolve `--import tsx` and the import map from there.
   */
  projectDir?: string;
}

interface DenoGlobal {
  execPath(): string;
  mainModule: string;
}

/**
 * The command that runs this program again, with absolute paths: the binary
 * for a compiled one (`bun build --compile`), else the runtime's executable,
 * the flags it was given and the script it runs.
 *
 * @returns The command and, for sources, their project directory.
 * @throws {Error} When the script cannot be found (run from a REPL or `-e`).
 */
export function selfCommand(): SelfCommand {
  const deno = (globalThis as { Deno?: DenoGlobal }).Deno;
  if (deno) {
    // A local script by its path; a remote one (jsr:, https:) by its specifier.
    const local = deno.mainModule.startsWith("file:");
    const main = local ? fileURLToPath(deno.mainModule) : deno.mainModule;
    return {
      kind: "deno",
      argv: [deno.execPath(), "run", "-A", main],
      ...(local ? project(main) : {}),
    };
  }
  const script = process.argv[1];
  // A compiled Bun binary runs its bundle from Bun's embedded file system.
  if (script?.startsWith("/$bunfs/")) return { kind: "binary", argv: [process.execPath] };
  if (!script) throw new Error("expected to run from a script, got no script path");
  const main = realpathSync(resolve(script));
  if ("Bun" in globalThis) return { kind: "bun", argv: [process.execPath, main], ...project(main) };
  return { kind: "node", argv: [process.execPath, ...process.execArgv, main], ...project(main) };
}

// The nearest directory above the script with a package.json or deno.json.
function project(script: string): { projectDir?: string } {
  for (let dir = dirname(script); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) || existsSync(join(dir, "deno.json"))) {
      return { projectDir: dir };
    }
  }
  return {};
}
