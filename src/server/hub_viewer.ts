/**
 * One viewer of a {@linkcode FrameHub}: a one-frame slot the hub overwrites
 * (newest wins) and the viewer's connection empties when it is ready for more.
 * A slow viewer therefore skips frames instead of queuing them, and nothing
 * it does reaches the hub or other viewers.
 *
 * @module
 */
import { RateMeter } from "../internal/rate_meter.ts";
import type { PublishedFrame } from "./published_frame.ts";

/** Options for a viewer, given to {@linkcode FrameHub.subscribe}. */
export interface HubViewerOptions {
  /** At most this many frames per second for this viewer (0 or absent: no cap). */
  fps?: number;
  /** Closes the viewer when aborted (e.g. `request.signal`). */
  signal?: AbortSignal;
  /**
   * Start with the hub's latest frame, so a new viewer sees a picture at once.
   *
   * @default {true}
   */
  startWithLatest?: boolean;
  /**
   * Also take the hub's outage parts: the last frame again while no new one
   * comes, and the offline card (see `FrameHubOptions.keepalive`). Stream
   * responses do; code that wants only camera frames does not.
   *
   * @default {false}
   */
  keepalive?: boolean;
}

/** A viewer's counters, as shown by {@linkcode FrameHub.stats}. */
export interface HubViewerStats {
  /** Unique within the hub, in order of arrival. */
  id: number;
  /** When the viewer arrived, in milliseconds since the Unix epoch. */
  connectedAt: number;
  /** Frames handed to this viewer's connection. */
  framesSent: number;
  /** Frames this viewer skipped because a newer one replaced them in its slot. */
  framesDropped: number;
  /** Keepalive parts and offline cards handed to this viewer's connection. */
  keepalivesSent: number;
  /** Bytes of encoded parts handed to this viewer's connection. */
  bytesSent: number;
  /** Frames per second handed to this viewer over the last two seconds, to one decimal. */
  fps: number;
  /** The viewer's fps cap, or 0 for none. */
  fpsCap: number;
  /** Milliseconds from publish to hand-over for this viewer's last camera frame. */
  latency: number;
}

/**
 * Why a viewer left: `left` (it went away, or its stream ended) or `stalled`
 * (dropped because its connection took no bytes for the viewer timeout).
 */
export type ViewerLeaveReason = "left" | "stalled";

/** Counters the hub keeps for viewers that have left too. */
export interface HubTotals {
  framesSent: number;
  framesDropped: number;
  keepalivesSent: number;
}

/**
 * A subscription to a {@linkcode FrameHub}. Read frames with
 * {@linkcode HubViewer.next} or `for await`; close it when the viewer leaves.
 */
export class HubViewer implements AsyncIterable<PublishedFrame>, Disposable {
  /** Unique within the hub, in order of arrival. */
  readonly id: number;
  /** When the viewer arrived, in milliseconds since the Unix epoch. */
  readonly connectedAt: number = Date.now();
  /** Whether it takes the hub's keepalive parts and offline cards. */
  readonly keepalive: boolean;
  #slot: PublishedFrame | undefined;
  #closed = false;
  #resolve: (() => void) | undefined;
  #waitingForFrame = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #minInterval: number;
  readonly #fpsCap: number;
  #nextDue = -Infinity;
  #framesSent = 0;
  #framesDropped = 0;
  #keepalivesSent = 0;
  #bytesSent = 0;
  #latency = 0;
  readonly #meter = new RateMeter();
  readonly #totals: HubTotals;
  readonly #detach: (viewer: HubViewer, reason: ViewerLeaveReason) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.close();

