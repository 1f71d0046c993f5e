/**
 * What a hub tells about its camera besides frames: whether it is online
 * (from the outage clock), what the source feeding it says about itself
 * (`reportSourceStatus`), one event per change of either for the log, and
 * whether anyone wants frames at all (for sources run on demand).
 *
 * @module
 */
import type { Outage } from "./outage.ts";

/**
 * What a source says about itself, shown in `/stats` as `source`: plain
 * values only (it goes to JSON as it is). `state` (`starting`, `running`,
 * `retrying`, `failed`, `stopped`: `SourceReport` in
 * ../sources/source.ts, which every source and the poller use) and
 * `lastError` are read by the hub for its
 * {@linkcode HubStatus}; any other fields (counters) are shown as they are.
 */
export type SourceStatus = Readonly<Record<string, string | number | boolean | null>>;

/** Whether a hub's camera is online, and what its source is doing. */
export interface HubStatus {
  /**
   * True while frames come: the last one within `offlineAfter`, and the
   * source has not reported a failure since.
   */
  online: boolean;
  /**
   * When `online` last changed, in ms since the epoch: when frames began
   * again, or when the last one came (when waiting began, if none came).
   */
  since: number;
  /**
   * `running` (frames come), `starting` (no frame yet since it started),
   * `retrying` (failed; trying again), `offline` (no frame for
   * `offlineAfter`, or the source gave up), `stopped` (on purpose: nobody
   * watches).
   */
  state: "starting" | "running" | "retrying" | "offline" | "stopped";
  /** What went wrong last, as the source said it; null while frames come. */
  lastError: string | null;
}

/** A hub's source status and its watchers. */
export class StatusBoard {
  readonly #outage: () => Outage;
  #source: SourceStatus | null = null;
  #last = "";
  readonly #watchers = new Set<(status: HubStatus) => void>();

  /** @param outage The hub's outage clock (made after this board). */
  constructor(outage: () => Outage) {
    this.#outage = outage;
  }

  /** The last status the source reported, or null. */
  get source(): SourceStatus | null {
    return this.#source;
  }

  /** True while someone listens for changes. */
  get watched(): boolean {
    return this.#watchers.size > 0;
  }

  /** The status now. */
  get status(): HubStatus {
    const outage = this.#outage();
    const reported = this.#source?.state;
    const error = this.#source?.lastError;
    // `failed`: the source gave up (a password refused too often) and stays down.
    const gaveUp = !outage.stopped && reported === "failed";
    const failed = gaveUp || (!outage.stopped && reported === "retrying");
    // A source that says it failed sends no frames: offline since its last
    // frame at once, with the reason, not only once `offlineAfter` has passed.
    const online = outage.online && !failed;
    let state: HubStatus["state"];
    if (outage.stopped) state = "stopped";
    else if (failed) state = gaveUp ? "offline" : "retrying";
    else if (online) state = "running";
    else if (outage.offline) state = "offline";
    else state = "starting";
    return {
      online,
      since: failed ? outage.quietSince : outage.since,
      state,
      lastError: typeof error === "string" && !online ? error : null,
    };
  }

  /**
   * Keeps the source's status; `stopped` stops the outage clock, anything
   * after it starts a new wait for frames, and `running` (with no error)
   * counts as a frame for the clock.
   *
   * @param status The source's status, or undefined to clear it.
   */
  report(status: SourceStatus | undefined): void {
    this.#source = status === undefined ? null : { ...status };
    this.#outage().setStopped(status?.state === "stopped");
    // `running` without an error is a sign of life even when nothing new is
    // published: a polled camera whose picture has not changed (a 304, or the
    // same bytes) says so after each answer, and must not go offline for it.
    if (status?.state === "running" && !status.lastError) {
      this.#outage().frameArrived(Date.now(), false);
    }
    this.changed();
  }

  /**
   * Adds a listener; the outage clock runs while there is one.
   *
   * @param listener Gets each new status.
   * @returns A function that removes it.
   */
  watch(listener: (status: HubStatus) => void): () => void {
    this.#watchers.add(listener);
    this.#outage().update();
    return () => {
      this.#watchers.delete(listener);
      this.#outage().update();
    };
  }

  /** Tells the listeners, if online, state or error changed since it last did. */
  changed(): void {
    if (this.#watchers.size === 0) return;
    const status = this.status;
    const key = `${status.online}|${status.state}|${status.lastError}`;
    if (key === this.#last) return;
    this.#last = key;
    for (const listener of this.#watchers) listener(status);
  }
}

/** Whether anyone wants a hub's frames, and who listens for changes. */
export class Demand {
  #wanted = false;
  readonly #watchers = new Set<(wanted: boolean) => void>();

  /** True while a viewer or a waiting snapshot wants frames. */
  get wanted(): boolean {
    return this.#wanted;
  }

  /**
   * Adds a listener.
   *
   * @param listener Gets the new value on each change.
   * @returns A function that removes it.
   */
  watch(listener: (wanted: boolean) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  /**
   * Sets whether frames are wanted; listeners hear of changes only.
   *
   * @param wanted The new value.
   */
  set(wanted: boolean): void {
    if (wanted === this.#wanted) return;
    this.#wanted = wanted;
    for (const listener of this.#watchers) listener(wanted);
  }
}
