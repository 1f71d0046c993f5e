/**
 * `GET /control` and `POST /control`: a stream's settings (a camera's
 * exposure, white balance, focus …) read and changed over HTTP.
 *
 * Changing the camera is more than watching it, so the route is off unless
 * the app has credentials (`auth`) or the server listens only on loopback
 * (`loopbackOnly`), and a POST must come from a program or from the server's
 * own page: a browser's cross-site request is refused (`Sec-Fetch-Site`, or
 * `Origin` against `Host` where a browser sends no `Sec-Fetch-Site`), a body
 * must say it is JSON or a form, and CORS never covers the route. Without
 * credentials the Host must be a loopback name too, so a page that rebinds
 * its own domain name to 127.0.0.1 cannot reach it.
 *
 * @module
 */
import {
  type ControlDescriptions,
  ControlError,
  type StreamControls,
} from "../internal/controls.ts";
import { text } from "./stream_app.ts";

/** Who may use `/control`, as the app was configured. */
export interface ControlAccess {
  /** Credentials are required on every route (the app's `auth`). */
  auth: boolean;
  /** The server listens only on a loopback address. */
  loopbackOnly: boolean;
}

/** The largest request body taken, in bytes: a change is a few dozen. */
export const MAX_CONTROL_BODY = 8192;

const LOOPBACK_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/i;

/**
 * Answers `/control` for one stream.
 *
 * @param controls The stream's controls; undefined when it has none (404).
 * @param access Whether credentials are required and the server is loopback-only.
 * @returns A handler for any method on the route.
 */
export function controlRoute(
  controls: StreamControls | undefined,
  access: ControlAccess,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (!controls) {
      return text(
        404,
        "404 Not Found: this stream has no controls (a camera's settings change at run time; " +
          "other sources' do not)\n",
      );
    }
    const url = new URL(request.url);
    const off = controlRefusal(access, request);
    if (off) return text(403, `403 Forbidden: ${off}\n`);
    if (request.method === "GET" || request.method === "HEAD") {
      return json(200, { controls: controls.describe() });
    }
    if (request.method !== "POST") {
      const response = text(405, `405 Method Not Allowed: expected GET or POST\n`);
      response.headers.set("Allow", "GET, HEAD, POST");
      return response;
    }
    const refused = crossSite(request, url);
    if (refused) {
      return text(
        403,
        `403 Forbidden: expected a request from this server's own page or a program, got ${refused}\n`,
      );
    }
    const changes = await readChanges(request, controls.describe());
    if (changes instanceof Response) return changes;
    try {
      return json(200, await controls.set(changes));
    } catch (error) {
      if (error instanceof ControlError) return text(400, `400 Bad Request: ${error.message}\n`);
      throw error;
    }
  };
}

/**
 * Why `/control` refuses a request to `url` whatever it carries, or undefined
 * when it may be used: the viewer page offers the controls exactly when this
 * lets its own requests through.
 *
 * A request a proxy forwarded is refused without credentials even on a
 * loopback-only server: a reverse proxy on the same machine makes anyone's
 * request come from 127.0.0.1, and nginx's default even sends `Host:
 * 127.0.0.1`. The proxy's own headers are the only sign of it; nginx sends
 * them only when configured to (docs/deploy.md's snippet does).
 *
 * @param access Whether credentials are required and the server is loopback-only.
 * @param request The request (its URL's host is its Host).
 * @returns The reason, or undefined.
 */
export function controlRefusal(access: ControlAccess, request: Request): string | undefined {
  if (access.auth) return undefined;
  const url = new URL(request.url);
  if (!access.loopbackOnly) {
    return "camera controls are off: they need credentials (mjpeg serve --auth or --token) " +
      "or a server that listens only on 127.0.0.1";
  }
  if (!LOOPBACK_HOST.test(url.hostname)) {
    return "expected a Host of localhost, 127.0.0.1 or [::1] for controls without credentials, " +
      `got ${JSON.stringify(url.host).slice(0, 80)}`;
  }
  const forwarded = FORWARDING_HEADERS.find((name) => request.headers.has(name));
  if (forwarded) {
    return "expected a request from this machine itself for controls without credentials, got " +
      `one through a proxy (${forwarded}); give the server credentials (--auth or --token) to ` +
      "change the camera through a proxy";
  }
  return undefined;
}

