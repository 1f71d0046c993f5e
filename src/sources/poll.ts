/**
 * Frames from a camera that only offers single JPEGs: an ESP32-CAM's
 * `/capture`, a Reolink's `cgi-bin/api.cgi?cmd=Snap…`, Frigate's
 * `/api/<camera>/latest.jpg`. The URL is asked at up to `fps` times a
 * second, never twice at once (a snapshot can take a camera half a second
 * to make), over one kept-alive connection.
 *
 * Nothing is published twice: a `304 Not Modified` (asked with
 * `If-None-Match` / `If-Modified-Since` when the camera gave an `ETag` or
 * `Last-Modified`) and an image byte-identical to the last one (what most
 * cameras send instead) are counted, not published.
 *
 * A bad answer — a 404, a 401, an HTML or JSON error page with status 200
 * (Reolink answers a refused login that way), bytes that are not a complete
 * JPEG, no answer within `timeout` — is a failure: the next request waits
 * by the shared backoff, the log gets one line per change of cause (not one
 * per request), and the status (`onStatus`, shown in `/stats`) says why.
 * Credentials the camera refused 3 times in a row end the source with the
 * `AuthenticationError`, as they end `MjpegClient`: another try could lock
 * the account.
 *
 * @module
 */
import { z } from "zod";
import type { Frame } from "../frame.ts";
import {
  Backoff,
  type BackoffOptions,
  type BackoffPolicy,
  backoffSchema,
} from "../internal/backoff.ts";
import { duration } from "../internal/duration.ts";
import { sleep } from "../internal/sleep.ts";
import { parseOptions } from "../internal/validate.ts";
import { KeepAlivePool } from "../runtime/keep_alive.ts";
import type { FetchLike } from "../runtime/redirects.ts";
import { equalBytes } from "../wire/bytes.ts";
import { cameraFetch } from "../client/camera_fetch.ts";
import { type Credentials, redactUrl, splitCredentials } from "../client/credentials.ts";
import { cameraAccessOptions } from "../client/options.ts";
import { pollOnce } from "./poll_request.ts";
import { SourceError } from "./process.ts";
import { type FrameSource, type LogLine, logToStderr, type SourceReport } from "./source.ts";

/** Options of {@linkcode pollSource}. Durations in milliseconds. */
export interface PollSourceOptions {
  /** The most requests per second (0.01 to 60); fewer when the camera is slower. @default {1} */
  fps?: number;
  /** From sending a request to the last byte of its answer; longer is a failure. @default {10000} */
  timeout?: number;
  /** Extra request headers, e.g. a cookie. */
  headers?: HeadersInit;
  /**
   * A user name and password (answered to the camera's Basic or Digest
   * challenge, as `MjpegClient` does), or a bearer token; or put
   * `user:pass@` in the URL. Refused 3 times in a row, they end the source
   * (`AuthenticationError`).
   */
  auth?: Credentials;
  /** PEM text of the CA that signed an https camera's certificate. */
  ca?: string;
  /** Accept any certificate from an https camera (self-signed, expired). */
  insecure?: boolean;
  /**
   * The wait after a failed request, growing while requests keep failing
   * (the backoff the client's reconnects and the sources' restarts share);
   * `limit` failures in a row end the source with an error.
   *
   * @default {{ initialDelay: 1000, maxDelay: 30000, multiplier: 2, jitter: 0.5, limit: Infinity }}
   */
  retry?: BackoffOptions;
  /** The largest image accepted, in bytes. @default {16777216} */
  maxFrameSize?: number;
  /**
   * Makes one request without following redirects (redirects and
   * authentication are handled here). The default keeps one connection per
   * camera open between requests; with your own, `ca` and `insecure` do
   * not apply.
   */
  fetch?: FetchLike;
  /** Where log lines go: one per change of failure cause, and recovery. @default {logToStderr} */
  log?: LogLine;
  /** Called after every request with the source's state and counters (e.g. into `hub.reportSourceStatus`). */
  onStatus?: (status: PollStatus) => void;
}

