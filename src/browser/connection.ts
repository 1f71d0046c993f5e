/**
 * One MJPEG request kept alive: `fetch`, decode, and when the response
 * fails, ends, or goes quiet for longer than the stall timeout, wait (with
 * backoff and jitter) and ask again. A view's own stream and a shared
 * multiplexed stream both run on it.
 *
 * Any part is a sign of life, a server's keepalive (the last frame again
 * during a camera outage) included: an outage of any length with keepalive
 * never reconnects, while a server that sends nothing does.
 *
 * @module
 */
import { type Frame, parseContentType } from "../wire/mod.ts";
import { pause, retryDelay } from "./backoff.ts";
import type { ReconnectEventDetail } from "./view_events.ts";

/** What a connection asks of its owner and tells it. */
export interface ConnectionHandlers<F extends Frame> {
  /** The URL and headers of the next request (read before every attempt). */
  target(): { url: string; headers: Headers };
  /** The stall timeout in milliseconds (read before every attempt). */
  stallTimeout(): number;
  /** Checks the response (see {@linkcode checkResponse}) and makes its decoder. */
  decoder(response: Response): TransformStream<Uint8Array, F>;
  /** A part arrived. */
  frame(frame: F): void;
  /** A request is under way. */
  connecting(): void;
  /** Nothing came for the stall timeout; a reconnect follows. */
  stall(timeout: number): void;
  /** The request ended; another follows after `detail.delay`. */
  reconnect(detail: ReconnectEventDetail): void;
  /** The request failed (HTTP status, not MJPEG, network): why. A reconnect follows. */
  error(error: Error): void;
}

/** A stream the watchdog gave up on. */
class Stalled extends Error {}

/**
 * Checks that a response can be MJPEG before reading it: a 2xx status and a
 * multipart or JPEG Content-Type (or none, when the bytes decide).
 *
 * @param response The response.
 * @param multipartOnly Accept only multipart (a multiplexed stream).
 * @throws {Error} Saying what was expected and what came.
 */
export function checkResponse(response: Response, multipartOnly = false): void {
  if (!response.ok) {
    throw new Error(
      `expected 200 OK from ${response.url}, got ${response.status} ${response.statusText}`.trim(),
    );
  }
  const type = response.headers.get("content-type");
  const kind = parseContentType(type).kind;
  const fine = multipartOnly ? kind === "multipart" : kind !== "unknown" || type === null;
  if (!fine) {
    throw new Error(
      `expected ${
        multipartOnly ? "multipart/x-mixed-replace" : "multipart/x-mixed-replace or image/jpeg"
      } from ${response.url}, got ${type}`,
    );
  }
}

/** One request's watchdog state. */
interface Attempt {
  request: AbortController;
  lastPart: number;
  sawPart: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Keeps one MJPEG request open until stopped. */
export class Connection<F extends Frame> {
  readonly #handlers: ConnectionHandlers<F>;
  #stop: AbortController | undefined;

  /** @param handlers Where the URL comes from and where frames and news go. */
  constructor(handlers: ConnectionHandlers<F>) {
    this.#handlers = handlers;
  }

  /** True between {@linkcode Connection.start} and {@linkcode Connection.stop}. */
  get running(): boolean {
    return this.#stop !== undefined;
  }

  /** Opens the request (and keeps it open) unless already running. */
  start(): void {
    if (this.#stop) return;
    const stop = new AbortController();
    this.#stop = stop;
    void this.#run(stop.signal);
  }

  /** Aborts the request and any wait; nothing more is reported. */
  stop(): void {
    this.#stop?.abort();
    this.#stop = undefined;
  }

  /** Drops the request under way and opens a new one at once (the target changed). */
  restart(): void {
    this.stop();
    this.start();
  }

  async #run(stop: AbortSignal): Promise<void> {
    let failures = 0;
    while (!stop.aborted) {
      const attempt: Attempt = {
        request: new AbortController(),
        lastPart: 0,
        sawPart: false,
        timer: undefined,
      };
      const abort = () => attempt.request.abort();
      stop.addEventListener("abort", abort, { once: true });
      let reason: string;
      try {
        reason = await this.#read(attempt);
      } catch (error) {
        if (stop.aborted) return;
        if (error instanceof Stalled) {
          reason = error.message;
        } else {
          const failure = error instanceof Error ? error : new Error(String(error));
          this.#handlers.error(failure);
          reason = failure.message;
        }
      } finally {
        clearTimeout(attempt.timer);
        stop.removeEventListener("abort", abort);
        attempt.request.abort();
      }
      if (stop.aborted) return;
      // A connection that delivered frames was healthy: the count starts over.
      failures = attempt.sawPart ? 1 : failures + 1;
      const delay = retryDelay(failures);
      this.#handlers.reconnect({ attempt: failures, delay, reason });
      await pause(delay, stop);
    }
  }

  /** Reads one response to its end; resolves with why it ended, throws on failure. */
  async #read(attempt: Attempt): Promise<string> {
    const { url, headers } = this.#handlers.target();
    const signal = attempt.request.signal;
    this.#handlers.connecting();
    this.#arm(attempt, this.#handlers.stallTimeout());
    try {
      const response = await fetch(url, {
        headers,
        signal,
        cache: "no-store",
        credentials: "same-origin",
      });
      const decoder = this.#handlers.decoder(response);
      if (!response.body) throw new Error(`expected a response body from ${url}, got none`);
      const reader = response.body.pipeThrough(decoder, { signal }).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return "the server ended the stream";
        attempt.lastPart = performance.now();
        attempt.sawPart = true;
        this.#handlers.frame(value);
      }
    } catch (error) {
      // An abort by the watchdog surfaces as whatever fetch or the pipe throws.
      if (signal.reason instanceof Stalled) throw signal.reason;
      throw error;
    }
  }

  /** The stall watchdog: one timer per timeout period, not one per part. */
  #arm(attempt: Attempt, timeout: number): void {
    attempt.lastPart = performance.now();
    const check = () => {
      const quiet = performance.now() - attempt.lastPart;
      if (quiet < timeout) {
        attempt.timer = setTimeout(check, timeout - quiet);
        return;
      }
      attempt.timer = undefined;
      this.#handlers.stall(timeout);
      attempt.request.abort(new Stalled(`no part for ${timeout / 1000} s`));
    };
    attempt.timer = setTimeout(check, timeout);
  }
}
