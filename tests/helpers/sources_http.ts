/**
 * Serving a FrameHub on an ephemeral port and reading frames back over HTTP,
 * for the sources tests.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Frame } from "../../src/frame.ts";
import { type MjpegServer, serve } from "../../src/runtime/serve.ts";
import type { FrameHub } from "../../src/server/frame_hub.ts";
import { mjpegResponse } from "../../src/server/mjpeg_response.ts";
import { MjpegDecoderStream } from "../../src/wire/decoder_stream.ts";

/** The eight fixture JPEGs, in order. */
export const fixtures: Uint8Array[] = Array.from(
  { length: 8 },
  (_, i) =>
    new Uint8Array(readFileSync(new URL(`../fixtures/frames/00${i + 1}.jpg`, import.meta.url))),
);

/** Hex sha256 of some bytes. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Serves `hub` as an MJPEG stream on 127.0.0.1, on a free port. */
export function serveHub(hub: FrameHub): Promise<MjpegServer> {
  return serve(
    { fetch: (request: Request) => mjpegResponse(hub, { signal: request.signal }) },
    { port: 0, hostname: "127.0.0.1", shutdownTimeout: 500 },
  );
}

/**
 * Reads frames from an MJPEG URL until `until` returns true or `signal`
 * aborts; returns what arrived.
 */
export async function readFrames(
  url: string,
  signal: AbortSignal,
  until: (frames: Frame[]) => boolean = () => false,
  headers?: HeadersInit,
): Promise<Frame[]> {
  const frames: Frame[] = [];
  try {
    const response = await fetch(url, { signal, ...(headers ? { headers } : {}) });
    const decoder = new MjpegDecoderStream({
      contentType: response.headers.get("content-type"),
    });
    for await (const frame of response.body!.pipeThrough(decoder)) {
      frames.push(frame);
      if (until(frames)) break;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  return frames;
}
