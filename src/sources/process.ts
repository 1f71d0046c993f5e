/**
 * Frames from an external program's stdout, restarted with backoff when the
 * program dies. Shared by the camera and command sources.
 *
 * @module
 */
import process from "node:process";
import { duration } from "../internal/duration.ts";
import type { Frame } from "../frame.ts";
import {
  Backoff,
  type BackoffOptions,
  type BackoffPolicy,
  backoffSchema,
} from "../internal/backoff.ts";
import { booleanOr } from "../internal/validate.ts";
import { findProgram, type RunningProcess, SpawnError, spawnProcess } from "../runtime/spawn.ts";
import { MjpegDecoderStream } from "../wire/decoder_stream.ts";
import { sleep } from "../internal/sleep.ts";
import type { RestartRequests } from "./restart_requests.ts";
import { type LogLine, logToStderr, type StatusListener, statusReporter } from "./source.ts";

/** One way to run the program; the first that exists on PATH is used. */
export interface ProgramCandidate {
  /** Program name or path. */
  command: string;
  /** Its arguments, passed verbatim (no shell). */
  args: string[];
}

/**
 * When a source's program is restarted, and how it is stopped: the camera,
 * webcam and command sources share it. Durations are in milliseconds.
 */
export interface RestartPolicy {
  /**
   * Restart the program when it exits, waiting between restarts as this
   * backoff says (`true`: the defaults); `false` ends the source when the
   * program exits.
   *
   * @default {{ initialDelay: 500, maxDelay: 10000, multiplier: 2, jitter: 0 }}
   */
  restart?: boolean | BackoffOptions;
  /**
   * A run this long, with frames, starts the backoff over at `initialDelay`;
   * at most a day.
   *
   * @default {10000}
   */
  healthyRun?: number;
  /**
   * No frame for this long (while the consumer waits for one) means the
   * program hangs: it is stopped and restarted; 0 turns the watchdog off;
   * at most 10 min. Each source sets its own default (the camera and webcam
   * 5000, a command 0).
   */
  stallTimeout?: number;
  /**
   * Grace between SIGINT and SIGKILL when stopping, at most 10 min.
   *
   * @default {2000}
   */
  stopGrace?: number;
}

/** The restart policy with every default filled in. */
export interface ResolvedRestartPolicy {
  /** The backoff between restarts, or false for no restarts. */
  restart: BackoffPolicy | false;
  /** Milliseconds of a run with frames that start the backoff over. */
  healthyRun: number;
  /** Milliseconds without a frame before the program counts as hung (0: never). */
  stallTimeout: number;
  /** Milliseconds between SIGINT and SIGKILL. */
  stopGrace: number;
}

/** The sources' restart backoff: no jitter, so a restart's timing can be read in the log. */
const RESTART_DEFAULTS: BackoffPolicy = {
  initialDelay: 500,
  maxDelay: 10_000,
  multiplier: 2,
  jitter: 0,
  limit: Infinity,
};
// Restart delays up to 10 minutes: a camera is worth retrying at least that often.
const restartBackoff = backoffSchema(RESTART_DEFAULTS, 600_000);

/**
 * The zod fields of a {@linkcode RestartPolicy}, with the source's own
 * default for `stallTimeout`.
 *
 * @param stallTimeout The source's default stall timeout in milliseconds.
 * @returns Fields to spread into the source's options schema.
 */
export function restartPolicyFields(stallTimeout: number) {
  return {
    restart: booleanOr(restartBackoff, "expected true, false or a backoff")
      .prefault(true)
      .transform((r) => r === true ? RESTART_DEFAULTS : r),
    healthyRun: duration("healthyRun", { unit: "ms", max: 86_400_000 }).default(10_000),
    stallTimeout: duration("stallTimeout", { unit: "ms", max: 600_000, zero: "0 turns it off" })
      .default(stallTimeout),
    stopGrace: duration("stopGrace", { unit: "ms", max: 600_000 }).default(2000),
  };
}

/**
 * The policy's fields out of a source's parsed options, for {@linkcode processFrames}.
 *
 * @param o The parsed options.
 * @returns Just the policy.
 */
export function pickRestartPolicy(o: ResolvedRestartPolicy): ResolvedRestartPolicy {
  return {
    restart: o.restart,
    healthyRun: o.healthyRun,
    stallTimeout: o.stallTimeout,
    stopGrace: o.stopGrace,
  };
}

