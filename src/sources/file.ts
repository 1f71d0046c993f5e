/**
 * Frames from the file system: a JPEG file another program keeps overwriting
 * (a ram-disk `image.jpg`, as in the web2py recipe), or a folder of JPEGs
 * played in a loop (like mjpg-streamer's `input_file`).
 *
 * A file being rewritten is read while it changes, so a read can catch it
 * half-written. A read is only published when the file is a complete JPEG
 * (markers walked from SOI to EOI), its size and modification time were the
 * same before and after the read, and the same as at the previous poll
 * (nobody is writing right now). Only the configured path is ever read; in
 * folder mode, only the regular `.jpg`/`.jpeg` files directly inside it.
 *
 * @module
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { duration } from "../internal/duration.ts";
import type { Frame } from "../frame.ts";
import { parseOptions } from "../internal/validate.ts";
import { equalBytes } from "../wire/bytes.ts";
import { jpegLength } from "../wire/jpeg.ts";
import { SourceError } from "./process.ts";
import { sleep } from "../internal/sleep.ts";
import {
  type FrameSource,
  type LogLine,
  logToStderr,
  type StatusListener,
  statusReporter,
} from "./source.ts";

/** Options of {@linkcode fileSource}. */
export interface FileSourceOptions {
  /** How often a watched file is checked for changes, in milliseconds (1 to 60000). @default {20} */
  pollInterval?: number;
  /** Folder mode: frames per second. @default {10} */
  fps?: number;
  /** Folder mode: start again after the last file. @default {true} */
  loop?: boolean;
  /** Largest file accepted, in bytes. @default {16777216} */
  maxFileSize?: number;
  /** Where log lines go (a missing file, skipped files in folder mode). @default {logToStderr} */
  log?: LogLine;
  /** Hears the source's state and last error when they change, e.g. `hub.reportSourceStatus`. */
  onStatus?: StatusListener;
}

const fileOptionsSchema = z.object({
  pollInterval: duration("pollInterval", { unit: "ms", min: 1, max: 60_000 }).default(20),
  fps: z.number().min(0.01).max(120).default(10),
  loop: z.boolean().default(true),
  maxFileSize: z.number().int().min(4).default(16 * 1024 * 1024),
  log: z.custom<LogLine>((v) => typeof v === "function", "expected a function").optional(),
  onStatus: z.custom<StatusListener>((v) => typeof v === "function", "expected a function")
    .optional(),
}).strict();
type ParsedOptions = z.output<typeof fileOptionsSchema>;

/**
 * Frames from a JPEG file that is rewritten in place (published whenever it
 * changes, never half-written), or from a folder of JPEGs (played in name
 * order at `fps`, looping).
 *
 * @param path A `.jpg` file, or a folder of them. Whether it is a folder is
 * decided when iteration starts.
 * @param options Poll interval, folder frame rate, looping, size limit.
 * @returns A source.
 * @throws {TypeError} When an option is out of range.
 *
 * @example
 * ```ts ignore
 * import { fileSource } from "@mjpeg/stream";
 * // raspistill -tl 100 -o /dev/shm/image.jpg keeps rewriting this file:
 * const source = fileSource("/dev/shm/image.jpg");
 * ```
 */
export function fileSource(path: string, options: FileSourceOptions = {}): FrameSource {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`fileSource: expected a file or folder path, got ${JSON.stringify(path)}`);
  }
  const o = parseOptions(fileOptionsSchema, options, "fileSource options");
  return {
    description: `file ${path}`,
    async *frames(signal: AbortSignal): AsyncGenerator<Frame> {
      const report = statusReporter(o.onStatus);
      report("starting");
      const info = await stat(path).catch(() => undefined);
      try {
        if (info?.isDirectory()) yield* folderFrames(path, o, signal, report);
        else yield* watchedFileFrames(path, o, signal, report);
      } finally {
        if (signal.aborted) report("stopped");
      }
    },
    check: () => checkPath(path),
  };
}

type Report = ReturnType<typeof statusReporter>;

/**
 * A folder that is not there, or a file path whose folder is not, is a
 * mistake (a typo) to say at start. A missing file in a folder that exists,
 * named like a JPEG, is waited for: another program may not have written it yet.
 */
