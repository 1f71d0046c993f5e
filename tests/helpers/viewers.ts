/**
 * HTTP viewers of an MJPEG stream, decoding with the project's decoder: one
 * that reads until it has enough (`readFrames`, `firstFrames`), one that
 * watches for a while and records each part's arrival (`watchStream`), and
 * one that stays connected and records every frame with its arrival time
 * (`Viewer`, which disconnects at the end of the test's block).
 */
import "./dispose.ts";
import assert from "node:assert/strict";
import { type Frame, FRAME_KIND_HEADER } from "../../src/frame.ts";
import { MjpegDecoderStream } from "../../src/wire/decoder_stream.ts";
import { sha256 } from "./hash.ts";
import { until } from "./wait.ts";

/**
 * Reads frames from an MJPEG URL until `enough(frames)` holds or `signal`
 * aborts; returns what arrived.
 */
export async function readFrames(
  url: string,
  signal: AbortSignal,
  enough: (frames: Frame[]) => boolean = () => false,
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
      if (enough(frames)) break;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  return frames;
}

/** Reads the first `count` frames of an MJPEG URL, failing unless all came within `ms` (10 s). */
export async function firstFrames(
  url: string,
  count: number,
  ms = 10_000,
  headers?: HeadersInit,
): Promise<Frame[]> {
  const frames = await readFrames(url, AbortSignal.timeout(ms), (f) => f.length >= count, headers);
  assert.equal(frames.length, count, `${count} frames from ${url} within ${ms} ms`);
  return frames;
}

/** A part as `watchStream` saw it: when it came, its headers, its checksum. */
export interface WatchedPart {
  at: number;
  headers: Headers;
  hash: string;
}

/**
 * Reads an MJPEG URL (which must answer 200) for `ms`, or until `until`
 * aborts, recording each part as it arrives (not its bytes: a long watch of
 * large frames keeps little). `endedAt` says when the other side ended the
 * stream, if it did first.
 */
export async function watchStream(
  url: string,
  ms: number,
  until?: AbortSignal,
): Promise<{ parts: WatchedPart[]; endedAt?: number }> {
  const timeout = AbortSignal.timeout(ms);
  const signal = until ? AbortSignal.any([timeout, until]) : timeout;
  const parts: WatchedPart[] = [];
  try {
    const response = await fetch(url, { signal });
    assert.equal(response.status, 200, url);
    const frames = response.body!.pipeThrough(
      new MjpegDecoderStream({ contentType: response.headers.get("content-type") }),
    );
    for await (const frame of frames) {
      const at = Date.now();
      parts.push({ at, headers: frame.headers, hash: sha256(frame.data) });
    }
    return { parts, endedAt: Date.now() };
  } catch (error) {
    if (!signal.aborted) throw error;
    return { parts };
  }
}

/** A frame as it reached someone, and when. */
export interface Seen {
  at: number;
  hash: string;
  data: Uint8Array;
}

/**
 * An HTTP viewer of `URL/stream.mjpg` that records what it gets; disposing it
 * disconnects. Live frames go to `frames`; the server's keepalive repeats and
 * offline cards (marked `X-Frame-Kind`) to `marked`, so a test of what the
 * camera made is not confused by the outage handling.
 */
export class Viewer implements AsyncDisposable {
  readonly frames: Seen[] = [];
  /** Parts marked `X-Frame-Kind` (keepalive, offline), with the kind. */
  readonly marked: (Seen & { kind: string })[] = [];
  /** Why the stream ended, if it did before `close()`. */
  endedEarly: string | undefined;
  readonly #controller = new AbortController();
  #closing = false;
  readonly done: Promise<void>;
  readonly status: Promise<number>;

  constructor(url: string) {
    let setStatus: (s: number) => void = () => {};
    this.status = new Promise((resolve) => setStatus = resolve);
    this.done = (async () => {
      try {
        const response = await fetch(`${url}/stream.mjpg`, { signal: this.#controller.signal });
        setStatus(response.status);
        const contentType = response.headers.get("content-type") ?? "";
        const frames = response.body!.pipeThrough(new MjpegDecoderStream({ contentType }));
        for await (const frame of frames as AsyncIterable<Frame>) {
          const seen = { at: Date.now(), hash: sha256(frame.data), data: frame.data };
          const kind = frame.headers.get(FRAME_KIND_HEADER);
          if (kind === null) this.frames.push(seen);
          else this.marked.push({ ...seen, kind });
        }
        if (!this.#closing) this.endedEarly = "the stream ended";
      } catch (error) {
        setStatus(0);
        if (!this.#closing) this.endedEarly = String(error);
      }
    })();
  }

  /**
   * Waits until `check(frames)` holds, up to `ms`, as the shared `until`
   * does; fails at once, saying so, if the stream ends first.
   */
  async until(
    check: (frames: Seen[]) => boolean,
    what: string | (() => string),
    ms: number,
  ): Promise<void> {
    await until(() => check(this.frames) || this.endedEarly !== undefined, what, ms);
    if (!check(this.frames)) {
      const waited = typeof what === "string" ? what : what();
      throw new Error(`the stream ended (${this.endedEarly}) while waiting for ${waited}`);
    }
  }

  /** Disconnects. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#controller.abort();
    await this.done;
  }

  /** Disconnects at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
