/**
 * MjpegClient's options: the public shape, the defaults, and the zod schema
 * that turns a bad value into a clear error at construction rather than a
 * confusing failure minutes later on a reconnect.
 *
 * @module
 */
import { z } from "zod";
import { duration } from "../internal/duration.ts";
import { httpFetch } from "../runtime/http_fetch.ts";

import type { FetchLike } from "../runtime/redirects.ts";

export type { FetchLike };

/** How the client waits between connection attempts. */
export interface ReconnectOptions {
  /**
   * Milliseconds to wait before the first reconnect after a failure (at most 1 h).
   *
   * @default {500}
   */
  initialDelay?: number;
  /**
   * The longest wait between attempts, in milliseconds (at most 1 h).
   *
   * @default {30000}
   */
  maxDelay?: number;
  /**
   * How much the wait grows per failed attempt in a row.
   *
   * @default {2}
   */
  multiplier?: number;
  /**
   * Fraction (0..1) of each wait that is random, so many clients of one camera
   * do not reconnect in lock-step.
   *
   * @default {0.5}
   */
  jitter?: number;
  /**
   * How many attempts in a row may fail (no complete frame in between) before
   * the client gives up and stops. `Infinity` never gives up; `0` never
   * reconnects.
   *
   * @default {Infinity}
   */
  limit?: number;
}

/** Options for {@linkcode MjpegClient}. */
export interface MjpegClientOptions {
  /** Extra request headers, e.g. a bearer token. */
  headers?: HeadersInit;
  /** Aborting this signal stops the client, like calling `stop()`. */
  signal?: AbortSignal;
  /** The reconnect policy. */
  reconnect?: ReconnectOptions;
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
  /** The reconnect policy. */
  reconnect: Required<ReconnectOptions>;
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

const reconnectSchema = z.strictObject({
  initialDelay: duration("reconnect.initialDelay", { unit: "ms", max: HOUR }).optional(),
  maxDelay: duration("reconnect.maxDelay", { unit: "ms", max: HOUR }).optional(),
  multiplier: z.number({ error: "expected reconnect.multiplier as a number >= 1" })
    .min(1, { error: "expected reconnect.multiplier >= 1" }).finite().optional(),
  jitter: z.number({ error: "expected reconnect.jitter as a number between 0 and 1" })
    .min(0, { error: "expected reconnect.jitter between 0 and 1" })
    .max(1, { error: "expected reconnect.jitter between 0 and 1" }).optional(),
  // z.number() refuses Infinity, which here means "never give up".
  limit: z.custom<number>(
    (v) => typeof v === "number" && v >= 0 && (v === Infinity || Number.isInteger(v)),
    { error: "expected reconnect.limit as a whole number >= 0 or Infinity" },
  ).optional(),
}, { error: "expected reconnect as an object" });

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
  reconnect: reconnectSchema.optional(),
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
}, { error: "expected options as an object" });

/** The defaults, one place for docs and code. */
export const CLIENT_DEFAULTS: {
  reconnect: Required<ReconnectOptions>;
  stallTimeout: number;
  maxFrameSize: number;
  frameQueueSize: number;
} = {
  reconnect: { initialDelay: 500, maxDelay: 30_000, multiplier: 2, jitter: 0.5, limit: Infinity },
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
  const result = optionsSchema.safeParse(options ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.join(".");
      const got = describe(issue.path.reduce<unknown>(
        (v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k],
        options,
      ));
      return issue.code === "unrecognized_keys"
        ? `unknown option(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}${
          path ? ` in ${path}` : ""
        }`
        : `${issue.message}, got ${got}`;
    });
    throw new TypeError(`MjpegClient: invalid options: ${problems.join("; ")}`);
  }
  const o = result.data;
  const r = o.reconnect ?? {};
  const d = CLIENT_DEFAULTS.reconnect;
  const reconnect: Required<ReconnectOptions> = {
    initialDelay: r.initialDelay ?? d.initialDelay,
    maxDelay: r.maxDelay ?? Math.max(d.maxDelay, r.initialDelay ?? 0),
    multiplier: r.multiplier ?? d.multiplier,
    jitter: r.jitter ?? d.jitter,
    limit: r.limit ?? d.limit,
  };
  if (reconnect.maxDelay < reconnect.initialDelay) {
    throw new TypeError(
      `MjpegClient: invalid options: expected reconnect.maxDelay >= reconnect.initialDelay (${reconnect.initialDelay}), got ${reconnect.maxDelay}`,
    );
  }
  const fetchImpl = o.fetch ?? httpFetch;
  return {
    headers: new Headers(o.headers),
    signal: o.signal,
    reconnect,
    stallTimeout: o.stallTimeout ?? CLIENT_DEFAULTS.stallTimeout,
    headTimeout: o.headTimeout ?? Math.min(o.stallTimeout ?? CLIENT_DEFAULTS.stallTimeout, 600_000),
    maxFrameSize: o.maxFrameSize ?? CLIENT_DEFAULTS.maxFrameSize,
    frameQueueSize: o.frameQueueSize ?? CLIENT_DEFAULTS.frameQueueSize,
    fetch: fetchImpl,
  };
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : `an object (${value.constructor?.name ?? "Object"})`;
}