  /**
   * Made by {@linkcode FrameHub.subscribe}; not constructed directly.
   *
   * @param id The viewer's number.
   * @param options The fps cap and abort signal.
   * @param totals The hub's running totals, updated as frames are sent and dropped.
   * @param detach Removes the viewer from the hub, saying why it left.
   */
  constructor(
    id: number,
    options: HubViewerOptions,
    totals: HubTotals,
    detach: (viewer: HubViewer, reason: ViewerLeaveReason) => void,
  ) {
    this.id = id;
    this.keepalive = options.keepalive ?? false;
    this.#fpsCap = options.fps ?? 0;
    this.#minInterval = this.#fpsCap > 0 ? 1000 / this.#fpsCap : 0;
    this.#totals = totals;
    this.#detach = detach;
    this.#signal = options.signal;
    if (this.#signal?.aborted) this.close();
    else this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** True once the viewer has left or the hub closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Puts a frame in the viewer's slot, replacing (and counting as dropped) one
   * the viewer has not taken yet. Called by the hub; O(1), never waits.
   *
   * @param frame The newly published frame.
   */
  offer(frame: PublishedFrame): void {
    if (this.#closed) return;
    // A keepalive or card not yet taken is no loss; a camera frame is.
    if (this.#slot !== undefined && this.#slot.kind === "frame") {
      this.#framesDropped++;
      this.#totals.framesDropped++;
    }
    this.#slot = frame;
    if (this.#waitingForFrame) this.#wakeUp();
  }

  /**
   * Puts an outage part (keepalive or offline card) in the slot if the
   * viewer has taken everything it was given: it never replaces a frame, and
   * a viewer still busy with its last part needs no keepalive.
   *
   * @param part The part.
   */
  offerIdle(part: PublishedFrame): void {
    if (this.#closed || this.#slot !== undefined) return;
    this.#slot = part;
    if (this.#waitingForFrame) this.#wakeUp();
  }

  /**
   * Waits for the newest frame this viewer has not had yet, honouring its fps
   * cap. Event-driven: resolves on publish (or when the cap allows), never polls.
   *
   * @returns The frame, or undefined once the viewer or the hub is closed.
   */
  async next(): Promise<PublishedFrame | undefined> {
    for (;;) {
      const frame = this.take();
      if (frame !== undefined || this.#closed) return frame;
      await this.ready();
    }
  }

  /**
   * Takes the frame in the slot now, if there is one and the fps cap allows.
   * The synchronous half of {@linkcode HubViewer.next}, for hot paths.
   *
   * @returns The frame, or undefined (then await {@linkcode HubViewer.ready}).
   */
  take(): PublishedFrame | undefined {
    const frame = this.#slot;
    if (frame === undefined || this.#closed) return undefined;
    const now = performance.now();
    // 1 ms of slack: timers fire a little early or late, and a frame due
    // "now" should not wait a whole frame interval more.
    if (this.#nextDue - now > 1) return undefined;
    this.#slot = undefined;
    if (this.#minInterval > 0) {
      // Keep to the cadence (no drift), but never bank credit after a stall.
      this.#nextDue = Math.max(now, this.#nextDue + this.#minInterval);
    }
    this.#bytesSent += frame.part.length;
    if (frame.kind !== "frame") {
      this.#keepalivesSent++;
      this.#totals.keepalivesSent++;
      return frame;
    }
    this.#framesSent++;
    this.#totals.framesSent++;
    this.#latency = Date.now() - frame.timestamp;
    this.#meter.tick(now);
    return frame;
  }

  /**
   * Resolves when {@linkcode HubViewer.take} may succeed: a frame arrived, the
   * fps cap allows the next one, or the viewer closed. One promise per wait.
   *
   * @returns A promise that never rejects.
   */
  ready(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const forFrame = this.#slot === undefined;
    const ms = forFrame ? 0 : this.#nextDue - performance.now();
    if (!forFrame && ms <= 1) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waitingForFrame = forFrame;
      this.#resolve = resolve;
      if (!forFrame) this.#timer = setTimeout(this.#wakeUp, ms);
    });
  }

  // One bound function per viewer, not a closure per wait.
  readonly #wakeUp = (): void => {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    this.#waitingForFrame = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    resolve?.();
  };

  /** This viewer's counters. */
  get stats(): HubViewerStats {
    return {
      id: this.id,
      connectedAt: this.connectedAt,
      framesSent: this.#framesSent,
      framesDropped: this.#framesDropped,
      keepalivesSent: this.#keepalivesSent,
      bytesSent: this.#bytesSent,
      fps: Math.round(this.#meter.rate() * 10) / 10,
      fpsCap: this.#fpsCap,
      latency: this.#latency,
    };
  }

  /**
   * Leaves the hub at once: frees the slot and ends a pending {@linkcode HubViewer.next}.
   *
   * @param reason `"stalled"` when the viewer is dropped because its
   *   connection stopped taking bytes (counted in the hub's `viewersStalled`).
   */
  close(reason: ViewerLeaveReason = "left"): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#slot = undefined;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#detach(this, reason);
    this.#wakeUp();
  }

  /** Same as {@linkcode HubViewer.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * The viewer's frames until it or the hub closes; leaving the loop closes it.
   *
   * @returns An iterator of frames.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<PublishedFrame> {
    try {
      for (let frame = await this.next(); frame; frame = await this.next()) yield frame;
    } finally {
      this.close();
    }
  }
}
