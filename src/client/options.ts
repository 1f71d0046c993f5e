/**
 * MjpegClient's options: the public shape, the defaults, and the zod schema
 * that turns a bad value into a clear error at construction rather than a
 * confusing failure minutes later on a reconnect.
 *
 * @module
 */
import { z } from "zod";
import { type BackoffOptions, type BackoffPolicy, backoffSchema } from "../internal/backoff.ts";
import { duration } from "../internal/duration.ts";
import { parseOptions } from "../internal/validate.ts";
import type { FetchLike } from "../runtime/redirects.ts";
import type { Credentials } from "./credentials.ts";

export type { Credentials, FetchLike };

/** Options for {@linkcode MjpegClient}. */
export interface MjpegClientOptions {
  /** Extra request headers. */
  headers?: HeadersInit;
  /**
   * A user name and password, answered to the camera's challenge with Digest
   * (MD5, SHA-256, SHA-512-256, their -sess forms) or Basic, whichever is the
   * strongest it offers; or a bearer token, sent with every request. Instead
   * of `user:pass@` in the URL, not with it.
   */
  auth?: Credentials;
  /** PEM text of the CA certificate(s) to trust for an https camera, instead of the built-in ones. */
  ca?: string;
  /**
   * Accept any certificate from an https camera (self-signed, expired,
   * another host's): only on a network you trust.
   *
   * @default {false}
   */
  insecure?: boolean;
  /**
   * Stop at the first error that another attempt would not mend — credentials
   * refused, a 4xx status (but 408 and 429), a response that is not MJPEG,
   * an untrusted certificate, a redirect refused — instead of reconnecting: for scripts and
   * health checks. Without it those are retried with backoff like any other.
   *
   * @default {false}
   */
  failFast?: boolean;
  /** Aborting this signal stops the client, like calling `stop()`. */
  signal?: AbortSignal;
  /**
   * How long to wait between connection attempts: the backoff the sources'
   * restarts use too. Here `initialDelay` and `maxDelay` are at most 1 h,
   * and a connection that delivered a frame starts the backoff over; `limit`
   * counts attempts in a row without a frame before the client gives up.
   *
   * @default {{ initialDelay: 500, maxDelay: 30000, multiplier: 2, jitter: 0.5, limit: Infinity }}
   */
  reconnect?: BackoffOptions;
  /**
   * Milliseconds without a complete frame after which the connection counts
   * as dead and is replaced (at most 1 h). Whole frames, not bytes: an
   * upstream that trickles a byte a second is as dead as a silent one. The
   * clock starts when the response head has arrived.
   *
   * @default {10000}
   */
  stallTimeout?: number;
  /**
   * Milliseconds from the request to the response head (connecting, TLS,
   * the status line and headers, any 1xx responses) before the attempt is
   * given up (at most 10 min).
   *
   * @default the stallTimeout
   */
  headTimeout?: number;
  /**
   * The largest frame, in bytes, the parser accepts; larger ones are dropped
   * and counted. Frames larger than the lent buffer are dropped regardless.
   *
   * @default {16777216}
   */
  maxFrameSize?: number;
  /**
   * How many frames `frames()` keeps for a slow consumer; when full, the
   * oldest is dropped, so the newest always wins.
   *
   * @default {2}
   */
  frameQueueSize?: number;
  /**
   * The fetch implementation to use. The default reads `http:` and `https:`
   * streams over a socket, which is 2–5 times faster than Deno's and Node's
   * fetch. Pass `(request) => fetch(request)` to use the runtime's (proxies,
   * HTTP/2); then `ca` and `insecure` do not apply. Redirects and
   * authentication stay the client's either way.
   */
  fetch?: FetchLike;
}

/** The options with every default filled in. */
export interface ResolvedClientOptions {
  /** Extra request headers. */
  headers: Headers;
  /** Credentials from the options. */
  auth: Credentials | undefined;
  /** The CA to trust for https. */
  ca: string | undefined;
  /** Whether certificates go unchecked. */
  insecure: boolean;
  /** Whether a permanent error stops the client. */
  failFast: boolean;
  /** Stops the client when aborted. */
  signal: AbortSignal | undefined;
  /** The reconnect backoff. */
  reconnect: BackoffPolicy;
  /** Milliseconds without a complete frame before reconnecting. */
  stallTimeout: number;
  /** Milliseconds from the request to the response head. */
  headTimeout: number;
  /** The parser's frame size limit in bytes. */
  maxFrameSize: number;
  /** How many frames `frames()` holds. */
  frameQueueSize: number;
  /** How one request is made; undefined for the socket transport. */
  fetch: FetchLike | undefined;
}

// The longest any of the client's waits may be: an hour (a time-lapse camera
// may send a frame a minute; a reconnect wait of hours is a stopped client).
const HOUR = 3_600_000;

