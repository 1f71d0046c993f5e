/**
 * Request size limits, the same on every runtime. Deno, Bun and Node each cap
 * a request head somewhere near 64 KiB and answer differently (431, 400, or a
 * dropped connection); a camera server needs far less, so it refuses long
 * URLs and large header blocks early, with a status that says which.
 *
 * @module
 */
import { z } from "zod";
import { parseOptions } from "../internal/validate.ts";

/** Limits on the size of a request. */
export interface RequestLimits {
  /**
   * The longest URL accepted, in bytes (path and query); longer gets 414.
   *
   * @default {2048}
   */
  maxUrlLength?: number;
  /**
   * The most header bytes accepted (names, values, `: ` and CRLF); more gets 431.
   *
   * @default {8192}
   */
  maxHeaderBytes?: number;
}

const limitsSchema = z.strictObject({
  maxUrlLength: z.number().int().min(64).max(1 << 20).optional(),
  maxHeaderBytes: z.number().int().min(256).max(1 << 20).optional(),
});

/**
 * Makes a check that refuses requests over the limits.
 *
 * @param limits The limits; each has a default.
 * @returns A function giving a 414 or 431 response for a request over a
 * limit (400 for one whose URL does not parse), or undefined for one within them.
 *
 * @example
 * ```ts
 * import { requestLimits } from "@mjpeg/stream";
 *
 * const check = requestLimits({ maxUrlLength: 1024 });
 * const refused = check(new Request("http://127.0.0.1/" + "a".repeat(2000)));
 * console.log(refused?.status); // 414
 * ```
 */
export function requestLimits(
  limits: RequestLimits = {},
): (request: Request) => Response | undefined {
  const parsed = parseOptions(limitsSchema, limits, "request limits");
  const maxUrl = parsed.maxUrlLength ?? 2048;
  const maxHeaders = parsed.maxHeaderBytes ?? 8192;
  return (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      // The runtime built this URL from the Host header, and a Host such as
      // "a b" (or none, on some runtimes) makes it unparsable.
      return refuse(400, "400 Bad Request: expected a Host header naming the server\n");
    }
    const length = url.pathname.length + url.search.length;
    if (length > maxUrl) {
      return refuse(414, `414 URI Too Long: expected at most ${maxUrl} bytes, got ${length}\n`);
    }
    let bytes = 0;
    request.headers.forEach((value, name) => (bytes += name.length + value.length + 4));
    if (bytes > maxHeaders) {
      return refuse(
        431,
        `431 Request Header Fields Too Large: expected at most ${maxHeaders} bytes, got ${bytes}\n`,
      );
    }
    return undefined;
  };
}

function refuse(status: number, message: string): Response {
  return new Response(message, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Connection": "close" },
  });
}
