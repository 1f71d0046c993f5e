/**
 * `serve()` on Node and on Bun: `node:http` (or `node:https`) through
 * `@hono/node-server`, on TCP or a unix socket.
 *
 * Bun serves through its `node:http` too, not `Bun.serve`: Bun 1.4's
 * `Bun.serve` closes a connection with nothing written when a second
 * pipelined request arrives while the first one's handler is still running
 * (any handler that awaits a timer, a hash or I/O — the auth check does), and
 * gives no hook on connections or request heads. Bun's `node:http` answers
 * pipelined requests in order and honours the same timeouts as Node's.
 *
 * @module
 */
import type { Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { ConnectionGuard } from "./connection_guard.ts";
import type { ListenAddress } from "./serve.ts";
import { describeError, type RateLimitedLog } from "../internal/rate_limited_log.ts";
import { streamControl } from "./stream_control.ts";

/** What the node:http adapter needs from `serve()`. */
export interface NodeServerContext {
  /** Answers a request; never rejects. `cut` closes the connection at once. */
  handle(request: Request, info: unknown, cut: () => void): Promise<Response>;
  /** Milliseconds a request head (and an idle keep-alive connection) may take. */
  headerTimeout: number;
  guard: ConnectionGuard;
  log: RateLimitedLog;
}

/** A running node:http server. */
export interface NodeServer {
  readonly port: number;
  /** Stops accepting, closes idle connections; resolves when all are closed. */
  stop(): Promise<void>;
  /** Closes every connection now. */
  force(): void;
}

/**
 * Listens with node:http, or node:https when `address` has TLS credentials.
 *
 * @param address A port (0: any free one) and address, with or without TLS; or a unix socket's path.
 * @param context The handler, the header timeout, the connection caps.
 * @returns The server, once listening.
 */
export async function serveNode(
  address: ListenAddress,
  context: NodeServerContext,
): Promise<NodeServer> {
  const { createAdaptorServer } = await import("@hono/node-server");
  const tls = address.path === undefined ? address.tls : undefined;
  const timeout = context.headerTimeout;
  const server = createAdaptorServer({
    ...(tls ? { createServer: (await import("node:https")).createServer } : {}),
    // The adapter would otherwise replace the process's global Request and
    // Response with its own classes: a library must not change what
    // `new Response()` means for the application around it.
    overrideGlobalObjects: false,
    fetch: async (request, env) => {
      const outgoing = env.outgoing as ServerResponse;
      const response = await context.handle(request, env, () => outgoing.destroy());
      // A stream ends only at shutdown; closing its connection then lets
      // server.close() finish instead of waiting out the keep-alive timeout.
      if (streamControl(response.body)) response.headers.set("Connection", "close");
      return response;
    },
    serverOptions: {
      // How often Node looks for heads that took too long; it cuts them within
      // headerTimeout plus this.
      connectionsCheckingInterval: Math.min(1000, Math.max(50, timeout / 4)),
      headersTimeout: timeout,
      requestTimeout: Math.max(timeout, 300_000),
      keepAliveTimeout: timeout,
      requireHostHeader: true,
      // The TLS handshake, before any request head, gets the same time. (Bun
      // 1.4 ignores it, and reports a TLS connection only once its handshake
      // is done: until then Bun's own idle timeout, about 13 s, applies.)
      ...(tls ? { ...tls, handshakeTimeout: timeout } : {}),
    },
  }) as Server;
  // Bun reads these from the server object rather than the options.
  server.headersTimeout = timeout;
  server.requestTimeout = Math.max(timeout, 300_000);
  server.keepAliveTimeout = timeout;
  server.on("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "";
    if (!context.guard.admit(address)) {
      socket.destroy();
      return;
    }
    socket.once("close", () => context.guard.release(address));
    socket.setNoDelay?.(true);
  });

  // Node listens with a backlog of 511; a burst of viewers (1000 connecting at
  // once in the churn test) then sees a few resets. Ask for more; the kernel
  // caps it at net.core.somaxconn.
  const bound = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    const where = address.path !== undefined
      ? { path: address.path }
      : { port: address.port, host: address.hostname };
    server.listen({ ...where, backlog: 4096 }, () => {
      server.off("error", reject);
      // An accept that fails later (out of descriptors) must not crash the process.
      server.on("error", (error) => {
        context.log.report(
          "server-error",
          `the server reported an error and keeps serving: ${describeError(error).text}`,
        );
      });
      const bound = server.address();
      resolve(typeof bound === "object" && bound ? bound.port : 0);
    });
  });
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
