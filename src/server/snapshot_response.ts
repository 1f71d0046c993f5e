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
  /** More response headers (e.g. CORS). */
  headers?: HeadersInit;
}

const optionsSchema = z.strictObject({
  timeout: duration("timeout", { unit: "ms", max: 600_000 }).optional(),
  headers: z.custom<HeadersInit>((v) => v !== null && typeof v === "object", {
    message: "expected a Headers object, a record or an array of pairs",
  }).optional(),
});

/**
 * Answers with the latest JPEG. Before the first frame it waits up to
 * `timeout` for one (event-driven), then answers 503 with a plain-text reason
 * and `Retry-After`, so a client can tell "no camera yet" from a broken server.
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
  const frame = await hub.latestOrNext(timeout);
  const headers = new Headers(parsed.headers);
  for (const [name, value] of Object.entries(STREAM_HEADERS)) headers.set(name, value);
  if (frame === undefined) {
    headers.set("Content-Type", "text/plain; charset=utf-8");
    headers.set("Retry-After", "1");
    const why = hub.closed ? "the stream has ended" : `no frame arrived within ${timeout} ms`;
    return new Response(`503 Service Unavailable: expected a camera frame, but ${why}\n`, {
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
