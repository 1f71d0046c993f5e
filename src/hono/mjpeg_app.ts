/**
 * The HTTP routes, as a Hono app (`@mjpeg/stream/hono`): the viewer page,
 * the stream, a snapshot and stats for one camera or several named ones, plus
 * mjpg-streamer's `/?action=stream` and `/?action=snapshot`, which OctoPrint,
 * Home Assistant and many apps expect. The core module needs no Hono; only
 * this subpath does.
 *
 * @module
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { z } from "zod";
import { type AuthOptions, authSchema, createAuth } from "./auth.ts";
import { FrameHub } from "../server/frame_hub.ts";
import { mjpegResponse, streamHeaders } from "../server/mjpeg_response.ts";
import { snapshotResponse } from "../server/snapshot_response.ts";
import { streamStats } from "./stream_stats.ts";
import { streamControl } from "../runtime/stream_control.ts";
import { type RequestLimits, requestLimits } from "./request_limits.ts";
import { parseOptions } from "../internal/validate.ts";
import { viewerPage } from "./viewer_page.ts";

export { type AuthOptions, constantTimeEqual, createAuth } from "./auth.ts";
export { type StreamStats, streamStats } from "./stream_stats.ts";
export { type RequestLimits, requestLimits } from "./request_limits.ts";

/** CORS settings: which web origins may read streams, snapshots and stats. */
export interface CorsOptions {
  /** Allowed origin(s), e.g. `https://dash.example.com`, or `*` for any. */
  origin: string | string[];
  /** Allow cookies and Authorization from those origins (not with `*`). */
  credentials?: boolean;
  /** Seconds browsers may cache a preflight answer. */
  maxAge?: number;
}

