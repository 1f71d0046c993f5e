/**
 * `GET /mux.mjpg?streams=a,b,c`: several named streams over one connection,
 * for pages with more cameras than a browser opens connections to one host
 * (six over HTTP/1.1). Each part names its stream in an `X-Stream` header;
 * the `<mjpeg-view>` elements of one page share this response.
 *
 * @module
 */
import { Hono } from "hono";
import type { FrameHub } from "../server/frame_hub.ts";
import { streamHeaders } from "../server/mjpeg_response.ts";
import { muxResponse } from "../server/mux_response.ts";
import { DEFAULT_BOUNDARY } from "../wire/encoder_stream.ts";
import { admitViewer, parseFps, type StreamAppContext, text } from "./stream_app.ts";

/**
 * Builds the multiplexed stream's route, to mount at the app's root.
 *
 * @param hubs The app's named streams.
 * @param context Limits and the viewer count shared with the app's streams;
 *   a multiplexed stream counts as one viewer of the app (and one of each hub).
 * @returns A Hono app with `GET /mux.mjpg`.
 */
export function muxApp(hubs: Record<string, FrameHub>, context: StreamAppContext): Hono {
  const app = new Hono();
  const names = Object.keys(hubs);
  app.get("/mux.mjpg", (c) => {
    const fps = parseFps(c.req.query("fps") ?? null, context.fps);
    if (typeof fps === "string") return text(400, fps);
    const asked = c.req.query("streams");
    const wanted = asked === undefined
      ? names
      : [...new Set(asked.split(",").map((name) => name.trim()).filter((name) => name !== ""))];
    if (wanted.length === 0) {
      return text(400, `400 Bad Request: expected streams=name,… from ${names.join(", ")}\n`);
    }
    const unknown = wanted.filter((name) => !Object.hasOwn(hubs, name));
    if (unknown.length > 0) {
      return text(
        404,
        `404 Not Found: unknown stream ${JSON.stringify(unknown[0])}, expected one of ${
          names.join(", ")
        }\n`,
      );
    }
    // Hono answers HEAD by running this handler and dropping the body, which
    // would never unsubscribe: HEAD gets the headers only.
    if (c.req.method === "HEAD") {
      return new Response(null, { headers: streamHeaders(DEFAULT_BOUNDARY) });
    }
    const selected = Object.fromEntries(wanted.map((name) => [name, hubs[name]!]));
    const viewerTimeout = context.viewerTimeout;
    return admitViewer(
      context,
      () => muxResponse(selected, fps === undefined ? { viewerTimeout } : { fps, viewerTimeout }),
    );
  });
  return app;
}
