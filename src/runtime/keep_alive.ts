/**
 * Connections kept open between requests, for repeated requests to the same
 * camera: snapshot polling asks for a JPEG up to many times a second, and a
 * new TCP connection for each (one round trip more, and a socket in
 * TIME_WAIT per request) is what the small web servers of cameras and
 * microcontrollers handle worst.
 *
 * One idle connection per origin: a poller never has two requests in flight,
 * so one is all it can reuse. A connection is kept only when its response
 * was read to the end and both sides agreed (HTTP/1.1 without `Connection:
 * close`, or HTTP/1.0 with `keep-alive`); an idle one the server closes is
 * dropped, and a request that finds its kept connection closed under it
 * before any byte of the answer is sent again once on a new one (a GET may
 * be repeated).
 *
 * @module
 */
import { HttpConnection } from "./fetch_connection.ts";
import { socketCanFetch } from "./http_fetch.ts";
import { checkHttpUrl, type FetchLike } from "./redirects.ts";
import type { TlsOptions } from "./socket_connect.ts";

// A snapshot is tens of kB: a small read buffer per kept connection will do.
const POLL_READ_SIZE = 64 * 1024;

/**
 * A keep-alive fetch for `http:` and `https:` GETs; anything else goes to
 * the runtime's fetch. Close it when done: idle connections do not keep the
 * process alive, but they hold a socket on the server.
 *
 * @example
 * ```ts ignore
 * using pool = new KeepAlivePool();
 * const first = await pool.fetch(new Request("http://camera.local/capture"));
 * await first.arrayBuffer();
 * const second = await pool.fetch(new Request("http://camera.local/capture")); // same connection
 * ```
 */
export class KeepAlivePool implements Disposable {
  readonly #tls: TlsOptions;
  #idle = new Map<string, HttpConnection>();
  #opened = 0;
  #closed = false;

  /** @param tls Certificate options for https cameras: their CA, or `insecure`. */
  constructor(tls: TlsOptions = {}) {
    this.#tls = tls;
  }

  /**
   * Makes one request, no redirect followed (pass it to `fetchWithRedirects`).
   * The connection is kept if the body is read to its end.
   */
  readonly fetch: FetchLike = (request) => this.#fetch(request);

  /** TCP connections opened so far. */
  get connectionsOpened(): number {
    return this.#opened;
  }

  /** Closes the idle connections; requests after this open none to keep. */
  close(): void {
    this.#closed = true;
    for (const connection of this.#idle.values()) connection.destroy();
    this.#idle.clear();
  }

  /** Closes the pool: `using pool = new KeepAlivePool()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  async #fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    checkHttpUrl(url);
    if (!socketCanFetch(request)) {
      return await globalThis.fetch(new Request(request, { redirect: "manual" }));
    }
    const kept = this.#idle.get(url.origin);
    this.#idle.delete(url.origin);
    if (kept && !kept.closed) {
      try {
        return await this.#send(kept, request, url);
      } catch (error) {
        // Closed by the server while we were sending: ask again on a new connection.
        if (request.signal.aborted || kept.responseStarted) throw error;
      }
    }
    this.#opened++;
    return await this.#send(new HttpConnection(url, this.#tls, POLL_READ_SIZE), request, url);
  }

  #send(connection: HttpConnection, request: Request, url: URL): Promise<Response> {
    return connection.request(request, url, true, (reusable) => {
      if (!reusable || this.#closed) return connection.destroy();
      this.#idle.get(url.origin)?.destroy();
      this.#idle.set(url.origin, connection);
      connection.idle(() => {
        if (this.#idle.get(url.origin) === connection) this.#idle.delete(url.origin);
      });
    });
  }
}
