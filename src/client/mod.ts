/**
 * Reading MJPEG streams: {@linkcode MjpegClient} reads any MJPEG URL (HTTP
 * Basic and Digest, a bearer token, `http:` and `https:` with a camera's own CA) into a fixed pool of
 * {@linkcode FrameBuffer}s the application lends it, py-mjpeg's model, so
 * memory never grows; it reconnects with backoff, notices stalls and keeps
 * stats. `client.frames()` gives the newest frames as an async iterable for
 * programs that do not manage buffers.
 *
 * @example Save every frame's size, reconnecting as needed
 * ```ts ignore
 * import { MjpegClient } from "@mjpeg/stream/client";
 *
 * await using client = new MjpegClient("http://camera.local:8080/stream.mjpg", {
 *   reconnect: { initialDelay: 500, maxDelay: 10_000 },
 * });
 * for await (const frame of client.frames()) {
 *   console.log(frame.sequence, frame.data.length);
 * }
 * ```
 *
 * @module
 */
export { MjpegClient } from "./client.ts";
export { AuthenticationError } from "./camera_fetch.ts";
export type { Frame } from "../wire/mod.ts";
export type { FrameBuffer } from "./frame_buffer.ts";
export type { Credentials, FetchLike, MjpegClientOptions } from "./options.ts";
export type { BackoffOptions } from "../internal/backoff.ts";
export type { ClientState, MjpegClientStats } from "./stats.ts";
