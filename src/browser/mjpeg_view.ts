/**
 * `<mjpeg-view>`: an MJPEG stream on a canvas that does what an `<img>`
 * cannot — reconnect after a stall or a restart, close every decoded bitmap,
 * stop its request while nobody can see it, count frames, fps and latency,
 * and share one connection with the other cameras of its server.
 *
 * @module
 */
import type { Frame } from "../wire/mod.ts";
import { ElementBase } from "./element_base.ts";
import { type Feed, type FeedListener, type FeedRequest, openStream } from "./feed.ts";
import { joinMux } from "./mux_feed.ts";
import { FramePainter } from "./painter.ts";
import { buildShadow, overlayText, type ViewParts } from "./view_shadow.ts";
import {
  emptyStats,
  latencyFrom,
  type MjpegViewStats,
  RateMeter,
  type ViewState,
} from "./view_stats.ts";
import { readSettings, type ViewSettings } from "./view_settings.ts";
import type {
  ErrorEventDetail,
  FrameEventDetail,
  ReconnectEventDetail,
  StallEventDetail,
} from "./view_events.ts";

// The overlay's text changes at most this often: fps and latency are read by people.
const OVERLAY_INTERVAL = 250;

/**
 * The `<mjpeg-view>` custom element. Attributes: `src`, `fps`, `fit`
 * (`contain`, `cover`, `fill`), `token`, `token-in` (`header` or `query`),
 * `stall-timeout` (seconds), `overlay`, `controls`, and `mux` with `stream`
 * to share a multiplexed connection. Events: `frame`, `stall`, `reconnect`,
 * `error`. See docs/browser.md.
 *
 * @example
 * ```ts ignore
 * import "@mjpeg/stream/browser"; // defines <mjpeg-view>
 *
 * const view = document.createElement("mjpeg-view");
 * view.setAttribute("src", "http://pi.local:8080/stream.mjpg");
 * view.addEventListener("error", (e) => console.log((e as CustomEvent).detail.message));
 * document.body.append(view);
 * ```
 */
export class MjpegView extends ElementBase {
  /** The attributes the element reacts to. */
  static readonly observedAttributes: string[] = [
    "src",
    "mux",
    "stream",
    "fps",
    "token",
    "token-in",
    "stall-timeout",
    "fit",
    "overlay",
    "controls",
  ];

  #parts: ViewParts | undefined;
  #painter: FramePainter | undefined;
  #feed: Feed | undefined;
  #settings: ViewSettings | undefined;
  #stats: MjpegViewStats = emptyStats();
  readonly #meter = new RateMeter();
  #lastFrame: Frame | undefined;
  #lastAccepted = -Infinity;
  #overlayAt = 0;
  #onScreen = typeof IntersectionObserver !== "function";
  #frozen = false;
  #observer: IntersectionObserver | undefined;
  #retryAt = 0;
  #retryReason = "";

