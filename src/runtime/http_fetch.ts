/**
 * A small fetch for plain `http:` GET streams, over node:net, which all three
 * runtimes provide. It exists for speed: Deno's fetch hands a streaming body
 * over in 8 KiB pieces (about 0.3 GB/s on loopback) and Node's fetch tops out
 * near 0.7 GB/s, while a socket read into a reused buffer moves 2–3 GB/s
 * (docs/benchmarks.md). Anything else — https, other methods, request bodies
 * — goes to the runtime's own fetch.
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
import { HttpConnection } from "./http_connection.ts";
import { checkHttpUrl, fetchWithRedirects } from "./redirects.ts";

export { MAX_HEAD, MAX_INTERIM_RESPONSES } from "./http_head.ts";

/**
 * Fetches `request` like the global fetch; plain-http GETs go over a raw
 * socket, https and everything else to `globalThis.fetch`. Either way only
 * http(s) URLs are fetched, and redirects are followed by
 * {@linkcode fetchWithRedirects} (not by the runtime).
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
  return request.redirect === "manual"
    ? fetchOneHop(request)
    : fetchWithRedirects(fetchOneHop, request);
}

/**
 * Whether the socket transport can make this request itself: a plain-http
 * GET without a body. Others go to the runtime's fetch.
 *
 * @param request The request.
 * @param url Its URL, parsed.
 * @returns True for the socket transport.
 */
export function socketCanFetch(request: Request, url: URL): boolean {
  return url.protocol === "http:" && request.method === "GET" && request.body === null;
}

/** One request, no redirect followed. */
async function fetchOneHop(request: Request): Promise<Response> {
  const url = new URL(request.url);
  checkHttpUrl(url);
  if (!socketCanFetch(request, url)) {
    return await globalThis.fetch(new Request(request, { redirect: "manual" }));
  }
  const connection = new HttpConnection(url);
  return await connection.request(request, url, false, () => connection.destroy());
}
