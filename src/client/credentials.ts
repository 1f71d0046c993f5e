/**
 * Credentials for a camera: from the stream URL (`http://user:pass@camera/`,
 * which many camera manuals print) or from options, and the URL shown in
 * stats and logs, which never holds the password. fetch refuses URLs that
 * carry credentials, so they are split off before any request.
 *
 * @module
 */

/** A user name and password (answered with Basic or Digest), or a bearer token. */
export type Credentials = { username: string; password: string } | { token: string };

/** A URL with its credentials split off. */
export interface SplitCredentials {
  /** The URL without `user:pass@`. */
  url: URL;
  /** The user name and password it carried, percent-decoded; undefined when none. */
  credentials: { username: string; password: string } | undefined;
}

/**
 * Splits `user:pass@` off a URL. Both are percent-decoded, so a password
 * may hold `:` `@` `%` (as `%3A` `%40` `%25`, or as typed where the URL
 * parser allows it: `http://admin:p@ss:w%rd@cam/` is user `admin`, password
 * `p@ss:w%rd`); a `%` not followed by two hex digits stays as it is.
 *
 * @param input An absolute http(s) URL.
 * @returns The bare URL and the credentials, if any.
 * @throws {TypeError} When the URL is not absolute http(s).
 *
 * @example
 * ```ts
 * import { splitCredentials } from "./credentials.ts";
 * splitCredentials("http://admin:p%40ss@127.0.0.1/").credentials; // { username: "admin", password: "p@ss" }
 * ```
 */
export function splitCredentials(input: string | URL): SplitCredentials {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new TypeError(
      `MjpegClient: expected an absolute http(s) URL, got ${JSON.stringify(String(input))}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(
      `MjpegClient: expected an http: or https: URL, got ${JSON.stringify(url.protocol)}`,
    );
  }
  if (!url.username && !url.password) return { url, credentials: undefined };
  const credentials = {
    username: percentDecode(url.username),
    password: percentDecode(url.password),
  };
  url.username = "";
  url.password = "";
  return { url, credentials };
}

/**
 * Decodes %XX escapes (as UTF-8), leaving a `%` that starts none as it is:
 * the URL parser keeps a typed `50%off` unchanged, and decodeURIComponent
 * would throw on it.
 */
function percentDecode(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run; // not UTF-8: keep the escapes rather than guess
    }
  });
}

/**
 * The `Authorization` value for HTTP Basic: the UTF-8 bytes of `user:pass`
 * in base64.
 *
 * @param username The user name.
 * @param password The password.
 * @returns `Basic …`.
 */
export function basicAuthorization(username: string, password: string): string {
  let binary = "";
  for (const b of new TextEncoder().encode(`${username}:${password}`)) {
    binary += String.fromCharCode(b);
  }
  return `Basic ${btoa(binary)}`;
}

/**
 * The URL to show in stats and logs: never the password.
 *
 * @param url The URL, possibly with credentials.
 * @returns The URL with the password replaced by `***`.
 */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.href;
  } catch {
    return String(url);
  }
}
