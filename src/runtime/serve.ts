/**
 * `serve()`: one call that starts an HTTP server on Deno (`Deno.serve`), Bun
 * (`Bun.serve`) or Node (`@hono/node-server`), and a graceful shutdown that
 * ends every MJPEG stream. This is the only HTTP code that knows which runtime
 * it is on; the runtimes' types are declared here, minimally, so the type
 * checker needs no Deno or Bun type packages.
 *
 * @module
 */
import { z } from "zod";
import { duration } from "../internal/duration.ts";
import { type StreamControl, streamControl } from "./stream_control.ts";
import { parseOptions } from "../internal/validate.ts";

/** Anything with a web-standard `fetch` handler, such as a Hono app. */
export interface FetchApp {
  /**
   * Answers one request.
   *
   * @param request The request.
   * @param env The runtime's connection info (Deno's `info`, Bun's server, Node's `{ incoming, outgoing }`).
   */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
}

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /**
   * The TCP port; 0 picks a free one (read it from {@linkcode MjpegServer.port}).
   *
   * @default {8080}
   */
  port?: number;
  /**
   * The address to listen on.
   *
   * Loopback by default, so nothing is exposed by accident; pass `"0.0.0.0"`
   * (or `"::"`) to serve the network.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** Shuts the server down gracefully when aborted. */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for connections to finish on close before cutting them (at most 10 min).
   *
   * @default {5000}
   */
  shutdownTimeout?: number;
}

/** A running server, as returned by {@linkcode serve}. */
export interface MjpegServer extends AsyncDisposable {
  /** The runtime serving: `deno`, `bun` or `node`. */
  readonly runtime: "deno" | "bun" | "node";
  /** The bound port (useful with `port: 0`). */
  readonly port: number;
  /** The address it listens on. */
  readonly hostname: string;
  /** A URL to reach it, e.g. `http://127.0.0.1:8080` (loopback when listening on all addresses). */
  readonly url: string;
  /** MJPEG streams being served now. */
  readonly activeStreams: number;
  /** Settles once the server has closed. */
  readonly finished: Promise<void>;
  /** Stops accepting connections, ends every stream, and waits for the server to close. */
  close(): Promise<void>;
}

const optionsSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).optional(),
  hostname: z.string().min(1).optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, "expected an AbortSignal")
    .optional(),
  shutdownTimeout: duration("shutdownTimeout", { unit: "ms", max: 600_000 }).optional(),
});

// The few runtime APIs used here, declared locally.
interface DenoHttpServer {
  addr: { hostname: string; port: number };
  finished: Promise<void>;
  shutdown(): Promise<void>;
}
interface DenoGlobal {
  serve(
    options: { port: number; hostname: string; onListen: () => void },
    handler: (request: Request, info: unknown) => Response | Promise<Response>,
  ): DenoHttpServer;
}
interface BunServer {
  port: number;
  hostname: string;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
  timeout(request: Request, seconds: number): void;
}
interface BunGlobal {
  serve(options: {
    port: number;
    hostname: string;
    fetch: (request: Request, server: BunServer) => Response | Promise<Response>;
  }): BunServer;
}

/** What each runtime adapter provides. */
interface Listener {
  port: number;
  /** Stop accepting; resolves when every connection has closed. */
  stop(): Promise<void>;
  /** Cut the remaining connections. */
  force(): void;
}

type Handler = (
  request: Request,
  env: unknown,
  onStream: (request: Request) => void,
) => Promise<Response>;

/**
 * Serves `app` on Deno, Bun or Node, whichever is running. Streams stay open
 * however long they run (Bun's idle timeout is turned off for them); `close()`
 * (or aborting `signal`) stops accepting, ends every MJPEG stream cleanly and
 * waits up to `shutdownTimeout` before cutting what is left.
 *
 * @param app A Hono app or anything with `fetch(request)`.
 * @param options Port, hostname, abort signal, shutdown timeout.
 * @returns The running server, once it is listening.
 *
 * @example
 * ```ts ignore
 * import { FrameHub } from "@mjpeg/stream";
 * import { mjpegApp } from "@mjpeg/stream/hono";
 * import { serve } from "@mjpeg/stream";
 *
 * const hub = new FrameHub();
 * const server = await serve(mjpegApp({ streams: hub }), { port: 8080 });
 * console.log(`open ${server.url}/`);
 * ```
 */
