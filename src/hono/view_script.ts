/**
 * `GET /mjpeg-view.js`: the `<mjpeg-view>` element as one prebuilt,
 * dependency-free script (made from `src/browser/` by `npm run build:browser`
 * and committed, so a checkout needs no build). Its ETag is the bundle's
 * hash: a page revalidates it with `If-None-Match` and gets 304 until the
 * bundle changes.
 *
 * @module
 */
import { MJPEG_VIEW_ETAG, MJPEG_VIEW_JS } from "./mjpeg_view_bundle.ts";

/**
 * Answers a request for the element's script: 304 when the browser's copy
 * is current, else the script.
 *
 * @param request The request (its `If-None-Match` is read).
 * @returns The response.
 */
export function viewScriptResponse(request: Request): Response {
  // Revalidate on every use (cheap: a 304), so an upgraded server is picked up at once.
  const headers = { "ETag": MJPEG_VIEW_ETAG, "Cache-Control": "no-cache" };
  const tags = request.headers.get("if-none-match");
  if (tags !== null && matches(tags, MJPEG_VIEW_ETAG)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === "HEAD" ? null : MJPEG_VIEW_JS, {
    headers: { ...headers, "Content-Type": "text/javascript; charset=utf-8" },
  });
}

/** If-None-Match compares weakly (RFC 9110 13.1.2): `*`, or any listed tag, W/ or not. */
function matches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
