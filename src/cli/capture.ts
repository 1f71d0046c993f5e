/**
 * The client-side commands: `mjpeg probe URL` (a stats line every few
 * seconds), `mjpeg snapshot URL -o out.jpg` and `mjpeg record URL -o
 * out.mjpeg`. All three read the stream with MjpegClient, and are made for
 * scripts: an error that another try would not mend (credentials refused, a
 * 404, a page that is not MJPEG, an untrusted certificate) ends them at once
 * with its reason and status 1; anything else (a refused connection, a
 * camera rebooting) is retried, said once per new error, within a deadline.
 *
 * @module
 */
import { type FileHandle, open } from "node:fs/promises";
import { z } from "zod";
import type { MjpegClient } from "../client/client.ts";
import { sleep } from "../internal/sleep.ts";
import { DEFAULT_BOUNDARY, encodeMjpegPart, encodeOpening } from "../wire/encoder_stream.ts";
import {
  CLIENT_FLAGS,
  CLIENT_HELP,
  clientFrom,
  sayErrors,
  seconds,
  stopOnSignals,
} from "./camera_flags.ts";
import { type CliIo, logTo, numberFlag, parseCommandLine, validateFlags } from "./usage.ts";

/** Help texts of the client commands. */
export const CAPTURE_HELP: Record<"probe" | "snapshot" | "record", string> = {
  probe: `Usage: mjpeg probe URL [--interval S] [--seconds S] [--auth USER:PASS | --token T]

Connects to an MJPEG stream and prints one line of stats (fps, frames, bytes,
reconnects, state) every few seconds, until Ctrl-C or --seconds. Exits with 1
when no frame came, or at once on an error another try would not mend: usable
as a health check ("mjpeg probe URL --seconds 5").

  --interval S   seconds between stats lines (default 2; at most 86400)
  --seconds S    stop after S seconds (at most 604800, a week)
${CLIENT_HELP}`,
  snapshot: `Usage: mjpeg snapshot URL -o FILE [--timeout S] [--auth USER:PASS | --token T]

Saves one frame of an MJPEG stream (or a JPEG URL) to FILE. Exits with 1 at
once on an error another try would not mend (credentials refused, a 4xx
status, a page that is not MJPEG, an untrusted certificate); other errors are
retried until --timeout.

  -o, --output FILE   where to write the JPEG
  --timeout S         give up after S seconds without a frame (default 10; at most 3600)
${CLIENT_HELP}`,
  record: `Usage: mjpeg record URL -o FILE [--frames N | --seconds S] [--format raw|multipart]

Writes the frames of an MJPEG stream to FILE until N frames, S seconds or
Ctrl-C, then says the frame rate it measured and how to play the file at it
(raw MJPEG keeps none: players assume 25 fps). FILE is written only once a
frame came. Exits with 1 at once on an error another try would not mend, and
when no frame came within --timeout.

  -o, --output FILE   where to write
  --frames N          stop after N frames
  --seconds S         stop after S seconds (at most 604800, a week)
  --timeout S         give up after S seconds without a first frame (default 10; at most 3600)
  --format F          raw: concatenated JPEGs, as ffmpeg -f mjpeg writes (default);
                      multipart: the HTTP body as served, as ffmpeg -f mpjpeg writes
${CLIENT_HELP}`,
};

/**
 * `mjpeg probe URL`: one stats line every `--interval` seconds.
 *
 * @param argv The arguments after `probe`.
 * @param io Where output and messages go.
 * @returns The exit status: 0 when frames came, 1 when none did or a permanent error ended it.
 */
