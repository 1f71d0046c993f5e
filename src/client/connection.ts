/**
 * One connection of the client, from the request to the end of the body:
 * status and Content-Type checks, the two deadlines, and feeding the parser.
 * It returns why the connection ended, and whether trying again could mend
 * it, so the client can decide to reconnect.
 *
 * The deadlines: the response head must arrive within `headTimeout` of the
 * request, and from then on a complete frame within every `stallTimeout`.
 * Frames, not bytes: an upstream that sends one byte a second is as useless
 * as a silent one, and used to hold a relay frozen for good. The frame clock
 * costs nothing per chunk: a timer looks at the parser's frame count a few
 * times per `stallTimeout`.
 *
 * @module
 */
import { escapeControls, quoteUntrusted } from "../errors.ts";
import { parseContentType } from "../wire/content_type.ts";
import type { MjpegParser } from "../wire/parser.ts";
import type { FetchLike } from "./options.ts";
import { type DirectBody, directBody } from "../runtime/fetch_connection.ts";
import { ConnectTimeoutError, TlsCertificateError } from "../runtime/socket_connect.ts";
import { RedirectError } from "../runtime/redirects.ts";
import { AuthenticationError } from "./camera_fetch.ts";
import { parseChallenges } from "./www_authenticate.ts";

/** What a connection needs from the client. */
export interface ConnectionContext {
  /** The stream's URL (credentials removed) or the caller's Request. */
  target: Request | URL;
  /** Request headers, Authorization included. */
  headers: Headers;
  /** How to make the request: the client's camera fetch (redirects, auth, TLS). */
  fetch: FetchLike;
  /** Whether the client has credentials, for the hint on a 401. */
  hasCredentials: boolean;
  /** Milliseconds from the request to the response head. */
  headTimeout: number;
  /** Milliseconds without a complete frame before giving up on the connection. */
  stallTimeout: number;
  /** The client's parser; reset for this connection's Content-Type. */
  parser: MjpegParser;
  /** Aborts when the client stops. */
  stop: AbortSignal;
  /** The response was accepted; bytes will follow. */
  onStreaming(): void;
  /** Body bytes arrived. */
  onBytes(count: number): void;
}

// The frame clock looks this many times per stallTimeout, so a stall is
// noticed between 1 and 1.25 stallTimeouts after the last frame.
const STALL_CHECKS = 4;

/** Why a connection ended. */
export interface ConnectionEnd {
  /** What was expected and what came (control characters escaped: it may quote the upstream). */
  reason: string;
  /**
   * Trying again would not mend it: credentials refused, a 4xx status (but
   * 408 and 429), not an MJPEG response, an untrusted certificate.
   */
  permanent: boolean;
  /** Not even the client's own retries should go on: the refusals reached their cap. */
  final: boolean;
  /** The error behind a final end, for whoever the client hands it to. */
  error?: Error;
}

/**
 * Runs one connection until it ends.
 *
 * @param ctx The client's side of the connection.
 * @returns Why it ended; undefined when the client was stopped.
 */
export async function runConnection(ctx: ConnectionContext): Promise<ConnectionEnd | undefined> {
  const ended = await connect(ctx);
  if (ended === undefined) return undefined;
  const { reason, permanent = false, final = false, error } = typeof ended === "string"
    ? { reason: ended }
    : ended;
  return {
    reason: escapeControls(reason),
    permanent: permanent || final,
    final,
    ...(error ? { error } : {}),
  };
}

type Ended = string | { reason: string; permanent?: boolean; final?: boolean; error?: Error };

