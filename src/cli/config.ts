/**
 * What `mjpeg serve` serves: one source from flags, or several named streams
 * from a JSON config file. Both become the same validated {@linkcode ServeConfig}.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { duration, type DurationRange } from "../internal/duration.ts";
import { booleanOr } from "../internal/validate.ts";
import { caFileSchema, readCaFile } from "./ca_file.ts";
import { CAMERA_STALL_TIMEOUT, cameraSource } from "../sources/camera.ts";
import {
  CAMERA_SETTING_NAMES,
  cameraSettingFields,
  DEFAULT_CAMERA_SETTINGS,
  extraArgsSchema,
  frameTimeProblem,
} from "../sources/camera_settings.ts";
import { commandSource, webcamSource } from "../sources/command.ts";
import { fileSource } from "../sources/file.ts";
import { httpSource } from "../sources/http.ts";
import { DEFAULT_ON_DEMAND_IDLE } from "../sources/on_demand.ts";
import { pollSource } from "../sources/poll.ts";
import type { RestartPolicy } from "../sources/process.ts";
import type { FrameSource, LogLine, StatusListener } from "../sources/source.ts";
import { testPattern } from "../sources/test_pattern.ts";

const size = {
  width: z.number().int().min(16).max(8192).optional(),
  height: z.number().int().min(16).max(8192).optional(),
  fps: z.number().min(0.1).max(120).optional(),
};

// Durations in a config file (and flags) are seconds, under the API's names.
const seconds = (max: number, range: Partial<DurationRange> = {}) =>
  duration("", { unit: "s", max, ...range });

/**
 * How a program source is restarted, as a config file (or the flags) say it:
 * the API's `RestartPolicy` with its durations in seconds. An absent setting
 * takes the source's default.
 */
const restartSettings = {
  restart: booleanOr(
    z.strictObject({
      initialDelay: seconds(600).optional(),
      maxDelay: seconds(600, { min: 0.001 }).optional(),
      multiplier: z.number().min(1, "expected a number >= 1").optional(),
      jitter: z.number().min(0).max(1, "expected a number between 0 and 1").optional(),
      limit: z.number().int().min(0, "expected a whole number >= 0").optional(),
    }).refine((r) => (r.maxDelay ?? 10) >= (r.initialDelay ?? 0.5), {
      message: "expected maxDelay (default 10 s) to be at least initialDelay (default 0.5 s)",
      path: ["maxDelay"],
    }),
    "expected true, false or { initialDelay, maxDelay, multiplier, jitter, limit } in seconds",
  ).optional(),
  healthyRun: seconds(86_400).optional(),
  stallTimeout: seconds(600, { zero: "0 turns it off" }).optional(),
  stopGrace: seconds(600).optional(),
};

/**
 * How a stream behaves when its camera pauses or nobody watches; a stream's
 * own value wins over the file's top-level one (seconds, like every duration here).
 */
const outageSettings = {
  /** Run the source only while watched, stopping this many seconds after the last viewer; false: always. */
  onDemand: z.union([z.boolean(), seconds(86_400)], {
    error: "expected true (stop 10 s after the last viewer), false, or seconds (0 to 86400)",
  }).optional(),
  /** No frame for this long: the camera is offline (the card); 0: never. */
  offlineAfter: seconds(86_400, { zero: "0: never" })
    .refine((v) => v === 0 || v >= 0.1, "expected 0 (never) or at least 0.1 seconds")
    .optional(),
  /** A frame byte-identical to the one before is not sent again. */
  dropSameFrames: z.boolean().optional(),
};

type RestartSettings = {
  [K in keyof typeof restartSettings]?: z.output<(typeof restartSettings)[K]>;
};

