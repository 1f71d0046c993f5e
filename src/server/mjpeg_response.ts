/**
 * The multipart/x-mixed-replace response. The body is a pull-based
 * `ReadableStream` with no queue (high-water mark 0): the runtime asks for the
 * next chunk only when the socket has taken the last one, and the viewer's
 * slot then holds the newest frame. So backpressure means "skip to the newest
 * frame", never "buffer old ones".
 *
 * @module
 */
import { z } from "zod";
import { duration } from "../internal/duration.ts";
import { type Frame, isFrame } from "../frame.ts";
import {
  DEFAULT_BOUNDARY,
  encodeMjpegPart,
  encodeOpening,
  multipartContentType,
} from "../wire/encoder_stream.ts";
import { validateBoundary } from "../wire/content_type.ts";
import { FrameHub } from "./frame_hub.ts";
import type { HubViewer } from "./hub_viewer.ts";
import { formatTimestamp } from "./published_frame.ts";
import { endStalledBody, type StallWatch, watchStall } from "./stall_watch.ts";
import { registerStream, type StreamControl } from "../runtime/stream_control.ts";
import { parseOptions } from "../internal/validate.ts";

/** Options for {@linkcode mjpegResponse}. */
export interface MjpegResponseOptions {
  /** At most this many frames per second to this viewer (hub sources only; 0: no cap). */
  fps?: number;
  /** Ends the stream when aborted; pass `request.signal` so a leaving viewer unsubscribes at once. */
  signal?: AbortSignal;
  /**
   * Milliseconds a viewer's connection may take no bytes before the viewer is
   * dropped: its stream errors, `serve()` closes the connection, and a hub
   * counts it in `viewersStalled`. A viewer that still reads, however slowly,
   * is not affected; one that takes less than one part per `viewerTimeout`
   * counts as stalled. 0 turns it off.
   *
   * @default {30000}
   */
  viewerTimeout?: number;
  /**
   * Send the hub's outage parts: the last frame again while no new one comes
   * and the offline card (see `FrameHubOptions.keepalive` and
   * `offlineAfter`). Hub sources only.
   *
   * @default {true}
   */
  keepalive?: boolean;
  /** More response headers (e.g. CORS); the stream's own headers win. */
  headers?: HeadersInit;
  /**
   * The boundary, for async-iterable sources (a hub uses its own).
   *
   * @default {"mjpegstream"}
   */
  boundary?: string;
  /**
   * More headers on every part, for async-iterable sources. A hub's parts are
   * encoded once for all viewers, so give its headers to `publish` instead.
   */
  partHeaders?: HeadersInit;
}

/** How long a viewer's connection may take no bytes before it is dropped: 30 s. */
export const DEFAULT_VIEWER_TIMEOUT = 30_000;

/** Headers that keep browsers, proxies and nginx from caching or buffering a live stream. */
export const STREAM_HEADERS: Readonly<Record<string, string>> = {
  "Cache-Control": "no-cache, no-store, must-revalidate, private",
  "Pragma": "no-cache",
  "Age": "0",
  "X-Accel-Buffering": "no",
};

const optionsSchema = z.strictObject({
  fps: z.number().min(0).max(1000).optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, "expected an AbortSignal")
    .optional(),
  viewerTimeout: duration("viewerTimeout", { unit: "ms", max: 3_600_000, zero: "0 turns it off" })
    .optional(),
  keepalive: z.boolean().optional(),
  headers: z.custom<HeadersInit>((v) => v !== null && typeof v === "object", {
    message: "expected a Headers object, a record or an array of pairs",
  }).optional(),
  boundary: z.string().optional(),
  partHeaders: z.custom<HeadersInit>((v) => v !== null && typeof v === "object", {
    message: "expected a Headers object, a record or an array of pairs",
  }).optional(),
});

/**
 * Streams frames as `multipart/x-mixed-replace`, the format browsers show in
 * an `<img>` and ffmpeg, VLC, OctoPrint and Home Assistant read.
 *
 * @param source A {@linkcode FrameHub} (each viewer gets the newest frame when
 *   its connection is ready) or any async iterable of JPEGs or frames (sent in order).
 * @param options fps cap, abort signal, extra headers.
 * @returns A streaming 200 response.
 *
 * @example
 * ```ts ignore
 * import { FrameHub, mjpegResponse } from "@mjpeg/stream";
 *
 * const hub = new FrameHub();
 * export default {
 *   fetch: (request: Request) => mjpegResponse(hub, { signal: request.signal }),
 * };
 * ```
 */
export function mjpegResponse(
  source: FrameHub | AsyncIterable<Uint8Array | Frame>,
  options: MjpegResponseOptions = {},
): Response {
  const parsed = parseOptions(optionsSchema, options, "mjpegResponse options");
  const viewerTimeout = parsed.viewerTimeout ?? DEFAULT_VIEWER_TIMEOUT;
  let boundary: string;
  let body: ReadableStream<Uint8Array>;
  if (source instanceof FrameHub) {
    if (parsed.partHeaders !== undefined || parsed.boundary !== undefined) {
      throw new TypeError(
        "mjpegResponse: expected no boundary or partHeaders with a FrameHub (its parts are encoded once for all viewers), got " +
          (parsed.partHeaders !== undefined ? "partHeaders" : "boundary"),
      );
    }
    boundary = source.boundary;
    const viewer = source.subscribe({
      fps: parsed.fps ?? 0,
      keepalive: parsed.keepalive ?? true,
      ...(parsed.signal ? { signal: parsed.signal } : {}),
    });
    body = hubStream(source.boundary, viewer, viewerTimeout);
  } else if (source && typeof source === "object" && Symbol.asyncIterator in source) {
    boundary = validateBoundary(parsed.boundary ?? DEFAULT_BOUNDARY);
    body = iterableStream(source, boundary, parsed.partHeaders, parsed.signal, viewerTimeout);
  } else {
    throw new TypeError(
      `mjpegResponse: expected a FrameHub or an async iterable of frames, got ${typeof source}`,
    );
  }
  return new Response(body, { status: 200, headers: streamHeaders(boundary, parsed.headers) });
}

