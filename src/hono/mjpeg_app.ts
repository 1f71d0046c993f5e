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
import { duration } from "../internal/duration.ts";
import { type AuthOptions, authSchema, createAuth } from "./auth.ts";
import type { StreamControls } from "../internal/controls.ts";
import { controlRefusal, controlRoute } from "./control_route.ts";
import { FrameHub } from "../server/frame_hub.ts";
import { DEFAULT_VIEWER_TIMEOUT } from "../server/mjpeg_response.ts";
import { describeError, RateLimitedLog } from "../internal/rate_limited_log.ts";
import { parseOptions } from "../internal/validate.ts";
import { type RequestLimits, requestLimits } from "./request_limits.ts";
import { muxApp } from "./mux_app.ts";
import { streamApp, type StreamAppContext, text } from "./stream_app.ts";
import { streamStats } from "./stream_stats.ts";
import { viewerPage } from "./viewer_page.ts";
import { viewScriptResponse } from "./view_script.ts";

/** CORS settings: which web origins may read streams, snapshots and stats. */
export interface CorsOptions {
  /** Allowed origin(s), e.g. `https://dash.example.com`, or `*` for any. */
  origin: string | string[];
  /** Allow cookies and Authorization from those origins (not with `*`). */
  credentials?: boolean;
  /** Seconds browsers may cache a preflight answer, at most 86400 (a day). */
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
  /**
   * At most this many snapshots being answered at once (waiting for a first
   * frame, or being sent), across all cameras; more get 503. Counted apart
   * from viewers, so polling snapshots cannot take their places. By default
   * the same number as `maxViewers` when that is set, else no limit.
   */
  maxSnapshots?: number;
  /**
   * Milliseconds a viewer's (or a snapshot's) connection may take no bytes
   * before it is dropped and its place freed; counted in `/stats` as
   * `viewersStalled`. Slow viewers that still read are not affected. 0 turns it off.
   *
   * @default {30000}
   */
  viewerTimeout?: number;
  /** The fps cap per viewer (`?fps=N` may ask for less). No cap by default. */
  fps?: number;
  /**
   * Milliseconds a snapshot waits for a first frame before answering 503 (at most 10 min).
   *
   * @default {5000}
   */
  snapshotTimeout?: number;
  /**
   * The oldest frame a snapshot hands out, in milliseconds (0: any age, at
   * most a day); an older one is answered 503 with `Retry-After` after
   * waiting `snapshotTimeout` for a new one (at once while the camera is
   * offline). See `snapshotResponse`'s `maxAge`.
   *
   * @default {5000}
   */
  snapshotMaxAge?: number;
  /**
   * The viewer page's title.
   *
   * @default {"mjpeg-stream"}
   */
  title?: string;
  /** Request size limits; by default URLs up to 2048 bytes and 8 KiB of headers. */
  limits?: RequestLimits;
  /**
   * Settings the streams can change at run time (a camera source's
   * `controls`), served at `GET|POST /control` (`/<name>/control`): for one
   * hub its controls, for named streams a record by stream name (streams
   * without get 404). The route needs `auth`, or `loopbackOnly`; without
   * either it answers 403.
   */
  controls?: StreamControls | Record<string, StreamControls>;
  /**
   * Set when the server listens only on a loopback address (127.0.0.1, ::1):
   * `/control` then works without `auth`, for requests whose Host is a
   * loopback name. Never set it for a server others can reach.
   *
   * @default {false}
   */
  loopbackOnly?: boolean;
  /**
   * Where an unexpected error in a route is reported (it answers 500); each
   * cause at most once a minute, without the request's query or credentials.
   *
   * @default {console.error}
   */
  log?: (line: string) => void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
// Names that are routes of their own at the root.
const RESERVED = ["stats", "control"];

const controlsSchema = z.custom<StreamControls>(
  (v) =>
    typeof v === "object" && v !== null &&
    typeof (v as StreamControls).describe === "function" &&
    typeof (v as StreamControls).set === "function",
  "expected controls with describe() and set()",
);

const optionsSchema = z.strictObject({
  streams: z.union([
    z.instanceof(FrameHub),
    z.record(
      z.string().regex(NAME, "expected a name of letters, digits, _ and -")
        .refine((n) => !RESERVED.includes(n), 'expected a name other than "stats" and "control"'),
      z.instanceof(FrameHub, { message: "expected a FrameHub" }),
    ).refine((r) => Object.keys(r).length > 0, "expected at least one stream"),
  ], { message: "expected a FrameHub or a record of name → FrameHub" }),
  auth: authSchema.optional(),
  cors: z.strictObject({
    origin: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    credentials: z.boolean().optional(),
    maxAge: duration("cors.maxAge", { unit: "s", integer: true, max: 86_400 }).optional(),
  }).optional(),
  maxViewers: z.number().int().min(1).optional(),
  maxSnapshots: z.number().int().min(1).optional(),
  viewerTimeout: duration("viewerTimeout", { unit: "ms", max: 3_600_000, zero: "0 turns it off" })
    .optional(),
  fps: z.number().positive().max(1000).optional(),
  snapshotTimeout: duration("snapshotTimeout", { unit: "ms", max: 600_000 }).optional(),
  snapshotMaxAge: duration("snapshotMaxAge", { unit: "ms", max: 86_400_000, zero: "0: any age" })
    .optional(),
  title: z.string().optional(),
  limits: z.object({}).passthrough().optional(), // checked by requestLimits()
  controls: z.union([
    controlsSchema,
    z.record(z.string(), controlsSchema),
  ], { message: "expected controls (describe and set) or a record of stream name → controls" })
    .optional(),
  loopbackOnly: z.boolean().optional(),
  log: z.custom<(line: string) => void>((v) => typeof v === "function", "expected a function")
    .optional(),
});

/**
 * Builds the Hono app that serves one or several cameras.
 *
 * Routes for each stream (at `/` for the first or only one, and at `/<name>/`):
 * `GET /` viewer page, `/stream.mjpg` (`?fps=N` caps this viewer),
 * `/snapshot.jpg`, `/stats` (JSON), `/?action=stream`, `/?action=snapshot`,
 * and `GET|POST /control` for a stream with `controls` (offered on the page
 * where they are allowed).
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
  const title = parsed.title ?? "mjpeg-stream";
  const auth = parsed.auth ? createAuth(parsed.auth) : undefined;
  const started = Date.now();
  const context: StreamAppContext = {
    fps: parsed.fps,
    maxViewers: parsed.maxViewers,
    maxSnapshots: parsed.maxSnapshots ?? parsed.maxViewers,
    viewerTimeout: parsed.viewerTimeout ?? DEFAULT_VIEWER_TIMEOUT,
    snapshotTimeout: parsed.snapshotTimeout,
    snapshotMaxAge: parsed.snapshotMaxAge,
    active: 0,
    snapshots: 0,
  };
  const errors = new RateLimitedLog(parsed.log ?? ((line) => console.error(line)));

  const app = new Hono();
  // Hono's default prints the error, whose message can quote the URL (and its
  // ?token=); say what failed once per cause, without secrets.
  app.onError((error) => {
    const { cause, text: what } = describeError(error);
    errors.report(cause, `a request failed (answered 500): ${what}`);
    return text(500, "500 Internal Server Error\n");
  });
  // First, before auth: an oversized request is refused whoever sends it.
  const checkLimits = requestLimits(options.limits);
  app.use("*", async (c, next) => checkLimits(c.req.raw) ?? await next());
  if (parsed.cors) {
    const allowCors = cors({
      origin: parsed.cors.origin,
      allowMethods: ["GET", "HEAD", "OPTIONS"],
      allowHeaders: ["Authorization"],
      exposeHeaders: ["X-Timestamp", "Content-Length"],
      ...(parsed.cors.credentials !== undefined ? { credentials: parsed.cors.credentials } : {}),
      ...(parsed.cors.maxAge !== undefined ? { maxAge: parsed.cors.maxAge } : {}),
    });
    // Never for /control: another site's page must not change the camera.
    app.use("*", (c, next) => isControlPath(c.req.path) ? next() : allowCors(c, next));
  }
  // The <mjpeg-view> script is public code the same for everyone, and before
  // auth: a page opened with ?token= loads it without the token.
  app.get("/mjpeg-view.js", (c) => viewScriptResponse(c.req.raw));
  if (auth) {
    app.use("*", async (c, next) => {
      if (c.req.method === "OPTIONS") return next();
      const refused = await auth.check(c.req.raw);
      if (refused) return refused;
      return next();
    });
  }

  const access = { auth: auth !== undefined, loopbackOnly: parsed.loopbackOnly ?? false };
  const controls = controlsByStream(parsed.streams, parsed.controls);
  const control = (name: string) => controlRoute(controls[name], access);

  // Links are relative to the page, which is always served at "prefix/"
  // (a named stream's own page at "prefix/name/", one level down). A page of
  // several streams reads them over one multiplexed connection. A stream's
  // controls are on the page when /control would take the page's own
  // requests (the same Host), so nobody is offered a form that answers 403.
  type PageStream = { name: string; key: string; path: string };
  const page = (streams: PageStream[], root: string) => (request: Request) => {
    const allowed = controlRefusal(access, request) === undefined;
    return pageResponse(viewerPage({
      title,
      script: `${root}mjpeg-view.js`,
      ...(streams.length > 1 ? { mux: `${root}mux.mjpg` } : {}),
      streams: streams.map(({ name, key, path }) => ({
        name,
        stream: `${path}stream.mjpg`,
        snapshot: `${path}snapshot.jpg`,
        stats: `${path}stats?summary=1`,
        muxName: name,
        ...(allowed && controls[key] ? { control: `${path}control` } : {}),
      })),
    }));
  };

  if (parsed.streams instanceof FrameHub) {
    app.route(
      "/",
      streamApp(
        parsed.streams,
        context,
        { page: page([{ name: title, key: "", path: "" }], "") },
        control(""),
      ),
    );
    return app;
  }
  const hubs = Object.entries(parsed.streams as Record<string, FrameHub>);
  app.route("/", muxApp(parsed.streams as Record<string, FrameHub>, context));
  for (const [name, hub] of hubs) {
    app.route(
      `/${name}`,
      streamApp(
        hub,
        context,
        { page: page([{ name, key: name, path: "" }], "../") },
        control(name),
      ),
    );
  }
  // The root: stats of every stream (registered before the first stream's
  // own /stats, so it wins), an index page, and the first stream's routes.
  app.get("/stats", (c) => {
    const summary = c.req.query("summary") !== undefined;
    const streams = Object.fromEntries(hubs.map(([n, h]) => [n, streamStats(h, summary)]));
    return c.json(
      { uptime: (Date.now() - started) / 1000, viewers: context.active, streams },
      200,
      { "Cache-Control": "no-store" },
    );
  });
  const names = hubs.map(([name]) => name);
  app.route(
    "/",
    streamApp(hubs[0]![1], context, {
      page: page(names.map((name) => ({ name, key: name, path: `${name}/` })), ""),
      notFound: (rest) =>
        text(
          404,
          `404 Not Found: unknown stream ${JSON.stringify(rest.split("/")[1])}, expected one of ${
            names.join(", ")
          }\n`,
        ),
    }, control(names[0]!)),
  );
  return app;
}

/** Each stream's controls by its name ("" for a lone hub), checked against the streams. */
function controlsByStream(
  streams: FrameHub | Record<string, FrameHub>,
  controls: StreamControls | Record<string, StreamControls> | undefined,
): Record<string, StreamControls> {
  if (controls === undefined) return {};
  const single = typeof controls.describe === "function";
  if (streams instanceof FrameHub) {
    if (!single) {
      throw new TypeError(
        "invalid mjpegApp options: controls: expected the controls of the one stream, got a record",
      );
    }
    return { "": controls as StreamControls };
  }
  if (single) {
    throw new TypeError(
      "invalid mjpegApp options: controls: expected a record of stream name → controls for " +
        "named streams",
    );
  }
  for (const name of Object.keys(controls)) {
    if (!Object.hasOwn(streams, name)) {
      throw new TypeError(
        `invalid mjpegApp options: controls: unknown stream ${JSON.stringify(name)}, expected ` +
          `one of ${Object.keys(streams).join(", ")}`,
      );
    }
  }
  return controls as Record<string, StreamControls>;
}

/** Whether a path is a stream's `/control` route, at any mount point. */
function isControlPath(path: string): boolean {
  return path === "/control" || path.endsWith("/control");
}

function pageResponse(html: string): Response {
  return new Response(html, {
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-cache",
      // The page needs nothing from elsewhere (its <mjpeg-view> script and
      // streams are on this server); say so to the browser.
      "Content-Security-Policy":
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'",
    },
  });
}
