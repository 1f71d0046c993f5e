/**
 * The JSON a `/stats` route answers with: a hub's counters plus a latency
 * summary, with or without the per-viewer list.
 *
 * @module
 */
import type { FrameHub, FrameHubStats } from "../server/frame_hub.ts";

/** One stream's stats as JSON. */
export interface StreamStats extends Omit<FrameHubStats, "viewerStats" | "latest"> {
  /** The latest frame, with its age in milliseconds; null before the first. */
  latest: { sequence: number; timestamp: number; size: number; age: number } | null;
  /** Median milliseconds from publish to hand-over to a viewer's connection (0 without viewers). */
  latency: number;
  /** Largest such latency among the viewers. */
  latencyMax: number;
  /** Each viewer's counters; left out of the summary. */
  viewerStats?: FrameHubStats["viewerStats"];
}

/**
 * Builds a stream's stats for JSON.
 *
 * @param hub The hub.
 * @param summary Leave out the per-viewer list (it grows with the viewers).
 * @returns Plain data for `JSON.stringify`.
 */
export function streamStats(hub: FrameHub, summary = false): StreamStats {
  const { viewerStats, latest, ...totals } = hub.stats;
  const latencies = viewerStats.map((v) => v.latency).sort((a, b) => a - b);
  const out: StreamStats = {
    ...totals,
    latest: latest ? { ...latest, age: Date.now() - latest.timestamp } : null,
    latency: latencies.length ? latencies[Math.floor((latencies.length - 1) / 2)]! : 0,
    latencyMax: latencies.length ? latencies[latencies.length - 1]! : 0,
  };
  if (!summary) out.viewerStats = viewerStats;
  return out;
}