/** The client reconnects sooner than a source restarts, and with jitter: many clients, one camera. */
const RECONNECT_DEFAULTS: BackoffPolicy = {
  initialDelay: 500,
  maxDelay: 30_000,
  multiplier: 2,
  jitter: 0.5,
  limit: Infinity,
};

/**
 * How to reach a camera, as every reader of one takes it (the client, the
 * polling source): extra headers, credentials, and the trust for https.
 */
export const cameraAccessOptions: {
  headers: z.ZodOptional<z.ZodType<HeadersInit>>;
  auth: z.ZodOptional<z.ZodType<Credentials>>;
  ca: z.ZodOptional<z.ZodType<string>>;
  insecure: z.ZodOptional<z.ZodBoolean>;
} = {
  headers: z.custom<HeadersInit>((v) => {
    try {
      new Headers(v as HeadersInit);
      return true;
    } catch {
      return false;
    }
  }, { error: "expected headers as a Headers, a record or a list of [name, value] pairs" })
    .optional(),
  auth: z.union([
    z.strictObject({ username: z.string(), password: z.string() }),
    z.strictObject({ token: z.string().min(1) }),
  ], { error: "expected auth as { username, password } or { token }" }).optional(),
  ca: z.string({ error: "expected ca as PEM text" }).refine(
    (pem) => pem.includes("-----BEGIN CERTIFICATE-----"),
    { error: 'expected ca as PEM text ("-----BEGIN CERTIFICATE-----" …)' },
  ).optional(),
  insecure: z.boolean({ error: "expected insecure as true or false" }).optional(),
};

const optionsSchema = z.strictObject({
  headers: cameraAccessOptions.headers,
  // Not z.instanceof: under Deno's lib AbortSignal's constructor type is never.
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, {
    error: "expected signal as an AbortSignal",
  }).optional(),
  reconnect: backoffSchema(RECONNECT_DEFAULTS, HOUR).optional(),
  stallTimeout: duration("stallTimeout", { unit: "ms", exclusive: true, max: HOUR }).optional(),
  headTimeout: duration("headTimeout", { unit: "ms", exclusive: true, max: 600_000 }).optional(),
  maxFrameSize: z.number({ error: "expected maxFrameSize as a number of bytes" })
    .int({ error: "expected maxFrameSize as a whole number of bytes" })
    .positive({ error: "expected maxFrameSize > 0" }).optional(),
  frameQueueSize: z.number({ error: "expected frameQueueSize as a whole number >= 1" })
    .int({ error: "expected frameQueueSize as a whole number >= 1" })
    .min(1, { error: "expected frameQueueSize >= 1" }).max(1000, {
      error: "expected frameQueueSize <= 1000 (it is a small newest-wins queue)",
    }).optional(),
  auth: cameraAccessOptions.auth,
  ca: cameraAccessOptions.ca,
  insecure: cameraAccessOptions.insecure,
  failFast: z.boolean({ error: "expected failFast as true or false" }).optional(),
  fetch: z.custom<FetchLike>((v) => typeof v === "function", {
    error: "expected fetch as a function (request: Request) => Promise<Response>",
  }).optional(),
}, {
  error: (issue) => issue.code === "invalid_type" ? "expected options as an object" : undefined,
}).refine((o) => !(o.fetch && (o.ca !== undefined || o.insecure)), {
  error: "expected ca and insecure without fetch (a fetch of your own does its own TLS)",
});

/** The defaults, one place for docs and code. */
export const CLIENT_DEFAULTS: {
  reconnect: BackoffPolicy;
  stallTimeout: number;
  maxFrameSize: number;
  frameQueueSize: number;
} = {
  reconnect: RECONNECT_DEFAULTS,
  stallTimeout: 10_000,
  maxFrameSize: 16 * 1024 * 1024,
  frameQueueSize: 2,
};

/**
 * Validates options and fills in the defaults.
 *
 * @param options What the caller passed.
 * @returns The complete options.
 * @throws {TypeError} Naming every bad option, what was expected and what came.
 */
export function resolveClientOptions(options: unknown = {}): ResolvedClientOptions {
  const o = parseOptions(optionsSchema, options ?? {}, "MjpegClient options");
  const stallTimeout = o.stallTimeout ?? CLIENT_DEFAULTS.stallTimeout;
  return {
    headers: new Headers(o.headers),
    auth: o.auth,
    ca: o.ca,
    insecure: o.insecure ?? false,
    failFast: o.failFast ?? false,
    signal: o.signal,
    reconnect: o.reconnect ?? CLIENT_DEFAULTS.reconnect,
    stallTimeout,
    headTimeout: o.headTimeout ?? Math.min(stallTimeout, 600_000),
    maxFrameSize: o.maxFrameSize ?? CLIENT_DEFAULTS.maxFrameSize,
    frameQueueSize: o.frameQueueSize ?? CLIENT_DEFAULTS.frameQueueSize,
    fetch: o.fetch,
  };
}
