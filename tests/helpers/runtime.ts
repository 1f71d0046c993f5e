/** Which runtime runs the tests, and how to run a script or the repository on it. */
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The name of the runtime running the tests. */
export const runtimeName: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** The repository root, with a trailing slash. */
export const repoRoot: string = fileURLToPath(new URL("../../", import.meta.url));

/** The argv that runs the TypeScript file `file` on this runtime (deno run -A, bun, node --import tsx). */
export function scriptCommand(file: string): string[] {
  if (runtimeName === "deno") return [process.execPath, "run", "-A", file];
  if (runtimeName === "bun") return [process.execPath, file];
  return [process.execPath, "--import", "tsx", file];
}

/**
 * Runs a test on one runtime only: for a test of what a peer does (Chromium,
 * nginx, Caddy) with bytes our server sends the same way whatever runs it,
 * where three runs would repeat one check and cost CI minutes. The runtime
 * layer each of them also goes through is tested on all three elsewhere.
 * Returns true on `home`; elsewhere marks the test skipped, saying where it
 * runs and why, and returns false (the caller returns early).
 *
 * @example
 * it("the page paints in Chromium", async (t) => {
 *   if (!runsOn(t, "deno", "Chromium's painting")) return;
 *   ...
 * });
 */
export function runsOn(
  t: { skip(message?: string): void },
  home: typeof runtimeName,
  what: string,
): boolean {
  if (runtimeName === home) return true;
  const message = `runs on ${home} only: it tests ${what}, not the runtime`;
  // Deno reports a node:test skip as "ok": the log line says what happened.
  console.warn(`SKIP on ${runtimeName}: ${message}`);
  t.skip(message);
  return false;
}
