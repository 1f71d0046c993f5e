/**
 * The one redirect follower of every client path (relay, probe, snapshot,
 * record; the socket fetch, the runtime's fetch, a caller's own fetch). It
 * exists because what a runtime follows is not ours to decide: handed a
 * `Location: file:///…`, Deno's and Bun's fetch read the local file, and a
 * relay then served the relay host's own files. So every request goes out
 * with `redirect: "manual"` and the hops are followed here:
 *
 * - only `http:` and `https:` URLs, the first one included;
 * - at most {@linkcode MAX_REDIRECTS} hops;
 * - credentials (Authorization, Proxy-Authorization, Cookie) only to the
 *   origin they were given for; a Location's own `user:pass@` is dropped.
 *
 * @module
 */
import { quoteUntrusted } from "../errors.ts";

/** Something that behaves like the global `fetch` for one `Request`. */
export type FetchLike = (request: Request) => Promise<Response>;

/** Redirects followed before giving up (fetch allows 20; a camera needs one or two). */
export const MAX_REDIRECTS = 5;

/**
 * A redirect this follower refuses to follow (another scheme, too many hops,
 * a bad Location): the camera's configuration, not a passing fault.
 */
export class RedirectError extends TypeError {
  /** @param message What was expected and what came. */
  constructor(message: string) {
    super(message);
    this.name = "RedirectError";
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];

/**
 * Refuses a URL the client must not fetch: anything but `http:` and `https:`.
 *
 * @param url The URL about to be requested.
 * @param redirect Whether a redirect led there, for the message.
 * @throws {TypeError} Naming the scheme that came.
 */
export function checkHttpUrl(url: URL, redirect = false): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RedirectError(
      `expected ${redirect ? "a redirect to " : ""}an http: or https: URL, got ${
        quoteUntrusted(url.protocol)
      }`,
    );
  }
}

/**
 * Fetches `request` with `fetchOnce`, following redirects by the rules above.
 * A request made with `redirect: "manual"` gets the 3xx back as it is, and
 * `"error"` rejects on one, as with fetch.
 *
 * @param fetchOnce Makes one request and must not follow redirects itself:
 *   it is always handed requests with `redirect: "manual"`.
 * @param request The request; its signal aborts every hop.
 * @returns The final response.
 * @throws {TypeError} On a scheme other than http(s), too many hops, a bad
 *   Location, or a redirect that would have to resend a request body.
 *
 * @example
 * ```ts ignore
 * const response = await fetchWithRedirects((r) => fetch(r), new Request(url));
 * ```
 */
export async function fetchWithRedirects(
  fetchOnce: FetchLike,
  request: Request,
): Promise<Response> {
  let url = new URL(request.url);
  checkHttpUrl(url);
  let current = new Request(request, { redirect: "manual" });
  for (let hops = 0;; hops++) {
    const response = await fetchOnce(current);
    const location = response.headers.get("location");
    if (
      request.redirect === "manual" || location === null || !REDIRECT_STATUSES.has(response.status)
    ) {
      return response;
    }
    response.body?.cancel().catch(() => {});
    if (request.redirect === "error") {
      throw new RedirectError(
        `expected no redirect, got ${response.status} to ${quoteUntrusted(location)}`,
      );
    }
    if (hops >= MAX_REDIRECTS) {
      throw new RedirectError(
        `expected at most ${MAX_REDIRECTS} redirects, got more (the last to ${
          quoteUntrusted(location)
        })`,
      );
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new RedirectError(`expected a redirect Location URL, got ${quoteUntrusted(location)}`);
    }
    checkHttpUrl(next, true);
    next.username = "";
    next.password = "";
    const headers = new Headers(current.headers);
    if (next.origin !== url.origin) { for (const name of CREDENTIAL_HEADERS) headers.delete(name); }
    // As fetch does: 303 (and 301/302 after a POST) become a GET without a body.
    const toGet = response.status === 303 && current.method !== "HEAD" ||
      (response.status === 301 || response.status === 302) && current.method === "POST";
    if (!toGet && current.body !== null) {
      throw new RedirectError(
        `expected a redirect that needs no request body again, got ${response.status}`,
      );
    }
    if (toGet) { for (const name of ["content-type", "content-length"]) headers.delete(name); }
    current = new Request(next, {
      method: toGet ? "GET" : current.method,
      headers,
      signal: request.signal,
      redirect: "manual",
    });
    url = next;
  }
}
