/**
 * A `<mjpeg-view>`'s attributes, read and checked: the request they make
 * (URL with `?fps=` and the token, headers, stall timeout), and what is wrong
 * with them, in words that say what was expected and what came. A bad value
 * is reported (as an `error` event) and its default used.
 *
 * @module
 */
import type { FeedRequest } from "./feed.ts";

/** The default stall timeout, in seconds: ten keepalive periods of our server. */
export const DEFAULT_STALL_TIMEOUT = 10;

/** What a view's attributes ask for. */
export interface ViewSettings {
  /** The request to make, or undefined with no `src` (or `mux` and `stream`). */
  request: FeedRequest | undefined;
  /** The stream's name in a multiplexed request (`stream` with `mux`), else undefined. */
  stream: string | undefined;
  /** The fps cap as milliseconds between frames; 0 for none. */
  minInterval: number;
}

const FITS = ["contain", "cover", "fill"];
const TOKEN_IN = ["header", "query"];

/**
 * Reads a view's attributes.
 *
 * @param element The `<mjpeg-view>`.
 * @param base The URL relative ones resolve against (the document's base URI).
 * @returns The settings, and one message per attribute that was not understood.
 */
export function readSettings(
  element: Element,
  base: string,
): { settings: ViewSettings; problems: string[] } {
  const problems: string[] = [];
  const attribute = (name: string) => element.getAttribute(name);
  const number = (name: string, min: number, max: number): number | undefined => {
    const text = attribute(name);
    if (text === null || text.trim() === "") return undefined;
    const value = Number(text);
    if (Number.isFinite(value) && value >= min && value <= max) return value;
    problems.push(
      `expected ${name} to be a number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
    return undefined;
  };
  const oneOf = (name: string, allowed: string[]): string | undefined => {
    const text = attribute(name);
    if (text === null || allowed.includes(text)) return text ?? undefined;
    problems.push(`expected ${name} to be ${allowed.join(", ")}, got ${JSON.stringify(text)}`);
    return undefined;
  };

  const fps = number("fps", 0.1, 1000);
  const stallTimeout = number("stall-timeout", 0.5, 3600) ?? DEFAULT_STALL_TIMEOUT;
  const tokenIn = oneOf("token-in", TOKEN_IN) ?? "header";
  oneOf("fit", FITS);
  const token = attribute("token");

  const mux = attribute("mux");
  const stream = attribute("stream");
  if ((mux === null) !== (stream === null)) {
    problems.push(
      `expected mux and stream together, got only ${mux === null ? "stream" : "mux"}; using src`,
    );
  }
  const shared = mux !== null && stream !== null && stream !== "";
  const source = shared ? mux : attribute("src");
  let request: FeedRequest | undefined;
  if (source !== null && source !== "") {
    try {
      const url = new URL(source, base);
      if (fps !== undefined) url.searchParams.set("fps", String(fps));
      const headers = new Headers();
      if (token) {
        if (tokenIn === "query") url.searchParams.set("token", token);
        else headers.set("Authorization", `Bearer ${token}`);
      }
      // fetch() refuses a URL with credentials, and a page opened as
      // http://user:pass@host/ hands them to every relative URL: send them as
      // Basic instead (the same credentials the browser would send).
      if (url.username || url.password) {
        if (!headers.has("Authorization")) {
          const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
          headers.set("Authorization", `Basic ${base64(pair)}`);
        }
        url.username = "";
        url.password = "";
      }
      request = { url: url.href, headers, stallTimeout: stallTimeout * 1000 };
    } catch {
      problems.push(
        `expected ${shared ? "mux" : "src"} to be a URL, got ${JSON.stringify(source)}`,
      );
    }
  }
  return {
    settings: {
      request,
      stream: shared && request ? stream : undefined,
      minInterval: fps === undefined ? 0 : 1000 / fps,
    },
    problems,
  };
}

/** Base64 of text as UTF-8, as Basic credentials are sent. */
function base64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
