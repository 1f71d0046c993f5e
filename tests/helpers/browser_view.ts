/**
 * Helpers for the `<mjpeg-view>` tests in headless Chromium: a page that
 * loads the served element, a counter of the ImageBitmaps the page makes and
 * closes (installed before any page script, so it sees the element's own
 * calls), and polling until a condition holds.
 */
import { type BrowserPage, openPage } from "./chromium.ts";

/**
 * Patches `createImageBitmap` and `ImageBitmap.prototype.close` to count
 * bitmaps made and closed (`window.__bitmaps`), and remembers the last few
 * bitmaps so a test can see they were really closed (a closed one is 0 wide).
 */
export const BITMAP_COUNTER = `
(() => {
  const counts = { created: 0, closed: 0, recent: [] };
  window.__bitmaps = counts;
  const make = window.createImageBitmap.bind(window);
  window.createImageBitmap = async (...args) => {
    const bitmap = await make(...args);
    counts.created++;
    counts.recent.push(bitmap);
    if (counts.recent.length > 20) counts.recent.shift();
    return bitmap;
  };
  const close = ImageBitmap.prototype.close;
  ImageBitmap.prototype.close = function () {
    counts.closed++;
    return close.call(this);
  };
})();
`;

/**
 * Logs every view's events from the start (capturing listeners on the window
 * see events on any element, bubbling or not): `window.seen[id]` counts
 * `frame`, `stall`, `reconnect` and `error`, and keeps the error messages and
 * reconnect details.
 */
export const EVENT_LOG = `
(() => {
  window.seen = {};
  const log = (target) => seen[target.id] ??= {
    frame: 0, stall: 0, reconnect: 0, error: 0, errors: [], reconnects: [],
  };
  addEventListener("frame", (e) => log(e.target).frame++, true);
  addEventListener("stall", (e) => log(e.target).stall++, true);
  addEventListener("reconnect", (e) => {
    const entry = log(e.target);
    entry.reconnect++;
    entry.reconnects.push(e.detail);
  }, true);
  addEventListener("error", (e) => {
    if (!(e instanceof CustomEvent)) return;
    const entry = log(e.target);
    entry.error++;
    entry.errors.push(e.detail.message);
  }, true);
})();
`;

/** An HTML page with the served element script and the given body. */
export function viewPage(body: string, script = "/mjpeg-view.js"): string {
  return `<!doctype html><meta charset="utf-8"><title>view</title>
<style>body{margin:0;background:#222}</style>
<script type="module" src="${script}"></script>
<body>${body}</body>`;
}

/** A response carrying an HTML page. */
export function htmlResponse(html: string): Response {
  return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
}

/** Polls `check` every 50 ms until it is true or `ms` pass; returns the last result. */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A Chromium page the view tests drive. */
export interface ViewBrowser extends BrowserPage {
  /** Opens `url` in the page and waits until `<mjpeg-view>` is defined there. */
  goto(url: string): Promise<void>;
  /** Evaluates an expression until it is truthy, or fails after `ms` with `what`. */
  waitFor(expression: string, what: string, ms?: number): Promise<unknown>;
}

/** Starts headless Chromium with the bitmap counter and the event log in every document. */
export async function startBrowser(flags: string[] = []): Promise<ViewBrowser> {
  const page = await openPage("about:blank", flags);
  await page.send("Page.enable");
  await page.send("Page.addScriptToEvaluateOnNewDocument", { source: BITMAP_COUNTER + EVENT_LOG });
  const waitFor = async (expression: string, what: string, ms = 10_000) => {
    let value: unknown;
    const ok = await until(async () => Boolean(value = await page.evaluate(expression)), ms);
    if (!ok) throw new Error(`expected ${what} within ${ms} ms; ${expression} gave ${value}`);
    return value;
  };
  return {
    ...page,
    async goto(url) {
      await page.send("Page.navigate", { url });
      await waitFor(
        `document.readyState === "complete" && location.href === ${JSON.stringify(url)} && ` +
          `!!customElements.get("mjpeg-view")`,
        `${url} loaded with <mjpeg-view> defined`,
      );
    },
    waitFor,
  };
}