/** Headers a reverse proxy adds to what it forwards (RFC 7239's and the customary ones). */
const FORWARDING_HEADERS = ["Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Via"];

// What makes a request cross-site: a browser's own word for it when it sends
// one, else its Origin against the Host it was sent to; programs send neither.
function crossSite(request: Request, url: URL): string | undefined {
  const site = request.headers.get("Sec-Fetch-Site");
  if (site !== null) {
    return site === "same-origin" || site === "none"
      ? undefined
      : `Sec-Fetch-Site: ${site.slice(0, 40)}`;
  }
  const origin = request.headers.get("Origin");
  if (origin === null) return undefined;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch { /* "null", or not a URL */ }
  return host === url.host ? undefined : `Origin: ${origin.slice(0, 80)}`;
}

async function readChanges(
  request: Request,
  descriptions: ControlDescriptions,
): Promise<Record<string, unknown> | Response> {
  const type = (request.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && type !== "application/x-www-form-urlencoded") {
    return text(
      415,
      "415 Unsupported Media Type: expected Content-Type application/json (or " +
        `application/x-www-form-urlencoded), got ${JSON.stringify(type).slice(0, 80)}\n`,
    );
  }
  const body = await readBody(request);
  if (body instanceof Response) return body;
  if (type === "application/x-www-form-urlencoded") return fromForm(body, descriptions);
  const example = 'e.g. {"brightness":0.2}';
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return text(
      400,
      `400 Bad Request: expected a JSON object of control → value, ${example}: ` +
        `${(error as Error).message.slice(0, 120)}\n`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return text(
      400,
      `400 Bad Request: expected a JSON object of control → value, ${example}, got ` +
        `${JSON.stringify(value).slice(0, 40)}\n`,
    );
  }
  return value as Record<string, unknown>;
}

// The body as text, refused past MAX_CONTROL_BODY whether or not its length was announced.
async function readBody(request: Request): Promise<string | Response> {
  const tooLarge = () =>
    text(413, `413 Content Too Large: expected at most ${MAX_CONTROL_BODY} bytes of changes\n`);
  const length = Number(request.headers.get("Content-Length") ?? 0);
  if (length > MAX_CONTROL_BODY) return tooLarge();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_CONTROL_BODY) {
      await reader.cancel().catch(() => {});
      return tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) bytes.set(chunk, offset), offset += chunk.byteLength;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return text(400, "400 Bad Request: expected a body in UTF-8\n");
  }
}

// A form's values are text: each becomes what its control takes, so that
// `curl -d brightness=0.2` means the number; what does not convert is passed
// on as text, and the controls' own check says what was expected.
function fromForm(
  body: string,
  descriptions: ControlDescriptions,
): Record<string, unknown> | Response {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of new URLSearchParams(body)) {
    if (Object.hasOwn(out, name)) {
      return text(400, `400 Bad Request: expected each control once, got ${name} twice\n`);
    }
    const description = descriptions[name];
    const numeric = description?.type === "integer" || description?.type === "number" ||
      (description?.type === "choice" && description.choices?.every((c) => typeof c === "number"));
    if (description?.nullable && raw === "") out[name] = null;
    else if (numeric && raw.trim() !== "" && Number.isFinite(Number(raw))) out[name] = Number(raw);
    else if (description?.type === "boolean" && /^(true|on|1)$/i.test(raw)) out[name] = true;
    else if (description?.type === "boolean" && /^(false|off|0)$/i.test(raw)) out[name] = false;
    else out[name] = raw;
  }
  return out;
}

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
  });
}
