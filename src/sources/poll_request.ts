/**
 * One request of the polling source and what its answer means: an image, a
 * `304 Not Modified`, or a failure in words — a status other than 2xx, bytes
 * that are not a complete JPEG (whatever the Content-Type says), too many of
 * them, or no whole answer in time.
 *
 * @module
 */
import { escapeControls, excerpt, quoteUntrusted } from "../errors.ts";
import { AuthenticationError } from "../client/camera_fetch.ts";
import { describeError, untilAborted } from "../client/connection.ts";
import type { FetchLike } from "../runtime/redirects.ts";
import { jpegLength } from "../wire/jpeg.ts";

// The most of an error page read (to quote it, and to keep the connection).
const ERROR_BODY = 64 * 1024;

/** One poll's outcome. */
export type Outcome =
  | { kind: "image"; data: Uint8Array }
  | { kind: "not-modified" }
  | {
    kind: "failed";
    error: string;
    // What the log tells apart, when the message alone would change every
    // time (a refusal count): one line per cause, not per request.
    cause?: string;
    // Credentials refused as often as a camera allows: the source ends with
    // this, as a relay's client does, rather than fail every request unsent.
    final?: AuthenticationError;
  };

/**
 * One request: its answer as an image, a 304, or why it failed.
 *
 * @param url The camera's URL.
 * @param headers The request's headers (validators included).
 * @param transport Makes the request: redirects followed, challenges answered.
 * @param o The deadline for the whole answer and the largest image, in ms and bytes.
 * @param stop Aborts the request.
 * @param onImageResponse Gets the response of an image (for its validators).
 * @returns What came.
 */
export async function pollOnce(
  url: URL,
  headers: Headers,
  transport: FetchLike,
  o: { timeout: number; maxFrameSize: number },
  stop: AbortSignal,
  onImageResponse: (response: Response) => void,
): Promise<Outcome> {
  const controller = new AbortController();
  let timedOut = false;
  const onStop = () => controller.abort(stop.reason);
  stop.addEventListener("abort", onStop, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException("poll timeout", "TimeoutError"));
  }, o.timeout);
  try {
    const request = new Request(url, { headers, signal: controller.signal });
    const response = await untilAborted(transport(request), controller.signal);
    if (response.status === 304) {
      await response.body?.cancel().catch(() => {});
      return { kind: "not-modified" };
    }
    const type = response.headers.get("content-type");
    if (!response.ok) {
      const page = await readBody(response, ERROR_BODY, controller.signal, true);
      return {
        kind: "failed",
        error: `expected a 2xx status, got ${
          `${response.status} ${escapeControls(response.statusText.slice(0, 80))}`.trim()
        } (${described(type, page)})`,
      };
    }
    const declared = Number(response.headers.get("content-length") ?? NaN);
    if (declared > o.maxFrameSize) {
      await response.body?.cancel().catch(() => {});
      return {
        kind: "failed",
        error:
          `expected an image of at most ${o.maxFrameSize} bytes, got Content-Length ${declared}`,
      };
    }
    const data = await readBody(response, o.maxFrameSize, controller.signal, false);
    if (data === undefined) {
      return {
        kind: "failed",
        error: `expected an image of at most ${o.maxFrameSize} bytes, got more`,
      };
    }
    // The bytes decide, not the Content-Type: cameras label JPEGs every which
    // way, and Reolink labels its JSON error text/html with status 200.
    if (data.length < 2 || data[0] !== 0xff || data[1] !== 0xd8) {
      return { kind: "failed", error: `expected a JPEG, got ${described(type, data)}` };
    }
    const length = jpegLength(data);
    if (length < 0) {
      return {
        kind: "failed",
        error: `expected a complete JPEG, got ${data.length} bytes without its end (EOI)`,
      };
    }
    onImageResponse(response);
    return { kind: "image", data: length === data.length ? data : data.slice(0, length) };
  } catch (error) {
    if (stop.aborted) return { kind: "failed", error: "stopped" };
    if (timedOut) {
      return { kind: "failed", error: `expected an answer within ${o.timeout} ms, got none` };
    }
    const message = escapeControls(describeError(error));
    if (error instanceof AuthenticationError) {
      return {
        kind: "failed",
        error: message,
        cause: `auth ${error.kind}`,
        ...(error.kind === "exhausted" ? { final: error } : {}),
      };
    }
    return { kind: "failed", error: message };
  } finally {
    clearTimeout(timer);
    stop.removeEventListener("abort", onStop);
    if (!controller.signal.aborted) controller.abort();
  }
}

/** `"text/html" "<html>…"`: the type and first bytes of what came instead of a JPEG. */
function described(type: string | null, body: Uint8Array | undefined): string {
  const what = type === null ? "no Content-Type" : quoteUntrusted(type, 60);
  return body && body.length > 0 ? `${what} ${excerpt(body, 80)}` : what;
}

/**
 * Reads a body of at most `max` bytes. Past that it stops reading: an
 * error page is then cut (`cut`), an image is refused (undefined).
 */
async function readBody(
  response: Response,
  max: number,
  signal: AbortSignal,
  cut: true,
): Promise<Uint8Array>;
async function readBody(
  response: Response,
  max: number,
  signal: AbortSignal,
  cut: false,
): Promise<Uint8Array | undefined>;
async function readBody(
  response: Response,
  max: number,
  signal: AbortSignal,
  cut: boolean,
): Promise<Uint8Array | undefined> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const onAbort = () => reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (signal.aborted) throw signal.reason;
      if (total + value.length > max) {
        reader.cancel().catch(() => {});
        if (!cut) return undefined;
        chunks.push(value.subarray(0, max - total));
        total = max;
        break;
      }
      chunks.push(value);
      total += value.length;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (signal.aborted) throw signal.reason;
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
