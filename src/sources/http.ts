/**
 * Frames relayed from another MJPEG server through {@linkcode MjpegClient},
 * so servers can be chained: a camera's own web server (or another
 * mjpeg-stream) behind a firewall, fanned out again from here.
 *
 * @module
 */
import { MjpegClient } from "../client/client.ts";
import type { MjpegClientOptions } from "../client/options.ts";
import type { Frame } from "../frame.ts";
import { type FrameSource, type StatusListener, statusReporter } from "./source.ts";

/** Options of {@linkcode httpSource}: the client's options except `signal`, and `onStatus`. */
export type HttpSourceOptions = Omit<MjpegClientOptions, "signal"> & {
  /**
   * Hears the relay's state and last error when they change (a refused
   * connection, an HTML page instead of a stream), e.g. `hub.reportSourceStatus`.
   */
  onStatus?: StatusListener;
};

// The client tells its state through its stats; they are read this often.
const STATUS_CHECK_MS = 200;
const UPSTREAM_OFFLINE =
  "the upstream is reachable but its camera is offline: it sends keepalives or offline cards, no frames";

/**
 * Relays an upstream MJPEG stream. The client reconnects with backoff when
 * the upstream goes away, so the relay keeps serving the last frame and
 * resumes by itself.
 *
 * @param url The upstream stream, `http:` or `https:`; `user:pass@` in it
 * are answered to the camera's Digest or Basic challenge.
 * @param options Credentials (`auth`), TLS (`ca`, `insecure`), request
 * headers, reconnect policy, stall timeout, frame size limit.
 * @returns A source.
 * @throws {TypeError} When the URL is not http(s).
 *
 * @example
 * ```ts ignore
 * import { FrameHub, httpSource, pipeToHub } from "@mjpeg/stream";
 * const hub = new FrameHub();
 * pipeToHub(httpSource("http://camera.local:8080/stream.mjpg"), hub, new AbortController().signal);
 * ```
 */
export function httpSource(url: string | URL, options: HttpSourceOptions = {}): FrameSource {
  const { onStatus, ...clientOptions } = options;
  if (onStatus !== undefined && typeof onStatus !== "function") {
    throw new TypeError(`httpSource: expected onStatus to be a function, got ${typeof onStatus}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      `httpSource: expected an http:// or https:// URL, got ${JSON.stringify(String(url))}`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(
      `httpSource: expected an http:// or https:// URL, got "${parsed.protocol}"`,
    );
  }
  // Credentials in the URL would end up in logs; show the URL without them.
  const shown = new URL(parsed);
  shown.username = "";
  shown.password = "";
  return {
    description: `relay ${shown.href}`,
    async *frames(signal: AbortSignal): AsyncGenerator<Frame> {
      const client = new MjpegClient(parsed, { ...clientOptions, signal });
      const report = statusReporter(onStatus);
      report("starting");
      let framesSeen = 0;
      let keepalivesSeen = 0;
      // Frames say "running" at once; failures, and an upstream that sends only
      // keepalives (its own camera is offline), are read from the client's stats.
      const watch = onStatus
        ? setInterval(() => {
          const { state, lastError, keepalives } = client.stats;
          if (state === "waiting") report("retrying", lastError ?? null);
          else if (state === "streaming" && keepalives > keepalivesSeen) {
            keepalivesSeen = keepalives;
            report(framesSeen > 0 ? "running" : "starting", UPSTREAM_OFFLINE);
          }
        }, STATUS_CHECK_MS)
        : undefined;
      try {
        for await (const frame of client.frames()) {
          framesSeen++;
          report("running");
          yield frame;
        }
      } finally {
        clearInterval(watch);
        await client.stop();
        if (signal.aborted) report("stopped");
      }
    },
  };
}
