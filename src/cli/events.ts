/**
 * The serve command's log: one line when a viewer joins or leaves, one when
 * a stream's camera goes offline or comes back or its source's state or
 * cause of failure changes, and a periodic stats line per stream. They come
 * from the hubs' own events, so even a viewer that stays a moment is logged.
 *
 * @module
 */
import type { FrameHub } from "../server/frame_hub.ts";
import type { HubStatus } from "../server/hub_status.ts";
import type { LogLine } from "../sources/source.ts";

/** A running watcher; `stop()` clears its timers. */
export interface HubWatcher {
  /** Stops watching. */
  stop(): void;
}

/**
 * Logs viewers joining and leaving, and every `statsSeconds` a stats line per stream.
 *
 * @param hubs The streams by name.
 * @param log Where lines go.
 * @param statsSeconds Seconds between stats lines; 0 for none.
 * @returns The watcher.
 */
export function watchHubs(
  hubs: Record<string, FrameHub>,
  log: LogLine,
  statsSeconds: number,
): HubWatcher {
  const unwatch = Object.entries(hubs).map(([name, hub]) =>
    hub.watch(({ type, viewer, viewers, reason }) =>
      log(
        type === "join"
          ? `[${name}] viewer ${viewer.id} joined (${viewers} watching)`
          : `[${name}] viewer ${viewer.id} ${
            reason === "stalled" ? "dropped (its connection took no bytes)" : "left"
          } after ${viewer.framesSent} frames (${viewer.framesDropped} skipped) (${viewers} watching)`,
      )
    )
  );
  const unwatchStatus = Object.entries(hubs).map(([name, hub]) => {
    let last: HubStatus | undefined;
    return hub.watchStatus((status) => {
      const line = statusLine(status, last);
      last = status;
      if (line) log(`[${name}] ${line}`);
    });
  });
  const stats = statsSeconds > 0
    ? setInterval(() => {
      for (const [name, hub] of Object.entries(hubs)) {
        const s = hub.stats;
        const mb = (s.bytesPublished / 1e6).toFixed(1);
        log(
          `[${name}] stats: ${
            s.fps.toFixed(1)
          } fps in, ${s.viewers} viewers, ${s.framesPublished} frames (${mb} MB) published, ${s.framesSent} sent, ${s.framesDropped} skipped by slow viewers${
            s.viewersStalled > 0 ? `, ${s.viewersStalled} viewers dropped as stalled` : ""
          }${s.framesUnchanged > 0 ? `, ${s.framesUnchanged} unchanged frames not sent` : ""}${
            s.status.state === "running"
              ? ""
              : `; source ${s.status.state}${s.status.lastError ? `: ${s.status.lastError}` : ""}`
          }`,
        );
      }
    }, statsSeconds * 1000)
    : undefined;
  // The timer must not keep the process alive on its own.
  (stats as { unref?: () => void } | undefined)?.unref?.();
  return {
    stop() {
      for (const stop of [...unwatch, ...unwatchStatus]) stop();
      if (stats !== undefined) clearInterval(stats);
    },
  };
}

/**
 * The log line for a status change, or undefined when it is not worth one:
 * a new state is, and so is a new cause of failure; an error that differs
 * only in numbers (a frame count, an exit status, a pid) is the same cause
 * again, already logged by the source itself at each restart.
 */
function statusLine(status: HubStatus, last: HubStatus | undefined): string | undefined {
  const cause = (error: string | null) => error?.replace(/\d+/g, "#") ?? null;
  if (last?.state === status.state && cause(last.lastError) === cause(status.lastError)) {
    return undefined;
  }
  const error = status.lastError ? `: ${status.lastError}` : "";
  const since = new Date(status.since).toISOString();
  switch (status.state) {
    case "running": {
      const after = last && last.state !== "starting" && last.state !== "stopped"
        ? ` again after ${seconds(status.since - last.since)} without frames`
        : "";
      return `camera online: frames are coming${after}`;
    }
    case "offline":
      return `camera offline: no frame since ${since}${error}`;
    case "retrying":
      return `source retrying (no frame since ${since})${error}`;
    case "starting":
      return `source starting${error}`;
    case "stopped":
      return "source stopped: nobody watches";
  }
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}