export async function probeCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const log = logTo(io);
  const raw = parseCommandLine("probe", argv, {
    ...CLIENT_FLAGS,
    interval: { type: "string" },
    seconds: { type: "string" },
  });
  if (raw.values.help) return io.stdout(CAPTURE_HELP.probe), 0;
  const o = validateFlags(
    "probe",
    z.strictObject({
      interval: seconds(86_400).default(2),
      seconds: seconds(604_800).optional(),
    }),
    {
      interval: numberFlag("probe", "interval", raw.values.interval),
      seconds: numberFlag("probe", "seconds", raw.values.seconds),
    },
  );
  const controller = new AbortController();
  const client = clientFrom("probe", raw, controller.signal);
  const release = stopOnSignals(controller);
  log(`probe: reading ${client.stats.url}`);
  const started = Date.now();
  const deadline = o.seconds === undefined
    ? undefined
    : setTimeout(() => controller.abort(), o.seconds * 1000);
  let failure: unknown;
  const draining = (async () => {
    try {
      for await (const _ of client.frames()) { /* counted by the client's stats */ }
    } catch (error) {
      failure = error;
    }
    controller.abort();
  })();
  while (!controller.signal.aborted) {
    await sleep(o.interval * 1000, controller.signal);
    if (failure === undefined) io.stdout(statsLine(client) + "\n");
  }
  clearTimeout(deadline);
  release();
  await client.stop();
  await draining;
  const { frames, url, lastError } = client.stats;
  if (failure) {
    log(`probe: ${url}: ${(failure as Error).message}`);
    return 1;
  }
  const took = ((Date.now() - started) / 1000).toFixed(1);
  if (frames === 0) {
    log(`probe: no frame from ${url} in ${took} s${lastError ? `; last error: ${lastError}` : ""}`);
    return 1;
  }
  log(`probe: ${frames} frames from ${url} in ${took} s`);
  return 0;
}

/** One line of stats, `name=value` pairs after the time, for people and scripts alike. */
function statsLine(client: MjpegClient): string {
  const s = client.stats;
  let line = `${new Date().toISOString()} fps=${s.fps.toFixed(2)} frames=${s.frames} ` +
    `bytes=${s.bytes} reconnects=${s.reconnects} dropped=${s.discardedFrames} state=${s.state}`;
  if (s.state !== "streaming" && s.lastError) line += ` error=${JSON.stringify(s.lastError)}`;
  return line;
}

/**
 * `mjpeg snapshot URL -o FILE`: saves the first frame that arrives.
 *
 * @param argv The arguments after `snapshot`.
 * @param io Where output and messages go.
 * @returns The exit status.
 */
export async function snapshotCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const log = logTo(io);
  const raw = parseCommandLine("snapshot", argv, {
    ...CLIENT_FLAGS,
    output: { type: "string", short: "o" },
    timeout: { type: "string" },
  });
  if (raw.values.help) return io.stdout(CAPTURE_HELP.snapshot), 0;
  const o = validateFlags(
    "snapshot",
    z.strictObject({
      output: z.string({ error: "expected a file name (-o out.jpg)" }).min(1),
      timeout: seconds(3600).default(10),
    }),
    { output: raw.values.output, timeout: numberFlag("snapshot", "timeout", raw.values.timeout) },
  );
  const controller = new AbortController();
  const client = clientFrom("snapshot", raw, controller.signal);
  const release = stopOnSignals(controller);
  const started = Date.now();
  const timer = setTimeout(() => controller.abort(), o.timeout * 1000);
  const quiet = sayErrors(client, (line) => log(`snapshot: ${line}`), () => {
    const left = Math.max(0, o.timeout - (Date.now() - started) / 1000);
    return `retrying for ${left.toFixed(1)} s more (--timeout ${o.timeout})`;
  });
  try {
    for await (const frame of client.frames()) {
      const file = await open(o.output, "w");
      await file.write(frame.data);
      await file.close();
      log(`wrote ${frame.data.length} bytes to ${o.output}`);
      return 0;
    }
    const why = client.stats.lastError ? `; last error: ${client.stats.lastError}` : "";
    log(`snapshot: no frame from ${client.stats.url} within ${o.timeout} s${why}`);
    return 1;
  } catch (error) {
    log(`snapshot: ${client.stats.url}: ${(error as Error).message}`);
    return 1;
  } finally {
    quiet();
    clearTimeout(timer);
    release();
    await client.stop();
  }
}

/**
 * `mjpeg record URL -o FILE`: writes frames until a limit or Ctrl-C.
 *
 * @param argv The arguments after `record`.
 * @param io Where output and messages go.
 * @returns The exit status.
 */