async function checkPath(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isFile()) return;
  if (info?.isDirectory()) {
    const names = await readdir(path).catch(() => [] as string[]);
    if (names.some((name) => /\.jpe?g$/i.test(name))) return;
    throw new SourceError(`expected .jpg files in the folder ${path}, found none`, {
      setting: "path",
    });
  }
  if (info) {
    throw new SourceError(`expected a file or a folder, got ${path}: neither`, {
      setting: "path",
    });
  }
  const folder = dirname(path);
  const folderThere = (await stat(folder).catch(() => undefined))?.isDirectory() ?? false;
  if (folderThere && /\.jpe?g$/i.test(path)) return;
  throw new SourceError(
    folderThere
      ? `expected a JPEG file or a folder, got ${path}: no such file or folder`
      : `expected a file or a folder, got ${path}: no such folder ${folder}`,
    { setting: "path" },
  );
}

// What identifies one version of a file without reading it.
function signature(s: { size: number; mtimeMs: number; ino: number }): string {
  return `${s.size}:${s.mtimeMs}:${s.ino}`;
}

async function* watchedFileFrames(
  path: string,
  o: ParsedOptions,
  signal: AbortSignal,
  report: Report,
): AsyncGenerator<Frame> {
  let previousPoll = "";
  let handled = ""; // the version last published or rejected: not read again
  let last: Uint8Array | undefined;
  let sequence = 0;
  let missing = false;
  const log = o.log ?? logToStderr;
  for (; !signal.aborted; await sleep(o.pollInterval, signal)) {
    const before = await stat(path).catch(() => undefined);
    if (!before || !before.isFile()) {
      // Said once, not at every poll: the writer may simply not have started yet.
      if (!missing) log(`file source: waiting for ${path} to be a file`);
      missing = true;
      report("retrying", `waiting for ${path} to be a file`);
      previousPoll = "";
      continue;
    }
    missing = false;
    const version = signature(before);
    const settled = version === previousPoll;
    previousPoll = version;
    // A version seen at one poll only may still be being written: wait a poll.
    if (!settled || version === handled) continue;
    if (before.size > o.maxFileSize) {
      handled = version;
      continue;
    }
    const data = await readFile(path).catch(() => undefined);
    const after = await stat(path).catch(() => undefined);
    if (!data || !after || signature(after) !== version) continue; // changed while read
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    handled = version;
    if (bytes.length !== after.size || jpegLength(bytes) !== bytes.length) continue;
    if (last && equalBytes(last, bytes)) continue; // rewritten with the same picture
    last = bytes;
    report("running");
    yield { data: bytes, headers: new Headers(), sequence: sequence++, timestamp: Date.now() };
  }
}

async function* folderFrames(
  folder: string,
  o: ParsedOptions,
  signal: AbortSignal,
  report: Report,
): AsyncGenerator<Frame> {
  const log = o.log ?? logToStderr;
  const interval = 1000 / o.fps;
  let sequence = 0;
  let next = performance.now();
  do {
    const names = (await readdir(folder, { withFileTypes: true }))
      .filter((e) => e.isFile() && /\.jpe?g$/i.test(e.name))
      .map((e) => e.name)
      .sort();
    if (names.length === 0) {
      throw new SourceError(
        `fileSource: expected .jpg files in the folder "${folder}", found none`,
      );
    }
    let played = 0;
    for (const name of names) {
      if (signal.aborted) return;
      const data = await readFile(join(folder, name)).catch(() => undefined);
      const bytes = data && new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (!bytes || bytes.length > o.maxFileSize || jpegLength(bytes) !== bytes.length) {
        log(`file source: skipped ${join(folder, name)}: not a complete JPEG`);
        continue;
      }
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait, signal);
      if (signal.aborted) return;
      played++;
      report("running");
      yield { data: bytes, headers: new Headers(), sequence: sequence++, timestamp: Date.now() };
      next += interval;
      if (performance.now() - next > interval) next = performance.now();
    }
    if (played === 0) {
      throw new SourceError(
        `fileSource: expected complete JPEGs in "${folder}", every file was broken`,
      );
    }
  } while (o.loop && !signal.aborted);
}