/** What a polling source reports after each request. */
export type PollStatus = {
  /**
   * As every source says it ({@linkcode SourceReport}): `starting` before the
   * first answer, `running` after a good one (an image, unchanged or not),
   * `retrying` after a bad one.
   */
  state: Exclude<SourceReport["state"], "stopped">;
  /** Why the last request failed, saying what was expected and what came; null once one succeeds. */
  lastError: string | null;
  /** When `state` or `lastError` last changed, in ms since the epoch. */
  since: number;
  /** Requests made. */
  requests: number;
  /** New images published. */
  published: number;
  /** Answers `304 Not Modified`. */
  notModified: number;
  /** Images byte-identical to the last one, not published again. */
  unchanged: number;
  /** Failed requests. */
  failures: number;
  /** TCP connections opened (fewer than requests while the camera keeps them alive). */
  connections: number;
};

const RETRY_DEFAULTS: BackoffPolicy = {
  initialDelay: 1000,
  maxDelay: 30_000,
  multiplier: 2,
  jitter: 0.5,
  limit: Infinity,
};

const optionsSchema = z.strictObject({
  fps: z.number({ error: "expected fps as a number of requests per second" })
    .min(0.01, { error: "expected fps >= 0.01" })
    .max(60, { error: "expected fps <= 60 (a snapshot URL is not a stream)" }).default(1),
  timeout: duration("timeout", { unit: "ms", exclusive: true, max: 600_000 }).default(10_000),
  ...cameraAccessOptions,
  retry: backoffSchema(RETRY_DEFAULTS, 3_600_000).optional(),
  maxFrameSize: z.number({ error: "expected maxFrameSize as a number of bytes" })
    .int({ error: "expected maxFrameSize as a whole number of bytes" })
    .min(4, { error: "expected maxFrameSize >= 4" }).default(16 * 1024 * 1024),
  fetch: z.custom<FetchLike>((v) => typeof v === "function", {
    error: "expected fetch as a function (request: Request) => Promise<Response>",
  }).optional(),
  log: z.custom<LogLine>((v) => typeof v === "function", { error: "expected log as a function" })
    .optional(),
  onStatus: z.custom<(status: PollStatus) => void>((v) => typeof v === "function", {
    error: "expected onStatus as a function",
  }).optional(),
}, {
  error: (issue) => issue.code === "invalid_type" ? "expected options as an object" : undefined,
}).refine((o) => !(o.fetch && (o.ca !== undefined || o.insecure)), {
  error: "expected ca and insecure without fetch (a fetch of your own does its own TLS)",
});
type Parsed = z.output<typeof optionsSchema>;

/**
 * Polls a snapshot URL for JPEGs.
 *
 * @param url The camera's JPEG URL, `http:` or `https:`; `user:pass@` in it
 *   are credentials for the camera's Basic or Digest challenge.
 * @param options Rate, timeout, headers, backoff, size limit, log, status.
 * @returns A source; each `frames()` call polls anew. Its frames end with a
 *   `SourceError` after `retry.limit` failures in a row, or an
 *   `AuthenticationError` when the credentials were refused 3 times in a row.
 * @throws {TypeError} On a URL that is not http(s) or a bad option.
 *
 * @example
 * ```ts ignore
 * import { FrameHub } from "@mjpeg/stream/server";
 * import { pipeToHub, pollSource } from "@mjpeg/stream/sources";
 * const hub = new FrameHub();
 * const source = pollSource("http://esp32cam.local/capture", {
 *   fps: 5,
 *   onStatus: (status) => hub.reportSourceStatus(status),
 * });
 * pipeToHub(source, hub, new AbortController().signal);
 * ```
 */
