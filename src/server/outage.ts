/**
 * What a hub's viewers get while the camera sends nothing. Reverse proxies
 * cut a response that sends no bytes for a while (nginx after 60 s, or 5 s as
 * some set-ups have it), and a viewer cannot tell a frozen picture from a
 * live one. So while no new frame comes, the last frame is handed out again
 * every `keepalive` ms, marked `X-Frame-Kind: keepalive`; after `offlineAfter`
 * the offline card (./offline_card.ts) takes its place, marked `offline`,
 * re-rendered only when its words change and at most once a second (less
 * often when it is costly to draw). The first new frame ends the outage.
 *
 * Every part is made once per hub and handed to all viewers by reference, as
 * camera frames are; one timer per hub runs, and only while someone watches.
 *
 * @module
 */
import { FRAME_KIND_HEADER } from "../frame.ts";
import { OfflineCard, offlineCardText } from "./offline_card.ts";
import { formatTimestamp, PublishedFrame } from "./published_frame.ts";

/** The outage settings of a hub, in milliseconds; 0 turns each off. */
export interface OutageOptions {
  /** Hand out the last frame again after this long without a new one. */
  keepalive: number;
  /** After this long without a frame the camera is offline and viewers get the card. */
  offlineAfter: number;
  /** Stamp the card with `X-Timestamp`. */
  timestampHeader: boolean;
}

/** What the outage clock needs from its hub. */
export interface OutageHost {
  /** The hub's multipart boundary. */
  readonly boundary: string;
  /** The hub's latest camera frame. */
  latest(): PublishedFrame | undefined;
  /** Whether viewers that take keepalives and cards are connected. */
  hasKeepaliveViewers(): boolean;
  /** Whether someone wants to hear of online/offline changes even without viewers. */
  watchingStatus(): boolean;
  /** Hands a part to every keepalive viewer that has taken all it was given. */
  offerIdle(part: PublishedFrame): void;
  /** The camera went online or offline, or was stopped or started. */
  statusChanged(): void;
}

// A card that took this many times its drawing time is not drawn again sooner,
// so a large card costs at most a twentieth of a core.
const RENDER_COST_FACTOR = 20;

/** The outage clock of one hub. */
export class Outage {
  readonly #options: OutageOptions;
  readonly #host: OutageHost;
  /** The last camera frame (or a byte-identical one that confirmed it), -1 before any. */
  #lastFrame = -1;
  /** When the hub began to wait for frames: its creation, or the source's start after a stop. */
  #waitingSince: number;
  #onlineSince = -1;
  #lastOffer = 0;
  #offline = false;
  #stopped = false;
  #stoppedAt = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #keepalive: PublishedFrame | undefined;
  #card: OfflineCard | undefined;
  #cardPart: PublishedFrame | undefined;
  #cardWords = "";
  #nextRender = 0;
  #closed = false;

  /**
   * @param options Keepalive and offline delays.
   * @param host The hub.
   */
  constructor(options: OutageOptions, host: OutageHost) {
    this.#options = options;
    this.#host = host;
    this.#waitingSince = Date.now();
  }

  /**
   * A camera frame came (or one byte-identical to the last, which shows the
   * camera is alive). On the hot path: a few comparisons and stores.
   *
   * @param now `Date.now()`.
   * @param offered Whether it was handed to viewers (false for a dropped same frame).
   */
  frameArrived(now: number, offered: boolean): void {
    const wasOnline = this.#isOnline(now);
    this.#lastFrame = now;
    if (offered) this.#lastOffer = now;
    if (wasOnline) return;
    this.#onlineSince = now;
    this.#offline = false;
    this.#card = undefined;
    this.#cardPart = undefined;
    this.#host.statusChanged();
  }

  /** True while frames come: one within `offlineAfter`, since the source last started. */
  get online(): boolean {
    return this.#isOnline(Date.now());
  }

  #isOnline(now: number): boolean {
    if (this.#stopped || this.#lastFrame < this.#waitingSince) return false;
    return this.#options.offlineAfter === 0 || now - this.#lastFrame < this.#options.offlineAfter;
  }

  /** True once `offlineAfter` has passed without a frame (never while stopped). */
  get offline(): boolean {
    return this.#isOffline(Date.now());
  }