/**
 * The headers of a stream response: its Content-Type and the no-cache,
 * no-buffering headers. The one place they are made, so a HEAD answers
 * exactly what a GET would.
 *
 * @param boundary The multipart boundary, without the leading `--`.
 * @param extra More headers (e.g. CORS); the stream's own headers win.
 * @returns The headers.
 */
export function streamHeaders(boundary: string, extra?: HeadersInit): Headers {
  const headers = new Headers(extra);
  headers.set("Content-Type", multipartContentType(boundary));
  for (const [name, value] of Object.entries(STREAM_HEADERS)) headers.set(name, value);
  return headers;
}

function hubStream(boundary: string, viewer: HubViewer, viewerTimeout: number) {
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => resolveDone = resolve);
  let controller: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  const finish = () => {
    ended = true;
    watch?.stop();
    resolveDone();
  };
  // Hand over the frame if one is ready; otherwise wait (one promise) and try
  // again. No async function, so a frame costs as few allocations as possible
  // times the number of viewers.
  const send = (): Promise<void> | undefined => {
    if (ended) return;
    const frame = viewer.take();
    if (frame !== undefined) {
      controller.enqueue(frame.part);
      watch?.handed();
      return;
    }
    if (viewer.closed) {
      // Closed by end() or the hub: finish the body.
      controller.close();
      finish();
      return;
    }
    return viewer.ready().then(send);
  };
  const control: StreamControl = { end: () => viewer.close(), done };
  const watch = viewerTimeout > 0
    ? watchStall(viewerTimeout, () => {
      if (ended) return;
      viewer.close("stalled");
      endStalledBody(controller, control, viewerTimeout);
      finish();
    })
    : undefined;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull: pullParts(boundary, watch, send),
    cancel() {
      viewer.close();
      finish();
    },
  }, { highWaterMark: 0 });
  registerStream(body, control);
  return body;
}

function iterableStream(
  source: AsyncIterable<Uint8Array | Frame>,
  boundary: string,
  partHeaders: HeadersInit | undefined,
  signal: AbortSignal | undefined,
  viewerTimeout: number,
) {
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => resolveDone = resolve);
  const finish = (close: boolean) => {
    if (ended) return;
    ended = true;
    watch?.stop();
    signal?.removeEventListener("abort", onAbort);
    if (close) {
      try {
        controller?.close();
      } catch { /* already closed or cancelled */ }
    }
    // Let the source stop producing (a generator's finally blocks run).
    iterator.return?.()?.catch(() => {});
    resolveDone();
  };
  const onAbort = () => finish(true);
  signal?.addEventListener("abort", onAbort, { once: true });
  const control: StreamControl = { end: () => finish(true), done };
  const watch = viewerTimeout > 0
    ? watchStall(viewerTimeout, () => {
      if (ended) return;
      finish(false);
      endStalledBody(controller!, control, viewerTimeout);
    })
    : undefined;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (signal?.aborted) finish(true);
    },
    pull: pullParts(boundary, watch, async (c) => {
      let result: IteratorResult<Uint8Array | Frame>;
      try {
        result = await iterator.next();
      } catch (error) {
        if (!ended) c.error(error);
        finish(false);
        return;
      }
      if (ended) return;
      if (result.done) return finish(true);
      const item = result.value;
      const timestamp = isFrame(item) ? item.timestamp : Date.now();
      const extra = new Headers(partHeaders);
      const stamped = extra.has("X-Timestamp") ||
        (isFrame(item) && item.headers.has("X-Timestamp"));
      if (!stamped) extra.set("X-Timestamp", formatTimestamp(timestamp));
      c.enqueue(encodeMjpegPart(item, boundary, extra));
      watch?.handed();
    }),
    cancel() {
      finish(false);
    },
  }, { highWaterMark: 0 });
  registerStream(body, control);
  return body;
}

/**
 * A stream body's pull, shared by every multipart response: the opening
 * delimiter on the first pull, then `next` on each one after. The stall watch
 * learns of every chunk handed over and every pull (the last chunk taken).
 *
 * @param boundary The response's boundary.
 * @param watch The body's stall watch, if viewers may be dropped.
 * @param next Hands over the next part (or waits for one).
 * @returns The `pull` of an underlying source.
 */
export function pullParts(
  boundary: string,
  watch: StallWatch | undefined,
  next: (controller: ReadableStreamDefaultController<Uint8Array>) => Promise<void> | void,
): (controller: ReadableStreamDefaultController<Uint8Array>) => Promise<void> | void {
  let opened = false;
  return (controller) => {
    watch?.taken();
    if (opened) return next(controller);
    opened = true;
    controller.enqueue(encodeOpening(boundary));
    watch?.handed();
  };
}
