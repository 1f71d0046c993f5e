/**
 * TLS for the Deno server: node:tls run over a connection our own accept loop
 * took from `Deno.listen`, seen by the HTTP/1.1 code as one more connection
 * with `read`, `write` and `close`.
 *
 * Why not `Deno.listenTls` (Deno 2.9): closing one of its connections before
 * the handshake has finished leaves the socket open until the client goes
 * away — Deno waits for the handshake to close it cleanly — so a client that
 * connects and sends nothing keeps its descriptor however often the header
 * timeout closes it; and its connections cannot turn Nagle's algorithm off.
 * Here the accept loop, its descriptor reserve and the connection caps are the
 * plain server's, the socket is a `Deno.TcpConn` with `TCP_NODELAY`, and
 * closing it closes it.
 *
 * @module
 */
import { Duplex } from "node:stream";
import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
import type { DenoConn } from "./http1_connection.ts";
import type { TlsCredentials } from "./tls.ts";

/** How much TLS input is held before the socket stops reading: what one request head needs. */
const READ_AHEAD = 64 * 1024;

/**
 * Parses a certificate and key once, for every connection.
 *
 * @param credentials PEM text of both.
 * @returns The context each connection's TLS uses.
 */
export function serverContext(credentials: TlsCredentials): SecureContext {
  return createSecureContext({ cert: credentials.cert, key: credentials.key });
}

/**
 * Runs a server-side TLS session over an accepted connection.
 *
 * @param conn The accepted TCP connection.
 * @param context The certificate and key.
 * @returns The decrypted connection; its `close()` closes `conn`.
 */
export function tlsConn(conn: DenoConn, context: SecureContext): DenoConn {
  let closed = false;
  const transport = new Duplex({
    read() {
      const buffer = new Uint8Array(16 * 1024);
      conn.read(buffer).then(
        (n) => this.push(n === null ? null : buffer.subarray(0, n)),
        (error) => this.destroy(error),
      );
    },
    write(chunk: Uint8Array, _encoding, done) {
      (async () => {
        for (let offset = 0; offset < chunk.length;) {
          offset += await conn.write(offset === 0 ? chunk : chunk.subarray(offset));
        }
      })().then(() => done(), done);
    },
    final(done) {
      done();
    },
    destroy(error, done) {
      try {
        conn.close();
      } catch { /* already closed */ }
      done(error);
    },
  });
  const socket = new TLSSocket(transport as unknown as import("node:net").Socket, {
    isServer: true,
    secureContext: context,
    ALPNProtocols: ["http/1.1"],
  });

  // Decrypted bytes wait here until read; beyond READ_AHEAD the socket pauses.
  const received: Uint8Array[] = [];
  let held = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  socket.on("data", (chunk: Uint8Array) => {
    received.push(chunk);
    held += chunk.length;
    if (held >= READ_AHEAD) socket.pause();
    notify();
  });
  socket.on("end", () => {
    ended = true;
    notify();
  });
  socket.on("close", () => {
    ended = true;
    notify();
  });
  // A failed handshake or a reset: the next read says so.
  socket.on("error", (error: Error) => {
    failure ??= error;
    notify();
  });

  return {
    remoteAddr: conn.remoteAddr,
    setNoDelay: (noDelay) => conn.setNoDelay?.(noDelay),
    async read(buffer) {
      while (received.length === 0) {
        if (failure) throw failure;
        if (ended || closed) return null;
        await new Promise<void>((resolve) => wake = resolve);
      }
      const chunk = received[0]!;
      const n = Math.min(buffer.length, chunk.length);
      buffer.set(chunk.subarray(0, n));
      if (n === chunk.length) received.shift();
      else received[0] = chunk.subarray(n);
      held -= n;
      if (held < READ_AHEAD && socket.isPaused()) socket.resume();
      return n;
    },
    write(bytes) {
      return new Promise<number>((resolve, reject) => {
        if (closed || socket.destroyed) {
          reject(failure ?? new Error("connection closed"));
          return;
        }
        // The callback comes once the encrypted bytes are on the connection,
        // so a viewer that stops reading stops the writes, as without TLS.
        socket.write(bytes, (error) => error ? reject(error) : resolve(bytes.length));
      });
    },
    close() {
      if (closed) return;
      closed = true;
      socket.destroy();
      transport.destroy();
      notify();
    },
  };
}
