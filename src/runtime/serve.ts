/**
 * `serve()`: one call that starts an HTTP or HTTPS server, on TCP or a unix
 * socket, on Deno (an HTTP/1.1 server of our own on `Deno.listen`, with
 * `node:tls` over its connections for HTTPS, see `serve_deno.ts` and
 * `tls_conn.ts`), Bun or Node (`node:http` or `node:https` through
 * `@hono/node-server`, see `serve_node.ts`), and a graceful shutdown that ends
 * every MJPEG stream. Every runtime gets the same defences: a header timeout,
 * a connection cap below the open-file limit, a 400 for a request without a
 * usable Host, and errors logged once per cause without
 * the request's query or credentials. This folder is the only HTTP code that
 * knows which runtime it is on; the runtimes' types are declared here,
 * minimally, so the type checker needs no Deno or Bun type packages.
 *
 * @module
 */
import { z } from "zod";
import { ConnectionGuard, defaultMaxConnections, mayRead } from "./connection_guard.ts";
import { type DenoListener, serveDeno } from "./serve_deno.ts";
import { serveNode } from "./serve_node.ts";
import { type StreamControl, streamControl } from "./stream_control.ts";
import { loadTls, type TlsCredentials, type TlsOptions } from "./tls.ts";
import { serverContext, tlsConn } from "./tls_conn.ts";
import { claimSocketPath, removeSocketPath, setSocketMode } from "./unix_socket.ts";
import { duration } from "../internal/duration.ts";
import { describeError, RateLimitedLog } from "../internal/rate_limited_log.ts";
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
  /**
   * Serve HTTPS (HTTP/1.1 over TLS) with this certificate and key: PEM text or
   * the paths of PEM files. Both are read and checked at start (the key must
   * be the certificate's), so a mistake is an error here, not at every client.
   */
  tls?: TlsOptions;
  /**
   * Listen on a unix socket at this path instead of TCP (not with `port`,
   * `hostname` or `tls`): for a reverse proxy on the same machine. A socket
   * file left by a server that died is replaced; a path a live server listens
   * on, or anything that is not a socket, is an error. The file is removed at
   * shutdown.
   */
  path?: string;
  /**
   * The unix socket's permission bits, set as soon as it exists, e.g. `0o660`
   * for the owner and its group (connecting needs write permission). By
   * default the process's umask decides.
   */
  socketMode?: number;
  /** Shuts the server down gracefully when aborted. */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for connections to finish on close before cutting them (at most 10 min).
   *
   * @default {5000}
   */
  shutdownTimeout?: number;
  /**
   * Milliseconds a client has to send a request head, counted from when it
   * connects (or from the end of its previous response, on a kept-alive
   * connection). A head that is late, or sent a byte at a time, gets 408 and
   * the connection is closed, so idle connections cannot pile up.
   *
   * @default {10000}
   */
  headerTimeout?: number;
  /**
   * The most connections at once; more are closed as they arrive, and the log
   * says so. By default the open-file limit less a reserve (an eighth, at least
   * 64), where it can be read (Linux), so the process never runs out of
   * descriptors for its camera, programs and relays.
   */
  maxConnections?: number;
  /**
   * The most connections at once from one client address; more are closed.
   * No cap by default: behind a reverse proxy every viewer comes from its address.
   */
  maxConnectionsPerAddress?: number;
  /**
   * Where the server reports trouble (descriptors running out, a limit
   * reached, a handler that threw); each cause at most once a minute, never
   * with a request's query or credentials.
   *
   * @default {console.error}
   */
  log?: (line: string) => void;
}

