/**
 * The flags of `mjpeg serve`, and how they become the same configuration a
 * config file gives: one stream whose source the flags describe.
 *
 * @module
 */
import { type ServeConfig, serveConfigSchema } from "./config.ts";
import { readConfigFile } from "./config.ts";
import { CAMERA_SETTING_NAMES, CAMERA_SETTINGS } from "../sources/camera_settings.ts";
import {
  flagName,
  type FlagSpec,
  numberFlag,
  parseCommandLine,
  type RawCommandLine,
  splitCommandLine,
  UsageError,
  validateFlags,
} from "./usage.ts";

// The camera's settings as flags: --kebab-case of each setting, e.g.
// --autofocus-mode for autofocusMode; numbers are parsed, words passed on.
const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
const CAMERA_SETTING_FLAGS: Record<string, string> = Object.fromEntries(
  CAMERA_SETTING_NAMES.map((name) => [kebab(name), name]),
);
const isNumberSetting = (name: string) => {
  const spec = CAMERA_SETTINGS[name as keyof typeof CAMERA_SETTINGS];
  return spec.type !== "boolean" &&
    (spec.type !== "choice" || spec.choices.every((c) => typeof c === "number"));
};

/** Every flag `mjpeg serve` accepts. */
export const SERVE_FLAGS: Record<string, FlagSpec> = {
  pattern: { type: "boolean" },
  // A string so that `--camera=1` parses; see normalizeServeArgs for `--camera` alone.
  camera: { type: "string" },
  webcam: { type: "string" },
  command: { type: "string" },
  url: { type: "string" },
  poll: { type: "string" },
  ca: { type: "string" },
  insecure: { type: "boolean" },
  file: { type: "string" },
  config: { type: "string", short: "c" },
  width: { type: "string" },
  height: { type: "string" },
  fps: { type: "string" },
  timeout: { type: "string" },
  quality: { type: "string" },
  rotation: { type: "string" },
  hflip: { type: "boolean" },
  vflip: { type: "boolean" },
  "camera-args": { type: "string" },
  "camera-program": { type: "string" },
  "no-restart": { type: "boolean" },
  "restart-delay": { type: "string" },
  "restart-max-delay": { type: "string" },
  "healthy-run": { type: "string" },
  "stall-timeout": { type: "string" },
  "stop-grace": { type: "string" },
  port: { type: "string", short: "p" },
  host: { type: "string" },
  auth: { type: "string" },
  token: { type: "string" },
  cors: { type: "string" },
  "max-viewers": { type: "string" },
  "max-snapshots": { type: "string" },
  "viewer-timeout": { type: "string" },
  "header-timeout": { type: "string" },
  "max-connections": { type: "string" },
  "max-connections-per-address": { type: "string" },
  "stats-interval": { type: "string" },
  keepalive: { type: "string" },
  "offline-after": { type: "string" },
  "snapshot-max-age": { type: "string" },
  "drop-same-frames": { type: "boolean" },
  // A string so that `--on-demand=30` parses; see normalizeServeArgs for `--on-demand` alone.
  "on-demand": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  unix: { type: "string" },
  "unix-mode": { type: "string" },
  // Every camera setting (the size and orientation flags above, and the rest).
  ...Object.fromEntries(
    Object.entries(CAMERA_SETTING_FLAGS).map(([flag, name]) => [
      flag,
      {
        type: CAMERA_SETTINGS[name as keyof typeof CAMERA_SETTINGS].type === "boolean"
          ? "boolean"
          : "string",
      },
    ]),
  ),
};

// Top-level settings a flag may give: config key → flag.
const TOP_NUMBER_SETTINGS: [string, string][] = [
  ["port", "port"],
  ["maxViewers", "max-viewers"],
  ["maxSnapshots", "max-snapshots"],
  ["viewerTimeout", "viewer-timeout"],
  ["headerTimeout", "header-timeout"],
  ["maxConnections", "max-connections"],
  ["maxConnectionsPerAddress", "max-connections-per-address"],
  ["statsInterval", "stats-interval"],
  ["keepalive", "keepalive"],
  ["offlineAfter", "offline-after"],
  ["snapshotMaxAge", "snapshot-max-age"],
];

// Top-level settings given as text: config key → flag.
const TOP_STRING_SETTINGS: [string, string][] = [
  ["host", "host"],
  ["auth", "auth"],
  ["token", "token"],
  ["cors", "cors"],
  ["tlsCert", "tls-cert"],
  ["tlsKey", "tls-key"],
  ["unix", "unix"],
  ["unixMode", "unix-mode"],
];

