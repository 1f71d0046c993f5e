/**
 * A single JPEG: the hub's latest frame, for `/snapshot.jpg` and
 * mjpg-streamer's `/?action=snapshot`.
 *
 * @module
 */
import { z } from "zod";
import { duration } from "../internal/duration.ts";
import { FrameHub } from "./frame_hub.ts";
import { STREAM_HEADERS } from "./mjpeg_response.ts";
import { formatTimestamp } from "./published_frame.ts";
import { parseOptions } from "../internal/validate.ts";

/** Options for {@linkcode snapshotResponse}. */
export interface SnapshotResponseOptions {
  /**
   * Milliseconds to wait for a first frame when the hub has none yet (at most 10 min).
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * The oldest frame handed out, in milliseconds (0: any age, at most a day).
   * An older one is not sent silently: the snapshot waits up to `timeout` for
   * a new frame, and answers 503 with `Retry-After` if none comes; during a
   * known outage (the camera offline or its source retrying) it answers 503
   * at once. Time-lapse tools save whatever they get.
   *
   * @default {5000}
   */
  maxAge?: number;
  /** More response headers (e.g. CORS). */
  headers?: HeadersInit;
}

const optionsSchema = z.strictObject({
  timeout: duration("timeout", { unit: "ms", max: 600_000 }).optional(),
  maxAge: duration("maxAge", { unit: "ms", max: 86_400_000, zero: "0: any age" }).optional(),
  headers: z.custom<HeadersInit>((v) => v !== null && typeof v === "object", {
    message: "expected a Headers object, a record or an array of pairs",
  }).optional(),
});

/** How old a snapshot's frame may be by default: 5 s. */
export const DEFAULT_SNAPSHOT_MAX_AGE = 5000;

/**
 * Answers with the latest JPEG if it is at most `maxAge` old. Otherwise (and
 * before the first frame) it waits up to `timeout` for a new one
 * (event-driven; a source run on demand starts for it), then answers 503
 * with a plain-text reason and `Retry-After`, so a client can tell "no
 * camera now" from a broken server. During a known outage it answers at once.
 *
 * @param hub The hub to take the frame from.
 * @param options How long to wait, extra headers.
 * @returns A 200 `image/jpeg` response, or 503.
 *
 * @example
 * ```ts ignore
 * import { FrameHub, snapshotResponse } from "@mjpeg/stream";
 * const hub = new FrameHub();
 * const response = await snapshotResponse(hub, { timeout: 2000 });
 * ```
 */
export async function snapshotResponse(
  hub: FrameHub,
  options: SnapshotResponseOptions = {},
): Promise<Response> {
  if (!(hub instanceof FrameHub)) {
    throw new TypeError(`snapshotResponse: expected a FrameHub, got ${typeof hub}`);
  }
  const parsed = parseOptions(optionsSchema, options, "snapshotResponse options");
  const timeout = parsed.timeout ?? 5000;
  const maxAge = parsed.maxAge ?? DEFAULT_SNAPSHOT_MAX_AGE;
  const { state } = hub.status;
  // Waiting would only delay the same answer while the camera is known to be down.
  const down = state === "offline" || state === "retrying";
  const frame = await hub.freshFrame(maxAge, down ? 0 : timeout);
  const headers = new Headers(parsed.headers);
  for (const [name, value] of Object.entries(STREAM_HEADERS)) headers.set(name, value);
  if (frame === undefined) {
    headers.set("Content-Type", "text/plain; charset=utf-8");
    headers.set("Retry-After", down ? "5" : "1");
    return new Response(`503 Service Unavailable: ${whyNoFrame(hub, maxAge, timeout)}\n`, {
      status: 503,
      headers,
    });
  }
  headers.set("Content-Type", "image/jpeg");
  headers.set("Content-Length", String(frame.data.length));
  headers.set("X-Timestamp", formatTimestamp(frame.timestamp));
  headers.set("Last-Modified", new Date(frame.timestamp).toUTCString());
  // Runtimes copy the body bytes, so the hub's frame stays intact.
  return new Response(frame.data as Uint8Array<ArrayBuffer>, { status: 200, headers });
}

/** Says why there is no snapshot, in words a script's log can show. */
function whyNoFrame(hub: FrameHub, maxAge: number, timeout: number): string {
  if (hub.closed) return "expected a camera frame, but the stream has ended";
  const { state, since, lastError } = hub.status;
  const latest = hub.latest;
  const last = latest
    ? `the last frame is from ${new Date(latest.timestamp).toISOString()}, older than ` +
      `maxAge ${maxAge} ms`
    : "no frame has come yet";
  const error = lastError ? ` (${lastError})` : "";
  if (state === "offline" || state === "retrying") {
    return `the camera is offline since ${new Date(since).toISOString()}, source ${state}` +
      `${error}; ${last}`;
  }
  return `expected a camera frame, but no frame arrived within ${timeout} ms (source ${state}` +
    `${error}); ${last}`;
}
