/**
 * The viewer page: one self-contained HTML document (inline CSS and script,
 * no external assets) that shows the stream(s) with live fps, viewers and
 * latency from `/stats`, whether the camera is online and why not, and a
 * snapshot link.
 *
 * A tab left open for days must not leak or hammer the server: a broken
 * stream is reloaded with exponential backoff, a stream is reopened when the
 * stats show the server back after an outage, and while the tab is hidden the
 * stream and the stats polling stop (the `<img>` loses its `src`, which closes
 * the connection).
 *
 * @module
 */

/** One stream on the page. URLs are relative to the page. */
export interface ViewerPageStream {
  /** The name shown above the stream. */
  name: string;
  /** The MJPEG stream's URL. */
  stream: string;
  /** The snapshot's URL. */
  snapshot: string;
  /** The stream's stats URL (JSON from `FrameHub.stats`). */
  stats: string;
}

/** What {@linkcode viewerPage} renders. */
export interface ViewerPageOptions {
  /** The page title. */
  title: string;
  /** The streams to show. */
  streams: ViewerPageStream[];
}

const escapes: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c]!);
}

const style = `
body{margin:0;font:14px/1.4 system-ui,sans-serif;background:#111;color:#ddd}
h1{font-size:16px;font-weight:600;margin:12px 16px}
main{display:flex;flex-wrap:wrap;gap:16px;padding:0 16px 16px}
figure{margin:0;background:#000;border:1px solid #333;max-width:100%;width:fit-content}
img{display:block;max-width:100%;height:auto;min-width:160px;min-height:120px}
figcaption{display:flex;gap:4px 12px;flex-wrap:wrap;padding:6px 8px;background:#1b1b1b;contain:inline-size}
figcaption b{color:#fff}
a{color:#7bf}
.state{color:#fb4}
.status{color:#f86;flex-basis:100%}
.status:empty{display:none}
`;

// Runs in the browser. Kept small and dependency-free; it only touches the
// elements rendered below. Plain ES2017 so old tablets on a wall still work.
const script = `
(function () {
  var token = new URLSearchParams(location.search).get("token");
  function withToken(url, bust) {
    var u = new URL(url, location.href);
    if (token) u.searchParams.set("token", token);
    if (bust) u.searchParams.set("t", String(Date.now()));
    return u.toString();
  }
  var figures = Array.prototype.slice.call(document.querySelectorAll("figure[data-stream]"));
  var views = figures.map(function (figure) {
    var view = {
      img: figure.querySelector("img"),
      stream: figure.getAttribute("data-stream"),
      stats: figure.getAttribute("data-stats"),
      out: {},
      failures: 0,
      down: false,
      retry: 0,
      poll: 0
    };
    ["fps", "viewers", "latency", "state", "status"].forEach(function (k) {
      view.out[k] = figure.querySelector("[data-out=" + k + "]");
    });
    var link = figure.querySelector("a[data-snapshot]");
    link.href = withToken(link.getAttribute("href"), false);
    view.img.addEventListener("load", function () {
      view.failures = 0;
      view.out.state.textContent = "";
    });
    view.img.addEventListener("error", function () {
      if (document.hidden || !view.img.getAttribute("src")) return;
      // Back off 1, 2, 4 … 30 s so a server that is down is not hammered.
      var delay = Math.min(30000, 1000 * Math.pow(2, view.failures++));
      view.out.state.textContent = "reconnecting in " + Math.round(delay / 1000) + " s";
      clearTimeout(view.retry);
      view.retry = setTimeout(function () { start(view); }, delay);
    });
    return view;
  });
  function start(view) {
    clearTimeout(view.retry);
    view.img.src = withToken(view.stream, true);
    schedulePoll(view, 0);
  }
  function stop(view) {
    clearTimeout(view.retry);
    clearTimeout(view.poll);
    // Removing the source aborts the request, so a hidden tab holds no connection.
    view.img.removeAttribute("src");
    view.out.state.textContent = "paused";
  }
  // "offline since 12:03:04 UTC (2 min): connect ECONNREFUSED …", or nothing while frames come.
  function describeStatus(status) {
    if (!status || status.state === "running") return "";
    var words = { offline: "camera offline", retrying: "camera offline, retrying",
      starting: "camera starting", stopped: "camera stopped (nobody was watching)" };
    var ago = Math.max(0, Math.round((Date.now() - status.since) / 1000));
    var text = (words[status.state] || status.state) + " since " +
      new Date(status.since).toISOString().slice(11, 19) + " UTC (" +
      (ago < 120 ? ago + " s" : Math.round(ago / 60) + " min") + ")";
    return status.lastError ? text + ": " + status.lastError : text;
  }
  function schedulePoll(view, delay) {
    clearTimeout(view.poll);
    view.poll = setTimeout(function () { poll(view); }, delay);
  }
  function poll(view) {
    if (document.hidden) return;
    var sent = Date.now();
    fetch(withToken(view.stats, false), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(String(r.status))); })
      .then(function (s) {
        // The server came back after an outage: the old stream is dead, open a new one.
        if (view.down) {
          view.down = false;
          start(view);
        }
        view.out.fps.textContent = s.fps.toFixed(1);
        view.out.viewers.textContent = String(s.viewers);
        view.out.latency.textContent = s.latency.toFixed(0) + " ms (+" + (Date.now() - sent) + " ms rtt)";
        view.out.status.textContent = describeStatus(s.status);
      })
      .catch(function () {
        view.down = true;
        view.out.fps.textContent = "?";
      })
      .then(function () { schedulePoll(view, 1000); });
  }
  document.addEventListener("visibilitychange", function () {
    views.forEach(document.hidden ? stop : start);
  });
  if (!document.hidden) views.forEach(start);
})();
`;

/**
 * Renders the viewer page.
 *
 * @param options The title and the streams with their URLs.
 * @returns A complete HTML document.
 *
 * @example
 * ```ts
 * import { viewerPage } from "@mjpeg/stream";
 * const html = viewerPage({
 *   title: "Camera",
 *   streams: [{ name: "camera", stream: "stream.mjpg", snapshot: "snapshot.jpg", stats: "stats?summary=1" }],
 * });
 * ```
 */
export function viewerPage(options: ViewerPageOptions): string {
  const figures = options.streams.map((s) => {
    const name = escapeHtml(s.name);
    return `<figure data-stream="${escapeHtml(s.stream)}" data-stats="${escapeHtml(s.stats)}">
<img alt="${name}">
<figcaption><b>${name}</b>
<span><span data-out="fps">–</span> fps</span>
<span><span data-out="viewers">–</span> viewers</span>
<span>latency <span data-out="latency">–</span></span>
<a data-snapshot href="${escapeHtml(s.snapshot)}" target="_blank">snapshot</a>
<span class="state" data-out="state"></span>
<span class="status" data-out="status" role="status"></span></figcaption>
</figure>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(options.title)}</title>
<style>${style}</style>
</head>
<body>
<h1>${escapeHtml(options.title)}</h1>
<main>
${figures}
</main>
<script>${script}</script>
</body>
</html>
`;
}