/** A running server, as returned by {@linkcode serve}. */
export interface MjpegServer extends AsyncDisposable {
  /** The runtime serving: `deno`, `bun` or `node`. */
  readonly runtime: "deno" | "bun" | "node";
  /** The bound port (useful with `port: 0`); 0 on a unix socket. */
  readonly port: number;
  /** The address it listens on; empty on a unix socket. */
  readonly hostname: string;
  /** The unix socket's path, when it listens on one. */
  readonly path?: string;
  /**
   * A URL to reach it: `http://127.0.0.1:8080` (loopback when listening on all
   * addresses), `https://…` with `tls`, or `http+unix://` and the socket's
   * path percent-encoded.
   */
  readonly url: string;
  /** MJPEG streams being served now. */
  readonly activeStreams: number;
  /** Settles once the server has closed. */
  readonly finished: Promise<void>;
  /** Stops accepting connections, ends every stream, and waits for the server to close. */
  close(): Promise<void>;
}

const pem = z.union([
  z.string().min(1),
  z.custom<Uint8Array>((v) => v instanceof Uint8Array, "expected PEM text or a file path"),
], { error: "expected PEM text or a file path" });

const optionsSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).optional(),
  hostname: z.string().min(1).optional(),
  tls: z.strictObject({ cert: pem, key: pem }).optional(),
  path: z.string().min(1).optional(),
  socketMode: z.number().int().min(0).max(0o777, "expected permission bits from 0 to 0o777")
    .optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, "expected an AbortSignal")
    .optional(),
  shutdownTimeout: duration("shutdownTimeout", { unit: "ms", max: 600_000 }).optional(),
  headerTimeout: duration("headerTimeout", { unit: "ms", min: 100, max: 600_000 }).optional(),
  maxConnections: z.number().int().min(1).optional(),
  maxConnectionsPerAddress: z.number().int().min(1).optional(),
  log: z.custom<(line: string) => void>((v) => typeof v === "function", "expected a function")
    .optional(),
}).superRefine((options, ctx) => {
  if (options.path !== undefined) {
    for (const key of ["port", "hostname", "tls"] as const) {
      if (options[key] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: "expected either a unix socket path or " + key + ", not both",
        });
      }
    }
  } else if (options.socketMode !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["socketMode"],
      message: "expected only with path (a unix socket)",
    });
  }
});

/** Where `serve()` listens: TCP (with TLS or not) or a unix socket. */
export type ListenAddress =
  | { port: number; hostname: string; tls?: TlsCredentials; path?: undefined }
  | { path: string };

// The few runtime APIs used here, declared locally.
interface DenoGlobal {
  listen(
    options: { port: number; hostname: string } | { transport: "unix"; path: string },
  ): DenoListener;
  openSync(path: string, options: { read: boolean }): { close(): void };
}

/** What each runtime's server provides. */
interface Listener {
  port: number;
  /** Stop accepting; resolves when every connection has closed. */
  stop(): Promise<void>;
  /** Cut the remaining connections. */
  force(): void;
}