const SOURCES = ["pattern", "camera", "webcam", "command", "url", "poll", "file"] as const;
const RESTART_FLAGS = [
  "no-restart",
  "restart-delay",
  "restart-max-delay",
  "healthy-run",
  "stall-timeout",
  "stop-grace",
];
// Which source settings each source takes; the others would be silently ignored, so they are refused.
const SOURCE_FLAGS: Record<(typeof SOURCES)[number], readonly string[]> = {
  pattern: ["width", "height", "fps", "quality"],
  camera: [
    ...Object.keys(CAMERA_SETTING_FLAGS),
    "camera-args",
    "camera-program",
    ...RESTART_FLAGS,
  ],
  webcam: ["width", "height", "fps", ...RESTART_FLAGS],
  command: RESTART_FLAGS,
  url: ["ca", "insecure"],
  poll: ["fps", "timeout", "ca", "insecure"],
  file: ["fps"],
};
const ALL_SOURCE_FLAGS = [...new Set(Object.values(SOURCE_FLAGS).flat())];
// Flags whose value is a number, by the setting they become.
const NUMBER_SETTINGS: Record<string, string> = {
  ...Object.fromEntries(
    Object.entries(CAMERA_SETTING_FLAGS).filter(([, name]) => isNumberSetting(name)),
  ),
  // Seconds, like the config file's keys of the same names.
  "healthy-run": "healthyRun",
  "stall-timeout": "stallTimeout",
  "stop-grace": "stopGrace",
  timeout: "timeout",
};
// The restart backoff's flags, by its setting (seconds).
const RESTART_SETTINGS: Record<string, string> = {
  "restart-delay": "initialDelay",
  "restart-max-delay": "maxDelay",
};

/**
 * Rewrites the flags `parseArgs` cannot express into `--flag=VALUE` form:
 * `--camera`, whose value may be left out (`--camera` alone selects the camera
 * source as it always did, `--camera N` also picks camera N), `--on-demand`,
 * whose seconds may be left out, and the values that start with a dash,
 * which `parseArgs` takes for a forgotten value: `--camera-args "--denoise
 * cdn_off"` by nature, and negative numbers (`--ev -1`).
 *
 * @param argv The arguments after `serve`.
 * @returns The same arguments with those flags in `--flag=VALUE` form.
 */
