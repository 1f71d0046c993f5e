/**
 * Credentials in a stream URL (`http://user:pass@camera/stream`), which many
 * camera docs print, become an `Authorization: Basic` header: fetch refuses
 * URLs that carry credentials.
 *
 * @module
 */

/** A URL with its credentials split off. */
export interface SplitCredentials {
  /** The URL without `user:pass@`. */
  url: URL;
  /** `Basic …` when the URL carried credentials, otherwise undefined. */
  authorization: string | undefined;
}

/**
 * Splits `user:pass@` off a URL and encodes it as a Basic authorization value.
 *
 * @param input An absolute http(s) URL.
 * @returns The bare URL and the header value, if any.
 * @throws {TypeError} When the URL is not absolute http(s).
 *
 * @example
 * ```ts
 * import { splitCredentials } from "./basic_auth.ts";
 * splitCredentials("http://admin:secret@127.0.0.1/").authorization; // "Basic YWRtaW46c2VjcmV0"
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
  if (!url.username && !url.password) return { url, authorization: undefined };
  // The URL keeps them percent-encoded; the header wants the UTF-8 bytes.
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = "";
  url.password = "";
  return { url, authorization: `Basic ${base64(new TextEncoder().encode(credentials))}` };
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
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
