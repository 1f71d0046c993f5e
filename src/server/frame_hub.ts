/**
 * FrameHub: one source, many viewers. The source publishes frames; each viewer
 * has a one-frame slot that always holds the newest frame it has not had yet.
 * Publishing is O(viewers) pointer stores and never waits, so a slow viewer
 * skips frames instead of slowing the source or anyone else; frames are shared
 * by reference and encoded once as a multipart part.
 *
 * The hub also knows whether its camera is online (./outage.ts keeps stream
 * viewers fed through an outage), what its source says about itself, and
 * whether anyone wants frames at all (for sources run on demand).
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
import { Demand, type HubStatus, type SourceStatus, StatusBoard } from "./hub_status.ts";
import { Outage } from "./outage.ts";
import { duration } from "../internal/duration.ts";
import { RateMeter } from "../internal/rate_meter.ts";
import { parseOptions } from "../internal/validate.ts";
import { equalBytes } from "../wire/bytes.ts";

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
  /**
   * While no new frame comes, stream viewers get the last frame again this
   * often (marked `X-Frame-Kind: keepalive`), so proxies and players do not
   * take the quiet connection for a dead one. Milliseconds, 100 to 60000;
   * 0 turns it off.
   *
   * @default {1000}
   */
  keepalive?: number;
  /**
   * After this long without a frame the camera counts as offline: `stats`
   * say so, and stream viewers get the offline card (marked `X-Frame-Kind:
   * offline`) instead of the last frame. Milliseconds, 100 to 86400000 (a
   * day); 0: never offline, no card.
   *
   * @default {5000}
   */
  offlineAfter?: number;
  /**
   * A frame byte-identical to the one before is not sent again (counted in
   * `framesUnchanged`); it still shows the camera is alive, and the keepalive
   * still runs.
   *
   * @default {false}
   */
  dropSameFrames?: boolean;
}

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
  /** Frames not sent because they were byte-identical to the one before (`dropSameFrames`). */
  framesUnchanged: number;
  /** Keepalive parts and offline cards handed to viewers, all viewers together. */
  keepalivesSent: number;
  /** The latest frame, or null before the first. */
  latest: { sequence: number; timestamp: number; size: number } | null;
  /** Each connected viewer's counters. */
  viewerStats: HubViewerStats[];
  /** Whether the camera is online, and what its source is doing. */
  status: HubStatus;
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
  keepalive: duration("keepalive", { unit: "ms", max: 60_000, zero: "0 turns it off" })
    .refine((v) => v === 0 || v >= 100, "expected keepalive 0 (off) or at least 100 milliseconds")
    .optional(),
  offlineAfter: duration("offlineAfter", { unit: "ms", max: 86_400_000, zero: "0: never" })
    .refine((v) => v === 0 || v >= 100, "expected offlineAfter 0 (never) or at least 100 ms")
    .optional(),
  dropSameFrames: z.boolean().optional(),
});

/** How often stream viewers get the last frame again during an outage: 1 s. */
export const DEFAULT_KEEPALIVE = 1000;
/** How long without a frame before the camera counts as offline: 5 s. */
export const DEFAULT_OFFLINE_AFTER = 5000;

