/**
 * Reading the Content-Type an MJPEG stream arrives with: is it multipart or a
 * bare JPEG stream, and what is the boundary.
 *
 * @module
 */

/** What a Content-Type says about how to split a stream. */
export interface StreamType {
  /** `multipart` for any multipart/* type, `jpeg` for image/jpeg, `unknown` otherwise. */
  kind: "multipart" | "jpeg" | "unknown";
  /** The lower-cased media type, e.g. `multipart/x-mixed-replace`; empty if none. */
  mediaType: string;
  /**
   * The boundary as the server declared it, unquoted; undefined when missing.
   * It may still carry a leading `--` (some cameras send `boundary=--frame`);
   * the decoder accepts either spelling on the wire.
   */
  boundary?: string;
}

/**
 * Parses a Content-Type header value.
 *
 * @param contentType The header value, e.g. `multipart/x-mixed-replace; boundary="my frame"`.
 * @returns The stream kind and boundary.
 *
 * @example
 * ```ts
 * import { parseContentType } from "@mjpeg/stream";
 * parseContentType('multipart/x-mixed-replace; boundary="a b"').boundary; // "a b"
 * ```
 */
export function parseContentType(contentType: string | null | undefined): StreamType {
  if (!contentType) return { kind: "unknown", mediaType: "" };
  const semi = contentType.indexOf(";");
  const mediaType = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  const kind = mediaType.startsWith("multipart/")
    ? "multipart"
    : mediaType === "image/jpeg" || mediaType === "image/jpg" || mediaType === "image/pjpeg"
    ? "jpeg"
    : "unknown";
  const boundary = semi < 0 ? undefined : findParameter(contentType.slice(semi + 1), "boundary");
  return boundary === undefined ? { kind, mediaType } : { kind, mediaType, boundary };
}

/** Finds a parameter in `a=1; b="x;y"`, honouring quotes and backslash escapes. */
function findParameter(params: string, wanted: string): string | undefined {
  let i = 0;
  while (i < params.length) {
    while (i < params.length && /[\s;]/.test(params[i]!)) i++;
    const eq = params.indexOf("=", i);
    if (eq < 0) return undefined;
    const name = params.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (params[i] === " " || params[i] === "\t") i++;
    let value = "";
    if (params[i] === '"') {
      i++;
      while (i < params.length && params[i] !== '"') {
        if (params[i] === "\\" && i + 1 < params.length) i++;
        value += params[i++];
      }
      i++; // closing quote
      while (i < params.length && params[i] !== ";") i++;
    } else {
      const end = params.indexOf(";", i);
      value = params.slice(i, end < 0 ? params.length : end).trim();
      i = end < 0 ? params.length : end;
    }
    if (name === wanted) return value || undefined;
  }
  return undefined;
}

// RFC 2046 bchars: digits, letters and '()+_,-./:=? and space (not last).
const BOUNDARY_PATTERN = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/**
 * Checks that a boundary we are about to send is valid for RFC 2046 and safe
 * in a header, and returns it.
 *
 * @param boundary The boundary, without the leading `--`.
 * @returns The same boundary.
 * @throws {TypeError} If it is empty, longer than 70 characters, or has characters RFC 2046 forbids.
 */
export function validateBoundary(boundary: string): string {
  if (!BOUNDARY_PATTERN.test(boundary)) {
    throw new TypeError(
      `expected a multipart boundary of 1 to 70 characters from [0-9A-Za-z'()+_,-./:=? ] ` +
        `not ending in a space, got ${JSON.stringify(boundary)}`,
    );
  }
  return boundary;
}
