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
import { httpFetch } from "../runtime/http_fetch.ts";

import type { FetchLike } from "../runtime/redirects.ts";

export type { FetchLike };

/** Options for {@linkcode MjpegClient}. */
export interface MjpegClientOptions {
  /** Extra request headers, e.g. a bearer token. */
  headers?: HeadersInit;
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
   * The fetch implementation to use. The default reads plain `http:` streams
   * over a socket, which is 2–5 times faster than Deno's and Node's fetch,
   * and uses the runtime's `fetch` for everything else. Pass
   * `(request) => fetch(request)` to always use the runtime's (proxies, HTTP/2).
   */
  fetch?: FetchLike;
}

/** The options with every default filled in. */
export interface ResolvedClientOptions {
  /** Extra request headers. */
  headers: Headers;
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
  /** How requests are made. */
  fetch: FetchLike;
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

const optionsSchema = z.strictObject({
  headers: z.custom<HeadersInit>((v) => {
    try {
      new Headers(v as HeadersInit);
      return true;
    } catch {
      return false;
    }
  }, { error: "expected headers as a Headers, a record or a list of [name, value] pairs" })
    .optional(),
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
  fetch: z.custom<FetchLike>((v) => typeof v === "function", {
    error: "expected fetch as a function (request: Request) => Promise<Response>",
  }).optional(),
}, {
  error: (issue) => issue.code === "invalid_type" ? "expected options as an object" : undefined,
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
    signal: o.signal,
    reconnect: o.reconnect ?? CLIENT_DEFAULTS.reconnect,
    stallTimeout,
    headTimeout: o.headTimeout ?? Math.min(stallTimeout, 600_000),
    maxFrameSize: o.maxFrameSize ?? CLIENT_DEFAULTS.maxFrameSize,
    frameQueueSize: o.frameQueueSize ?? CLIENT_DEFAULTS.frameQueueSize,
    fetch: o.fetch ?? httpFetch,
  };
}
