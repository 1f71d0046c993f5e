/**
 * What the read commands (`probe`, `snapshot`, `record`) share: the camera
 * flags (`--auth`, `--token`, `--ca`, `--insecure`), the client made from
 * them, and saying each new error while retrying.
 *
 * @module
 */
import process from "node:process";
import { z } from "zod";
import { duration } from "../internal/duration.ts";
import { MjpegClient } from "../client/client.ts";
import type { MjpegClientOptions } from "../client/options.ts";
import { caFileSchema, readCaFile } from "./ca_file.ts";
import { type FlagSpec, type RawCommandLine, UsageError, validateFlags } from "./usage.ts";

/** The flags every read command takes: credentials and TLS. */
export const CLIENT_FLAGS: Record<string, FlagSpec> = {
  auth: { type: "string" },
  token: { type: "string" },
  ca: { type: "string" },
  insecure: { type: "boolean" },
};

/** Their help lines. */
export const CLIENT_HELP =
  `  --auth USER:PASS    credentials, answered to the camera's Digest or Basic challenge
                      (or user:pass@ in the URL; percent-encode : @ % / ? # in them there)
  --token T           a bearer token
  --ca FILE           trust this CA (PEM) for an https camera
  --insecure          accept any certificate (self-signed, expired): trusted networks only
`;

const urlSchema = z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" });
const clientSchema = z.strictObject({
  url: urlSchema,
  auth: z.string().regex(/^[^:]+:.+$/, "expected user:password").optional(),
  token: z.string().min(1).optional(),
  ca: caFileSchema.optional(),
  insecure: z.boolean().optional(),
}).refine((o) => !(o.auth && o.token), "expected --auth or --token, not both")
  .refine((o) => !((o.auth || o.token) && /^https?:\/\/[^/]*@/.test(o.url)), {
    error: "expected credentials in the URL or in --auth/--token, not both",
  });

/**
 * A client for a read command, from its URL and flags: it stops at the
 * first permanent error (failFast).
 *
 * @param command The command, for messages.
 * @param raw Its parsed command line.
 * @param signal Stops the client.
 * @returns The client, not started.
 * @throws {UsageError} On a bad URL, credentials or CA file (exit status 2).
 */
export function clientFrom(command: string, raw: RawCommandLine, signal: AbortSignal): MjpegClient {
  if (raw.positionals.length !== 1) {
    throw new UsageError(command, `expected one URL, got ${raw.positionals.length} arguments`);
  }
  const v = raw.values;
  const given = (key: string) => v[key] !== undefined ? { [key]: v[key] } : {};
  const o = validateFlags(command, clientSchema, {
    url: raw.positionals[0],
    ...given("auth"),
    ...given("token"),
    ...given("ca"),
    ...given("insecure"),
  }, (path) => path[0] === "url" ? "URL" : `--${String(path[0])}`);
  const options: MjpegClientOptions = { signal, failFast: true };
  if (o.auth) {
    const colon = o.auth.indexOf(":");
    options.auth = { username: o.auth.slice(0, colon), password: o.auth.slice(colon + 1) };
  }
  if (o.token) options.auth = { token: o.token };
  if (o.ca) options.ca = readCaFile(o.ca);
  if (o.insecure) options.insecure = true;
  return new MjpegClient(o.url, options);
}

/**
 * Ctrl-C or SIGTERM ends a capture like reaching its limit does.
 *
 * @param controller Aborted on either signal.
 * @returns Removes the handlers.
 */
export function stopOnSignals(controller: AbortController): () => void {
  const stop = () => controller.abort();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return () => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  };
}

/**
 * Says each new error of the client once, so a retry is never silent (a
 * refused connection used to leave `record` waiting without a word).
 *
 * @param client The client to watch.
 * @param log Where to say it.
 * @param what What happens next, after the error.
 * @returns Stops watching.
 */
export function sayErrors(
  client: MjpegClient,
  log: (line: string) => void,
  what: () => string,
): () => void {
  let said: string | undefined;
  const timer = setInterval(() => {
    const error = client.stats.lastError;
    if (error !== undefined && error !== said && client.stats.state !== "stopped") {
      said = error;
      log(`${error}; ${what()}`);
    }
  }, 100);
  return () => clearInterval(timer);
}

/**
 * A duration flag in seconds, bounded: a day between stats lines, a week of
 * recording, an hour for a snapshot are far beyond use and well inside what
 * a timer can wait.
 */
export const seconds = (max: number) => duration("", { unit: "s", exclusive: true, max });
