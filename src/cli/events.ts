/**
 * The serve command's log: one line when a viewer joins or leaves, and a
 * periodic stats line per stream. Viewers are noticed by comparing the hubs'
 * viewer lists twice a second, which needs no hooks in the server code.
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
  const known = new Map<string, Map<number, { framesSent: number; framesDropped: number }>>();
  for (const name of Object.keys(hubs)) known.set(name, new Map());
  const checkViewers = () => {
    for (const [name, hub] of Object.entries(hubs)) {
      const seen = known.get(name)!;
      const now = hub.stats.viewerStats;
      const ids = new Set(now.map((v) => v.id));
      for (const v of now) {
        if (!seen.has(v.id)) log(`[${name}] viewer ${v.id} joined (${now.length} watching)`);
        seen.set(v.id, { framesSent: v.framesSent, framesDropped: v.framesDropped });
      }
      for (const [id, last] of seen) {
        if (ids.has(id)) continue;
        seen.delete(id);
        log(
          `[${name}] viewer ${id} left after ${last.framesSent} frames (${last.framesDropped} skipped) (${now.length} watching)`,
        );
      }
    }
  };
  const viewers = setInterval(checkViewers, 500);
  const stats = statsSeconds > 0
    ? setInterval(() => {
      for (const [name, hub] of Object.entries(hubs)) {
        const s = hub.stats;
        const mb = (s.bytesPublished / 1e6).toFixed(1);
        log(
          `[${name}] stats: ${
            s.fps.toFixed(1)
          } fps in, ${s.viewers} viewers, ${s.framesPublished} frames (${mb} MB) published, ${s.framesSent} sent, ${s.framesDropped} skipped by slow viewers`,
        );
      }
    }, statsSeconds * 1000)
    : undefined;
  // Timers must not keep the process alive on their own.
  (viewers as { unref?: () => void }).unref?.();
  (stats as { unref?: () => void } | undefined)?.unref?.();
  return {
    stop() {
      checkViewers();
      clearInterval(viewers);
      if (stats !== undefined) clearInterval(stats);
    },
  };
}