export function pollSource(url: string | URL, options: PollSourceOptions = {}): FrameSource {
  let split;
  try {
    split = splitCredentials(url);
  } catch {
    throw new TypeError(
      `pollSource: expected an http:// or https:// URL, got ${JSON.stringify(String(url))}`,
    );
  }
  const o = parseOptions(optionsSchema, options, "pollSource options");
  if (split.credentials && o.auth) {
    throw new TypeError(
      "pollSource: expected credentials in the URL or in the auth option, got both",
    );
  }
  const credentials = split.credentials ?? o.auth;
  const headers = new Headers(o.headers);
  const shown = redactUrl(split.url);
  return {
    description: `poll ${shown} at up to ${o.fps} fps`,
    frames: (signal) => pollFrames(split.url, credentials, headers, shown, o, signal),
  };
}

async function* pollFrames(
  url: URL,
  credentials: Credentials | undefined,
  headers: Headers,
  shown: string,
  o: Parsed,
  signal: AbortSignal,
): AsyncGenerator<Frame> {
  const pool = o.fetch ? undefined : new KeepAlivePool({ ca: o.ca, insecure: o.insecure });
  // Redirects, and the camera's challenges answered, over the kept connection.
  const transport = cameraFetch({ url, credentials, fetch: o.fetch ?? pool!.fetch });
  const log = o.log ?? logToStderr;
  const backoff = new Backoff(o.retry ?? RETRY_DEFAULTS);
  const interval = 1000 / o.fps;
  const status: PollStatus = {
    state: "starting",
    lastError: null,
    since: Date.now(),
    requests: 0,
    published: 0,
    notModified: 0,
    unchanged: 0,
    failures: 0,
    connections: 0,
  };
  let last: Uint8Array | undefined;
  let validators: { etag: string | null; lastModified: string | null } = {
    etag: null,
    lastModified: null,
  };
  let sequence = 0;
  let inRow = 0; // failed requests since the last good answer
  let lastCause: string | undefined; // of the failure last logged
  let next = performance.now();
  try {
    while (!signal.aborted) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait, signal);
      if (signal.aborted) break;
      next = performance.now() + interval;
      const request = new Headers(headers);
      if (last && validators.etag) request.set("if-none-match", validators.etag);
      if (last && validators.lastModified) {
        request.set("if-modified-since", validators.lastModified);
      }
      status.requests++;
      const outcome = await pollOnce(url, request, transport, o, signal, (response) => {
        validators = {
          etag: response.headers.get("etag"),
          lastModified: response.headers.get("last-modified"),
        };
      });
      if (signal.aborted) break;
      status.connections = pool?.connectionsOpened ?? 0;
      if (outcome.kind === "failed") {
        status.failures++;
        inRow++;
        const cause = outcome.cause ?? outcome.error;
        if (cause !== lastCause) {
          // The last refusal is not logged here: it is thrown, and its catcher says it.
          if (!outcome.final) log(`poll ${shown}: ${outcome.error}; retrying with backoff`);
          Object.assign(status, { state: "retrying", since: Date.now() });
          lastCause = cause;
        }
        status.lastError = outcome.error;
        o.onStatus?.({ ...status });
        if (outcome.final) throw outcome.final;
        const delay = backoff.next();
        if (delay === undefined) {
          throw new SourceError(
            `pollSource gave up after ${inRow} failed requests in a row; last: ${outcome.error}`,
          );
        }
        next = Math.max(next, performance.now() + delay);
        continue;
      }
      if (status.state !== "running") {
        if (status.state === "retrying") {
          log(`poll ${shown}: answering again after ${inRow} failed requests`);
        }
        Object.assign(status, { state: "running", lastError: null, since: Date.now() });
        lastCause = undefined;
      }
      backoff.reset();
      inRow = 0;
      let frame: Frame | undefined;
      if (outcome.kind === "not-modified") status.notModified++;
      else if (last && equalBytes(last, outcome.data)) status.unchanged++;
      else {
        last = outcome.data;
        status.published++;
        frame = {
          data: outcome.data,
          headers: new Headers(),
          sequence: sequence++,
          timestamp: Date.now(),
        };
      }
      o.onStatus?.({ ...status });
      if (frame) yield frame;
    }
  } finally {
    pool?.close();
  }
}
