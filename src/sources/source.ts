/**
 * The one interface every frame source implements (camera, command, file,
 * upstream URL, test pattern), and the helper that feeds a source into a
 * FrameHub.
 *
 * @module
 */
import { z } from "zod";
import { escapeControls } from "../errors.ts";
import type { Frame } from "../frame.ts";
import type { StreamControls } from "../internal/controls.ts";
import { duration } from "../internal/duration.ts";
import { parseOptions } from "../internal/validate.ts";
import { type DemandHub, onDemandSource } from "./on_demand.ts";

/**
 * Something that produces JPEG frames until it is stopped.
 *
 * `frames(signal)` may be called again after an earlier iteration ended (the
 * CLI restarts a source that failed); each call starts the source afresh.
 * Aborting `signal`, or leaving the `for await` loop, stops it and releases
 * everything it holds (processes, timers, connections).
 *
 * @example
 * ```ts ignore
 * import { testPattern } from "@mjpeg/stream";
 * const controller = new AbortController();
 * for await (const frame of testPattern().frames(controller.signal)) {
 *   console.log(frame.sequence, frame.data.length);
 *   if (frame.sequence === 10) controller.abort();
 * }
 * ```
 */
export interface FrameSource {
  /** A short human description for logs, e.g. `camera rpicam-vid 640x480@15fps`. */
  readonly description: string;
  /**
   * Starts the source and yields its frames.
   *
   * @param signal Stops the source when aborted.
   * @returns The frames, in order; ends when the source ends or is stopped.
   */
  frames(signal: AbortSignal): AsyncIterable<Frame>;
  /**
   * Looks, before anything starts, for a mistake that retrying cannot mend
   * (a program that is not installed, a device or folder that does not
   * exist), so a program can refuse to start with the reason.
   *
   * @throws {SourceError} Naming the mistake and the option (`setting`).
   */
  check?(): Promise<void>;
  /**
   * Settings that can change while the source runs, if it has any (the
   * camera's); `mjpegApp` serves them at `/control`.
   */
  readonly controls?: StreamControls;
}

/** Where {@linkcode pipeToHub} delivers frames: a FrameHub, or anything with `publish`. */
export interface FramePublisher {
  /**
   * Publishes one JPEG to every viewer.
   *
   * @param data The JPEG bytes.
   * @param headers Extra part headers the frame carries.
   */
  publish(data: Uint8Array, headers?: Headers): unknown;
}

/** A function that writes one log line. */
export type LogLine = (line: string) => void;

/**
 * What a source says about itself through its `onStatus` option; give it to
 * `hub.reportSourceStatus` and `/stats` shows it (as `source`, and in
 * `status`), and the `mjpeg serve` log says each change in one line.
 */
export type SourceReport = {
  /**
   * `starting` (no frame yet), `running` (frames come), `retrying` (it failed
   * and is tried again; stays so until a frame comes), `failed` (it gave up:
   * not tried again until the program restarts), `stopped` (on purpose).
   */
  state: "starting" | "running" | "retrying" | "failed" | "stopped";
  /** Why it last failed, saying what was expected and what came; null once frames come. */
  lastError: string | null;
  /** When `state` or `lastError` last changed, in ms since the epoch. */
  since: number;
};

/** The type of the sources' `onStatus` option. */
export type StatusListener = (status: SourceReport) => void;

/**
 * Wraps a source's `onStatus` so it hears of changes only, stamped with their time.
 *
 * @param onStatus The listener, if any.
 * @returns A function to call with the state (and error) as often as convenient.
 */
export function statusReporter(
  onStatus: StatusListener | undefined,
): (state: SourceReport["state"], lastError?: string | null) => void {
  let last: SourceReport | undefined;
  return (state, lastError = null) => {
    if (!onStatus || (last?.state === state && last.lastError === lastError)) return;
    last = { state, lastError, since: Date.now() };
    onStatus({ ...last });
  };
}

/** Options of {@linkcode pipeToHub}. */
export interface PipeToHubOptions {
  /**
   * Run the source only while someone watches: it starts when the hub is
   * first wanted (a viewer, or a snapshot waiting for a frame) and stops
   * this many milliseconds after the last viewer leaves (0 to 86400000).
   * The hub must be a `FrameHub` (or have `wanted` and `watchDemand`).
   * Off by default: the source runs all the time.
   */
  onDemand?: number;
}

const pipeOptionsSchema = z.strictObject({
  onDemand: duration("onDemand", { unit: "ms", max: 86_400_000 }).optional(),
});

/**
 * Reads `source` and publishes each frame to `hub` until `signal` aborts or
 * the source ends.
 *
 * @param source The frame source.
 * @param hub The hub (or anything with `publish(data, headers)`).
 * @param signal Stops the source when aborted.
 * @param options `onDemand`: run the source only while someone watches.
 * @returns How many frames were published; rejects when the source fails.
 *
 * @example
 * ```ts ignore
 * import { cameraSource, FrameHub, pipeToHub } from "@mjpeg/stream";
 * const hub = new FrameHub();
 * // The camera runs while someone watches, and 10 s after the last one left.
 * pipeToHub(cameraSource(), hub, new AbortController().signal, { onDemand: 10_000 });
 * ```
 */
export async function pipeToHub(
  source: FrameSource,
  hub: FramePublisher,
  signal: AbortSignal,
  options: PipeToHubOptions = {},
): Promise<number> {
  const parsed = parseOptions(pipeOptionsSchema, options, "pipeToHub options");
  if (parsed.onDemand !== undefined) {
    if (!isDemandHub(hub)) {
      throw new TypeError(
        "pipeToHub: expected a FrameHub (with wanted and watchDemand) for onDemand, got " +
          (hub?.constructor?.name ?? typeof hub),
      );
    }
    source = onDemandSource(source, hub, parsed.onDemand);
  }
  let published = 0;
  for await (const frame of source.frames(signal)) {
    if (signal.aborted) break;
    hub.publish(frame.data, frame.headers);
    published++;
  }
  return published;
}

/** The default logger of sources: one line on stderr, prefixed with the time, control characters escaped. */
export const logToStderr: LogLine = (line) => {
  console.error(`${new Date().toISOString()} ${escapeControls(line)}`);
};

function isDemandHub(hub: FramePublisher): hub is FramePublisher & DemandHub {
  const h = hub as Partial<DemandHub>;
  return typeof h.watchDemand === "function" && typeof h.wanted === "boolean";
}