async function connect(ctx: ConnectionContext): Promise<Ended | undefined> {
  const { stop, stallTimeout, headTimeout, parser } = ctx;
  const controller = new AbortController();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let direct: DirectBody | undefined;
  // Cancelling the reader ends a pending read() even if a custom fetch
  // ignores the signal, so stop() and the deadlines always get through.
  const abort = (reason: unknown) => {
    controller.abort(reason);
    reader?.cancel(reason).catch(() => {});
    direct?.cancel(reason);
  };
  const onStop = () => abort(stop.reason);
  stop.addEventListener("abort", onStop, { once: true });
  let timedOut: string | undefined;
  const started = Date.now();
  let timer = setTimeout(() => {
    timedOut = `expected a response head within ${headTimeout} ms, got none after ${
      Date.now() - started
    } ms`;
    // A TimeoutError, so that the transport can say whether it was still connecting.
    abort(new DOMException("no response head in time", "TimeoutError"));
  }, headTimeout);
  let bytes = 0;
  try {
    const request = new Request(ctx.target, { headers: ctx.headers, signal: controller.signal });
    const response = await untilAborted(ctx.fetch(request), controller.signal);
    clearTimeout(timer);
    const problem = checkResponse(response, ctx.hasCredentials);
    if (problem) {
      response.body?.cancel().catch(() => {});
      return problem;
    }
    ctx.onStreaming();
    parser.reset(response.headers.get("content-type"));
    // The frame clock: whole frames (oversized ones too: the upstream is
    // alive, and reconnecting would not shrink them).
    const framesSoFar = () => parser.stats.frames + parser.stats.oversizedFrames;
    let frames = framesSoFar();
    let lastFrame = Date.now();
    let bytesAtLastFrame = 0;
    const period = Math.max(1, stallTimeout / STALL_CHECKS);
    const checkStall = () => {
      const now = Date.now();
      const count = framesSoFar();
      if (count !== frames) {
        frames = count;
        lastFrame = now;
        bytesAtLastFrame = bytes;
      } else if (now - lastFrame >= stallTimeout) {
        timedOut = `expected a complete frame at least every ${stallTimeout} ms, got none for ${
          now - lastFrame
        } ms (${bytes - bytesAtLastFrame} bytes)`;
        abort(new Error("stalled"));
        return;
      }
      timer = setTimeout(checkStall, Math.min(period, stallTimeout - (now - lastFrame)));
    };
    timer = setTimeout(checkStall, period);
    direct = directBody(response);
    if (direct) {
      // The socket transport's bytes, parsed as they are read: no stream, no copy.
      await direct.pipe((value) => {
        bytes += value.length;
        ctx.onBytes(value.length);
        parser.push(value);
      });
    } else {
      reader = response.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        bytes += value.length;
        ctx.onBytes(value.length);
        parser.push(value);
      }
    }
    if (controller.signal.aborted) throw controller.signal.reason;
    parser.end();
    return `expected an endless stream, got the end of the response after ${bytes} bytes`;
  } catch (error) {
    if (stop.aborted) return undefined;
    if (timedOut && error instanceof ConnectTimeoutError) {
      return `expected a connection to ${error.address} within the head timeout of ${headTimeout} ms, got none after ${
        Date.now() - started
      } ms (connect timeout)`;
    }
    if (timedOut) return timedOut;
    if (error instanceof AuthenticationError) {
      return { reason: error.message, permanent: true, final: error.kind === "exhausted", error };
    }
    return {
      reason: describeError(error),
      permanent: error instanceof TlsCertificateError || error instanceof RedirectError,
    };
  } finally {
    clearTimeout(timer);
    stop.removeEventListener("abort", onStop);
    // Drops a frame cut short (its buffer goes back to the pool, it is counted).
    parser.reset();
    if (!controller.signal.aborted) abort(undefined);
  }
}

/** Says what is wrong with a response for a stream, or undefined if nothing is. */
function checkResponse(response: Response, hasCredentials: boolean): Ended | undefined {
  const status = response.status;
  if (!response.ok) {
    const got = `expected a 2xx status, got ${status} ${response.statusText.slice(0, 80)}`.trim();
    return {
      reason: status === 401 && !hasCredentials ? got + credentialsHint(response) : got,
      // A client error stays one; a server error (a camera booting, a proxy) may pass.
      permanent: status >= 400 && status < 500 && status !== 408 && status !== 429,
    };
  }
  const contentType = response.headers.get("content-type");
  if (!acceptableContentType(contentType)) {
    return {
      reason: `expected Content-Type multipart/x-mixed-replace or image/jpeg, got ${
        contentType === null ? "none" : quoteUntrusted(contentType)
      }`,
      permanent: true,
    };
  }
  if (!response.body) return "expected a response body, got none";
  return undefined;
}

/** What a 401 asks for, when the client has nothing to answer it with. */
function credentialsHint(response: Response): string {
  const schemes = [
    ...new Set(
      parseChallenges(response.headers.get("www-authenticate") ?? "").map((c) =>
        c.scheme === "bearer"
          ? "a bearer token"
          : `${c.scheme[0]!.toUpperCase()}${c.scheme.slice(1)}`
      ),
    ),
  ];
  const asks = schemes.length > 0 ? ` (it asks for ${schemes.join(" or ")})` : "";
  return `: the camera wants credentials${asks}; give them in the URL (http://user:pass@host/) or the auth option`;
}

/**
 * Multipart and JPEG types are read as such. A missing type and
 * application/octet-stream are sniffed by the parser: `ffmpeg -f mpjpeg
 * -listen 1` sends octet-stream unless told otherwise. Anything else (an HTML
 * error page, JSON) is not a stream.
 */
function acceptableContentType(contentType: string | null): boolean {
  const type = parseContentType(contentType);
  return type.kind !== "unknown" || type.mediaType === "" ||
    type.mediaType === "application/octet-stream";
}

/**
 * Rejects as soon as `signal` aborts, even if the fetch never settles; a
 * response that turns up after that has its body cancelled, not leaked.
 *
 * @param promise A fetch's response.
 * @param signal Gives up on it.
 * @returns The response, unless the signal aborted first.
 */
export function untilAborted(promise: Promise<Response>, signal: AbortSignal): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    // A turn of the event loop first, so that the transport's own error
    // (which says whether it was still connecting) wins over the bare reason.
    const onAbort = () => setTimeout(() => reject(signal.reason), 0);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (response) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) response.body?.cancel().catch(() => {});
        else resolve(response);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * An error in words: fetch errors hide the useful part ("connection refused") in `cause`.
 *
 * @param error What a fetch threw.
 * @returns Its message, with its cause's when that says more.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause && !error.message.includes(cause) ? `${error.message}: ${cause}` : error.message;
}