export async function serve(app: FetchApp, options: ServeOptions = {}): Promise<MjpegServer> {
  const parsed = parseOptions(optionsSchema, options, "serve options");
  const port = parsed.port ?? 8080;
  const hostname = parsed.hostname ?? "127.0.0.1";
  const shutdownTimeout = parsed.shutdownTimeout ?? 5000;
  const streams = new Set<StreamControl>();
  let closing = false;

  const handle: Handler = async (request, env, onStream) => {
    const response = await app.fetch(request, env);
    const control = streamControl(response.body);
    if (control) {
      if (closing) control.end();
      streams.add(control);
      control.done.then(() => streams.delete(control));
      onStream(request);
    }
    return response;
  };

  const globals = globalThis as unknown as { Deno?: DenoGlobal; Bun?: BunGlobal };
  const runtime = globals.Deno ? "deno" : globals.Bun ? "bun" : "node";
  const listener = globals.Deno
    ? listenDeno(globals.Deno, port, hostname, handle)
    : globals.Bun
    ? listenBun(globals.Bun, port, hostname, handle)
    : await listenNode(port, hostname, handle);

  let resolveFinished: () => void = () => {};
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      parsed.signal?.removeEventListener("abort", onAbort);
      const stopped = listener.stop();
      // Endless bodies never finish on their own: end ours now.
      for (const control of streams) control.end();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), shutdownTimeout);
      });
      if (await Promise.race([stopped.then(() => false), timedOut])) {
        listener.force();
        await stopped;
      }
      clearTimeout(timer);
      resolveFinished();
    })();
    return closed;
  };
  const onAbort = () => void close();
  if (parsed.signal?.aborted) void close();
  else parsed.signal?.addEventListener("abort", onAbort, { once: true });

  const shown = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "[::1]" : hostname;
  return {
    runtime,
    port: listener.port,
    hostname,
    url: `http://${
      shown.includes(":") && !shown.startsWith("[") ? `[${shown}]` : shown
    }:${listener.port}`,
    get activeStreams() {
      return streams.size;
    },
    finished,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function listenDeno(deno: DenoGlobal, port: number, hostname: string, handle: Handler): Listener {
  const server = deno.serve(
    { port, hostname, onListen: () => {} },
    (request, info) => handle(request, info, () => {}),
  );
  return {
    port: server.addr.port,
    stop: () => server.shutdown(),
    // Deno has no forced close; ending our streams is what lets shutdown finish.
    force: () => {},
  };
}

function listenBun(bun: BunGlobal, port: number, hostname: string, handle: Handler): Listener {
  const server = bun.serve({
    port,
    hostname,
    // Bun closes a connection idle for 10 s by default; a stream waiting on a
    // slow camera is idle, so streams get no idle timeout.
    fetch: (request, srv) => handle(request, srv, (r) => srv.timeout(r, 0)),
  });
  let stopped: Promise<void> | undefined;
  return {
    port: server.port,
    stop: () => stopped ??= Promise.resolve(server.stop(false)),
    force: () => void server.stop(true),
  };
}

async function listenNode(port: number, hostname: string, handle: Handler): Promise<Listener> {
  const { createAdaptorServer } = await import("@hono/node-server");
  const { promise, resolve, reject } = withResolvers<number>();
  const server = createAdaptorServer({
    // A stream ends only at shutdown; closing its connection then lets
    // server.close() finish instead of waiting out the keep-alive timeout.
    fetch: (request, env) =>
      handle(request, env, () => {}).then((response) => {
        if (streamControl(response.body)) response.headers.set("Connection", "close");
        return response;
      }),
  }) as import("node:http").Server;
  // Node listens with a backlog of 511; a burst of viewers (1000 connecting at
  // once in the churn test) then sees a few resets. Ask for more; the kernel
  // caps it at net.core.somaxconn.
  server.listen({ port, host: hostname, backlog: 4096 }, () => {
    const address = server.address();
    resolve(typeof address === "object" && address ? address.port : port);
  });
  server.once("error", reject);
  const bound = await promise;
  let stopped: Promise<void> | undefined;
  return {
    port: bound,
    stop: () =>
      stopped ??= new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
      }),
    force: () => server.closeAllConnections(),
  };
}

function withResolvers<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
