/**
 * Running external programs (rpicam-vid, ffmpeg, …): the only place in the
 * module that spawns processes. `node:child_process` works the same on Deno,
 * Bun and Node, so one implementation serves all three.
 *
 * Programs are started from an argv array and never through a shell, so no
 * value can be interpreted as shell syntax.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import process from "node:process";

/** How a process ended. */
export interface ProcessExit {
  /** The exit status, or null when a signal ended the process. */
  code: number | null;
  /** The signal that ended the process, or null. */
  signal: string | null;
}

/** Options for {@linkcode spawnProcess}. */
export interface SpawnOptions {
  /** Extra environment variables; the rest is inherited. */
  env?: Record<string, string>;
  /** How many of stderr's last lines to keep for error messages. @default {20} */
  stderrLines?: number;
}

/** A running program whose stdout is read as a web stream. */
export interface RunningProcess {
  /** The operating system's process id. */
  readonly pid: number;
  /** The program's stdout. Reading slowly pauses the program (backpressure). */
  readonly stdout: ReadableStream<Uint8Array>;
  /** Settles when the process has exited and its pipes are closed. */
  readonly exited: Promise<ProcessExit>;
  /** The last lines the program wrote to stderr, oldest first. */
  stderrTail(): string[];
  /**
   * Stops the program: SIGINT first (rpicam-vid and ffmpeg finish cleanly on
   * it), SIGKILL if it has not exited after `graceMs`. Resolves once it has
   * exited, so it leaves no zombie.
   */
  stop(graceMs?: number): Promise<ProcessExit>;
}

/** The program could not be started (not found, not executable). */
export class SpawnError extends Error {
  /** The system error code, e.g. `ENOENT`. */
  readonly code: string | undefined;
  /**
   * @param message What was run and what went wrong.
   * @param code The system error code.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, code: string | undefined, options?: ErrorOptions) {
    super(message, options);
    this.name = "SpawnError";
    this.code = code;
  }
}

// Children still running when this process exits are killed, so an abrupt
// exit (an uncaught error, process.exit) does not leave cameras running.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  live.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of live) signalGroup(c, "SIGKILL");
  });
}

/**
 * Starts `command` with `args` (no shell) and resolves once it is running.
 *
 * @param command The program name (looked up on PATH) or path.
 * @param args Its arguments, passed verbatim.
 * @param options Environment and stderr buffering.
 * @returns The running process.
 * @throws {SpawnError} When the program cannot be started (e.g. not on PATH).
 *
 * @example
 * ```ts ignore
 * const p = await spawnProcess("ffmpeg", ["-version"]);
 * for await (const chunk of p.stdout) console.log(chunk.length);
 * console.log(await p.exited);
 * ```
 */
export function spawnProcess(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<RunningProcess> {
  const keep = options.stderrLines ?? 20;
  const env = options.env ? { ...process.env, ...options.env } : process.env;
  // detached: the child leads its own process group, so stop() reaches the
  // programs a wrapper script started too (a shell running ffmpeg), and a
  // Ctrl-C in the terminal reaches only us; we then stop children in order.
  const child = spawn(command, [...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
    detached: true,
  });
  const tail: string[] = [];
  let partial = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => {
    const lines = (partial + text).split(/\r?\n|\r/);
    partial = lines.pop() ?? "";
    for (const line of lines) if (line.trim() !== "") tail.push(line);
    if (tail.length > keep) tail.splice(0, tail.length - keep);
  });
  const exited = new Promise<ProcessExit>((resolve) => {
    child.on("close", (code: number | null, signal: string | null) => {
      live.delete(child);
      if (partial.trim() !== "") tail.push(partial), partial = "";
      if (tail.length > keep) tail.splice(0, tail.length - keep);
      resolve({ code, signal });
    });
  });
  const stdout = nodeReadableToWeb(child);
  const running: RunningProcess = {
    get pid() {
      return child.pid ?? -1;
    },
    stdout,
    exited,
    stderrTail: () => [...tail],
    stop: (graceMs = 2000) => stopChild(child, exited, graceMs),
  };
  return new Promise<RunningProcess>((resolve, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      live.delete(child);
      reject(
        new SpawnError(`cannot run "${command}": ${error.message}`, error.code, { cause: error }),
      );
    });
    child.once("spawn", () => {
      trackChild(child);
      resolve(running);
    });
  });
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<ProcessExit>,
  graceMs: number,
): Promise<ProcessExit> {
  if (child.exitCode === null && child.signalCode === null) {
    signalGroup(child, "SIGINT");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) =>
      timer = setTimeout(() => resolve("late"), graceMs)
    );
    const first = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (first === "late") signalGroup(child, "SIGKILL");
  }
  return await exited;
}

// Signals the child's whole process group; falls back to the child alone
// when the group is gone or cannot be signalled.
function signalGroup(child: ChildProcess, signal: "SIGINT" | "SIGKILL"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  }
}

// A pull-based web stream over the child's stdout: the pipe is paused while
// the reader is behind, so a slow consumer never buffers without bound.
function nodeReadableToWeb(child: ChildProcess): ReadableStream<Uint8Array> {
  const out = child.stdout!;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      out.on("data", (chunk: Uint8Array) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) out.pause();
      });
      out.once("end", () => {
        try {
          controller.close();
        } catch { /* already cancelled */ }
      });
      out.once("error", (error) => {
        try {
          controller.error(error);
        } catch { /* already cancelled */ }
      });
    },
    pull() {
      out.resume();
    },
    cancel() {
      out.destroy();
    },
  }, { highWaterMark: 8 });
}

/**
 * Finds `name` the way a shell would: an absolute or relative path is taken as
 * it is, a bare name is looked up in each PATH directory.
 *
 * @param name A program name or path.
 * @returns The path of an executable file, or undefined when there is none.
 */
export function findProgram(name: string): string | undefined {
  const candidates = name.includes("/") || isAbsolute(name)
    ? [name]
    : (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "").map((d) => join(d, name));
  for (const path of candidates) {
    try {
      if (!statSync(path).isFile()) continue;
      accessSync(path, constants.X_OK);
      return path;
    } catch { /* not here */ }
  }
  return undefined;
}
