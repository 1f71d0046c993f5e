/**
 * FrameHub: one source, many viewers. The source publishes frames; each viewer
 * has a one-frame slot that always holds the newest frame it has not had yet.
 * Publishing is O(viewers) pointer stores and never waits, so a slow viewer
 * skips frames instead of slowing the source or anyone else; frames are shared
 * by reference and encoded once as a multipart part.
 *
 * @module
 */
import { z } from "zod";
import { type Frame, isFrame } from "../frame.ts";
import { DEFAULT_BOUNDARY } from "../wire/encoder_stream.ts";
import { validateBoundary } from "../wire/content_type.ts";
import {
  type HubTotals,
  HubViewer,
  type HubViewerOptions,
  type HubViewerStats,
  type ViewerLeaveReason,
} from "./hub_viewer.ts";
import { formatTimestamp, PublishedFrame } from "./published_frame.ts";
import { RateMeter } from "../internal/rate_meter.ts";
import { parseOptions } from "../internal/validate.ts";

/** Options for {@linkcode FrameHub}. */
export interface FrameHubOptions {
  /**
   * The multipart boundary of every stream served from this hub.
   *
   * @default {"mjpegstream"}
   */
  boundary?: string;
  /**
   * Add an `X-Timestamp` part header with the publish time (Unix seconds, six
   * decimals, as mjpg-streamer and µStreamer send it).
   *
   * @default {true}
   */
  timestampHeader?: boolean;
}

/**
 * What a source says about itself, shown in `/stats` as `source`: plain
 * values only (it goes to JSON as it is). Sources that can fail quietly —
 * a snapshot URL that answers an HTML page — report why here, so a
 * stream's owner sees it without reading the log.
 */
export type SourceStatus = Readonly<Record<string, string | number | boolean | null>>;

/** The hub's counters, for `/stats` and logs. */
export interface FrameHubStats {
  /** Viewers connected now. */
  viewers: number;
  /** Viewers that have connected since the hub was made. */
  viewersTotal: number;
  /** Viewers dropped because their connection took no bytes for the viewer timeout. */
  viewersStalled: number;
  /** Frames published. */
  framesPublished: number;
  /** JPEG bytes published. */
  bytesPublished: number;
  /** Frames published per second over the last two seconds, to one decimal. */
  fps: number;
  /** Frames handed to viewers, all viewers together, including those who left. */
  framesSent: number;
  /** Frames viewers skipped because a newer one replaced them, all viewers together. */
  framesDropped: number;
  /** The latest frame, or null before the first. */
  latest: { sequence: number; timestamp: number; size: number } | null;
  /** Each connected viewer's counters. */
  viewerStats: HubViewerStats[];
  /** The latest status its source reported (see `reportSourceStatus`), or null. */
  source: SourceStatus | null;
}

/** A viewer arriving or leaving, as told to {@linkcode FrameHub.watch} listeners. */
export interface ViewerEvent {
  /** `join` when the viewer arrives, `leave` when it goes (its stats are then final). */
  type: "join" | "leave";
  /** The viewer's counters at that moment. */
  viewer: HubViewerStats;
  /** Why it left (leave events only): `left`, or `stalled` when dropped for taking no bytes. */
  reason?: ViewerLeaveReason;
  /** Viewers connected after the event. */
  viewers: number;
}

const optionsSchema = z.strictObject({
  boundary: z.string().optional(),
  timestampHeader: z.boolean().optional(),
});

const viewerOptionsSchema = z.strictObject({
  fps: z.number().min(0).max(1000).optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, "expected an AbortSignal")
    .optional(),
  startWithLatest: z.boolean().optional(),
});

/**
 * Fans one stream of frames out to any number of viewers.
 *
 * @example Publish frames and serve them
 * ```ts ignore
 * import { FrameHub, mjpegResponse } from "@mjpeg/stream";
 *
 * const hub = new FrameHub();
 * camera.onFrame = (jpeg: Uint8Array) => hub.publish(jpeg);
 * Deno.serve((request) => mjpegResponse(hub, { signal: request.signal }));
 * ```
 */
