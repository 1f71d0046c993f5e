/**
 * The one interface every frame source implements (camera, command, file,
 * upstream URL, test pattern), and the helper that feeds a source into a
 * FrameHub.
 *
 * @module
 */
import { escapeControls } from "../errors.ts";
import type { Frame } from "../frame.ts";
import type { StreamControls } from "../internal/controls.ts";

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
 * Reads `source` and publishes each frame to `hub` until `signal` aborts or
 * the source ends.
 *
 * @param source The frame source.
 * @param hub The hub (or anything with `publish(data, headers)`).
 * @param signal Stops the source when aborted.
 * @returns How many frames were published; rejects when the source fails.
 *
 * @example
 * ```ts ignore
 * import { FrameHub, pipeToHub, testPattern } from "@mjpeg/stream";
 * const hub = new FrameHub();
 * pipeToHub(testPattern({ fps: 10 }), hub, AbortSignal.timeout(60_000));
 * ```
 */
export async function pipeToHub(
  source: FrameSource,
  hub: FramePublisher,
  signal: AbortSignal,
): Promise<number> {
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
