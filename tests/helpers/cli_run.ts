/**
 * Running the `mjpeg` command for the CLI tests: in this process (`mjpeg`),
 * or as a real process on the runtime running the tests (deno run -A, bun,
 * node --import tsx), to completion (`runCli`) or started and stopped by the
 * test (`startCli`, `startServe`), killed at the end of the test's block if
 * still running.
 */
import { type Child, type Finished, finished, start, waitForLog } from "./processes.ts";
import { repoRoot, scriptCommand } from "./runtime.ts";

/** What `main` printed and returned, run in this process. */
export interface MainResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `mjpeg ARGS` in this process (its main(), output collected). The CLI
 * is loaded on first use, so importing the helpers does not load it.
 */
export async function mjpeg(...args: string[]): Promise<MainResult> {
  const { main } = await import("../../src/cli.ts");
  let stdout = "", stderr = "";
  const code = await main(args, { stdout: (t) => stdout += t, stderr: (t) => stderr += t });
  return { code, stdout, stderr };
}

/** The argv that runs src/cli.ts (from the repository root) on this runtime. */
export function cliCommand(): string[] {
  return scriptCommand("src/cli.ts");
}

/** Options for a CLI process: extra environment, or another command than src/cli.ts (a binary). */
export interface CliOptions {
  env?: Record<string, string>;
  command?: string[];
}

/** Starts the CLI (or `command`) with `args` in the repository root, without waiting. */
export function startCli(args: string[], options: CliOptions = {}): Child {
  return start([...(options.command ?? cliCommand()), ...args], {
    cwd: repoRoot,
    ...(options.env ? { env: options.env } : {}),
  });
}

/** Runs the CLI (or `command`) to completion, killing it after `timeoutMs` (30 s). */
export function runCli(
  args: string[],
  options: CliOptions & { timeoutMs?: number } = {},
): Promise<Finished> {
  return finished(startCli(args, options), options.timeoutMs ?? 30_000);
}

/** A running `mjpeg serve` and its base URL. */
export type ServeProcess = Child & { url: string };

/** Starts `mjpeg serve --port 0 ARGS` and waits until it listens. */
export async function startServe(args: string[], options: CliOptions = {}): Promise<ServeProcess> {
  const child = startCli(["serve", "--port", "0", ...args], options);
  try {
    const match = await waitForLog(child, /listening on (http:\/\/\S+?)\/ /);
    return Object.assign(child, { url: match[1]! });
  } catch (error) {
    await child[Symbol.asyncDispose]();
    throw error;
  }
}