/** Options for {@linkcode mjpegApp}. */
export interface MjpegAppOptions {
  /** One hub, served at `/`, or several by name, served at `/<name>/` (the first also at `/`). */
  streams: FrameHub | Record<string, FrameHub>;
  /** Require Basic credentials or a bearer token on every route (page, stream, snapshot, stats). */
  auth?: AuthOptions;
  /** Allow cross-origin reads from these origins. Off by default. */
  cors?: CorsOptions;
  /** At most this many streams at once across all cameras; more get 503. No limit by default. */
  maxViewers?: number;
  /** The fps cap per viewer (`?fps=N` may ask for less). No cap by default. */
  fps?: number;
  /**
   * Milliseconds a snapshot waits for a first frame before answering 503.
   *
   * @default {5000}
   */
  snapshotTimeout?: number;
  /**
   * The viewer page's title.
   *
   * @default {"mjpeg-stream"}
   */
  title?: string;
  /** Request size limits; by default URLs up to 2048 bytes and 8 KiB of headers. */
  limits?: RequestLimits;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const optionsSchema = z.strictObject({
  streams: z.union([
    z.instanceof(FrameHub),
    z.record(
      z.string().regex(NAME, "expected a name of letters, digits, _ and -")
        .refine((n) => n !== "stats", 'expected a name other than the reserved "stats"'),
      z.instanceof(FrameHub, { message: "expected a FrameHub" }),
    ).refine((r) => Object.keys(r).length > 0, "expected at least one stream"),
  ], { message: "expected a FrameHub or a record of name → FrameHub" }),
  auth: authSchema.optional(),
  cors: z.strictObject({
    origin: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    credentials: z.boolean().optional(),
    maxAge: z.number().int().min(0).optional(),
  }).optional(),
  maxViewers: z.number().int().min(1).optional(),
  fps: z.number().positive().max(1000).optional(),
  snapshotTimeout: z.number().min(0).max(600_000).optional(),
  title: z.string().optional(),
  limits: z.object({}).passthrough().optional(), // checked by requestLimits()
});

/**
 * Builds the Hono app that serves one or several cameras.
 *
 * Routes for each stream (at `/` for the first or only one, and at `/<name>/`):
 * `GET /` viewer page, `/stream.mjpg` (`?fps=N` caps this viewer),
 * `/snapshot.jpg`, `/stats` (JSON), `/?action=stream`, `/?action=snapshot`.
 *
 * @param options The hub(s), auth, CORS, limits.
 * @returns A Hono app; serve it with `serve(app)` or mount it with `app.route()`.
 *
 * @example
 * ```ts ignore
 * import { FrameHub, serve } from "@mjpeg/stream";
 * import { mjpegApp } from "@mjpeg/stream/hono";
 *
 * const front = new FrameHub(), back = new FrameHub();
 * const app = mjpegApp({ streams: { front, back }, auth: { token: "s3cret-token" }, maxViewers: 50 });
 * await serve(app, { port: 8080 });
 * ```
 */
export function mjpegApp(options: MjpegAppOptions): Hono {
  const parsed = parseOptions(optionsSchema, options, "mjpegApp options");
  const single = parsed.streams instanceof FrameHub;
  const hubs = new Map<string, FrameHub>(
    parsed.streams instanceof FrameHub
      ? [["camera", parsed.streams]]
      : Object.entries(parsed.streams as Record<string, FrameHub>),
  );
  const [first] = hubs.values();
  const title = parsed.title ?? "mjpeg-stream";
  const auth = parsed.auth ? createAuth(parsed.auth) : undefined;
  const started = Date.now();
  let active = 0;

  const app = new Hono();
  // First, before auth: an oversized request is refused whoever sends it.
  const checkLimits = requestLimits(options.limits);
  app.use("*", async (c, next) => checkLimits(c.req.raw) ?? await next());
  if (parsed.cors) {
    app.use(
      "*",
      cors({
        origin: parsed.cors.origin,
        allowMethods: ["GET", "HEAD", "OPTIONS"],
        allowHeaders: ["Authorization"],
        exposeHeaders: ["X-Timestamp", "Content-Length"],
        ...(parsed.cors.credentials !== undefined ? { credentials: parsed.cors.credentials } : {}),
        ...(parsed.cors.maxAge !== undefined ? { maxAge: parsed.cors.maxAge } : {}),
      }),
    );
  }
  if (auth) {
    app.use("*", async (c, next) => {
      if (c.req.method === "OPTIONS") return next();
      const refused = await auth.check(c.req.raw);
      if (refused) return refused;
      return next();
    });
  }

  const stream = (hub: FrameHub, request: Request): Response => {
    const fps = parseFps(new URL(request.url).searchParams.get("fps"), parsed.fps);
    if (typeof fps === "string") return text(400, fps);
    // Hono answers HEAD by running the GET handler and dropping the body; a
    // dropped body would never unsubscribe, so HEAD gets headers only.
    if (request.method === "HEAD") {
      return new Response(null, { headers: streamHeaders(hub.boundary) });
    }
    if (parsed.maxViewers !== undefined && active >= parsed.maxViewers) {
      const response = text(503, `503 Service Unavailable: at most ${parsed.maxViewers} viewers\n`);
      response.headers.set("Retry-After", "5");
      return response;
    }
    const response = mjpegResponse(hub, fps === undefined ? {} : { fps });
    active++;
    streamControl(response.body)?.done.then(() => active--);
    return response;
  };
  const snapshot = (hub: FrameHub) =>
    snapshotResponse(
      hub,
      parsed.snapshotTimeout === undefined ? {} : { timeout: parsed.snapshotTimeout },
    );
  const page = (names: string[], prefix: (name: string) => string) =>
    new Response(
      viewerPage({
        title,
        streams: names.map((name) => ({
          name: single ? title : name,
          stream: `${prefix(name)}stream.mjpg`,
          snapshot: `${prefix(name)}snapshot.jpg`,
          stats: `${prefix(name)}stats?summary=1`,
        })),
      }),
      {
        headers: {
          "Content-Type": "text/html; charset=utf-8",
          "Cache-Control": "no-cache",
          // The page needs nothing from elsewhere; say so to the browser.
          "Content-Security-Policy":
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'",
        },
      },
    );
  const stats = (hub: FrameHub, request: Request) =>
    Response.json(streamStats(hub, new URL(request.url).searchParams.has("summary")), {
      headers: { "Cache-Control": "no-store" },
    });
  const action = (hub: FrameHub, request: Request) => {
    const what = new URL(request.url).searchParams.get("action");
    if (what === "stream") return stream(hub, request);
    if (what === "snapshot") return snapshot(hub);
    return text(400, `400 Bad Request: expected action=stream or action=snapshot, got ${what}\n`);
  };
  const find = (name: string): FrameHub | Response =>
    hubs.get(name) ??
      text(
        404,
        `404 Not Found: unknown stream "${name}", expected one of ${[...hubs.keys()].join(", ")}\n`,
      );

  app.get("/", (c) => {
    if (c.req.query("action") !== undefined) return action(first!, c.req.raw);
    return page([...hubs.keys()], (name) => single ? "" : `${name}/`);
  });
  app.get("/stream.mjpg", (c) => stream(first!, c.req.raw));
  app.get("/snapshot.jpg", () => snapshot(first!));
  app.get("/stats", (c) => {
    if (single) return stats(first!, c.req.raw);
    const summary = c.req.query("summary") !== undefined;
    const streams = Object.fromEntries([...hubs].map(([n, h]) => [n, streamStats(h, summary)]));
    return c.json({ uptime: (Date.now() - started) / 1000, viewers: active, streams }, 200, {
      "Cache-Control": "no-store",
    });
  });
  if (!single) {
    app.get("/:name", (c) => {
      const hub = find(c.req.param("name"));
      return hub instanceof Response ? hub : c.redirect(`${c.req.param("name")}/`, 301);
    });
    app.get("/:name/", (c) => {
      const hub = find(c.req.param("name"));
      if (hub instanceof Response) return hub;
      if (c.req.query("action") !== undefined) return action(hub, c.req.raw);
      return page([c.req.param("name")], () => "");
    });
    app.get("/:name/stream.mjpg", (c) => {
      const hub = find(c.req.param("name"));
      return hub instanceof Response ? hub : stream(hub, c.req.raw);
    });
    app.get("/:name/snapshot.jpg", (c) => {
      const hub = find(c.req.param("name"));
      return hub instanceof Response ? hub : snapshot(hub);
    });
    app.get("/:name/stats", (c) => {
      const hub = find(c.req.param("name"));
      return hub instanceof Response ? hub : stats(hub, c.req.raw);
    });
  }
  return app;
}

function parseFps(value: string | null, cap: number | undefined): number | undefined | string {
  if (value === null || value === "") return cap;
  const fps = Number(value);
  if (!Number.isFinite(fps) || fps <= 0 || fps > 1000) {
    return `400 Bad Request: expected fps between 0 and 1000, got ${JSON.stringify(value)}\n`;
  }
  return cap === undefined ? fps : Math.min(fps, cap);
}

function text(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
  });
}