const viewerOptionsSchema = z.strictObject({
  fps: z.number().min(0).max(1000).optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, "expected an AbortSignal")
    .optional(),
  startWithLatest: z.boolean().optional(),
  keepalive: z.boolean().optional(),
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
  readonly #dropSameFrames: boolean;
  readonly #viewers = new Set<HubViewer>();
  readonly #totals: HubTotals = { framesSent: 0, framesDropped: 0, keepalivesSent: 0 };
  readonly #meter = new RateMeter();
  #waiters = new Set<{ resolve: (frame: PublishedFrame) => void; reject: (e: unknown) => void }>();
  #latest: PublishedFrame | undefined;
  #sequence = 0;
  #bytesPublished = 0;
  #viewerIds = 0;
  #viewersStalled = 0;
  #framesUnchanged = 0;
  #keepaliveViewers = 0;
  #closed = false;
  readonly #watchers = new Set<(event: ViewerEvent) => void>();
  readonly #board = new StatusBoard(() => this.#outage);
  readonly #demand = new Demand();
  readonly #outage: Outage;

  /**
   * Makes a hub with no viewers and no frame yet.
   *
   * @param options The boundary, `X-Timestamp`, the outage keepalive and card, same frames.
   * @throws {TypeError} On an unknown option or an invalid boundary.
   */
  constructor(options: FrameHubOptions = {}) {
    const parsed = parseOptions(optionsSchema, options, "FrameHub options");
    this.boundary = validateBoundary(parsed.boundary ?? DEFAULT_BOUNDARY);
    this.#timestampHeader = parsed.timestampHeader ?? true;
    this.#dropSameFrames = parsed.dropSameFrames ?? false;
    this.#outage = new Outage({
      keepalive: parsed.keepalive ?? DEFAULT_KEEPALIVE,
      offlineAfter: parsed.offlineAfter ?? DEFAULT_OFFLINE_AFTER,
      timestampHeader: this.#timestampHeader,
    }, {
      boundary: this.boundary,
      latest: () => this.#latest,
      hasKeepaliveViewers: () => this.#keepaliveViewers > 0,
      watchingStatus: () => this.#board.watched,
      offerIdle: (part) => {
        for (const viewer of this.#viewers) if (viewer.keepalive) viewer.offerIdle(part);
      },
      statusChanged: () => this.#board.changed(),
    });
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
    const previous = this.#latest;
    // Length first: frames of a live camera almost never have the same length.
    if (
      this.#dropSameFrames && previous !== undefined && previous.data.length === bytes.length &&
      equalBytes(previous.data, bytes)
    ) {
      this.#framesUnchanged++;
      this.#outage.frameArrived(Date.now(), false);
      this.#resolveWaiters(previous);
      return previous;
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
    this.#outage.frameArrived(timestamp, true);
    this.#resolveWaiters(frame);
    return frame;
  }

  #resolveWaiters(frame: PublishedFrame): void {
    if (this.#waiters.size === 0) return;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const waiter of waiters) waiter.resolve(frame);
    this.#demandChanged();
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
    if (parsed.keepalive) viewerOptions.keepalive = true;
    const viewer = new HubViewer(
      this.#viewerIds++,
      viewerOptions,
      this.#totals,
      (v, reason) => {
        if (!this.#viewers.delete(v)) return;
        if (reason === "stalled") this.#viewersStalled++;
        if (v.keepalive) {
          this.#keepaliveViewers--;
          this.#outage.update();
        }
        this.#tell("leave", v, reason);
        this.#demandChanged();
      },
    );
    if (this.#closed) {
      viewer.close();
      return viewer;
    }
    if (viewer.closed) return viewer;
    this.#viewers.add(viewer);
    if (viewer.keepalive) {
      this.#keepaliveViewers++;
      this.#outage.update();
    }
    this.#tell("join", viewer);
    this.#demandChanged();
    if (parsed.startWithLatest ?? true) {
      // Never a frame from before the source was stopped; the card during an outage.
      const first = viewer.keepalive ? this.#outage.current() : this.#outage.fresh(this.#latest);
      if (first) viewer.offer(first);
    }
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
        this.#demandChanged();
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
      this.#demandChanged();
    });
  }

  /**
   * The latest frame if the camera sent it (or a byte-identical one) within
   * `maxAge` ms; otherwise waits up to `timeout` ms for the next one. The
   * wait counts as wanting frames, so a source run on demand starts for it.
   *
   * @param maxAge The oldest a frame may be, in ms; 0 for any age.
   * @param timeout How long to wait for a new frame, in ms.
   * @returns The frame, or undefined when none came in time.
   */
  async freshFrame(maxAge: number, timeout: number): Promise<PublishedFrame | undefined> {
    const latest = this.#outage.fresh(this.#latest);
    if (latest && (maxAge === 0 || Date.now() - this.#outage.lastFrame <= maxAge)) return latest;
    return await this.#nextWithin(timeout);
  }

  /**
   * The latest frame if there is one, else waits up to `timeout` ms for the first.
   *
   * @param timeout Milliseconds to wait for a first frame.
   * @returns The frame, or undefined when none came in time.
   */
  async latestOrNext(timeout: number): Promise<PublishedFrame | undefined> {
    return this.#latest ?? await this.#nextWithin(timeout);
  }

  async #nextWithin(timeout: number): Promise<PublishedFrame | undefined> {
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

  /** Whether the camera is online, and what its source is doing (as in `stats`). */
  get status(): HubStatus {
    return this.#board.status;
  }

  /**
   * Keeps what the source feeding this hub says about itself, for `stats`
   * (and so `/stats`) and {@linkcode FrameHub.watchStatus}: its `state`
   * (`starting`, `running`, `retrying`, `stopped`) and `lastError`, plus any
   * counters. `stopped` means stopped on purpose (a source run on demand
   * that nobody watches): no outage is counted then, and a start afterwards
   * begins a new wait for frames.
   *
   * @param status The source's status, or undefined to clear it.
   *
   * @example
   * ```ts ignore
   * cameraSource({ onStatus: (status) => hub.reportSourceStatus(status) });
   * ```
   */
  reportSourceStatus(status: SourceStatus | undefined): void {
    this.#board.report(status);
  }

  /**
   * Calls `listener` when the camera goes online or offline, or its source's
   * state or last error changes (for logs; a listener must not throw or
   * block). While someone listens, the hub notices an outage with no viewers.
   *
   * @param listener Gets the new {@linkcode HubStatus}.
   * @returns A function that stops the calls.
   */
  watchStatus(listener: (status: HubStatus) => void): () => void {
    return this.#board.watch(listener);
  }

  /** True while anyone wants frames: a viewer, or a snapshot waiting for one. */
  get wanted(): boolean {
    return this.#demand.wanted;
  }

  /**
   * Calls `listener` when the hub starts or stops being wanted (see
   * {@linkcode FrameHub.wanted}): what runs a camera on demand listens to.
   *
   * @param listener Gets the new value.
   * @returns A function that stops the calls.
   */
  watchDemand(listener: (wanted: boolean) => void): () => void {
    return this.#demand.watch(listener);
  }

  #demandChanged(): void {
    this.#demand.set(!this.#closed && (this.#viewers.size > 0 || this.#waiters.size > 0));
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
      framesUnchanged: this.#framesUnchanged,
      keepalivesSent: this.#totals.keepalivesSent,
      latest: latest
        ? { sequence: latest.sequence, timestamp: latest.timestamp, size: latest.data.length }
        : null,
      viewerStats: [...this.#viewers].map((viewer) => viewer.stats),
      status: this.#board.status,
      source: this.#board.source,
    };
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
    this.#outage.close();
    this.#demandChanged();
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
