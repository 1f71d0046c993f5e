/**
 * The inside of a `<mjpeg-view>`: the canvas, the overlay (fps, latency,
 * offline state), the status line shown when there is no live picture, and
 * the optional snapshot and fullscreen buttons. Styles are a constructed
 * stylesheet where the browser has them, so a page whose Content-Security-
 * Policy forbids inline styles still lays the element out.
 *
 * @module
 */
import type { MjpegViewStats } from "./view_stats.ts";

const CSS = `
:host{display:inline-block;position:relative;background:#000;overflow:hidden;vertical-align:top;line-height:0}
:host([hidden]){display:none}
canvas{display:block;width:100%;height:100%;object-fit:contain}
:host([fit=cover]) canvas{object-fit:cover}
:host([fit=fill]) canvas{object-fit:fill}
.overlay,.status{position:absolute;left:0;font:12px/1.4 system-ui,sans-serif;color:#fff;background:rgba(0,0,0,.55);padding:2px 6px;pointer-events:none;white-space:nowrap}
.overlay{top:0}
.status{bottom:0;right:0;white-space:normal;color:#fc6}
.controls{position:absolute;top:4px;right:4px;display:flex;gap:4px;line-height:1}
button{font:12px system-ui,sans-serif;background:rgba(0,0,0,.55);color:#fff;border:1px solid #888;border-radius:3px;padding:2px 6px;cursor:pointer}
[hidden]{display:none!important}
`;

let shared: CSSStyleSheet | undefined;

/** The parts of a view's shadow tree the element updates. */
export interface ViewParts {
  canvas: HTMLCanvasElement;
  overlay: HTMLElement;
  status: HTMLElement;
  controls: HTMLElement;
  snapshotButton: HTMLButtonElement;
  fullscreenButton: HTMLButtonElement;
}

/**
 * Builds the shadow tree.
 *
 * @param host The element.
 * @returns Its parts.
 */
export function buildShadow(host: HTMLElement): ViewParts {
  const root = host.attachShadow({ mode: "open" });
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function") {
    try {
      shared ??= new CSSStyleSheet();
      if (shared.cssRules.length === 0) shared.replaceSync(CSS);
      root.adoptedStyleSheets = [shared];
    } catch {
      root.append(styleElement());
    }
  } else {
    root.append(styleElement());
  }
  const make = <K extends keyof HTMLElementTagNameMap>(tag: K, className?: string) => {
    const element = document.createElement(tag);
    if (className) element.className = className;
    return element;
  };
  const canvas = make("canvas");
  canvas.setAttribute("part", "canvas");
  const overlay = make("div", "overlay");
  overlay.setAttribute("part", "overlay");
  const status = make("div", "status");
  status.setAttribute("part", "status");
  status.setAttribute("role", "status");
  const controls = make("div", "controls");
  const snapshotButton = make("button");
  snapshotButton.textContent = "snapshot";
  snapshotButton.title = "Save the current frame as a JPEG";
  const fullscreenButton = make("button");
  fullscreenButton.textContent = "fullscreen";
  fullscreenButton.title = "Fullscreen (or double-click)";
  controls.append(snapshotButton, fullscreenButton);
  root.append(canvas, overlay, status, controls);
  return { canvas, overlay, status, controls, snapshotButton, fullscreenButton };
}

function styleElement(): HTMLStyleElement {
  const style = document.createElement("style");
  style.textContent = CSS;
  return style;
}

/**
 * The overlay's text: fps, latency, and the state when not live.
 *
 * @param stats The view's counters.
 * @returns One line.
 */
export function overlayText(stats: MjpegViewStats): string {
  const latency = stats.latency === null ? "" : ` · ${stats.latency} ms`;
  const state = stats.state === "live"
    ? ""
    : ` · ${stats.state === "reconnecting" ? "offline" : stats.state}`;
  return `${stats.fps.toFixed(1)} fps${latency}${state}`;
}
