/**
 * Running the `mjpeg` command as a real process on the runtime running the
 * tests (deno run -A, bun, node --import tsx), for the CLI tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeName } from "./tools.ts";

/** The repository root. */
export const repoRoot: string = fileURLToPath(new URL("../../", import.meta.url));

/** The argv that runs src/cli.ts on this runtime. */
export function cliCommand(): string[] {
  const cli = "src/cli.ts";
  if (runtimeName === "deno") return [process.execPath, "run", "-A", cli];
  if (runtimeName === "bun") return [process.execPath, cli];
  return [process.execPath, "--import", "tsx", cli];
}

/** A finished run. */
export interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI (or `command`) to completion, killing it after `timeoutMs`. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; command?: string[] } = {},
): Promise<CliResult> {
  const child = startCli(args, options);
  return finished(child, options.timeoutMs ?? 30_000);
}

/** Starts the CLI (or `command`) without waiting. */
export function startCli(
  args: string[],
  options: { env?: Record<string, string>; command?: string[] } = {},
): ChildProcess & { output: { stdout: string; stderr: string } } {
  const [program, ...pre] = options.command ?? cliCommand();
  const child = spawn(program!, [...pre, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  }) as ChildProcess & { output: { stdout: string; stderr: string } };
  child.output = { stdout: "", stderr: "" };
  child.stdout!.setEncoding("utf8").on("data", (t: string) => child.output.stdout += t);
  child.stderr!.setEncoding("utf8").on("data", (t: string) => child.output.stderr += t);
  return child;
}

/** Waits for a started CLI to exit (SIGKILL after `timeoutMs`). */
export function finished(
  child: ChildProcess & { output: { stdout: string; stderr: string } },
  timeoutMs = 30_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const done = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      resolve({ code, signal, ...child.output });
    };
    if (child.exitCode !== null || child.signalCode !== null) {
      done(child.exitCode, child.signalCode);
    } else child.once("close", done);
  });
}

/** Waits until the CLI logs `pattern` on stderr; returns the match. */
export async function waitForLog(
  child: ChildProcess & { output: { stdout: string; stderr: string } },
  pattern: RegExp,
  timeoutMs = 20_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = child.output.stderr.match(pattern);
    if (match) return match;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`expected ${pattern} in the log, got:\n${child.output.stderr}`);
}

/** Starts `mjpeg serve` with `args` and waits until it listens; returns its base URL. */
export async function startServe(
  args: string[],
  options: { env?: Record<string, string>; command?: string[] } = {},
): Promise<{ child: ReturnType<typeof startCli>; url: string }> {
  const child = startCli(["serve", "--port", "0", ...args], options);
  try {
    const match = await waitForLog(child, /listening on (https?:\/\/\S+?)\/ /);
    return { child, url: match[1]! };
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

/**
 * Sends `signal` to a started CLI. Uses process.kill rather than child.kill:
 * Deno's child_process reports a child it signalled as killed by that signal
 * even when the child handled it and exited with status 0.
 */
export function sendSignal(child: ChildProcess, signal: "SIGINT" | "SIGTERM"): void {
  if (child.pid !== undefined) process.kill(child.pid, signal);
}
