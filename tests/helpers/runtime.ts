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
