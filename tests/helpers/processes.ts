/**
 * Programs the tests run: to completion with a deadline (`run`), or started
 * and stopped by the test (`start`), which kills what is left when the block
 * ends: `await using server = start([...])`. Also what is left of a process
 * or a process group afterwards.
 */
import "./dispose.ts";
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { concat } from "./bytes.ts";
import { sleep } from "./wait.ts";

/** What a program that ran to completion left behind. */
export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: Uint8Array;
  stderr: string;
  /** True when the deadline killed it. */
  timedOut: boolean;
}

/**
 * Runs `command` with `args` without blocking the event loop (a server under
 * test may run in this process), feeding `input` to its stdin, and kills it
 * after `timeoutMs` (20 s), so no test hangs on a stuck program.
 */
export function run(
  command: string,
  args: string[],
  options: { input?: Uint8Array; timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: [options.input ? "pipe" : "ignore", "pipe", "pipe"],
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    const out: Uint8Array[] = [];
    let stderr = "";
    let timedOut = false;
    child.stdout!.on("data", (chunk: Uint8Array) => out.push(new Uint8Array(chunk)));
    child.stderr!.on("data", (chunk: Uint8Array) => stderr += new TextDecoder().decode(chunk));
    if (options.input) {
      child.stdin!.on("error", () => {}); // the program may stop reading early
      child.stdin!.end(options.input);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 20_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: concat(...out), stderr, timedOut });
    });
  });
}

/** A finished program's exit and text output. */
export interface Finished {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** A started program; disposing it kills whatever of it still runs, and waits for that. */
export interface Child extends ChildProcess, AsyncDisposable {
  /** Its stdout and stderr so far, as text. */
  readonly output: { stdout: string; stderr: string };
  /**
   * Sends `signal` (SIGINT), then waits for the exit (SIGKILL after
   * `timeoutMs`, 10 s). Signals by pid, not child.kill(): Deno's
   * child_process reports a child it signalled as killed by that signal even
   * when the child handled it and exited with status 0.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Finished>;
}

/**
 * Starts `argv` with stdout and stderr collected as text. `detached` puts it
 * in a process group of its own, which stop() and disposal then signal whole
 * (npm, its shell and the server, say).
 */
export function start(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string>; detached?: boolean } = {},
): Child {
  const [program, ...args] = argv;
  const child = spawn(program!, args, {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
  });
  const output = { stdout: "", stderr: "" };
  child.stdout!.setEncoding("utf8").on("data", (t: string) => output.stdout += t);
  child.stderr!.setEncoding("utf8").on("data", (t: string) => output.stderr += t);
  const signal = (name: NodeJS.Signals) => {
    // A group may outlive its leader, so it is signalled even then.
    if (child.pid === undefined || (!options.detached && hasExited(child))) return;
    try {
      process.kill(options.detached ? -child.pid : child.pid, name);
    } catch { /* gone meanwhile */ }
  };
  const self: Child = Object.assign(child, {
    output,
    stop(name: NodeJS.Signals = "SIGINT", timeoutMs = 10_000) {
      signal(name);
      return finished(self, timeoutMs, () => signal("SIGKILL"));
    },
    async [Symbol.asyncDispose]() {
      signal("SIGKILL");
      await finished(self, 5000);
    },
  });
  return self;
}

/** Waits for a started program to exit; after `timeoutMs` (30 s) it is killed. */
export function finished(
  child: Child,
  timeoutMs = 30_000,
  kill: () => void = () => child.kill("SIGKILL"),
): Promise<Finished> {
  return new Promise((resolve) => {
    const timer = setTimeout(kill, timeoutMs);
    const done = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      resolve({ code, signal, ...child.output });
    };
    if (hasExited(child)) done(child.exitCode, child.signalCode);
    else child.once("close", done);
  });
}

/** Waits until the program writes `pattern` to stderr; returns the match. */
export async function waitForLog(
  child: Child,
  pattern: RegExp,
  timeoutMs = 20_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = child.output.stderr.match(pattern);
    if (match) return match;
    if (hasExited(child)) break;
    await sleep(50);
  }
  throw new Error(`expected ${pattern} in the log, got:\n${child.output.stderr}`);
}

/** Resolves with the exit code once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (hasExited(child)) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** True while a process with this pid exists (a zombie not yet reaped counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The processes of a process group that are still running (zombies left for
 * the container's init to reap are not running and are not counted). Reads
 * /proc, so it needs no `ps`.
 */
export function runningInGroup(pgid: number): string[] {
  const running: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces, so split after its ")".
    const close = stat.lastIndexOf(")");
    const [state, , pgrp] = stat.slice(close + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") {
      running.push(`${entry} ${stat.slice(0, close + 1)}`);
    }
  }
  return running;
}
