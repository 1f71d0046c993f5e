/**
 * One stream's routes as a Hono app: the viewer page, `/stream.mjpg`,
 * `/snapshot.jpg`, `/stats`, `/control` and mjpg-streamer's `/?action=stream|snapshot`.
 * {@linkcode mjpegApp} mounts one per stream with `app.route()`, so a handler
 * knows its hub without looking it up, and the whole app works mounted under
 * any prefix: every link in the page is relative to it.
 *
 * @module
 */
import { Hono } from "hono";
import type { FrameHub } from "../server/frame_hub.ts";
import { mjpegResponse, streamHeaders } from "../server/mjpeg_response.ts";
import { snapshotResponse } from "../server/snapshot_response.ts";
import { watchedBody } from "../server/stall_watch.ts";
import { streamControl } from "../runtime/stream_control.ts";
import { streamStats } from "./stream_stats.ts";

/** What every stream of one app shares: limits, and the count of viewers. */
export interface StreamAppContext {
  /** The fps cap per viewer, if any. */
  fps: number | undefined;
  /** At most this many viewers across the app's streams. */
  maxViewers: number | undefined;
  /** At most this many snapshots being answered across the app's streams. */
  maxSnapshots: number | undefined;
  /** Milliseconds a viewer's or snapshot's connection may take no bytes (0: no limit). */
  viewerTimeout: number;
  /** Milliseconds a snapshot waits for a frame. */
  snapshotTimeout: number | undefined;
  /** The oldest frame a snapshot hands out, in milliseconds (0: any age). */
  snapshotMaxAge: number | undefined;
  /** Viewers streaming now, across the app's streams. */
  active: number;
  /** Snapshots being answered now, across the app's streams. */
  snapshots: number;
}

/** How a stream app answers its page route: the page, or its own 404 for other paths. */
export interface StreamAppPage {
  /**
   * The viewer page, for this request: it offers the stream's controls only
   * where the request could use them.
   */
  page(request: Request): Response;
  /** The answer for a path under the mount point that no route has; a plain 404 by default. */
  notFound?(rest: string): Response;
}

/**
 * Builds one stream's routes.
 *
 * @param hub The stream's hub.
 * @param context Limits and the viewer count shared with the app's other streams.
 * @param page The page at the mount point.
 * @param control Answers `/control`, the stream's settings (any method).
 * @returns A Hono app to mount with `app.route(prefix, …)`.
 */
export function streamApp(
  hub: FrameHub,
  context: StreamAppContext,
  page: StreamAppPage,
  control: (request: Request) => Promise<Response>,
): Hono {
  const app = new Hono();
  // Query values come from Hono's parser of the URL string: it cannot throw
  // on a URL the runtime built from an odd Host, as new URL() can.
  const stream = (request: Request, fpsQuery: string | undefined): Response => {
    const fps = parseFps(fpsQuery ?? null, context.fps);
    if (typeof fps === "string") return text(400, fps);
    // Hono answers HEAD by running the GET handler and dropping the body; a
    // dropped body would never unsubscribe, so HEAD gets headers only.
    if (request.method === "HEAD") {
      return new Response(null, { headers: streamHeaders(hub.boundary) });
    }
    const viewerTimeout = context.viewerTimeout;
    return admitViewer(
      context,
      () => mjpegResponse(hub, fps === undefined ? { viewerTimeout } : { fps, viewerTimeout }),
    );
  };
  const snapshot = async (): Promise<Response> => {
    if (context.maxSnapshots !== undefined && context.snapshots >= context.maxSnapshots) {
      const response = text(
        503,
        `503 Service Unavailable: at most ${context.maxSnapshots} snapshots at once\n`,
      );
      response.headers.set("Retry-After", "1");
      return response;
    }
    context.snapshots++;
    let counted = true;
    const release = () => {
      if (counted) context.snapshots--;
      counted = false;
    };
    try {
      const response = await snapshotResponse(hub, {
        ...(context.snapshotTimeout === undefined ? {} : { timeout: context.snapshotTimeout }),
        ...(context.snapshotMaxAge === undefined ? {} : { maxAge: context.snapshotMaxAge }),
      });
      if (response.body === null) {
        release();
        return response;
      }
      // The place is held until the connection has taken the whole JPEG.
      return new Response(watchedBody(response.body, context.viewerTimeout, release), response);
    } catch (error) {
      release();
      throw error;
    }
  };

  app.get("/stream.mjpg", (c) => stream(c.req.raw, c.req.query("fps")));
  app.get("/snapshot.jpg", () => snapshot());
  app.all("/control", (c) => control(c.req.raw));
  app.get("/stats", (c) =>
    c.json(streamStats(hub, c.req.query("summary") !== undefined), 200, {
      "Cache-Control": "no-store",
    }));
  // The mount point itself, with or without its trailing slash: a wildcard
  // route is the one Hono matches for both once mounted under a prefix.
  app.get("/*", (c) => {
    const action = c.req.query("action");
    if (action === "stream") return stream(c.req.raw, c.req.query("fps"));
    if (action === "snapshot") return snapshot();
    if (action !== undefined) {
      return text(
        400,
        `400 Bad Request: expected action=stream or action=snapshot, got ${
          JSON.stringify(action).slice(0, 40)
        }\n`,
      );
    }
    const base = c.req.routePath.slice(0, -"/*".length);
    const rest = c.req.path.slice(base.length);
    // The page's links are relative, so it must be served at "prefix/".
    if (rest === "") return c.redirect(`${base.slice(base.lastIndexOf("/") + 1)}/`, 301);
    if (rest === "/") return page.page(c.req.raw);
    return page.notFound?.(rest) ?? c.notFound();
  });
  return app;
}

/**
 * Opens a stream for a viewer if the app's `maxViewers` allows, and counts it
 * in `context.active` until it ends.
 *
 * @param context The app's limits and viewer count.
 * @param open Makes the stream response.
 * @returns The stream, or 503 with Retry-After when the app is full.
 */
export function admitViewer(context: StreamAppContext, open: () => Response): Response {
  if (context.maxViewers !== undefined && context.active >= context.maxViewers) {
    const response = text(503, `503 Service Unavailable: at most ${context.maxViewers} viewers\n`);
    response.headers.set("Retry-After", "5");
    return response;
  }
  const response = open();
  context.active++;
  streamControl(response.body)?.done.then(() => context.active--);
  return response;
}

/**
 * Reads a viewer's `?fps=N` under the app's cap.
 *
 * @param value The query value, if any.
 * @param cap The app's fps cap, if any.
 * @returns The fps to serve (undefined: no cap), or a 400 message for a bad value.
 */
export function parseFps(
  value: string | null,
  cap: number | undefined,
): number | undefined | string {
  if (value === null || value === "") return cap;
  const fps = Number(value);
  if (!Number.isFinite(fps) || fps <= 0 || fps > 1000) {
    return `400 Bad Request: expected fps between 0 and 1000, got ${JSON.stringify(value)}\n`;
  }
  return cap === undefined ? fps : Math.min(fps, cap);
}

/**
 * A plain-text answer that is never cached.
 *
 * @param status The HTTP status.
 * @param body The text.
 * @returns The response.
 */
export function text(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
  });
}
