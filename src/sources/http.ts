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
import type { FrameSource } from "./source.ts";

/** Options of {@linkcode httpSource}: the client's options except `signal`. */
export type HttpSourceOptions = Omit<MjpegClientOptions, "signal">;

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
      const client = new MjpegClient(parsed, { ...options, signal });
      try {
        yield* client.frames();
      } finally {
        await client.stop();
      }
    },
  };
}
