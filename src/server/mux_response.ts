/**
 * Several hubs over one connection: a multipart/x-mixed-replace response
 * whose parts each carry an `X-Stream` header naming their stream. A browser
 * allows six connections per host over HTTP/1.1, so a page with more cameras
 * than that reads them all through this one response.
 *
 * Fan-in keeps the hub's rule per stream: the response holds one viewer slot
 * per hub and, when the socket is ready, takes the newest frame of the next
 * stream that has one (round robin), so a fast camera cannot starve a slow one
 * and a camera with nothing new holds up nobody. Each part is the hub's
 * already-encoded part, sent as it is between a name line and this response's
 * delimiter: no frame is copied or encoded per viewer.
 *
 * @module
 */
import { z } from "zod";
import { duration } from "../internal/duration.ts";
import { DEFAULT_BOUNDARY } from "../wire/encoder_stream.ts";
import { STREAM_HEADER, validateStreamName } from "../wire/demuxer.ts";
import { FrameHub } from "./frame_hub.ts";
import type { HubViewer, ViewerLeaveReason } from "./hub_viewer.ts";
import { DEFAULT_VIEWER_TIMEOUT, pullParts, streamHeaders } from "./mjpeg_response.ts";
import { endStalledBody, watchStall } from "./stall_watch.ts";
import { registerStream, type StreamControl } from "../runtime/stream_control.ts";
import { parseOptions } from "../internal/validate.ts";

/** Options for {@linkcode muxResponse}. */
export interface MuxResponseOptions {
  /** At most this many frames per second of each stream (0: no cap). */
  fps?: number;
  /** Ends the stream when aborted; pass `request.signal` so a leaving viewer unsubscribes at once. */
  signal?: AbortSignal;
  /**
   * Milliseconds the connection may take no bytes before the viewer is
   * dropped from every hub (counted as stalled), as for `mjpegResponse`. 0
   * turns it off.
   *
   * @default {30000}
   */
  viewerTimeout?: number;
  /**
   * Send each hub's outage parts, named by `X-Stream` like its frames: the
   * last frame again while no new one comes and the offline card (see
   * `FrameHubOptions.keepalive` and `offlineAfter`), as `mjpegResponse` does.
   *
   * @default {true}
   */
  keepalive?: boolean;
  /** More response headers (e.g. CORS); the stream's own headers win. */
  headers?: HeadersInit;
}

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
});

const encoder = new TextEncoder();

/** One stream of the multiplexed response. */
interface Lane {
  viewer: HubViewer;
  /** `X-Stream: name\r\n`, sent before the hub's part. */
  prefix: Uint8Array;
  /** The length of the hub's delimiter line that ends its parts, replaced by ours. */
  hubTail: number;
  /** A `ready()` wait is pending, so no second one is started. */
  waiting: boolean;
}

/**
 * Streams several hubs as one `multipart/x-mixed-replace` response whose
 * parts name their stream in an `X-Stream` header; read it with
 * `MjpegDemuxStream` from `./wire` (the `<mjpeg-view>` element does).
 *
 * @param hubs The streams by name (names as `validateStreamName` allows).
 * @param options An fps cap per stream, an abort signal, extra headers.
 * @returns A streaming 200 response.
 * @throws {TypeError} With no hubs, a name a header cannot carry, or a bad option.
 *
 * @example
 * ```ts ignore
 * import { FrameHub, muxResponse } from "@mjpeg/stream/server";
 *
 * const front = new FrameHub(), back = new FrameHub();
 * export default {
 *   fetch: (request: Request) => muxResponse({ front, back }, { signal: request.signal }),
 * };
 * ```
 */
export function muxResponse(
  hubs: Record<string, FrameHub>,
  options: MuxResponseOptions = {},
): Response {
  const parsed = parseOptions(optionsSchema, options, "muxResponse options");
  const entries = Object.entries(hubs ?? {});
  if (entries.length === 0) throw new TypeError("muxResponse: expected at least one hub, got none");
  for (const [name, hub] of entries) {
    validateStreamName(name);
    if (!(hub instanceof FrameHub)) {
      throw new TypeError(`muxResponse: expected a FrameHub for ${JSON.stringify(name)}`);
    }
  }
  const boundary = DEFAULT_BOUNDARY;
  const tail = encoder.encode(`\r\n--${boundary}\r\n`);
  const fps = parsed.fps ?? 0;
  const lanes: Lane[] = entries.map(([name, hub]) => ({
    viewer: hub.subscribe({ fps, keepalive: parsed.keepalive ?? true }),
    prefix: encoder.encode(`${STREAM_HEADER}: ${name}\r\n`),
    hubTail: `\r\n--${hub.boundary}\r\n`.length,
    waiting: false,
  }));
  let next = 0;
  let finished = false;
  let wake: (() => void) | undefined;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => resolveDone = resolve);
  let controller: ReadableStreamDefaultController<Uint8Array>;

  const finish = (close: boolean, reason: ViewerLeaveReason = "left") => {
    if (finished) return;
    finished = true;
    watch?.stop();
    parsed.signal?.removeEventListener("abort", onAbort);
    for (const lane of lanes) lane.viewer.close(reason);
    if (close) {
      try {
        controller.close();
      } catch { /* already closed or cancelled */ }
    }
    wake?.();
    resolveDone();
  };
  const onAbort = () => finish(true);
  const control: StreamControl = { end: () => finish(true), done };
  const viewerTimeout = parsed.viewerTimeout ?? DEFAULT_VIEWER_TIMEOUT;
  // A connection that takes no bytes leaves every hub, as a single stream's would.
  const watch = viewerTimeout > 0
    ? watchStall(viewerTimeout, () => {
      if (finished) return;
      finish(false, "stalled");
      endStalledBody(controller, control, viewerTimeout);
    })
    : undefined;

  /** Hands over the next stream's newest frame, or waits until one has a frame. */
  const send = (): Promise<void> | undefined => {
    if (finished) return;
    let open = 0;
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[(next + i) % lanes.length]!;
      const frame = lane.viewer.take();
      if (frame !== undefined) {
        next = (next + i + 1) % lanes.length;
        const part = frame.part;
        controller.enqueue(lane.prefix);
        controller.enqueue(part.subarray(0, part.length - lane.hubTail));
        controller.enqueue(tail);
        watch?.handed();
        return;
      }
      if (!lane.viewer.closed) open++;
    }
    // Every hub closed for good: the response ends as a single hub's would.
    if (open === 0) {
      finish(true);
      return;
    }
    return new Promise<void>((resolve) => {
      wake = resolve;
      for (const lane of lanes) {
        if (lane.waiting || lane.viewer.closed) continue;
        lane.waiting = true;
        lane.viewer.ready().then(() => {
          lane.waiting = false;
          const w = wake;
          wake = undefined;
          w?.();
        });
      }
    }).then(send);
  };

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (parsed.signal?.aborted) finish(true);
    },
    pull: pullParts(boundary, watch, send),
    cancel() {
      finish(false);
    },
  }, { highWaterMark: 0 });
  parsed.signal?.addEventListener("abort", onAbort, { once: true });
  registerStream(body, control);
  return new Response(body, { status: 200, headers: streamHeaders(boundary, parsed.headers) });
}