export class FrameHub {
  /** The multipart boundary of every stream served from this hub. */
  readonly boundary: string;
  readonly #timestampHeader: boolean;
  readonly #viewers = new Set<HubViewer>();
  readonly #totals: HubTotals = { framesSent: 0, framesDropped: 0 };
  readonly #meter = new RateMeter();
  #waiters = new Set<{ resolve: (frame: PublishedFrame) => void; reject: (e: unknown) => void }>();
  #latest: PublishedFrame | undefined;
  #sequence = 0;
  #bytesPublished = 0;
  #viewerIds = 0;
  #viewersStalled = 0;
  #closed = false;
  #sourceStatus: SourceStatus | null = null;
  readonly #watchers = new Set<(event: ViewerEvent) => void>();

  /**
   * Makes a hub with no viewers and no frame yet.
   *
   * @param options The boundary and whether to add `X-Timestamp`.
   * @throws {TypeError} On an unknown option or an invalid boundary.
   */
  constructor(options: FrameHubOptions = {}) {
    const parsed = parseOptions(optionsSchema, options, "FrameHub options");
    this.boundary = validateBoundary(parsed.boundary ?? DEFAULT_BOUNDARY);
    this.#timestampHeader = parsed.timestampHeader ?? true;
  }

  /**
   * Publishes a frame to every viewer. Never waits and never copies `data`:
   * the hub keeps a reference, so do not reuse the buffer afterwards.
   *
   * @param data The JPEG bytes, or a frame (its part headers are kept).
   * @param headers More part headers for this frame.
   * @returns The frame as viewers will get it.
   */
  publish(data: Uint8Array | Frame, headers?: HeadersInit): PublishedFrame {
    if (this.#closed) throw new Error("FrameHub.publish: expected an open hub, got a closed one");
    const bytes = data instanceof Uint8Array ? data : isFrame(data) ? data.data : undefined;
    if (bytes === undefined) {
      throw new TypeError(
        `FrameHub.publish: expected a Uint8Array or a Frame, got ${describe(data)}`,
      );
    }
    if (bytes.length === 0) {
      throw new RangeError("FrameHub.publish: expected JPEG bytes, got 0 bytes");
    }
    const partHeaders = new Headers(isFrame(data) ? data.headers : undefined);
    if (headers) new Headers(headers).forEach((value, name) => partHeaders.set(name, value));
    const timestamp = Date.now();
    if (this.#timestampHeader) partHeaders.set("X-Timestamp", formatTimestamp(timestamp));
    const frame = new PublishedFrame(
      bytes,
      partHeaders,
      this.#sequence++,
      timestamp,
      this.boundary,
    );
    this.#latest = frame;
    this.#bytesPublished += bytes.length;
    this.#meter.tick();
    for (const viewer of this.#viewers) viewer.offer(frame);
    if (this.#waiters.size > 0) {
      const waiters = this.#waiters;
      this.#waiters = new Set();
      for (const waiter of waiters) waiter.resolve(frame);
    }
    return frame;
  }

  /** The most recent frame, or undefined before the first. */
  get latest(): PublishedFrame | undefined {
    return this.#latest;
  }

  /** True once {@linkcode FrameHub.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Adds a viewer. Read its frames with `viewer.next()` or `for await`, and
   * close it when it leaves (or pass `signal`).
   *
   * @param options A per-viewer fps cap, an abort signal, whether to start with the latest frame.
   * @returns The viewer; closed at once if the hub is closed.
   *
   * @example
   * ```ts ignore
   * for await (const frame of hub.subscribe({ fps: 5 })) save(frame.data);
   * ```
   */
  subscribe(options: HubViewerOptions = {}): HubViewer {
    const parsed = parseOptions(viewerOptionsSchema, options, "FrameHub.subscribe options");
    const viewerOptions: HubViewerOptions = {};
    if (parsed.fps !== undefined) viewerOptions.fps = parsed.fps;
    if (parsed.signal !== undefined) viewerOptions.signal = parsed.signal;
    const viewer = new HubViewer(
      this.#viewerIds++,
      viewerOptions,
      this.#totals,
      (v, reason) => {
        if (!this.#viewers.delete(v)) return;
        if (reason === "stalled") this.#viewersStalled++;
        this.#tell("leave", v, reason);
      },
    );
    if (this.#closed) {
      viewer.close();
      return viewer;
    }
    if (viewer.closed) return viewer;
    this.#viewers.add(viewer);
    this.#tell("join", viewer);
    if ((parsed.startWithLatest ?? true) && this.#latest) viewer.offer(this.#latest);
    return viewer;
  }

  /**
   * Calls `listener` whenever a viewer joins or leaves, as it happens (for
   * logs; a listener must not throw or block).
   *
   * @param listener Gets each {@linkcode ViewerEvent}.
   * @returns A function that stops the calls.
   *
   * @example
   * ```ts
   * import { FrameHub } from "@mjpeg/stream";
   * const hub = new FrameHub();
   * const unwatch = hub.watch((e) => console.log(`viewer ${e.viewer.id} ${e.type}`));
   * hub.subscribe().close(); // "viewer 0 join", then "viewer 0 leave"
   * unwatch();
   * ```
   */
  watch(listener: (event: ViewerEvent) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  #tell(type: ViewerEvent["type"], viewer: HubViewer, reason?: ViewerLeaveReason): void {
    if (this.#watchers.size === 0) return;
    const event: ViewerEvent = { type, viewer: viewer.stats, viewers: this.#viewers.size };
    if (reason !== undefined) event.reason = reason;
    for (const listener of this.#watchers) listener(event);
  }

  /**
   * Waits for the next published frame (event-driven, no polling).
   *
   * @param signal Stops waiting when aborted; the promise rejects with the signal's reason.
   * @returns The next frame.
   */
  nextFrame(signal?: AbortSignal): Promise<PublishedFrame> {
    if (this.#closed) {
      return Promise.reject(
        new Error("FrameHub.nextFrame: expected an open hub, got a closed one"),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter = {
        resolve: (frame: PublishedFrame) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(frame);
        },
        reject: (e: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * The latest frame if there is one, else waits up to `timeout` ms for the first.
   *
   * @param timeout Milliseconds to wait for a first frame.
   * @returns The frame, or undefined when none came in time.
   */
  async latestOrNext(timeout: number): Promise<PublishedFrame | undefined> {
    if (this.#latest) return this.#latest;
    if (this.#closed || timeout <= 0) return undefined;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    try {
      return await this.nextFrame(controller.signal);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The hub's counters and each viewer's. */
  get stats(): FrameHubStats {
    const latest = this.#latest;
    return {
      viewers: this.#viewers.size,
      viewersTotal: this.#viewerIds,
      viewersStalled: this.#viewersStalled,
      framesPublished: this.#sequence,
      bytesPublished: this.#bytesPublished,
      fps: roundTenth(this.#meter.rate()),
      framesSent: this.#totals.framesSent,
      framesDropped: this.#totals.framesDropped,
      latest: latest
        ? { sequence: latest.sequence, timestamp: latest.timestamp, size: latest.data.length }
        : null,
      viewerStats: [...this.#viewers].map((viewer) => viewer.stats),
      source: this.#sourceStatus,
    };
  }

  /**
   * Keeps what the source feeding this hub says about itself, for `stats`
   * (and so `/stats`): e.g. a polling source's state and last error.
   *
   * @param status The source's status, or undefined to clear it.
   *
   * @example
   * ```ts ignore
   * pollSource(url, { fps: 2, onStatus: (status) => hub.reportSourceStatus(status) });
   * ```
   */
  reportSourceStatus(status: SourceStatus | undefined): void {
    this.#sourceStatus = status === undefined ? null : { ...status };
  }

  /**
   * Ends every viewer's stream and refuses further frames. Use when the source
   * is gone for good; `serve()`'s graceful shutdown ends streams without this.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const viewer of [...this.#viewers]) viewer.close();
    const error = new Error("FrameHub closed while waiting for a frame");
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
  }
}

/** One decimal is all a human reads, and keeps `/stats` short. */
function roundTenth(rate: number): number {
  return Math.round(rate * 10) / 10;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "an object";
}
