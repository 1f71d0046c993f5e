/**
 * The serve command's log: one line when a viewer joins or leaves, and a
 * periodic stats line per stream. Joins and leaves come from the hubs' own
 * events, so even a viewer that stays a moment is logged.
 *
 * @module
 */
import type { FrameHub } from "../server/frame_hub.ts";
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
          }`,
        );
      }
    }, statsSeconds * 1000)
    : undefined;
  // The timer must not keep the process alive on its own.
  (stats as { unref?: () => void } | undefined)?.unref?.();
  return {
    stop() {
      for (const stop of unwatch) stop();
      if (stats !== undefined) clearInterval(stats);
    },
  };
}
