/**
 * Where a view's frames come from: its own request ({@linkcode openStream}),
 * or its share of a multiplexed request (`joinMux` in ./mux_feed.ts). Both
 * tell the view the same things through a {@linkcode FeedListener}.
 *
 * @module
 */
import { type Frame, MjpegDecoderStream } from "../wire/mod.ts";
import { checkResponse, Connection } from "./connection.ts";
import type { ReconnectEventDetail } from "./view_events.ts";

/** What a feed tells its view. */
export interface FeedListener {
  /** A part arrived for this view. */
  frame(frame: Frame): void;
  /** A request is under way. */
  connecting(): void;
  /** Nothing came for the stall timeout; a reconnect follows. */
  stall(timeout: number): void;
  /** The request ended; another follows after `detail.delay`. */
  reconnect(detail: ReconnectEventDetail): void;
  /** The request failed; a reconnect follows. */
  error(error: Error): void;
}

/** A request, as a view needs it: the URL (with `fps` and token), headers, stall timeout. */
export interface FeedRequest {
  /** The absolute URL. */
  url: string;
  /** Request headers (Authorization when a token goes as a header). */
  headers: Headers;
  /** Milliseconds without a part before the request is given up. */
  stallTimeout: number;
}

/** A view's running feed. */
export interface Feed {
  /** Stops the feed and aborts its request; nothing more is reported. */
  close(): void;
}

/**
 * Opens a view's own request to any MJPEG URL, kept open until closed.
 *
 * @param request The URL, headers and stall timeout.
 * @param listener Gets the frames and the news.
 * @returns The feed.
 */
export function openStream(request: FeedRequest, listener: FeedListener): Feed {
  const connection = new Connection<Frame>({
    target: () => request,
    stallTimeout: () => request.stallTimeout,
    decoder(response) {
      checkResponse(response);
      return new MjpegDecoderStream({ contentType: response.headers.get("content-type") });
    },
    frame: (frame) => listener.frame(frame),
    connecting: () => listener.connecting(),
    stall: (timeout) => listener.stall(timeout),
    reconnect: (detail) => listener.reconnect(detail),
    error: (error) => listener.error(error),
  });
  connection.start();
  return { close: () => connection.stop() };
}
