/**
 * Running the `mjpeg` command for the CLI tests: in this process (`mjpeg`),
 * or as a real process on the runtime running the tests (deno run -A, bun,
 * node --import tsx), to completion (`runCli`) or started and stopped by the
 * test (`startCli`, `startServe`), killed at the end of the test's block if
 * still running.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { type Child, type Finished, finished, start, waitForLog } from "./processes.ts";
import { repoRoot, runtimeName, scriptCommand } from "./runtime.ts";

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

/**
 * The argv that runs src/cli.ts (from the repository root) on this runtime.
 * On Node, when scripts/test.sh has compiled the sources to JavaScript (as
 * the npm package ships them) and named the result in `MJPEG_TEST_CLI_JS`,
 * that runs instead: started through tsx, each CLI process spent ~1.2 s
 * compiling before it did anything, about a minute per run of the suite.
 */
export function cliCommand(): string[] {
  const compiled = process.env.MJPEG_TEST_CLI_JS;
  if (runtimeName === "node" && compiled) return [process.execPath, resolve(repoRoot, compiled)];
  return scriptCommand("src/cli.ts");
}

/**
 * Runs `mjpeg PREFIX ARGS` in this process for each case and asserts it is
 * refused as a usage error: exit status 2 and `message` on stderr.
 */
export async function assertUsageErrors(
  prefix: string[],
  cases: [args: string[], message: RegExp][],
): Promise<void> {
  for (const [args, message] of cases) {
    const command = `mjpeg ${[...prefix, ...args].join(" ")}`;
    const r = await mjpeg(...prefix, ...args);
    assert.equal(r.code, 2, `${command}: ${r.stderr}`);
    assert.match(r.stderr, message, command);
  }
}

/** Writes `config` as JSON to `dir/name` (streams.json), for `--config`; returns its path. */
export function writeConfig(dir: string, config: object, name = "streams.json"): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
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

/** `mjpeg serve` flags for a small test pattern: cheap to encode, so the test gets the machine. */
export const SMALL_PATTERN: string[] = [
  "--pattern",
  "--width",
  "160",
  "--height",
  "120",
  "--fps",
  "10",
];

/** A running `mjpeg serve` and its base URL. */
export type ServeProcess = Child & { url: string };

/** Starts `mjpeg serve --port 0 ARGS` and waits until it listens. */
export async function startServe(args: string[], options: CliOptions = {}): Promise<ServeProcess> {
  const child = startCli(["serve", "--port", "0", ...args], options);
  try {
    const match = await waitForLog(child, /listening on (https?:\/\/\S+?)\/ /);
    return Object.assign(child, { url: match[1]! });
  } catch (error) {
    await child[Symbol.asyncDispose]();
    throw error;
  }
}

/** Stops a started CLI with `signal` (SIGINT) and asserts it exits with status 0; returns its output. */
export async function stopCleanly(
  child: Child,
  signal: NodeJS.Signals = "SIGINT",
  timeoutMs = 10_000,
): Promise<Finished> {
  const result = await child.stop(signal, timeoutMs);
  assert.equal(result.code, 0, result.stderr);
  return result;
}
