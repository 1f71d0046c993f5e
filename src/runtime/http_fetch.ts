/**
 * A small fetch for `http:` and `https:` GET streams, over node:net and
 * node:tls, which all three runtimes provide. It exists for speed: Deno's
 * fetch hands a streaming body over in 8 KiB pieces (about 0.3 GB/s on
 * loopback) and Node's fetch tops out near 0.7 GB/s, while a socket read into
 * a reused buffer moves 2–3 GB/s (docs/benchmarks.md); and node:tls takes a
 * camera's own CA, which the runtimes' fetch cannot all be given. Anything
 * else — other methods, request bodies — goes to the runtime's own fetch.
 *
 * It speaks just enough HTTP/1.1 for a stream: one request per connection
 * (`Connection: close`; {@linkcode KeepAlivePool} keeps connections for
 * repeated requests), Content-Length, chunked and read-until-close bodies,
 * and a few interim 1xx responses skipped ({@linkcode HttpConnection}).
 * Redirects are followed by {@linkcode fetchWithRedirects}, the follower
 * every client path shares.
 *
 * @module
 */
import { HttpConnection } from "./fetch_connection.ts";
import { checkHttpUrl, type FetchLike, fetchWithRedirects } from "./redirects.ts";
import type { TlsOptions } from "./socket_connect.ts";

export { MAX_HEAD, MAX_INTERIM_RESPONSES } from "./fetch_head.ts";

/**
 * Fetches `request` like the global fetch; GETs go over a raw socket (TLS
 * for https, trusting the runtime's CAs), everything else to
 * `globalThis.fetch`. Either way only http(s) URLs are fetched, and
 * redirects are followed by {@linkcode fetchWithRedirects} (not by the
 * runtime). A signal that aborts with a `TimeoutError` before the connection
 * is made rejects with a `ConnectTimeoutError`.
 *
 * @param request The request; its signal aborts the connection and the body.
 * @returns The response, with a streaming body.
 * @throws {TypeError} When the connection fails, the reply is not HTTP, or a
 *   redirect is refused (as fetch does).
 *
 * @example
 * ```ts ignore
 * const response = await httpFetch(new Request("http://127.0.0.1:8080/stream"));
 * ```
 */
export function httpFetch(request: Request): Promise<Response> {
  return defaultFetch(request);
}

/**
 * {@linkcode httpFetch} with its own certificate trust for https: a camera's
 * CA (PEM), or no checks at all.
 *
 * @param tls The CA to trust, or `insecure`.
 * @returns A fetch function.
 *
 * @example
 * ```ts ignore
 * const fetchCamera = createHttpFetch({ ca: await Deno.readTextFile("camera-ca.pem") });
 * const response = await fetchCamera(new Request("https://camera.local/stream"));
 * ```
 */
export function createHttpFetch(tls: TlsOptions = {}): FetchLike {
  const oneHop = (request: Request) => fetchOneHop(request, tls);
  return (request) =>
    request.redirect === "manual" ? oneHop(request) : fetchWithRedirects(oneHop, request);
}

const defaultFetch = createHttpFetch();

/**
 * Whether the socket transport can make this request itself: a GET without
 * a body. Others go to the runtime's fetch.
 *
 * @param request The request.
 * @returns True for the socket transport.
 */
export function socketCanFetch(request: Request): boolean {
  return request.method === "GET" && request.body === null;
}

/** One request, no redirect followed. */
async function fetchOneHop(request: Request, tls: TlsOptions): Promise<Response> {
  const url = new URL(request.url);
  checkHttpUrl(url);
  if (!socketCanFetch(request)) {
    return await globalThis.fetch(new Request(request, { redirect: "manual" }));
  }
  const connection = new HttpConnection(url, tls);
  return await connection.request(request, url, false, () => connection.destroy());
}
