/**
 * A hub publishing the fixture frames, served by `serve()` with any options
 * (TLS, a unix socket, a prefix), and curl reading its stream: for the tests
 * of how the server is reached (HTTPS, unix sockets, reverse proxies).
 */
import { connect } from "node:net";
import { Hono } from "hono";
import { FrameHub, type MjpegServer, serve, type ServeOptions } from "../../src/server/mod.ts";
import { mjpegApp, type MjpegAppOptions } from "../../src/hono/mod.ts";
import { MjpegDecoderStream } from "../../src/wire/mod.ts";
import { type Publisher, publishFixtures } from "./stack.ts";
import { run } from "./processes.ts";

/** A served hub; `await using` closes it. */
export interface Serving extends AsyncDisposable {
  hub: FrameHub;
  server: MjpegServer;
  /** Stops publishing (an outage), or starts again. */
  publishing(on: boolean): void;
}

/**
 * Serves a hub fed with the fixture frames at `fps`.
 *
 * @param options `serve()`'s options (port 0 on 127.0.0.1 unless a path is given).
 * @param app `mjpegApp`'s options, and `prefix` to mount it under (e.g. `/webcam`).
 */
export async function startServing(
  options: ServeOptions = {},
  app: Omit<MjpegAppOptions, "streams"> & { prefix?: string; fps?: number; frames?: Uint8Array[] } =
    {},
): Promise<Serving> {
  const { prefix, fps = 30, frames, ...appOptions } = app;
  const hub = new FrameHub();
  let publisher: Publisher | undefined = publishFixtures(hub, fps, frames);
  const routes = mjpegApp({ streams: hub, ...appOptions });
  const outer = prefix ? new Hono().route(prefix, routes) : routes;
  const where = options.path === undefined ? { port: 0, hostname: "127.0.0.1" } : {};
  const server = await serve(outer, { ...where, log: () => {}, ...options });
  return {
    hub,
    server,
    publishing(on) {
      if (!on) {
        publisher?.stop();
        publisher = undefined;
      } else publisher ??= publishFixtures(hub, fps, frames);
    },
    async [Symbol.asyncDispose]() {
      publisher?.stop();
      await server.close();
      hub.close();
    },
  };
}

/** What curl read of a stream in a while. */
export interface CurlStream {
  /** curl's exit status: 28 when the time ran out with the stream still going. */
  code: number | null;
  stderr: string;
  /** The response head, as text. */
  head: string;
  /** The JPEGs in the body, decoded from the multipart parts. */
  frames: Uint8Array[];
}

/**
 * Reads `url` with curl for `seconds` and decodes the parts of its body.
 *
 * @param url The stream's URL.
 * @param args More curl arguments (`--cacert`, `--unix-socket`…).
 * @param seconds curl's `--max-time`.
 */
export async function curlStream(url: string, args: string[], seconds = 1): Promise<CurlStream> {
  const result = await run(
    "curl",
    ["-sS", "-D", "-", "--max-time", String(seconds), ...args, url],
    { timeoutMs: (seconds + 15) * 1000 },
  );
  const text = new TextDecoder("latin1").decode(result.stdout);
  // curl writes the head of each response (a 100 or a redirect too); the stream's is the last.
  const headEnd = text.indexOf("\r\n\r\n");
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const type = /^content-type:\s*(.+)$/im.exec(head)?.[1]?.trim();
  const frames = headEnd < 0 || !type
    ? []
    : await decodeParts(result.stdout.subarray(headEnd + 4), type);
  return { code: result.code, stderr: result.stderr, head, frames };
}

/**
 * The JPEGs of a multipart body.
 *
 * @param bytes The body (possibly cut in the middle of a part).
 * @param contentType The response's Content-Type.
 */
export async function decodeParts(bytes: Uint8Array, contentType: string): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new MjpegDecoderStream({ contentType }));
  try {
    for await (const frame of stream) frames.push(frame.data);
  } catch { /* the body was cut mid-part: keep what came whole */ }
  return frames;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