export async function recordCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const log = logTo(io);
  const raw = parseCommandLine("record", argv, {
    ...CLIENT_FLAGS,
    output: { type: "string", short: "o" },
    frames: { type: "string" },
    seconds: { type: "string" },
    timeout: { type: "string" },
    format: { type: "string" },
  });
  if (raw.values.help) return io.stdout(CAPTURE_HELP.record), 0;
  const o = validateFlags(
    "record",
    z.strictObject({
      output: z.string({ error: "expected a file name (-o out.mjpeg)" }).min(1),
      frames: z.number().int("expected a whole number").positive("expected --frames > 0")
        .optional(),
      seconds: seconds(604_800).optional(),
      timeout: seconds(3600).default(10),
      format: z.enum(["raw", "multipart"], { error: "expected raw or multipart" }).default("raw"),
    }),
    {
      output: raw.values.output,
      frames: numberFlag("record", "frames", raw.values.frames),
      seconds: numberFlag("record", "seconds", raw.values.seconds),
      timeout: numberFlag("record", "timeout", raw.values.timeout),
      format: raw.values.format,
    },
  );
  const controller = new AbortController();
  const client = clientFrom("record", raw, controller.signal);
  const release = stopOnSignals(controller);
  const deadline = o.seconds === undefined
    ? undefined
    : setTimeout(() => controller.abort(), o.seconds * 1000);
  const started = Date.now();
  const firstFrameDeadline = setTimeout(() => controller.abort(), o.timeout * 1000);
  let file: FileHandle | undefined;
  let count = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  let failure: Error | undefined;
  const quiet = sayErrors(
    client,
    (line) => log(`record: ${line}`),
    () => count === 0 ? `retrying until a frame comes (--timeout ${o.timeout})` : "reconnecting",
  );
  try {
    for await (const frame of client.frames()) {
      if (!file) {
        // Only now: a failed recording leaves an existing file as it was, and no empty one.
        clearTimeout(firstFrameDeadline);
        file = await open(o.output, "w");
        first = frame.timestamp;
        if (o.format === "multipart") {
          bytes += (await file.write(encodeOpening(DEFAULT_BOUNDARY))).bytesWritten;
        }
      }
      const data = o.format === "multipart" ? encodeMjpegPart(frame, DEFAULT_BOUNDARY) : frame.data;
      bytes += (await file.write(data)).bytesWritten;
      last = frame.timestamp;
      if (++count === o.frames) break;
    }
  } catch (error) {
    failure = error as Error;
  } finally {
    quiet();
    clearTimeout(deadline);
    clearTimeout(firstFrameDeadline);
    release();
    await client.stop();
    await file?.close();
  }
  const url = client.stats.url;
  if (count === 0) {
    const took = ((Date.now() - started) / 1000).toFixed(1);
    const why = failure?.message ??
      `no frame in ${took} s${
        client.stats.lastError ? `; last error: ${client.stats.lastError}` : ""
      }`;
    log(`record: ${url}: ${why}`);
    return 1;
  }
  log(recordedLine(count, bytes, first, last, o.output, o.format));
  if (failure) {
    log(`record: stopped early: ${failure.message}`);
    return 1;
  }
  return 0;
}

/**
 * What was recorded, the frame rate measured from the frames' arrival times,
 * and how to play the file at that rate.
 */
function recordedLine(
  count: number,
  bytes: number,
  first: number,
  last: number,
  output: string,
  format: "raw" | "multipart",
): string {
  const span = (last - first) / 1000;
  const megabytes = (bytes / 1e6).toFixed(1);
  const done = `recorded ${count} frames (${megabytes} MB) to ${output}`;
  if (count < 2 || span <= 0) return `${done}; too few frames to measure a frame rate`;
  const fps = Number(((count - 1) / span).toPrecision(3));
  const file = shellQuote(output);
  // Raw MJPEG and multipart keep no timing; ffplay plays both at 25 fps unless told.
  const play = format === "raw"
    ? `ffplay -framerate ${fps} ${file}`
    : `ffplay -vf setpts=N/${fps}/TB ${file}`;
  return `${done} in ${span.toFixed(1)} s at ${fps} fps; the file keeps no frame rate ` +
    `(players assume 25 fps): play it at ${fps} with: ${play}`;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
