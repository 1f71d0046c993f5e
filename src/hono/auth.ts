/**
 * Access control for the server routes: HTTP Basic credentials or a bearer
 * token, compared in constant time. Web-standard only (no Hono), so any
 * handler can call {@linkcode checkAuth}.
 *
 * A token is also accepted as `?token=…`, because an `<img>` tag, VLC or a
 * Home Assistant camera URL cannot set an Authorization header.
 *
 * @module
 */
import { z } from "zod";
import { parseOptions } from "../internal/validate.ts";

/** Who may see frames and stats. Give `username`+`password`, `users`, `token`, or several. */
export interface AuthOptions {
  /** The Basic-auth user name (with `password`). */
  username?: string | undefined;
  /** The Basic-auth password (with `username`). */
  password?: string | undefined;
  /** More Basic-auth users: name → password. */
  users?: Record<string, string> | undefined;
  /** Bearer token(s), accepted as `Authorization: Bearer …` or `?token=…`. */
  token?: string | string[] | undefined;
  /**
   * The realm browsers show in their login prompt.
   *
   * @default {"mjpeg-stream"}
   */
  realm?: string | undefined;
}

/** Auth options after validation. */
export interface Authenticator {
  /** `Basic` when passwords are configured (browsers then prompt), else `Bearer`. */
  readonly scheme: "Basic" | "Bearer";
  /**
   * Checks a request.
   *
   * @param request The request.
   * @returns Undefined when allowed, else a 401 response with no frame bytes.
   */
  check(request: Request): Promise<Response | undefined>;
}

/** The zod schema for {@linkcode AuthOptions}. */
export const authSchema: z.ZodType<AuthOptions> = z.strictObject({
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  users: z.record(z.string().min(1), z.string().min(1)).optional(),
  token: z.union([z.string().min(8), z.array(z.string().min(8)).min(1)]).optional(),
  realm: z.string().regex(/^[^"\\\r\n]*$/, "expected no quotes, backslashes or newlines")
    .optional(),
}).refine((a) => (a.username === undefined) === (a.password === undefined), {
  message: "expected username and password together",
}).refine((a) => a.username !== undefined || a.users !== undefined || a.token !== undefined, {
  message: "expected username+password, users or token",
});

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * Compares two strings in time that depends on neither their contents nor
 * their lengths: both are hashed first, then every byte of the hashes is compared.
 *
 * @param given The string from the request.
 * @param expected The configured secret.
 * @returns Whether they are equal.
 */
export async function constantTimeEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/**
 * Builds an authenticator from options (validated with zod).
 *
 * @param options Credentials and/or tokens.
 * @returns An object whose `check(request)` allows or refuses with 401.
 *
 * @example
 * ```ts
 * import { createAuth } from "@mjpeg/stream";
 * const auth = createAuth({ token: "correct-horse-battery" });
 * const refused = await auth.check(new Request("http://x/stream.mjpg"));
 * refused?.status; // 401
 * ```
 */
export function createAuth(options: AuthOptions): Authenticator {
  const parsed = parseOptions(authSchema, options, "auth options");
  const users = new Map(Object.entries(parsed.users ?? {}));
  if (parsed.username !== undefined) users.set(parsed.username, parsed.password!);
  const tokens = parsed.token === undefined ? [] : [parsed.token].flat();
  const scheme = users.size > 0 ? "Basic" : "Bearer";
  const realm = parsed.realm ?? "mjpeg-stream";

  const allowed = async (request: Request): Promise<boolean> => {
    const header = request.headers.get("Authorization") ?? "";
    const space = header.indexOf(" ");
    const kind = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (kind === "basic" && users.size > 0) {
      const decoded = decodeBasic(value);
      if (decoded === undefined) return false;
      // Compare against a dummy for unknown users too, so timing does not reveal names.
      const password = users.get(decoded.user);
      const ok = await constantTimeEqual(decoded.password, password ?? "\0unknown user");
      return ok && password !== undefined;
    }
    const token = kind === "bearer" ? value : queryToken(request.url);
    if (!token || tokens.length === 0) return false;
    let ok = false;
    for (const expected of tokens) ok = (await constantTimeEqual(token, expected)) || ok;
    return ok;
  };

  return {
    scheme,
    async check(request) {
      if (await allowed(request)) return undefined;
      const challenge = scheme === "Basic"
        ? `Basic realm="${realm}", charset="UTF-8"`
        : `Bearer realm="${realm}"`;
      return new Response("401 Unauthorized: expected valid credentials\n", {
        status: 401,
        headers: {
          "WWW-Authenticate": challenge,
          "Content-Type": "text/plain; charset=utf-8",
          "Cache-Control": "no-store",
        },
      });
    },
  };
}

function decodeBasic(value: string): { user: string; password: string } | undefined {
  let text: string;
  try {
    const binary = atob(value);
    text = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(":");
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The `token` query parameter, or null (also when the URL does not parse). */
function queryToken(url: string): string | null {
  try {
    return new URL(url).searchParams.get("token");
  } catch {
    return null;
  }
}