/** How {@linkcode processFrames} runs and restarts a program. */
export interface ProcessRunOptions extends ResolvedRestartPolicy {
  /** Used in log lines, e.g. `camera`. */
  name: string;
  /** `image/jpeg` for raw JPEGs; undefined to detect raw or multipart from the bytes. */
  contentType: string | undefined;
  /** Largest frame accepted, in bytes. */
  maxFrameSize: number | undefined;
  /** Extra environment variables for the program. */
  env: Record<string, string> | undefined;
  /** Where log lines go. */
  log: LogLine;
  /**
   * Recognises a failure the user must fix (no camera attached) from a run
   * that ended without a frame: its stderr's last lines and the program. A
   * failure it names is logged once, in its words, and the retries that fail
   * the same way are quiet until something changes.
   */
  diagnose?: (stderrTail: readonly string[], program: string) => string | undefined;
  /**
   * Restarts asked for by the owner of the arguments (a camera's settings
   * changed): the running program is stopped and the next run starts at
   * once, with the candidates read afresh, without counting as a failure.
   */
  restarts?: RestartRequests;
  /** Hears the source's state and last error when they change (for `/stats`). */
  onStatus?: StatusListener | undefined;
}

/** The program could not be found or failed in a way restarting will not fix. */
export class SourceError extends Error {
  /**
   * The source's option that is wrong, when one is (`device`, `path`,
   * `command`, `programs`), so a command line can name its flag.
   */
  readonly setting: string | undefined;
  /**
   * Makes the error.
   *
   * @param message What was tried and what happened.
   * @param options Standard error options (`cause`), and the option at fault.
   */
  constructor(message: string, options?: ErrorOptions & { setting?: string }) {
    super(message, options);
    this.name = "SourceError";
    this.setting = options?.setting;
  }
}

/**
 * Finds the first of `candidates` on PATH, for a source's `check()`.
 *
 * @param candidates The programs to look for, in order.
 * @param setting The option that names the programs.
 * @throws {SourceError} When none is there, naming each and PATH.
 */
export function requireProgram(candidates: readonly ProgramCandidate[], setting: string): void {
  if (candidates.some((c) => findProgram(c.command) !== undefined)) return;
  throw new SourceError(noProgramMessage(candidates.map((c) => c.command)), { setting });
}

function noProgramMessage(tried: string[]): string {
  return `no program to run: tried ${tried.map((c) => `"${c}"`).join(" and ")}, ` +
    `none found on PATH (PATH=${process.env.PATH ?? ""})`;
}

/**
 * Runs the first candidate that exists, decodes its stdout into frames, and
 * restarts it with exponential backoff whenever it exits, until `signal`
 * aborts. A program that stays alive but stops writing frames (a camera
 * whose driver hangs) is stopped after `stallTimeout` and restarted the
 * same way. Frame sequence numbers continue across restarts, including the
 * ones `options.restarts` asks for.
 *
 * @param candidates Programs to try in order (e.g. rpicam-vid, then
 * libcamera-vid), or a function giving them, called before each run.
 * @param options How to run, decode and restart.
 * @param signal Stops the program (SIGINT, then SIGKILL) when aborted.
 * @returns The frames of every run, in order.
 * @throws {SourceError} When no candidate can be started, or the program
 * exits with an error and `restart` is off.
 */
