/**
 * The flags of `mjpeg serve`, and how they become the same configuration a
 * config file gives: one stream whose source the flags describe.
 *
 * @module
 */
import {
  type FlagSpec,
  numberFlag,
  type RawCommandLine,
  splitCommandLine,
  UsageError,
} from "./usage.ts";

/** Every flag `mjpeg serve` accepts. */
export const SERVE_FLAGS: Record<string, FlagSpec> = {
  pattern: { type: "boolean" },
  camera: { type: "boolean" },
  webcam: { type: "string" },
  command: { type: "string" },
  url: { type: "string" },
  file: { type: "string" },
  config: { type: "string", short: "c" },
  width: { type: "string" },
  height: { type: "string" },
  fps: { type: "string" },
  quality: { type: "string" },
  rotation: { type: "string" },
  hflip: { type: "boolean" },
  vflip: { type: "boolean" },
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
};

// Top-level settings a flag may give: config key → flag.
const NUMBER_SETTINGS: [string, string][] = [
  ["port", "port"],
  ["maxViewers", "max-viewers"],
  ["maxSnapshots", "max-snapshots"],
  ["viewerTimeout", "viewer-timeout"],
  ["headerTimeout", "header-timeout"],
  ["maxConnections", "max-connections"],
  ["maxConnectionsPerAddress", "max-connections-per-address"],
  ["statsInterval", "stats-interval"],
];

const SOURCES = ["pattern", "camera", "webcam", "command", "url", "file"] as const;
// Which image flags each source takes; the others would be silently ignored, so they are refused.
const IMAGE_FLAGS: Record<(typeof SOURCES)[number], readonly string[]> = {
  pattern: ["width", "height", "fps", "quality"],
  camera: ["width", "height", "fps", "quality", "rotation", "hflip", "vflip"],
  webcam: ["width", "height", "fps"],
  command: [],
  url: [],
  file: ["fps"],
};
const ALL_IMAGE_FLAGS = ["width", "height", "fps", "quality", "rotation", "hflip", "vflip"];

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
  for (const [key, flag] of NUMBER_SETTINGS) {
    const n = num(flag);
    if (n !== undefined) top[key] = n;
  }
  for (const key of ["host", "auth", "token", "cors"]) if (v[key] !== undefined) top[key] = v[key];
  if (fromFile !== undefined) {
    if (typeof fromFile !== "object" || fromFile === null || Array.isArray(fromFile)) {
      throw new UsageError("serve", 'config file: expected a JSON object with "streams"');
    }
    const image = ALL_IMAGE_FLAGS.filter((f) => v[f] !== undefined);
    if (image.length > 0) {
      throw new UsageError(
        "serve",
        `--${image[0]}: expected image settings in the config file's streams`,
      );
    }
    return { ...fromFile, ...top };
  }
  const type = given[0] ?? "pattern";
  const unused = ALL_IMAGE_FLAGS.filter((f) =>
    v[f] !== undefined && !IMAGE_FLAGS[type].includes(f)
  );
  if (unused.length > 0) {
    throw new UsageError(
      "serve",
      `--${unused[0]}: expected only with ${
        SOURCES.filter((s) => IMAGE_FLAGS[s].includes(unused[0]!)).map((s) => `--${s}`).join(", ")
      }, not with --${type}`,
    );
  }
  const spec: Record<string, unknown> = { type };
  for (const flag of ["width", "height", "fps", "quality", "rotation"]) {
    const n = num(flag);
    if (n !== undefined) spec[flag] = n;
  }
  if (v.hflip) spec.hflip = true;
  if (v.vflip) spec.vflip = true;
  if (type === "webcam") spec.device = v.webcam;
  if (type === "url") spec.url = v.url;
  if (type === "file") spec.path = v.file;
  if (type === "command") {
    let words: string[];
    try {
      words = splitCommandLine(String(v.command));
    } catch (error) {
      throw new UsageError("serve", `--command: ${(error as Error).message}`);
    }
    if (words.length === 0) {
      throw new UsageError("serve", "--command: expected a program, got nothing");
    }
    spec.command = words[0];
    spec.args = words.slice(1);
  }
  return { ...top, streams: { [type]: spec } };
}
