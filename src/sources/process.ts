/**
 * Frames from an external program's stdout, restarted with backoff when the
 * program dies. Shared by the camera and command sources.
 *
 * @module
 */
import process from "node:process";
import { z } from "zod";
import type { Frame } from "../frame.ts";
import { type RunningProcess, SpawnError, spawnProcess } from "../runtime/spawn.ts";
import { MjpegDecoderStream } from "../wire/decoder_stream.ts";
import { sleep } from "../internal/sleep.ts";
import { type LogLine, logToStderr } from "./source.ts";

/** One way to run the program; the first that exists on PATH is used. */
export interface ProgramCandidate {
  /** Program name or path. */
  command: string;
  /** Its arguments, passed verbatim (no shell). */
  args: string[];
}

/** When a source's program is restarted, and how it is stopped: the camera and command sources share it. */
export interface RestartPolicy {
  /** Restart the program when it exits. @default {true} */
  restart?: boolean;
  /** First restart delay in ms (doubles per failure). @default {500} */
  minRestartDelayMs?: number;
  /** Longest restart delay in ms, at least 1 and at least `minRestartDelayMs`. @default {10000} */
  maxRestartDelayMs?: number;
  /** A run this long (with frames) resets the restart delay to `minRestartDelayMs`. @default {10000} */
  healthyRunMs?: number;
  /**
   * No frame for this long (while the consumer waits for one) means the
   * program hangs: it is stopped and restarted; 0 turns the watchdog off.
   * Each source sets its own default (the camera 5000, a command 0).
   */
  stallTimeoutMs?: number;
  /** Grace between SIGINT and SIGKILL when stopping, in ms. @default {2000} */
  stopGraceMs?: number;
}

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * The zod fields of a {@linkcode RestartPolicy}, with the source's own
 * default for `stallTimeoutMs`; check the delays with {@linkcode checkRestartDelays}.
 */
export function restartPolicyFields(stallTimeoutMs: number) {
  return {
    restart: z.boolean().default(true),
    minRestartDelayMs: ms(0, 600_000).default(500),
    maxRestartDelayMs: ms(1, 600_000).default(10_000),
    healthyRunMs: ms(0, 86_400_000).default(10_000),
    stallTimeoutMs: ms(0, 600_000).default(stallTimeoutMs),
    stopGraceMs: ms(0, 600_000).default(2000),
  };
}

/** The refinement both sources apply: the longest delay is not shorter than the first. */
export const checkRestartDelays: [
  (o: { minRestartDelayMs: number; maxRestartDelayMs: number }) => boolean,
  { message: string; path: string[] },
] = [
  (o) => o.maxRestartDelayMs >= o.minRestartDelayMs,
  { message: "expected maxRestartDelayMs >= minRestartDelayMs", path: ["maxRestartDelayMs"] },
];

/** The policy's fields out of a source's parsed options, for {@linkcode processFrames}. */
export function pickRestartPolicy(o: Required<RestartPolicy>): Required<RestartPolicy> {
  return {
    restart: o.restart,
    minRestartDelayMs: o.minRestartDelayMs,
    maxRestartDelayMs: o.maxRestartDelayMs,
    healthyRunMs: o.healthyRunMs,
    stallTimeoutMs: o.stallTimeoutMs,
    stopGraceMs: o.stopGraceMs,
  };
}

/** How {@linkcode processFrames} runs and restarts a program. */
export interface ProcessRunOptions extends Required<RestartPolicy> {
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
}

/** The program could not be found or failed in a way restarting will not fix. */
export class SourceError extends Error {
  /**
   * Makes the error.
   *
   * @param message What was tried and what happened.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SourceError";
  }
}

/**
 * Runs the first candidate that exists, decodes its stdout into frames, and
 * restarts it with exponential backoff whenever it exits, until `signal`
 * aborts. A program that stays alive but stops writing frames (a camera
 * whose driver hangs) is stopped after `stallTimeoutMs` and restarted the
 * same way. Frame sequence numbers continue across restarts.
 *
 * @param candidates Programs to try in order (e.g. rpicam-vid, then libcamera-vid).
 * @param options How to run, decode and restart.
 * @param signal Stops the program (SIGINT, then SIGKILL) when aborted.
 * @returns The frames of every run, in order.
 * @throws {SourceError} When no candidate can be started, or the program
 * exits with an error and `restart` is off.
 */
export async function* processFrames(
  candidates: readonly ProgramCandidate[],
  options: ProcessRunOptions,
  signal: AbortSignal,
): AsyncGenerator<Frame> {
  const log = options.log ?? logToStderr;
  let delay = options.minRestartDelayMs;
  let sequence = 0;
  let runs = 0;
  while (!signal.aborted) {
    const { child, candidate } = await startFirst(candidates, options);
    runs++;
    log(`${options.name}: started ${commandLine(candidate)} (pid ${child.pid})`);
    const startedAt = Date.now();
    let framesThisRun = 0;
    const stop = () => void child.stop(options.stopGraceMs);
    signal.addEventListener("abort", stop, { once: true });
    if (signal.aborted) stop(); // aborted while the program was starting
    // The watchdog runs only while we wait on the program, not while the
    // consumer holds a frame, so a slow consumer is never taken for a hang.
    let stalled = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      if (options.stallTimeoutMs <= 0) return;
      watchdog = setTimeout(() => {
        stalled = true;
        log(
          `${options.name}: no frame for ${options.stallTimeoutMs} ms from pid ${child.pid}; ` +
            "stopping it to restart",
        );
        stop();
      }, options.stallTimeoutMs);
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
        framesThisRun++;
        yield { ...frame, sequence: sequence++ };
        arm();
      }
    } catch (error) {
      decodeError = error;
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener("abort", stop);
      // Also reached when the consumer leaves its loop early: never leave the program running.
      await child.stop(options.stopGraceMs);
    }
    if (signal.aborted) return;
    const exit = await child.exited;
    const how = exit.signal ? `signal ${exit.signal}` : `status ${exit.code}`;
    const stderr = child.stderrTail().slice(-5);
    const what = stalled
      ? `stalled (no frame for ${options.stallTimeoutMs} ms), stopped (${how})`
      : `exited (${how})`;
    const lastLines = stderr.map((l) => JSON.stringify(l)).join(" | ");
    const why = `${candidate.command} ${what} after ${framesThisRun} frames` +
      (decodeError ? `; stdout was not MJPEG: ${(decodeError as Error).message}` : "") +
      (stderr.length ? `; last stderr lines: ${lastLines}` : "");
    if (!options.restart) {
      if (exit.code === 0 && !decodeError) return;
      throw new SourceError(`${options.name}: ${why}`, { cause: decodeError });
    }
    if (Date.now() - startedAt >= options.healthyRunMs && framesThisRun > 0) {
      delay = options.minRestartDelayMs;
    }
    log(`${options.name}: source restarted: ${why}; restart #${runs} in ${delay} ms`);
    await sleep(delay, signal);
    // From a first delay of 0 the delay still grows (1, 2, 4 … ms): a
    // program that dies at once must never restart in a busy loop.
    delay = Math.min(Math.max(delay * 2, 1), options.maxRestartDelayMs);
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
  throw new SourceError(
    `${options.name}: no program to run: tried ${tried.map((c) => `"${c}"`).join(" and ")}, ` +
      `none found on PATH (PATH=${process.env.PATH ?? ""})`,
  );
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
