/**
 * `<mjpeg-view>`: MJPEG in the browser without the `<img>` tag's troubles.
 * Importing this module defines the element (in a browser; elsewhere it only
 * exports the class and types). It is built on `./wire`'s decoder and
 * `fetch`, works against any MJPEG server that allows CORS, and is served
 * ready-made by `mjpegApp` at `/mjpeg-view.js`.
 *
 * - Paints each frame with `createImageBitmap` on a canvas and closes every
 *   bitmap, so a page left open for days does not grow.
 * - Reconnects with backoff and jitter after a failure, the end of the
 *   stream, or a stall (no part for `stall-timeout` seconds; a server's
 *   keepalive parts count as life).
 * - Aborts its request while the tab is hidden, the element is off screen,
 *   or it is removed from the page.
 * - `stats` (frames, fps, reconnects, latency from `X-Timestamp` …), events
 *   `frame`, `stall`, `reconnect`, `error`, an optional overlay, a snapshot
 *   and fullscreen.
 * - Views with the same `mux` URL share one multiplexed connection, past the
 *   browser's six connections per host.
 *
 * @example
 * ```ts ignore
 * import "@mjpeg/stream/browser";
 *
 * document.body.innerHTML = `<mjpeg-view src="http://pi.local:8080/stream.mjpg" overlay></mjpeg-view>`;
 * const view = document.querySelector("mjpeg-view")!;
 * view.addEventListener("frame", () => console.log(view.stats.fps));
 * ```
 *
 * @module
 */
import { MjpegView } from "./mjpeg_view.ts";

export { MjpegView } from "./mjpeg_view.ts";
export type {
  ErrorEventDetail,
  FrameEventDetail,
  ReconnectEventDetail,
  StallEventDetail,
} from "./view_events.ts";
export type { MjpegViewStats, ViewState } from "./view_stats.ts";

/** The element's tag name. */
export const TAG_NAME = "mjpeg-view";

/**
 * Defines `<mjpeg-view>` unless the page already has it (importing this
 * module does so by itself; call it again only after a page replaced
 * `customElements`).
 *
 * @returns True when this call defined it.
 */
export function defineMjpegView(): boolean {
  if (typeof customElements === "undefined" || customElements.get(TAG_NAME)) return false;
  customElements.define(TAG_NAME, MjpegView);
  return true;
}

defineMjpegView();
