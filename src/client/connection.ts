/**
 * One connection of the client, from the request to the end of the body:
 * status and Content-Type checks, the stall watchdog, and feeding the parser.
 * It returns why the connection ended, so the client can decide to reconnect.
 *
 * @module
 */
import { parseContentType } from "../wire/content_type.ts";
import type { MjpegParser } from "../wire/parser.ts";
import type { FetchLike } from "./options.ts";

/** What a connection needs from the client. */
export interface ConnectionContext {
  /** The stream's URL (credentials removed) or the caller's Request. */
  target: Request | URL;
  /** Request headers, Authorization included. */
  headers: Headers;
  /** How to make the request. */
  fetch: FetchLike;
  /** Milliseconds without a byte before giving up on the connection. */
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

/**
 * Runs one connection until it ends.
 *
 * @param ctx The client's side of the connection.
 * @returns Why it ended, saying what was expected and what came; undefined
 *   when the client was stopped.
 */
export async function runConnection(ctx: ConnectionContext): Promise<string | undefined> {
  const { stop, stallTimeout, parser } = ctx;
  const controller = new AbortController();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // Cancelling the reader ends a pending read() even if a custom fetch
  // ignores the signal, so stop() and the stall watchdog always get through.
  const abort = (reason: unknown) => {
    controller.abort(reason);
    reader?.cancel(reason).catch(() => {});
  };
  const onStop = () => abort(stop.reason);
  stop.addEventListener("abort", onStop, { once: true });
  let lastByte = Date.now();
  let stalled = false;
  const checkStall = () => {
    const idle = Date.now() - lastByte;
    if (idle < stallTimeout) {
      timer = setTimeout(checkStall, stallTimeout - idle);
      return;
    }
    stalled = true;
    abort(new Error("stalled"));
  };
  let timer = setTimeout(checkStall, stallTimeout);
  let bytes = 0;
  try {
    const request = new Request(ctx.target, { headers: ctx.headers, signal: controller.signal });
    const response = await untilAborted(ctx.fetch(request), controller.signal);
    lastByte = Date.now();
    const problem = checkResponse(response);
    if (problem) {
      response.body?.cancel().catch(() => {});
      throw new Error(problem);
    }
    ctx.onStreaming();
    parser.reset(response.headers.get("content-type"));
    reader = response.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      lastByte = Date.now();
      bytes += value.length;
      ctx.onBytes(value.length);
      parser.push(value);
    }
    if (controller.signal.aborted) throw controller.signal.reason;
    parser.end();
    return `expected an endless stream, got the end of the response after ${bytes} bytes`;
  } catch (error) {
    if (stop.aborted) return undefined;
    if (stalled) {
      return `expected data at least every ${stallTimeout} ms, got none for ${
        Date.now() - lastByte
      } ms`;
    }
    return describeError(error);
  } finally {
    clearTimeout(timer);
    stop.removeEventListener("abort", onStop);
    // Drops a frame cut short (its buffer goes back to the pool, it is counted).
    parser.reset();
    if (!controller.signal.aborted) abort(undefined);
  }
}

/** Says what is wrong with a response for a stream, or undefined if nothing is. */
function checkResponse(response: Response): string | undefined {
  if (!response.ok) {
    return `expected a 2xx status, got ${response.status} ${response.statusText}`.trim();
  }
  const contentType = response.headers.get("content-type");
  if (!acceptableContentType(contentType)) {
    return `expected Content-Type multipart/x-mixed-replace or image/jpeg, got ${
      JSON.stringify(contentType)
    }`;
  }
  if (!response.body) return "expected a response body, got none";
  return undefined;
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
 */
function untilAborted(promise: Promise<Response>, signal: AbortSignal): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
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

/** fetch errors hide the useful part ("connection refused") in `cause`. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause && !error.message.includes(cause) ? `${error.message}: ${cause}` : error.message;
}