  #isOffline(now: number): boolean {
    if (this.#stopped || this.#options.offlineAfter === 0) return false;
    return now - Math.max(this.#lastFrame, this.#waitingSince) >= this.#options.offlineAfter;
  }

  /** True while the source is stopped on purpose (nobody watches). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * When the current state began: online since the first frame after a gap;
   * offline since the last frame (or since the wait began, if none came);
   * stopped since the stop; waiting since the start.
   */
  get since(): number {
    const now = Date.now();
    if (this.#stopped) return this.#stoppedAt;
    if (this.#isOnline(now)) return this.#onlineSince;
    return this.quietSince;
  }

  /** When the last frame came, or the wait for one began if none came since: an outage's start. */
  get quietSince(): number {
    return Math.max(this.#lastFrame, this.#waitingSince);
  }

  /** When the last camera frame (or its confirmation) came, -1 before any. */
  get lastFrame(): number {
    return this.#lastFrame;
  }

  /**
   * The source was stopped (nobody watches) or started again. A start
   * begins a new wait: the camera has `offlineAfter` to send its first frame
   * before it counts as offline, and frames from before the stop are stale.
   *
   * @param stopped True when stopped, false when started.
   */
  setStopped(stopped: boolean): void {
    if (stopped === this.#stopped) return;
    this.#stopped = stopped;
    const now = Date.now();
    if (stopped) this.#stoppedAt = now;
    else this.#waitingSince = now;
    this.#offline = false;
    this.#card = undefined;
    this.#cardPart = undefined;
    this.#host.statusChanged();
  }

  /**
   * What a new viewer that takes keepalives should see first: the latest
   * frame while it is current, the offline card during an outage (if drawn
   * yet), nothing while waiting for a first frame.
   *
   * @returns The part, or undefined.
   */
  current(): PublishedFrame | undefined {
    const now = Date.now();
    if (this.#stopped) return undefined;
    if (this.#isOffline(now)) return this.#cardPart;
    return this.fresh(this.#host.latest());
  }

  /**
   * A frame if the source runs and sent it since it last started (not one
   * from before or during a stop).
   *
   * @param frame The hub's latest frame.
   * @returns The frame, or undefined when it is stale.
   */
  fresh(frame: PublishedFrame | undefined): PublishedFrame | undefined {
    if (frame === undefined || this.#stopped || this.#lastFrame < this.#waitingSince) {
      return undefined;
    }
    return frame;
  }

  /**
   * Starts or stops the timer as viewers and status watchers come and go.
   * Call whenever either changes.
   */
  update(): void {
    const needed = !this.#closed &&
      (this.#host.hasKeepaliveViewers() || this.#host.watchingStatus()) &&
      (this.#options.keepalive > 0 || this.#options.offlineAfter > 0);
    if (needed && this.#timer === undefined) {
      const shortest = Math.min(
        this.#options.keepalive || Infinity,
        this.#options.offlineAfter || Infinity,
      );
      this.#timer = setInterval(this.#tick, Math.min(250, Math.max(25, shortest / 4)));
      // Viewers' connections keep a process alive, not this timer (Node and Bun).
      (this.#timer as { unref?: () => void }).unref?.();
    } else if (!needed && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      // Nobody sees the card now; a later outage draws it afresh.
      this.#cardPart = undefined;
      this.#card = undefined;
    }
  }

  /** Stops the timer for good (the hub closed). */
  close(): void {
    this.#closed = true;
    this.update();
  }

  readonly #tick = (): void => {
    const now = Date.now();
    if (this.#stopped) return;
    const offline = this.#isOffline(now);
    if (offline && !this.#offline) {
      this.#offline = true;
      this.#host.statusChanged();
    }
    if (!this.#host.hasKeepaliveViewers()) return;
    const { keepalive } = this.#options;
    const due = keepalive > 0 && now - this.#lastOffer >= keepalive;
    if (offline) {
      const card = this.#card ??= new OfflineCard(this.fresh(this.#host.latest())?.data);
      const since = Math.max(this.#lastFrame, this.#waitingSince);
      const lines = offlineCardText(since, now, card.width);
      const words = lines.join("\n");
      // With no keepalive the card is sent once; with one, it is kept current.
      const redraw = this.#cardPart === undefined ||
        (keepalive > 0 && now >= this.#nextRender && words !== this.#cardWords);
      if (redraw) {
        const started = performance.now();
        const jpeg = card.render(lines);
        this.#nextRender = now + Math.max(1000, (performance.now() - started) * RENDER_COST_FACTOR);
        this.#cardWords = words;
        const headers = new Headers({ [FRAME_KIND_HEADER]: "offline" });
        if (this.#options.timestampHeader) headers.set("X-Timestamp", formatTimestamp(now));
        const sequence = this.#host.latest()?.sequence ?? -1;
        this.#cardPart = new PublishedFrame(
          jpeg,
          headers,
          sequence,
          now,
          this.#host.boundary,
          "offline",
        );
      }
      if (redraw || due) {
        this.#lastOffer = now;
        this.#host.offerIdle(this.#cardPart!);
      }
      return;
    }
    if (!due) return;
    const latest = this.fresh(this.#host.latest());
    if (latest === undefined) return;
    if (this.#keepalive?.sequence !== latest.sequence || this.#keepalive.data !== latest.data) {
      const headers = new Headers(latest.headers);
      headers.set(FRAME_KIND_HEADER, "keepalive");
      this.#keepalive = new PublishedFrame(
        latest.data,
        headers,
        latest.sequence,
        latest.timestamp,
        this.#host.boundary,
        "keepalive",
      );
    }
    this.#lastOffer = now;
    this.#host.offerIdle(this.#keepalive);
  };
}
