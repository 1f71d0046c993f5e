/**
 * `serve()` on Deno: an HTTP/1.1 server of our own on `Deno.listen`.
 *
 * `Deno.serve` owns its accept loop and its connections, and (Deno 2.9) gives
 * no hook where this server needs one: its accept loop ends at the first
 * failed `accept()` — out of descriptors, EMFILE — and the error escapes as an
 * unhandled rejection that kills the process; it has no header timeout, so a
 * client sending a request head byte by byte (or nothing) holds a descriptor
 * forever; and it copies every chunk of a streamed body into a per-connection
 * queue (about 200 KB for each viewer that stops reading). Here the accept
 * loop backs off and sheds connections when descriptors run out, a head must
 * arrive within `headerTimeout`, and an MJPEG part is written from the hub's
 * one shared buffer straight to the socket.
 *
 * What it speaks: HTTP/1.1 and 1.0, keep-alive and pipelining (answered in
 * order), Content-Length request bodies (a chunked request body gets 411),
 * `Expect: 100-continue`; responses with Content-Length, chunked, or — for
 * endless MJPEG streams, as mjpg-streamer does — delimited by closing.
 *
 * @module
 */
import { Connection, type ConnectionContext, type DenoConn } from "./http1_connection.ts";
import type { ConnectionGuard } from "./connection_guard.ts";
import { describeError } from "../internal/rate_limited_log.ts";

export type { DenoConn } from "./http1_connection.ts";

/** What the Deno server needs from `serve()`. */
export interface DenoServerContext extends ConnectionContext {
  /** Counts connections and refuses those beyond the caps. */
  guard: ConnectionGuard;
  /** Opens a descriptor to hold in reserve for shedding connections at EMFILE, if allowed. */
  openReserve?: () => { close(): void } | undefined;
  /** Wraps each admitted connection (TLS). */
  wrap?: (conn: DenoConn) => DenoConn;
}

/** The parts of `Deno.Listener` used here. */
export interface DenoListener {
  accept(): Promise<DenoConn>;
  close(): void;
  readonly addr: { hostname?: string; port?: number };
}

/** A running Deno server. */
export interface DenoServer {
  readonly port: number;
  /** Stops accepting, closes idle connections, lets responses finish; resolves when all are closed. */
  stop(): Promise<void>;
  /** Closes every connection now. */
  force(): void;
}

/**
 * Serves on a listener until stopped.
 *
 * @param listener A `Deno.listen()` listener.
 * @param context The handler, timeouts, caps and log.
 * @returns The running server.
 */
export function serveDeno(listener: DenoListener, context: DenoServerContext): DenoServer {
  const connections = new Set<Connection>();
  let stopping = false;
  let resolveDrained: () => void = () => {};
  const drained = new Promise<void>((resolve) => resolveDrained = resolve);
  const forget = (connection: Connection) => {
    connections.delete(connection);
    if (stopping && connections.size === 0) resolveDrained();
  };

  (async () => {
    let reserve = context.openReserve?.();
    let shedding = false;
    let backoff = 10;
    while (!stopping) {
      let conn: DenoConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (stopping) break;
        const code = (error as { code?: string }).code;
        const name = (error as Error).name;
        if (name === "BadResource" || name === "Interrupted") break;
        if (code === "EMFILE" || code === "ENFILE") {
          context.log.report(
            "EMFILE",
            `out of file descriptors with ${context.guard.open} connections open (${code}): new connections are closed until some end`,
          );
          // Give the reserved descriptor up to accept and close one waiting
          // connection, so clients are told at once instead of waiting in the backlog.
          if (reserve !== undefined) {
            reserve.close();
            reserve = undefined;
            shedding = true;
            continue;
          }
        } else {
          context.log.report("accept", `accept failed, retrying: ${describeError(error).text}`);
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, 1000);
        continue;
      }
      backoff = 10;
      if (shedding) {
        conn.close();
        reserve = context.openReserve?.();
        shedding = reserve === undefined && context.openReserve !== undefined;
        continue;
      }
      reserve ??= context.openReserve?.();
      const address = conn.remoteAddr.hostname ?? "";
      if (!context.guard.admit(address)) {
        conn.close();
        continue;
      }
      const connection = new Connection(context.wrap?.(conn) ?? conn, context, () => {
        context.guard.release(address);
        forget(connection);
      });
      connections.add(connection);
      connection.serve();
    }
    reserve?.close();
  })();

  return {
    port: listener.addr.port ?? 0,
    stop() {
      if (!stopping) {
        stopping = true;
        try {
          listener.close();
        } catch { /* already closed */ }
        for (const connection of connections) connection.stop();
        if (connections.size === 0) resolveDrained();
      }
      return drained;
    },
    force() {
      for (const connection of connections) connection.close();
    },
  };
}