  readonly #onVisibility = (): void => this.#update();
  readonly #onFreeze = (): void => {
    this.#frozen = true;
    this.#update();
  };
  readonly #onResume = (): void => {
    this.#frozen = false;
    this.#update();
  };

  /** A copy of the view's counters: frames, fps, reconnects, latency and more. */
  get stats(): MjpegViewStats {
    return {
      ...this.#stats,
      fps: this.#feed ? this.#meter.rate() : 0,
      openBitmaps: this.#painter?.openBitmaps ?? 0,
    };
  }

  /** @ignore Called by the browser when the element enters a document. */
  connectedCallback(): void {
    if (!this.#parts) {
      this.#parts = buildShadow(this);
      this.#painter = new FramePainter(this.#parts.canvas, {
        painted: (frame, width, height) => this.#painted(frame, width, height),
        skipped: () => this.#stats.dropped++,
        failed: (_frame, error) => {
          this.#stats.decodeErrors++;
          this.#fail(
            new Error(`expected a JPEG the browser can decode, got one it cannot: ${error}`),
          );
        },
      });
      this.#parts.snapshotButton.addEventListener("click", () => void this.download());
      this.#parts.fullscreenButton.addEventListener("click", () => void this.toggleFullscreen());
      this.addEventListener("dblclick", () => {
        if (this.hasAttribute("controls")) void this.toggleFullscreen();
      });
    }
    document.addEventListener("visibilitychange", this.#onVisibility);
    document.addEventListener("freeze", this.#onFreeze);
    document.addEventListener("resume", this.#onResume);
    if (typeof IntersectionObserver === "function") {
      this.#observer = new IntersectionObserver((entries) => {
        const entry = entries[entries.length - 1];
        if (entry) this.#onScreen = entry.isIntersecting;
        this.#update();
      });
      this.#observer.observe(this);
    }
    this.#settings = undefined;
    this.#render();
    this.#update();
  }

  /** @ignore Called by the browser when the element leaves its document: the request is aborted. */
  disconnectedCallback(): void {
    document.removeEventListener("visibilitychange", this.#onVisibility);
    document.removeEventListener("freeze", this.#onFreeze);
    document.removeEventListener("resume", this.#onResume);
    this.#observer?.disconnect();
    this.#observer = undefined;
    this.#onScreen = typeof IntersectionObserver !== "function";
    this.#stop("idle");
  }

  /** @ignore Called by the browser when an observed attribute changes. */
  attributeChangedCallback(name: string, before: string | null, after: string | null): void {
    if (before === after || !this.#parts) return;
    if (name === "overlay" || name === "controls" || name === "fit") {
      if (name === "fit") this.#settings = undefined;
      this.#render();
      return;
    }
    // Anything that changes the request: a new one, not counted as a reconnect.
    this.#settings = undefined;
    this.#stop("idle");
    this.#update();
  }

  /**
   * The last painted frame as it came from the server (the JPEG's own bytes,
   * not re-encoded).
   *
   * @returns A `image/jpeg` Blob.
   * @throws {Error} Before the first frame.
   */
  snapshot(): Promise<Blob> {
    const frame = this.#lastFrame;
    if (!frame) {
      return Promise.reject(new Error("expected a frame to take a snapshot of, got none yet"));
    }
    return Promise.resolve(
      new Blob([frame.data as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }),
    );
  }

  /**
   * Saves the last painted frame as a file, as a download.
   *
   * @param filename The file's name; by default `snapshot-<time>.jpg`.
   */
  async download(filename?: string): Promise<void> {
    const blob = await this.snapshot();
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = filename ?? `snapshot-${new Date().toISOString().replace(/[:.]/g, "-")}.jpg`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  /** Shows the view fullscreen, or leaves fullscreen if it is. */
  async toggleFullscreen(): Promise<void> {
    if (document.fullscreenElement === this) await document.exitFullscreen();
    else await this.requestFullscreen();
  }

  #settingsNow(): ViewSettings {
    if (!this.#settings) {
      const { settings, problems } = readSettings(this, document.baseURI);
      this.#settings = settings;
      for (const problem of problems) this.#fail(new Error(problem));
    }
    return this.#settings;
  }

  /** Opens or stops the feed to match whether anyone can see the view. */
  #update(): void {
    const settings = this.#settingsNow();
    const visible = !document.hidden && this.#onScreen && !this.#frozen;
    const wanted = this.isConnected && settings.request !== undefined;
    if (wanted && visible) {
      if (!this.#feed) this.#start(settings);
    } else if (this.#feed || this.#stats.state !== (wanted ? "paused" : "idle")) {
      this.#stop(wanted ? "paused" : "idle");
    }
  }

  #start(settings: ViewSettings): void {
    const request: FeedRequest = settings.request!;
    const listener: FeedListener = {
      frame: (frame) => this.#received(frame),
      connecting: () => this.#setState("connecting"),
      stall: (timeout) => {
        this.#stats.stalls++;
        this.#emit<StallEventDetail>("stall", { timeout });
      },
      reconnect: (detail) => {
        this.#stats.reconnects++;
        this.#retryAt = Date.now() + detail.delay;
        this.#retryReason = detail.reason;
        this.#setState("reconnecting");
        this.#emit<ReconnectEventDetail>("reconnect", detail);
      },
      error: (error) => this.#fail(error),
    };
    this.#feed = settings.stream === undefined
      ? openStream(request, listener)
      : joinMux(request, settings.stream, listener);
  }

  #stop(state: ViewState): void {
    this.#feed?.close();
    this.#feed = undefined;
    this.#setState(state);
  }

  #received(frame: Frame): void {
    this.#stats.bytes += frame.data.length;
    const interval = this.#settingsNow().minInterval;
    const now = performance.now();
    // The cap is also kept here, for servers that ignore ?fps= (a little
    // early is fine: arrival times jitter).
    if (interval > 0 && now - this.#lastAccepted < interval * 0.8) {
      this.#stats.dropped++;
      return;
    }
    this.#lastAccepted = now;
    this.#painter?.offer(frame);
  }

  #painted(frame: Frame, width: number, height: number): void {
    const stats = this.#stats;
    stats.frames++;
    stats.width = width;
    stats.height = height;
    stats.latency = latencyFrom(frame.headers.get("x-timestamp"), Date.now());
    this.#meter.tick();
    this.#lastFrame = frame;
    // A frame decoded after the feed stopped is shown, but the view stays paused.
    if (this.#feed && stats.state !== "live") this.#setState("live");
    else if (performance.now() - this.#overlayAt > OVERLAY_INTERVAL) this.#render();
    this.#emit<FrameEventDetail>("frame", {
      sequence: frame.sequence,
      width,
      height,
      size: frame.data.length,
      latency: stats.latency,
    });
  }

  #fail(error: Error): void {
    this.#stats.errors++;
    this.#stats.lastError = error.message;
    this.#emit<ErrorEventDetail>("error", { message: error.message, error });
    this.#render();
  }

  #setState(state: ViewState): void {
    if (this.#stats.state === state) return;
    this.#stats.state = state;
    this.setAttribute("state", state);
    this.#render();
  }

  #emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail }));
  }

  /** Brings the overlay, status line and buttons up to date. */
  #render(): void {
    const parts = this.#parts;
    if (!parts) return;
    this.#overlayAt = performance.now();
    const stats = this.stats;
    parts.overlay.hidden = !this.hasAttribute("overlay");
    if (!parts.overlay.hidden) parts.overlay.textContent = overlayText(stats);
    parts.controls.hidden = !this.hasAttribute("controls");
    let status = "";
    if (stats.state === "reconnecting") {
      const seconds = Math.max(0, Math.round((this.#retryAt - Date.now()) / 1000));
      status = `offline: ${this.#retryReason}; retrying in ${seconds} s`;
    } else if (stats.state === "connecting" && stats.frames === 0) {
      status = "connecting…";
    }
    parts.status.hidden = status === "";
    parts.status.textContent = status;
  }
}