/** The API's restart options (milliseconds) from a spec's settings (seconds). */
function restartOptions(spec: RestartSettings): RestartPolicy {
  const ms = (s: number | undefined) => s === undefined ? undefined : Math.round(s * 1000);
  const out: RestartPolicy = {};
  const r = spec.restart;
  if (typeof r === "boolean") out.restart = r;
  else if (r !== undefined) {
    out.restart = Object.fromEntries(
      Object.entries({ ...r, initialDelay: ms(r.initialDelay), maxDelay: ms(r.maxDelay) })
        .filter(([, v]) => v !== undefined),
    );
  }
  for (const key of ["healthyRun", "stallTimeout", "stopGrace"] as const) {
    const value = ms(spec[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** A source as written in a config file or built from flags. */
export const sourceSpecSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("pattern"),
    ...size,
    quality: z.number().int().min(1).max(100).optional(),
    ...outageSettings,
  }),
  // The camera's settings are cameraSource()'s own fields, checked the same way.
  z.strictObject({
    type: z.literal("camera"),
    ...cameraSettingFields("optional"),
    camera: z.number().int().min(0).max(15).optional(),
    extraArgs: extraArgsSchema.optional(),
    programs: z.array(z.string().min(1)).min(1).optional(),
    ...restartSettings,
    ...outageSettings,
  }).superRefine((spec, ctx) => {
    const problem = frameTimeProblem(
      {
        fps: spec.fps ?? DEFAULT_CAMERA_SETTINGS.fps,
        shutter: spec.shutter ?? DEFAULT_CAMERA_SETTINGS.shutter,
      },
      spec.stallTimeout === undefined ? CAMERA_STALL_TIMEOUT : spec.stallTimeout * 1000,
    );
    if (problem) {
      ctx.addIssue({ code: "custom", path: [problem.setting], message: problem.message });
    }
  }),
  z.strictObject({
    type: z.literal("webcam"),
    device: z.string().min(1),
    ...size,
    ...restartSettings,
    ...outageSettings,
  }),
  z.strictObject({
    type: z.literal("command"),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    contentType: z.string().optional(),
    ...restartSettings,
    ...outageSettings,
  }),
  z.strictObject({
    type: z.literal("url"),
    url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }),
    /** Seconds: the relay's MjpegClient stallTimeout (no complete frame this long → reconnect). */
    stallTimeout: duration("", { unit: "s", exclusive: true, max: 3600 }).optional(),
    /** Seconds: the relay's MjpegClient headTimeout (request to response head). */
    headTimeout: duration("", { unit: "s", exclusive: true, max: 600 }).optional(),
    /** A PEM file: the CA that signed an https camera's certificate. */
    ca: caFileSchema.optional(),
    /** Accept any certificate from an https camera. */
    insecure: z.boolean().optional(),
    ...outageSettings,
  }),
  z.strictObject({
    type: z.literal("file"),
    path: z.string().min(1),
    fps: size.fps,
    ...outageSettings,
  }),
  z.strictObject({
    type: z.literal("poll"),
    url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }),
    /** The most requests per second. */
    fps: z.number().min(0.01).max(60).optional(),
    /** Seconds from a request to the last byte of its answer. */
    timeout: duration("", { unit: "s", exclusive: true, max: 600 }).optional(),
    /** A PEM file: the CA that signed an https camera's certificate. */
    ca: caFileSchema.optional(),
    /** Accept any certificate from an https camera. */
    insecure: z.boolean().optional(),
    ...outageSettings,
  }),
], {
  error: 'expected a source with "type" one of pattern, camera, webcam, command, url, poll, file',
});

/** A validated source spec. */
export type SourceSpec = z.output<typeof sourceSpecSchema>;

const streamName = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
  "expected a stream name of letters, digits, - and _ (it becomes a URL path)",
).refine(
  (name) => name !== "stats" && name !== "control",
  'expected a stream name other than "stats" and "control" (routes of their own)',
);

/** The JSON config file of `mjpeg serve --config`. Flags given too take precedence. */
export const serveConfigSchema = z.strictObject({
  /** TCP port (default 8080; not with unix). */
  port: z.number().int().min(0).max(65535).optional(),
  /** Address to listen on (default 127.0.0.1; not with unix). */
  host: z.string().min(1).optional(),
  /** HTTPS: the certificate (chain), a PEM file; with tlsKey. */
  tlsCert: z.string().min(1).optional(),
  /** HTTPS: the certificate's private key, a PEM file; with tlsCert. */
  tlsKey: z.string().min(1).optional(),
  /** Listen on a unix socket at this path instead of TCP. */
  unix: z.string().min(1).optional(),
  /** The unix socket's permission bits, in octal: "660" (default: as the umask leaves them). */
  unixMode: z.string().regex(/^0?[0-7]{3}$/, 'expected octal permission bits such as "660"')
    .optional(),
  auth: z.string().regex(/^[^:]+:.+$/, "expected user:password").optional(),
  token: z.string().min(8, "expected a token of at least 8 characters").optional(),
  cors: z.string().min(1).optional(),
  maxViewers: z.number().int().min(1).optional(),
  /** Snapshots answered at once (default: maxViewers, if set). */
  maxSnapshots: z.number().int().min(1).optional(),
  /** Seconds a viewer's connection may take no bytes before it is dropped; 0 turns it off. */
  viewerTimeout: duration("", { unit: "s", max: 3600, zero: "0 turns it off" }).default(30),
  /** Seconds a client has to send a request head. */
  headerTimeout: duration("", { unit: "s", min: 0.1, max: 600 }).default(10),
  /** Connections at once (default: the open-file limit less a reserve). */
  maxConnections: z.number().int().min(1).optional(),
  /** Connections at once from one address (default: no cap). */
  maxConnectionsPerAddress: z.number().int().min(1).optional(),
  /** Seconds between stats lines; 0 turns them off. */
  statsInterval: duration("", { unit: "s", max: 86_400, zero: "0 turns them off" }).default(10),
  /** Seconds between repeats of the last frame while none comes; 0 turns it off. */
  keepalive: seconds(60, { zero: "0 turns it off" })
    .refine((v) => v === 0 || v >= 0.1, "expected 0 (off) or at least 0.1 seconds")
    .default(1),
  /** The oldest frame a snapshot hands out, in seconds; 0: any age. */
  snapshotMaxAge: seconds(86_400, { zero: "0: any age" }).default(5),
  ...outageSettings,
  streams: z.record(streamName, sourceSpecSchema).refine(
    (streams) => Object.keys(streams).length > 0,
    "expected at least one stream",
  ),
}).refine((c) => !(c.auth && c.token), "expected --auth or --token, not both")
  .superRefine((c, ctx) => {
    const problem = (key: string, message: string) =>
      ctx.addIssue({ code: "custom", path: [key], message });
    if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) {
      problem(
        c.tlsCert === undefined ? "tlsCert" : "tlsKey",
        "expected a certificate and its key together (--tls-cert and --tls-key), got only one",
      );
    }
    if (c.unix !== undefined) {
      for (const key of ["port", "host", "tlsCert"] as const) {
        if (c[key] !== undefined) {
          problem(key, "expected no TCP port, host or TLS with a unix socket (--unix)");
        }
      }
    } else if (c.unixMode !== undefined) problem("unixMode", "expected only with --unix");
  });