export async function* processFrames(
  candidates: readonly ProgramCandidate[] | (() => readonly ProgramCandidate[]),
  options: ProcessRunOptions,
  signal: AbortSignal,
): AsyncGenerator<Frame> {
  const log = options.log ?? logToStderr;
  const backoff = options.restart === false ? undefined : new Backoff(options.restart);
  const maxDelay = options.restart === false ? 0 : options.restart.maxDelay;
  let sequence = 0;
  let runs = 0;
  // The diagnosed failure the retries keep hitting, and how many runs it ended.
  let known: string | undefined;
  let knownRuns = 0;
  // A restart asked for: `interrupt` stops the current run (or cuts the wait
  // before the next short); asked for while none is set (a program starting,
  // or ending), the request is answered when the loop next starts a run.
  let requested = false;
  let interrupt: (() => Promise<void>) | undefined;
  const answers: (() => void)[] = [];
  const answer = () => {
    for (const resolve of answers.splice(0)) resolve();
  };
  const onRequest = (fn: (() => Promise<void>) | undefined) => {
    interrupt = fn;
    if (fn && requested && answers.length > 0) void fn().then(answer);
  };
  const detach = options.restarts?.listen(() => {
    requested = true;
    return interrupt?.() ?? new Promise<void>((resolve) => answers.push(resolve));
  });
  // Once a run failed the source is "retrying" until frames come again; a
  // restart asked for (new settings) is no failure and reports nothing.
  const report = statusReporter(options.onStatus);
  report("starting");
  try {
    while (!signal.aborted) {
      requested = false;
      answer(); // the program that ran with the old arguments has exited
      const list = typeof candidates === "function" ? candidates() : candidates;
      const { child, candidate } = await startFirst(list, options);
      runs++;
      if (!known) log(`${options.name}: started ${commandLine(candidate)} (pid ${child.pid})`);
      const startedAt = Date.now();
      let framesThisRun = 0;
      const stop = () => void child.stop(options.stopGrace);
      signal.addEventListener("abort", stop, { once: true });
      if (signal.aborted) stop(); // aborted while the program was starting
      // Asked for while it started, it is stopped at once.
      onRequest(() => child.stop(options.stopGrace).then(() => {}));
      // The watchdog runs only while we wait on the program, not while the
      // consumer holds a frame, so a slow consumer is never taken for a hang.
      let stalled = false;
      let watchdog: ReturnType<typeof setTimeout> | undefined;
      const arm = () => {
        if (options.stallTimeout <= 0) return;
        watchdog = setTimeout(() => {
          stalled = true;
          log(
            `${options.name}: no frame for ${options.stallTimeout} ms from pid ${child.pid}; ` +
              "stopping it to restart",
          );
          stop();
        }, options.stallTimeout);
      };
      let decodeError: unknown;
      try {
        const decoder = new MjpegDecoderStream({
          ...(options.contentType ? { contentType: options.contentType } : {}),
          ...(options.maxFrameSize ? { maxFrameSize: options.maxFrameSize } : {}),
        });
        arm();
        for await (const frame of child.stdout.pipeThrough(decoder)) {
          clearTimeout(watchdog);
          if (known) {
            log(
              `${options.name}: frames again after ${knownRuns} runs that failed with "${known}": ` +
                `${commandLine(candidate)} (pid ${child.pid})`,
            );
            known = undefined;
          }
          framesThisRun++;
          if (framesThisRun === 1) report("running");
          yield { ...frame, sequence: sequence++ };
          arm();
        }
      } catch (error) {
        decodeError = error;
      } finally {
        clearTimeout(watchdog);
        signal.removeEventListener("abort", stop);
        onRequest(undefined);
        // Also reached when the consumer leaves its loop early: never leave the program running.
        await child.stop(options.stopGrace);
      }
      if (signal.aborted) {
        report("stopped");
        return;
      }
      const exit = await child.exited;
      // Stopped for new arguments: start again at once, which is no failure.
      if (requested) continue;
      const how = exit.signal ? `signal ${exit.signal}` : `status ${exit.code}`;
      const stderr = child.stderrTail().slice(-5);
      const what = stalled
        ? `stalled (no frame for ${options.stallTimeout} ms), stopped (${how})`
        : `exited (${how})`;
      const lastLines = stderr.map((l) => JSON.stringify(l)).join(" | ");
      const why = `${candidate.command} ${what} after ${framesThisRun} frames` +
        (decodeError ? `; stdout was not MJPEG: ${(decodeError as Error).message}` : "") +
        (stderr.length ? `; last stderr lines: ${lastLines}` : "");
      const diagnosis = framesThisRun === 0 && !stalled && !decodeError
        ? options.diagnose?.(stderr, candidate.command)
        : undefined;
      if (!backoff) {
        if (exit.code === 0 && !decodeError) return;
        const message = diagnosis ? `${diagnosis} (${why})` : why;
        throw new SourceError(`${options.name}: ${message}`, { cause: decodeError });
      }
      report("retrying", diagnosis ?? why);
      if (Date.now() - startedAt >= options.healthyRun && framesThisRun > 0) backoff.reset();
      const delay = backoff.next();
      if (delay === undefined) {
        throw new SourceError(
          `${options.name}: gave up after ${backoff.failures} restarts in a row: ${why}`,
          { cause: decodeError },
        );
      }
      if (diagnosis === undefined) {
        known = undefined;
        log(`${options.name}: source restarted: ${why}; restart #${runs} in ${delay} ms`);
      } else if (diagnosis !== known) {
        known = diagnosis;
        knownRuns = 1;
        log(
          `${options.name}: ${diagnosis}; retrying in ${delay} ms, then up to every ` +
            `${maxDelay} ms (logged again when that changes)`,
        );
      } else {
        knownRuns++;
      }
      const wake = new AbortController();
      const stopWaiting = () => wake.abort();
      signal.addEventListener("abort", stopWaiting, { once: true });
      onRequest(() => Promise.resolve(stopWaiting()));
      await sleep(delay, wake.signal);
      onRequest(undefined);
      signal.removeEventListener("abort", stopWaiting);
    }
  } finally {
    detach?.();
    answer();
  }
}

async function startFirst(
  candidates: readonly ProgramCandidate[],
  options: ProcessRunOptions,
): Promise<{ child: RunningProcess; candidate: ProgramCandidate }> {
  const tried: string[] = [];
  for (const candidate of candidates) {
    try {
      const child = await spawnProcess(
        candidate.command,
        candidate.args,
        options.env ? { env: options.env } : {},
      );
      return { child, candidate };
    } catch (error) {
      if (error instanceof SpawnError && (error.code === "ENOENT" || error.code === "EACCES")) {
        tried.push(candidate.command);
        continue;
      }
      throw error;
    }
  }
  throw new SourceError(`${options.name}: ${noProgramMessage(tried)}`);
}

/**
 * Shows a command line for logs, quoting arguments that need it.
 *
 * @param candidate The program and its arguments.
 * @returns One printable line.
 */
export function commandLine(candidate: ProgramCandidate): string {
  return [candidate.command, ...candidate.args]
    .map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))
    .join(" ");
}
