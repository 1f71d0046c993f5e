/**
 * Finding the external programs tests talk to (ffmpeg, GStreamer, Chromium,
 * curl). Locally a missing tool skips the test with a clear message; in CI
 * (`CI=true`) it fails, so no test is silently skipped there.
 */
import { spawnSync } from "node:child_process";

const found = new Map<string, string | undefined>();

/** The absolute path of `name` on PATH, or undefined. */
export function which(name: string): string | undefined {
  if (!found.has(name)) {
    const r = spawnSync("sh", ["-c", `command -v "${name}"`], { encoding: "utf8" });
    found.set(name, r.status === 0 ? r.stdout.trim() || undefined : undefined);
  }
  return found.get(name);
}

/** True when running under CI, where every test must run. */
export const inCI = process.env.CI === "true" || process.env.CI === "1";

interface Skippable {
  skip(message?: string): void;
}

/**
 * Makes sure the tools a test needs are installed. Returns true when they are.
 * Otherwise: in CI, throws; locally, marks the test skipped with the reason and
 * returns false, so the caller returns early.
 *
 * @example
 * it("ffmpeg reads the stream", async (t) => {
 *   if (!requireTools(t, "ffmpeg")) return;
 *   ...
 * });
 */
export function requireTools(t: Skippable, ...names: string[]): boolean {
  const missing = names.filter((n) => !which(n));
  if (missing.length === 0) return true;
  const message = `needs ${missing.join(", ")} on PATH (apt-get install ${missing.join(" ")})`;
  if (inCI) throw new Error(`CI must run every test: ${message}`);
  console.warn(`SKIP: ${message}`);
  t.skip(message);
  return false;
}