/** The validated serve configuration. */
export type ServeConfig = z.output<typeof serveConfigSchema>;

/** A stream's outage and demand settings, its own over the file's top-level ones, in the API's milliseconds. */
export interface StreamBehaviour {
  /** Milliseconds the source keeps running after the last viewer, or undefined: always runs. */
  onDemand: number | undefined;
  /** Milliseconds without a frame before the card; 0: never. */
  offlineAfter: number;
  /** Skip byte-identical frames. */
  dropSameFrames: boolean;
}

/**
 * A stream's settings for its hub and feed.
 *
 * @param config The whole configuration.
 * @param name The stream.
 * @returns Its outage and demand settings.
 */
export function streamBehaviour(config: ServeConfig, name: string): StreamBehaviour {
  const spec = config.streams[name]!;
  const onDemand = spec.onDemand ?? config.onDemand ?? false;
  return {
    onDemand: onDemand === false
      ? undefined
      : onDemand === true
      ? DEFAULT_ON_DEMAND_IDLE
      : Math.round(onDemand * 1000),
    offlineAfter: Math.round((spec.offlineAfter ?? config.offlineAfter ?? 5) * 1000),
    dropSameFrames: spec.dropSameFrames ?? config.dropSameFrames ?? false,
  };
}

/**
 * Reads and validates a config file.
 *
 * @param path The JSON file.
 * @returns Its parsed contents (not yet validated).
 * @throws {Error} When it cannot be read or is not JSON, saying which.
 */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`config file ${path}: expected JSON, ${(error as Error).message}`);
  }
}

/**
 * Makes the source a spec describes.
 *
 * @param spec A validated source spec.
 * @param log Where the source logs restarts and skipped files.
 * @param onStatus Gets the source's state and last error (for `/stats`).
 * @returns The source.
 */
export function createSource(
  spec: SourceSpec,
  log: LogLine,
  onStatus?: StatusListener,
): FrameSource {
  const status = onStatus ? { onStatus } : {};
  const pick = <K extends string>(keys: readonly K[], from: Partial<Record<K, unknown>>) =>
    Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]]));
  switch (spec.type) {
    case "pattern":
      return testPattern(pick(["width", "height", "fps", "quality"], spec));
    case "camera":
      return cameraSource({
        ...pick([...CAMERA_SETTING_NAMES, "camera", "extraArgs", "programs"], spec),
        ...restartOptions(spec),
        log,
        ...status,
      });
    case "webcam":
      return webcamSource({
        ...pick(["device", "width", "height", "fps"], spec),
        ...restartOptions(spec),
        log,
        ...status,
      });
    case "command":
      return commandSource(spec.command, spec.args, {
        ...pick(["contentType"], spec),
        ...restartOptions(spec),
        log,
        ...status,
      });
    case "url":
      return httpSource(spec.url, {
        // Config files speak seconds, the API milliseconds.
        ...(spec.stallTimeout ? { stallTimeout: spec.stallTimeout * 1000 } : {}),
        ...(spec.headTimeout ? { headTimeout: spec.headTimeout * 1000 } : {}),
        ...(spec.ca ? { ca: readCaFile(spec.ca) } : {}),
        ...(spec.insecure ? { insecure: true } : {}),
        ...status,
      });
    case "poll":
      return pollSource(spec.url, {
        ...(spec.fps ? { fps: spec.fps } : {}),
        ...(spec.timeout ? { timeout: spec.timeout * 1000 } : {}),
        ...(spec.ca ? { ca: readCaFile(spec.ca) } : {}),
        ...(spec.insecure ? { insecure: true } : {}),
        log,
        ...status,
      });
    case "file":
      return fileSource(spec.path, { ...(spec.fps ? { fps: spec.fps } : {}), log, ...status });
  }
}