export function normalizeServeArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    } else if (arg === "--camera") {
      if (next !== undefined && !next.startsWith("-")) {
        out.push(`--camera=${next}`);
        i++;
      } else {
        out.push("--camera=");
      }
    } else if (arg === "--on-demand") {
      if (next !== undefined && /^\d*\.?\d+$/.test(next)) {
        out.push(`--on-demand=${next}`);
        i++;
      } else {
        out.push("--on-demand=");
      }
    } else if (arg === "--camera-args" && next !== undefined) {
      out.push(`--camera-args=${next}`);
      i++;
    } else if (
      next !== undefined && /^-\.?\d/.test(next) && SERVE_FLAGS[arg.slice(2)]?.type === "string"
    ) {
      out.push(`${arg}=${next}`); // a negative number: --ev -1, --brightness -0.2
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** `serve`'s command line, understood. */
export interface ServeArgs {
  /** The parsed flags. */
  raw: RawCommandLine;
  /** The validated configuration; undefined when `--help` was asked for. */
  config: ServeConfig | undefined;
  /** True when the streams came from a config file, and so are served under their names. */
  named: boolean;
  /**
   * How to name a top-level setting in a message: its flag when given as one
   * (`--tls-key`), else where it is in the config file.
   */
  settingName(key: string): string;
}

/**
 * Parses and validates `serve`'s arguments, reading the config file when one
 * is given: what `mjpeg serve` runs and what `mjpeg service` writes a unit for.
 *
 * @param argv The arguments after `serve`.
 * @returns The flags and the configuration.
 * @throws {UsageError} On any bad flag, value or config file (exit status 2).
 */
export async function parseServeArgs(argv: readonly string[]): Promise<ServeArgs> {
  const raw = parseCommandLine("serve", normalizeServeArgs(argv), SERVE_FLAGS);
  if (raw.values.help) return { raw, config: undefined, named: false, settingName: flagOf };
  if (raw.positionals.length > 0) {
    throw new UsageError("serve", `expected only flags, got ${JSON.stringify(raw.positionals[0])}`);
  }
  const path = raw.values.config;
  const fromFile = typeof path === "string"
    ? await readConfigFile(path).catch((error: Error) => {
      throw new UsageError("serve", error.message);
    })
    : undefined;
  // A setting given as a flag is reported as the flag, one from the file
  // with the file's name and its path in the file.
  const file = typeof path === "string" ? path : undefined;
  const givenAsFlag = (key: PropertyKey) => raw.values[flagName([key]).slice(2)] !== undefined;
  const describe = file === undefined
    ? settingFlag
    : (at: readonly PropertyKey[]) =>
      givenAsFlag(at[0]!) ? settingFlag(at) : `config file ${file}: ${at.join(".")}`;
  const config = validateFlags(
    "serve",
    serveConfigSchema,
    serveFlagsToConfig(raw, fromFile),
    describe,
    file === undefined ? undefined : `config file ${file}`,
  );
  return {
    raw,
    config,
    named: typeof path === "string",
    settingName: (key) => describe([key]),
  };
}

function flagOf(key: string): string {
  return flagName([key]);
}

// The flag that gave the setting at `path`, for messages: `--camera-args` for extraArgs.
function settingFlag(path: readonly PropertyKey[]): string {
  const setting = path.findLast((key) => typeof key === "string");
  const flag = Object.entries(NUMBER_SETTINGS).find(([, s]) => s === setting)?.[0] ??
    {
      extraArgs: "camera-args",
      programs: "camera-program",
      restart: "no-restart",
      initialDelay: "restart-delay",
      maxDelay: "restart-max-delay",
    }[
      String(setting)
    ];
  return flag ? `--${flag}` : flagName([setting ?? ""]);
}

/**
 * Turns `serve`'s flags (and a config file's contents, if any) into one
 * object for `serveConfigSchema`. Flags override the file's settings.
 *
 * @param raw The parsed command line.
 * @param fromFile The config file's JSON, when `--config` was given.
 * @returns The configuration to validate.
 * @throws {UsageError} On conflicting flags (two sources, a flag the source ignores).
 */
export function serveFlagsToConfig(
  raw: RawCommandLine,
  fromFile: unknown,
): Record<string, unknown> {
  const v = raw.values;
  const num = (flag: string) => numberFlag("serve", flag, v[flag]);
  const words = (flag: string) => {
    try {
      return splitCommandLine(String(v[flag]));
    } catch (error) {
      throw new UsageError("serve", `--${flag}: ${(error as Error).message}`);
    }
  };
  const given = SOURCES.filter((s) => v[s] !== undefined);
  if (fromFile !== undefined && given.length > 0) {
    throw new UsageError(
      "serve",
      `expected either --config or a source flag, got both (--${given[0]})`,
    );
  }
  if (given.length > 1) {
    throw new UsageError(
      "serve",
      `expected one source, got ${given.map((s) => `--${s}`).join(" and ")}`,
    );
  }
  const top: Record<string, unknown> = {};
  for (const [key, flag] of TOP_NUMBER_SETTINGS) {
    const n = num(flag);
    if (n !== undefined) top[key] = n;
  }
  for (const [key, flag] of TOP_STRING_SETTINGS) if (v[flag] !== undefined) top[key] = v[flag];
  if (v["drop-same-frames"]) top.dropSameFrames = true;
  if (v["on-demand"] !== undefined) {
    top.onDemand = v["on-demand"] === "" ? true : numberFlag("serve", "on-demand", v["on-demand"]);
  }
  if (fromFile !== undefined) {
    if (typeof fromFile !== "object" || fromFile === null || Array.isArray(fromFile)) {
      throw new UsageError("serve", 'config file: expected a JSON object with "streams"');
    }
    const settings = ALL_SOURCE_FLAGS.filter((f) => v[f] !== undefined);
    if (settings.length > 0) {
      throw new UsageError(
        "serve",
        `--${settings[0]}: expected source settings in the config file's streams`,
      );
    }
    return { ...fromFile, ...top };
  }
  const type = given[0] ?? "pattern";
  const unused = ALL_SOURCE_FLAGS.filter((f) =>
    v[f] !== undefined && !SOURCE_FLAGS[type].includes(f)
  );
  if (unused.length > 0) {
    throw new UsageError(
      "serve",
      `--${unused[0]}: expected only with ${
        SOURCES.filter((s) => SOURCE_FLAGS[s].includes(unused[0]!)).map((s) => `--${s}`).join(", ")
      }, not with --${type}`,
    );
  }
  const spec: Record<string, unknown> = { type };
  for (const [flag, setting] of Object.entries(NUMBER_SETTINGS)) {
    const n = num(flag);
    if (n !== undefined) spec[setting] = n;
  }
  for (const [flag, name] of Object.entries(CAMERA_SETTING_FLAGS)) {
    if (typeof v[flag] === "boolean") spec[name] = v[flag];
    else if (v[flag] !== undefined && !isNumberSetting(name)) spec[name] = v[flag];
  }
  const backoff: Record<string, number> = {};
  for (const [flag, setting] of Object.entries(RESTART_SETTINGS)) {
    const n = num(flag);
    if (n !== undefined) backoff[setting] = n;
  }
  if (v["no-restart"] && Object.keys(backoff).length > 0) {
    throw new UsageError(
      "serve",
      `--no-restart: expected no restart delays with it, got --${
        Object.keys(RESTART_SETTINGS).find((f) => v[f] !== undefined)
      }`,
    );
  }
  if (v["no-restart"]) spec.restart = false;
  else if (Object.keys(backoff).length > 0) spec.restart = backoff;
  if (type === "camera" && v.camera !== "") spec.camera = num("camera");
  if (v["camera-args"] !== undefined) spec.extraArgs = words("camera-args");
  if (v["camera-program"] !== undefined) spec.programs = [v["camera-program"]];
  if (type === "webcam") spec.device = v.webcam;
  if (type === "url") spec.url = v.url;
  if (type === "poll") spec.url = v.poll;
  if (v.ca !== undefined) spec.ca = v.ca;
  if (v.insecure) spec.insecure = true;
  if (type === "file") spec.path = v.file;
  if (type === "command") {
    const command = words("command");
    if (command.length === 0) {
      throw new UsageError("serve", "--command: expected a program, got nothing");
    }
    spec.command = command[0];
    spec.args = command.slice(1);
  }
  return { ...top, streams: { [type]: spec } };
}
