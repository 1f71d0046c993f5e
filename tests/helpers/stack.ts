/**
 * The server side in this process: serve() on 127.0.0.1 on a free port, a
 * hub served as a stream, a timer publishing the fixtures, and the whole
 * stack (FrameHub → mjpegApp → serve()) fed by a timer or a source. Each
 * stops at the end of the test's block: `await using stack = await startStack(…)`.
 */
import "./dispose.ts";
import type { Frame } from "../../src/frame.ts";
import { mjpegApp, type MjpegAppOptions } from "../../src/hono/mjpeg_app.ts";
import {
  type FetchApp,
  type MjpegServer,
  serve,
  type ServeOptions,
} from "../../src/runtime/serve.ts";
import { FrameHub, type FrameHubOptions } from "../../src/server/frame_hub.ts";
import { mjpegResponse } from "../../src/server/mjpeg_response.ts";
import type { FrameSource } from "../../src/sources/source.ts";
import { fixtureFrames } from "./fixtures.ts";
import { sha256 } from "./hash.ts";
import type { Seen } from "./viewers.ts";

/** serve() on 127.0.0.1, on a port the system picks; the server closes when disposed. */
export function serveLocal(
  app: FetchApp,
  options: Omit<ServeOptions, "port" | "hostname"> = {},
): Promise<MjpegServer> {
  return serve(app, { ...options, port: 0, hostname: "127.0.0.1" });
}

/** Serves `hub` as an MJPEG stream at every path of a local server. */
export function serveHub(hub: FrameHub): Promise<MjpegServer> {
  return serveLocal(
    { fetch: (request: Request) => mjpegResponse(hub, { signal: request.signal }) },
    { shutdownTimeout: 500 },
  );
}

/** A timer publishing frames; stop() or disposal stops it. */
export interface Publisher extends Disposable {
  stop(): void;
}

/**
 * Publishes `frames` (the fixtures) to `hub` round-robin at `fps`, the first
 * at once. The timer is unref'd so a forgotten one cannot hang a runtime.
 */
export function publishFixtures(
  hub: FrameHub,
  fps = 30,
  frames: Uint8Array[] = fixtureFrames,
): Publisher {
  let i = 0;
  const publish = () => hub.publish(frames[i++ % frames.length]!);
  publish();
  const timer = setInterval(publish, 1000 / fps);
  (timer as { unref?: () => void }).unref?.();
  const stop = () => clearInterval(timer);
  return { stop, [Symbol.dispose]: stop };
}

/** The real server stack; disposing it closes the server and then the hub. */
export interface Stack extends AsyncDisposable {
  hub: FrameHub;
  server: MjpegServer;
  /** Every frame `feed()`'s source gave, as published to the hub. */
  published: Seen[];
  /** Starts feeding the hub from `source` (once); settles when the source's loop ends. */
  feed(source: FrameSource): Promise<void>;
  /** Stops the publishing timer and the source (and its processes), then the server. */
  close(): Promise<void>;
}

/**
 * Starts a hub, mjpegApp (with `app`'s options) and serve() on 127.0.0.1.
 * With `fps`, a timer publishes `frames` (the fixtures) from the start;
 * otherwise frames come from `feed()`, so viewers can connect before the
 * first one.
 */
export async function startStack(
  options: {
    app?: Omit<MjpegAppOptions, "streams">;
    hub?: FrameHubOptions;
    fps?: number;
    frames?: Uint8Array[];
  } = {},
): Promise<Stack> {
  const hub = new FrameHub(options.hub);
  const server = await serveLocal(mjpegApp({ ...options.app, streams: hub }));
  const publisher = options.fps ? publishFixtures(hub, options.fps, options.frames) : undefined;
  const controller = new AbortController();
  const published: Seen[] = [];
  let piping: Promise<void> = Promise.resolve();
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      publisher?.stop();
      controller.abort();
      await piping.catch(() => {});
      await server.close();
    })();
  return {
    hub,
    server,
    published,
    feed(source) {
      piping = (async () => {
        for await (const frame of source.frames(controller.signal) as AsyncIterable<Frame>) {
          if (controller.signal.aborted) break;
          published.push({ at: Date.now(), hash: sha256(frame.data), data: frame.data });
          hub.publish(frame.data, frame.headers);
        }
      })();
      return piping;
    },
    close,
    async [Symbol.asyncDispose]() {
      await close();
      hub.close();
    },
  };
}
