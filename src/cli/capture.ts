/**
 * The client-side commands: `mjpeg probe URL` (stats every few seconds),
 * `mjpeg snapshot URL -o out.jpg` and `mjpeg record URL -o out.mjpeg`. All
 * three read the stream with MjpegClient, so they reconnect like it does.
 *
 * @module
 */
import { open } from "node:fs/promises";
import process from "node:process";
import { z } from "zod";
import { duration } from "../internal/duration.ts";
import { MjpegClient } from "../client/client.ts";
import { sleep } from "../internal/sleep.ts";
import { DEFAULT_BOUNDARY, encodeMjpegPart, encodeOpening } from "../wire/encoder_stream.ts";
import {
  type CliIo,
  type FlagSpec,
  logTo,
  numberFlag,
  parseCommandLine,
  type RawCommandLine,
  UsageError,
  validateFlags,
} from "./usage.ts";

const CLIENT_FLAGS: Record<string, FlagSpec> = {
  auth: { type: "string" },
  token: { type: "string" },
};

/** Help texts of the client commands. */
export const CAPTURE_HELP: Record<"probe" | "snapshot" | "record", string> = {
  probe: `Usage: mjpeg probe URL [--interval S] [--seconds S] [--auth USER:PASS | --token T]

Connects to an MJPEG stream and prints the client's stats (fps, frames,
reconnects, errors) every few seconds, until Ctrl-C or --seconds.

  --interval S   seconds between stats (default 2; at most 86400)
  --seconds S    stop after S seconds (at most 604800, a week)
`,
  snapshot: `Usage: mjpeg snapshot URL -o FILE [--timeout S] [--auth USER:PASS | --token T]

Saves one frame of an MJPEG stream (or a JPEG URL) to FILE.

  -o, --output FILE   where to write the JPEG
  --timeout S         give up after S seconds without a frame (default 10; at most 3600)
`,
  record: `Usage: mjpeg record URL -o FILE [--frames N | --seconds S] [--format raw|multipart]

Writes the frames of an MJPEG stream to FILE until N frames, S seconds or Ctrl-C.

  -o, --output FILE   where to write
  --frames N          stop after N frames
  --seconds S         stop after S seconds (at most 604800, a week)
  --format F          raw: concatenated JPEGs, as ffmpeg -f mjpeg writes (default);
                      multipart: the HTTP body as served, as ffmpeg -f mpjpeg writes
`,
};

const urlSchema = z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" });
const clientSchema = z.strictObject({
  url: urlSchema,
  auth: z.string().regex(/^[^:]+:.+$/, "expected user:password").optional(),
  token: z.string().min(1).optional(),
}).refine((o) => !(o.auth && o.token), "expected --auth or --token, not both");

function clientFrom(command: string, raw: RawCommandLine, signal: AbortSignal): MjpegClient {
  if (raw.positionals.length !== 1) {
    throw new UsageError(command, `expected one URL, got ${raw.positionals.length} arguments`);
  }
  const o = validateFlags(command, clientSchema, {
    url: raw.positionals[0],
    ...(raw.values.auth !== undefined ? { auth: raw.values.auth } : {}),
    ...(raw.values.token !== undefined ? { token: raw.values.token } : {}),
  }, (path) => path[0] === "url" ? "URL" : `--${String(path[0])}`);
  const headers = new Headers();
  if (o.auth) headers.set("Authorization", `Basic ${btoa(o.auth)}`);
  if (o.token) headers.set("Authorization", `Bearer ${o.token}`);
  return new MjpegClient(o.url, { headers, signal });
}

// Ctrl-C or SIGTERM ends a capture like reaching its limit does.
function stopOnSignals(controller: AbortController): () => void {
  const stop = () => controller.abort();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return () => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  };
}

// A day between stats lines, a week of recording, an hour for a snapshot:
// far beyond use, well inside what a timer can wait.
const seconds = (max: number) => duration("", { unit: "s", exclusive: true, max });

/**
 * `mjpeg probe URL`: prints the client's stats every `--interval` seconds.
 *
 * @param argv The arguments after `probe`.
 * @param io Where output and messages go.
 * @returns The exit status.
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
    io.stdout(client.formatStats() + "\n\n");
  }
  clearTimeout(deadline);
  release();
  await client.stop();
  await draining;
  if (failure) {
    log(`probe: ${(failure as Error).message}`);
    return 1;
  }
  return 0;
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
  const timer = setTimeout(() => controller.abort(), o.timeout * 1000);
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
  } finally {
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
      format: z.enum(["raw", "multipart"], { error: "expected raw or multipart" }).default("raw"),
    }),
    {
      output: raw.values.output,
      frames: numberFlag("record", "frames", raw.values.frames),
      seconds: numberFlag("record", "seconds", raw.values.seconds),
      format: raw.values.format,
    },
  );
  const controller = new AbortController();
  const client = clientFrom("record", raw, controller.signal);
  const release = stopOnSignals(controller);
  const deadline = o.seconds === undefined
    ? undefined
    : setTimeout(() => controller.abort(), o.seconds * 1000);
  const file = await open(o.output, "w");
  let count = 0;
  let bytes = 0;
  try {
    if (o.format === "multipart") {
      bytes += (await file.write(encodeOpening(DEFAULT_BOUNDARY))).bytesWritten;
    }
    for await (const frame of client.frames()) {
      const data = o.format === "multipart" ? encodeMjpegPart(frame, DEFAULT_BOUNDARY) : frame.data;
      bytes += (await file.write(data)).bytesWritten;
      if (++count === o.frames) break;
    }
  } finally {
    clearTimeout(deadline);
    release();
    await client.stop();
    await file.close();
  }
  log(`recorded ${count} frames (${bytes} bytes) to ${o.output}`);
  if (count === 0) {
    const why = client.stats.lastError ? `: ${client.stats.lastError}` : "";
    log(`record: no frames from ${client.stats.url}${why}`);
    return 1;
  }
  return 0;
}
