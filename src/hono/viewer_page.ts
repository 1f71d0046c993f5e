/**
 * The viewer page: one HTML document that shows each stream in a
 * `<mjpeg-view>` (the element's script comes from the same server, nothing
 * from elsewhere), with live fps and latency from the element, viewers and
 * whether the camera is online (since when, and why not) from `/stats`, and a
 * snapshot link. Without JavaScript a plain `<img>` shows the
 * stream instead. A stream whose settings may be changed from here gets a
 * form built from its `/control` document.
 *
 * A tab left open for days must not leak or hammer the server: the element
 * closes every decoded frame, reconnects with backoff, and drops its request
 * while the tab is hidden or the view is off screen; the stats polling stops
 * while the tab is hidden. A page of several streams reads them all over one
 * multiplexed connection, so more than six cameras stay live over HTTP/1.1.
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
  /** The stream's name in the page's multiplexed stream, when the page has one. */
  muxName?: string;
  /**
   * The stream's `/control` URL, when this page may change its settings: the
   * page then offers them, in a form built from what `GET` describes.
   */
  control?: string;
}

/** What {@linkcode viewerPage} renders. */
export interface ViewerPageOptions {
  /** The page title. */
  title: string;
  /** The streams to show. */
  streams: ViewerPageStream[];
  /** The URL of the `<mjpeg-view>` script. */
  script: string;
  /** The multiplexed stream's URL, to show every stream over one connection. */
  mux?: string;
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
img,mjpeg-view{display:block;max-width:100%;height:auto;min-width:160px;min-height:120px}
figcaption{display:flex;gap:4px 12px;flex-wrap:wrap;padding:6px 8px;background:#1b1b1b;contain:inline-size}
figcaption b{color:#fff}
a{color:#7bf}
.state{color:#fb4}
.status{color:#f86;flex-basis:100%}
.status:empty{display:none}
details{padding:6px 8px;background:#1b1b1b;border-top:1px solid #333}
summary{cursor:pointer}
form{display:grid;grid-template-columns:auto auto;gap:4px 8px;align-items:center;margin-top:6px}
label{display:contents}
input[type=number]{width:8em}
form input,form select{justify-self:start}
`;

// Runs in the browser, beside the element's own script. Plain ES2017, and it
// only touches the elements rendered below.
const script = `
(function () {
  var token = new URLSearchParams(location.search).get("token");
  function withToken(url) {
    var u = new URL(url, location.href);
    if (token) u.searchParams.set("token", token);
    return u.toString();
  }
  var figures = Array.prototype.slice.call(document.querySelectorAll("figure[data-stream]"));
  var views = figures.map(function (figure) {
    var view = {
      element: figure.querySelector("mjpeg-view"),
      stats: figure.getAttribute("data-stats"),
      out: {},
      poll: 0
    };
    ["fps", "viewers", "latency", "state", "status"].forEach(function (k) {
      view.out[k] = figure.querySelector("[data-out=" + k + "]");
    });
    var link = figure.querySelector("a[data-snapshot]");
    link.href = withToken(link.getAttribute("href"));
    // Set before the element's script runs (it is a module, so it runs after this one).
    if (token) view.element.setAttribute("token", token);
    view.element.addEventListener("frame", function () { view.out.state.textContent = ""; });
    view.element.addEventListener("reconnect", function (e) {
      view.out.state.textContent = "reconnecting in " + Math.max(1, Math.round(e.detail.delay / 1000)) + " s";
    });
    view.element.addEventListener("error", function (e) { view.out.state.title = e.detail.message; });
    var box = figure.querySelector("details[data-control]");
    if (box) controlForm(box);
    return view;
  });
  // "camera offline since 12:03:04 UTC (2 min): connect ECONNREFUSED …", or nothing while frames come.
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
  // The stream's settings as a form, built from what GET /control describes
  // each time the box is opened (someone else may have changed them). Only
  // what differs from the values shown is sent; the server checks it and its
  // 400 says the range. The camera restarts, but this page's stream stays open.
  function controlForm(box) {
    var form = box.querySelector("form");
    var out = box.querySelector("[data-out=control]");
    var url = withToken(box.getAttribute("data-control"));
    var shown = {};
    function answer(r) {
      return r.ok ? r.json() : r.text().then(function (t) { throw new Error(t.trim()); });
    }
    function render(controls) {
      shown = controls;
      form.textContent = "";
      Object.keys(controls).forEach(function (name) {
        var c = controls[name];
        var label = document.createElement("label");
        var caption = document.createElement("span");
        caption.textContent = name + (c.unit && c.unit !== name ? " (" + c.unit + ")" : "");
        caption.title = c.description + (c.type === "integer" || c.type === "number"
          ? ", " + c.min + " to " + c.max + (c.zero ? " (0: " + c.zero + ")" : "") : "");
        var input;
        if (c.type === "choice") {
          input = document.createElement("select");
          c.choices.forEach(function (choice) {
            var option = document.createElement("option");
            option.value = option.textContent = String(choice);
            input.appendChild(option);
          });
          input.value = String(c.value);
        } else if (c.type === "boolean") {
          input = document.createElement("input");
          input.type = "checkbox";
          input.checked = c.value === true;
        } else {
          input = document.createElement("input");
          input.type = "number";
          input.min = String(c.min);
          input.max = String(c.max);
          input.step = c.type === "integer" ? "1" : "any";
          input.value = c.value === null ? "" : String(c.value);
          if (c.nullable) input.placeholder = "not set";
        }
        input.name = name;
        label.appendChild(caption);
        label.appendChild(input);
        form.appendChild(label);
      });
      var apply = document.createElement("button");
      apply.textContent = "apply";
      form.appendChild(apply);
    }
    function changes() {
      var body = {};
      Object.keys(shown).forEach(function (name) {
        var c = shown[name], input = form.elements.namedItem(name), value;
        if (c.type === "boolean") value = input.checked;
        else if (c.type === "choice") {
          var numeric = c.choices.every(function (x) { return typeof x === "number"; });
          value = numeric ? Number(input.value) : input.value;
        } else if (input.value === "") value = c.nullable ? null : "";
        else value = Number(input.value);
        if (value !== c.value) body[name] = value;
      });
      return body;
    }
    box.addEventListener("toggle", function () {
      if (!box.open) return;
      out.textContent = "loading…";
      fetch(url, { cache: "no-store" }).then(answer).then(function (described) {
        render(described.controls);
        out.textContent = "";
      }).catch(function (error) { out.textContent = error.message; });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = changes();
      if (Object.keys(body).length === 0) {
        out.textContent = "nothing to change";
        return;
      }
      out.textContent = "applying…";
      fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        cache: "no-store"
      }).then(answer).then(function (result) {
        render(result.controls);
        out.textContent = result.changed.length ? "changed " + result.changed.join(", ") : "nothing changed";
      }).catch(function (error) { out.textContent = error.message; });
    });
  }
  function schedulePoll(view, delay) {
    clearTimeout(view.poll);
    view.poll = setTimeout(function () { poll(view); }, delay);
  }
  function poll(view) {
    if (document.hidden) return;
    var stats = view.element.stats;
    if (stats) {
      view.out.fps.textContent = stats.fps.toFixed(1);
      view.out.latency.textContent = stats.latency === null ? "–" : stats.latency + " ms";
    }
    fetch(withToken(view.stats), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(String(r.status))); })
      .then(function (s) {
        view.out.viewers.textContent = String(s.viewers);
        view.out.status.textContent = describeStatus(s.status);
      })
      .catch(function () { view.out.viewers.textContent = "?"; })
      .then(function () { schedulePoll(view, 1000); });
  }
  document.addEventListener("visibilitychange", function () {
    views.forEach(function (view) {
      if (document.hidden) clearTimeout(view.poll);
      else schedulePoll(view, 0);
    });
  });
  if (!document.hidden) views.forEach(function (view) { schedulePoll(view, 0); });
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
 *   script: "mjpeg-view.js",
 * });
 * ```
 */
export function viewerPage(options: ViewerPageOptions): string {
  const figures = options.streams.map((s) => {
    const name = escapeHtml(s.name);
    const stream = escapeHtml(s.stream);
    const shared = options.mux !== undefined && s.muxName !== undefined
      ? ` mux="${escapeHtml(options.mux)}" stream="${escapeHtml(s.muxName)}"`
      : "";
    return `<figure data-stream="${stream}" data-stats="${escapeHtml(s.stats)}">
<mjpeg-view src="${stream}"${shared} title="${name}"></mjpeg-view>
<noscript><img src="${stream}" alt="${name}"></noscript>
<figcaption><b>${name}</b>
<span><span data-out="fps">–</span> fps</span>
<span><span data-out="viewers">–</span> viewers</span>
<span>latency <span data-out="latency">–</span></span>
<a data-snapshot href="${escapeHtml(s.snapshot)}" target="_blank">snapshot</a>
<span class="state" data-out="state"></span>
<span class="status" data-out="status" role="status"></span></figcaption>${
      s.control === undefined ? "" : `
<details data-control="${escapeHtml(s.control)}"><summary>camera settings</summary>
<form novalidate></form>
<output data-out="control"></output></details>`
    }
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
<script type="module" src="${escapeHtml(options.script)}"></script>
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