/**
 * Serves `app` on Deno, Bun or Node, whichever is running. Streams stay open
 * however long they run; `close()` (or aborting `signal`) stops accepting,
 * ends every MJPEG stream cleanly and waits up to `shutdownTimeout` before
 * cutting what is left.
 *
 * @param app A Hono app or anything with `fetch(request)`.
 * @param options Port, hostname, abort signal, timeouts, connection caps, log.
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
  // Files and the socket path are checked before anything listens.
  const address: ListenAddress = parsed.path !== undefined ? { path: parsed.path } : {
    port: parsed.port ?? 8080,
    hostname: parsed.hostname ?? "127.0.0.1",
    ...(parsed.tls ? { tls: await loadTls(parsed.tls) } : {}),
  };
  if (address.path !== undefined) await claimSocketPath(address.path, "path");
  const shutdownTimeout = parsed.shutdownTimeout ?? 5000;
  const headerTimeout = parsed.headerTimeout ?? 10_000;
  const log = new RateLimitedLog(parsed.log ?? ((line) => console.error(line)));
  const guard = new ConnectionGuard({
    maxConnections: parsed.maxConnections ?? defaultMaxConnections(),
    maxConnectionsPerAddress: parsed.maxConnectionsPerAddress,
  }, log);
  const streams = new Set<StreamControl>();
  let closing = false;

  const handle = async (request: Request, env: unknown, cut: () => void): Promise<Response> => {
    if (!hasUsableHost(request.url)) {
      return plain(400, "400 Bad Request: expected a Host header naming the server\n");
    }
    let response: Response;
    try {
      response = await app.fetch(request, env);
    } catch (error) {
      const { cause, text } = describeError(error);
      log.report(cause, `a request failed (answered 500): ${text}`);
      return plain(500, "500 Internal Server Error\n");
    }
    const control = streamControl(response.body);
    if (control) {
      control.cut = cut;
      if (closing) control.end();
      streams.add(control);
      control.done.then(() => streams.delete(control));
    }
    return response;
  };

  const globals = globalThis as unknown as { Deno?: DenoGlobal; Bun?: unknown };
  const runtime = globals.Deno ? "deno" : globals.Bun ? "bun" : "node";
  const secure = address.path === undefined && address.tls !== undefined;
  const context = { handle, headerTimeout, guard, log, secure };
  const listener: Listener = globals.Deno
    ? listenDeno(globals.Deno, address, context)
    : await serveNode(address, context);
  let socketFile: number | undefined;
  if (address.path !== undefined) {
    try {
      socketFile = await setSocketMode(address.path, parsed.socketMode);
    } catch (error) {
      listener.force();
      await listener.stop();
      throw error;
    }
  }

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
      if (address.path !== undefined && socketFile !== undefined) {
        await removeSocketPath(address.path, socketFile);
      }
      resolveFinished();
    })();
    return closed;
  };
  const onAbort = () => void close();
  if (parsed.signal?.aborted) void close();
  else parsed.signal?.addEventListener("abort", onAbort, { once: true });

  return {
    runtime,
    port: listener.port,
    hostname: address.path === undefined ? address.hostname : "",
    ...(address.path !== undefined ? { path: address.path } : {}),
    url: serverUrl(address, listener.port),
    get activeStreams() {
      return streams.size;
    },
    finished,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function listenDeno(
  deno: DenoGlobal,
  address: ListenAddress,
  context: Omit<Parameters<typeof serveDeno>[1], "openReserve">,
): Listener {
  const listener = address.path !== undefined
    ? deno.listen({ transport: "unix", path: address.path })
    : deno.listen({ port: address.port, hostname: address.hostname });
  // TLS runs over the connections this accept loop takes (see tls_conn.ts):
  // the handshake happens within the first reads, under the header timeout.
  const secure = address.path === undefined && address.tls ? serverContext(address.tls) : undefined;
  if (secure) context = { ...context, wrap: (conn) => tlsConn(conn, secure) };
  // A descriptor held back so that, out of descriptors, the server can still
  // accept and close waiting connections (needs read permission for /dev/null).
  const openReserve = () => {
    try {
      return deno.openSync("/dev/null", { read: true });
    } catch {
      return undefined;
    }
  };
  return serveDeno(listener, mayRead("/dev/null") ? { ...context, openReserve } : context);
}

/** How to reach the server, for its `url`. */
function serverUrl(address: ListenAddress, port: number): string {
  if (address.path !== undefined) return `http+unix://${encodeURIComponent(address.path)}`;
  const { hostname } = address;
  const shown = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "[::1]" : hostname;
  const host = shown.includes(":") && !shown.startsWith("[") ? `[${shown}]` : shown;
  return `${address.tls ? "https" : "http"}://${host}:${port}`;
}

/** A URL the runtime built from the Host header, parsed; false if it names no host. */
function hasUsableHost(url: string): boolean {
  try {
    return new URL(url).hostname !== "";
  } catch {
    return false;
  }
}

function plain(status: number, text: string): Response {
  return new Response(text, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
  });
}
