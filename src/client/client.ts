/**
 * MjpegClient: py-mjpeg's buffer-queue client, on fetch and web streams. The
 * application lends a fixed pool of buffers, so memory never grows; the client
 * reconnects with backoff, notices stalls, and keeps stats.
 *
 * @module
 */
import { escapeControls } from "../errors.ts";
import type { Frame } from "../frame.ts";
import { MjpegParser } from "../wire/parser.ts";
import { redactUrl, splitCredentials } from "./credentials.ts";
import { cameraFetch } from "./camera_fetch.ts";
import type { FetchLike } from "../runtime/redirects.ts";
import { Backoff } from "../internal/backoff.ts";
import { sleep } from "../internal/sleep.ts";
import { BufferPool } from "./buffer_pool.ts";
import { BufferSink } from "./buffer_sink.ts";
import { runConnection } from "./connection.ts";
import type { FrameBuffer } from "./frame_buffer.ts";
import { FrameQueue } from "./frame_queue.ts";
import {
  type MjpegClientOptions,
  resolveClientOptions,
  type ResolvedClientOptions,
} from "./options.ts";
import { RateMeter } from "../internal/rate_meter.ts";
import { type ClientState, formatStats, type MjpegClientStats } from "./stats.ts";

/**
 * Reads an MJPEG stream (multipart or raw JPEGs over HTTP) into buffers the
 * application lends, like py-mjpeg's `MJPEGClient`, or as an async iterable
 * of frames.
 *
 * Sequence numbers keep rising across reconnects: each connection continues
 * one past the highest number seen, so a frame cut off by a disconnect leaves
 * a visible gap. A stopped client can be started again with `start()`; its
 * counters and sequence numbers carry on.
 *
 * @example The py-mjpeg way: a fixed pool of buffers
 * ```ts ignore
 * import { MjpegClient } from "@mjpeg/stream";
 *
 * await using client = new MjpegClient("http://127.0.0.1:8080/stream.mjpg");
 * for (const buf of client.requestBuffers(65536, 50)) client.enqueueBuffer(buf);
 * client.start();
 * for (let i = 0; i < 100; i++) {
 *   const buf = await client.dequeueBuffer();
 *   const jpeg = buf.data.subarray(0, buf.used); // valid until enqueued again
 *   console.log(buf.sequence, jpeg.length);
 *   client.enqueueBuffer(buf);
 * }
 * client.printStats();
 * ```
 *
 * @example Just the frames, newest first when you fall behind
 * ```ts ignore
 * import { MjpegClient } from "@mjpeg/stream";
 *
 * await using client = new MjpegClient("http://127.0.0.1:8080/stream.mjpg");
 * for await (const frame of client.frames()) {
 *   console.log(frame.sequence, frame.data.length);
 * }
 * ```
 */
export class MjpegClient implements AsyncDisposable {
  #request: Request | URL;
  #displayUrl: string;
  #options: ResolvedClientOptions;
  #headers: Headers;
  #fetch: FetchLike;
  #hasCredentials: boolean;
  #pool = new BufferPool();
  #sink: BufferSink;
  #backoff: Backoff;
  #fps = new RateMeter();
  #state: ClientState = "stopped";
  #run: Promise<void> | undefined;
  #stopController: AbortController | undefined;
  #reconnects = 0;
  #bytes = 0;
  #lastError: string | undefined;
  #connectionHadFrame = false;
  // One parser for the client's life: its frame numbers go on across
  // connections, so a frame lost to a disconnect leaves a gap in `sequence`.
  #parser: MjpegParser;
  #queues = new Set<FrameQueue>();
  #autoStarted = false;

  /**
   * Creates a client; nothing happens on the network until `start()` (or
   * `frames()`).
   *
   * @param url The stream: an http(s) URL (`user:pass@` are credentials for
   *   Digest or Basic) or a Request.
   * @param options Credentials, TLS, headers, reconnect policy, stall
   *   timeout, fetch; validated here.
   * @throws {TypeError} On a bad URL or option, saying what was expected.
   */
  constructor(url: string | URL | Request, options: MjpegClientOptions = {}) {
    this.#options = resolveClientOptions(options);
    const headers = new Headers();
    let credentials = this.#options.auth;
    if (url instanceof Request) {
      this.#request = url;
      this.#displayUrl = redactUrl(url.url);
      url.headers.forEach((value, name) => headers.set(name, value));
    } else {
      const split = splitCredentials(url);
      if (split.credentials && credentials) {
        throw new TypeError(
          "MjpegClient: expected credentials in the URL or in the auth option, got both",
        );
      }
      credentials ??= split.credentials;
      this.#request = split.url;
      this.#displayUrl = redactUrl(url);
    }
    this.#options.headers.forEach((value, name) => headers.set(name, value));
    this.#headers = headers;
    this.#hasCredentials = credentials !== undefined;
    // One camera fetch for the client's life: Digest's nonce and count carry over reconnects.
    this.#fetch = cameraFetch({
      url: url instanceof Request ? url.url : this.#request as URL,
      credentials,
      ca: this.#options.ca,
      insecure: this.#options.insecure,
      fetch: this.#options.fetch,
    });
    this.#sink = new BufferSink(this.#pool);
    this.#sink.onFrame = (timestamp) => {
      // The parser's timestamp (one Date.now() per chunk) spares a clock read per frame.
      this.#fps.tick(timestamp);
      if (!this.#connectionHadFrame) {
        this.#connectionHadFrame = true;
        this.#backoff.reset();
      }
    };
    this.#backoff = new Backoff(this.#options.reconnect);
    this.#parser = new MjpegParser(this.#sink, {
      maxFrameSize: this.#options.maxFrameSize,
      onError: (error) => this.#lastError = escapeControls(error.message),
    });
    this.#options.signal?.addEventListener("abort", () => void this.stop(), { once: true });
  }

  /**
   * Allocates buffers for frames. They start out with the application: pass
   * each to `enqueueBuffer()` to have it filled.
   *
   * @param length Bytes per buffer; a larger frame is dropped (and counted).
   * @param count How many buffers.
   * @returns The new buffers.
   */
  requestBuffers(length: number, count: number): FrameBuffer[] {
    return this.#pool.request(length, count);
  }

  /**
   * Gives a buffer to the client to fill. Do not touch it until it comes back
   * from `dequeueBuffer()`.
   *
   * @param buf A buffer from `requestBuffers()` that the application holds.
   * @throws {TypeError} For a foreign buffer or one enqueued twice.
   */
  enqueueBuffer(buf: FrameBuffer): void {
    this.#pool.enqueue(buf);
  }

  /**
   * Waits for the next filled buffer, oldest first. Rejects with an
   * `AbortError` DOMException when the client stops (filled buffers can still
   * be taken afterwards) or when `signal` aborts.
   *
   * @param signal Aborts just this wait.
   * @returns A filled buffer; `buf.data.subarray(0, buf.used)` is the JPEG.
   */
  dequeueBuffer(signal?: AbortSignal): Promise<FrameBuffer> {
    return this.#pool.dequeue(signal);
  }

  /** Starts reading in the background; does nothing if already running. */
  start(): void {
    if (this.#run) return;
    if (this.#options.signal?.aborted) {
      this.#finish(stoppedError());
      return;
    }
    this.#pool.reopen();
    this.#backoff.reset();
    const stopController = new AbortController();
    this.#stopController = stopController;
    this.#state = "connecting";
    this.#run = this.#loop(stopController.signal);
  }

  /**
   * Stops reading: aborts the connection or the backoff wait and resolves
   * promptly. Pending `dequeueBuffer()` calls reject with an AbortError and
   * `frames()` iterations end.
   *
   * @returns Resolves once the client has stopped.
   */
  async stop(): Promise<void> {
    this.#autoStarted = false;
    const run = this.#run;
    if (!run) {
      this.#finish(stoppedError());
      return;
    }
    this.#stopController?.abort(stoppedError());
    await run;
  }

  /** Stops the client: `await using client = new MjpegClient(url)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /**
   * Frames as an async iterable, for applications that do not manage
   * buffers. Holds at most `frameQueueSize` frames; when the consumer falls
   * behind, the oldest is dropped. Starts the client if it is not running;
   * if it did, leaving the loop stops the client again.
   *
   * @returns An async iterator of frames; it ends when the client stops.
   */
  frames(): AsyncIterableIterator<Frame> {
    let detach = () => {};
    const queue = new FrameQueue(this.#options.frameQueueSize, () => {
      detach();
      this.#queues.delete(queue);
      if (this.#autoStarted && this.#queues.size === 0) return this.stop();
    });
    detach = this.#sink.listen((frame) => queue.push(frame));
    this.#queues.add(queue);
    if (!this.#run) {
      this.#autoStarted = true;
      this.start();
    }
    return queue;
  }

  /** A snapshot of the counters, state and last error. */
  get stats(): MjpegClientStats {
    const counts = this.#pool.counts();
    const c = this.#sink.counters;
    return {
      url: this.#displayUrl,
      state: this.#state,
      fps: this.#fps.rate(Date.now()),
      overruns: c.overruns,
      reconnects: this.#reconnects,
      frames: c.frames,
      discardedFrames: c.discardedFrames,
      abortedFrames: c.abortedFrames + this.#parser.stats.oversizedFrames,
      keepalives: c.keepalives,
      queued: counts.free,
      ready: counts.ready,
      bytes: this.#bytes,
      lastError: this.#lastError,
    };
  }

  /**
   * The stats as py-mjpeg's `print_stats()` block.
   *
   * @returns The block, one `Name: value` line per counter.
   */
  formatStats(): string {
    return formatStats(this.stats);
  }

  /** Prints `formatStats()` to the console. */
  printStats(): void {
    console.log(this.formatStats());
  }

  async #loop(stop: AbortSignal): Promise<void> {
    let failure: Error | undefined;
    for (let attempt = 0; !stop.aborted; attempt++) {
      if (attempt > 0) this.#reconnects++;
      this.#state = "connecting";
      this.#connectionHadFrame = false;
      const ended = await runConnection({
        target: this.#request,
        headers: this.#headers,
        fetch: this.#fetch,
        hasCredentials: this.#hasCredentials,
        headTimeout: this.#options.headTimeout,
        stallTimeout: this.#options.stallTimeout,
        parser: this.#parser,
        stop,
        onStreaming: () => this.#state = "streaming",
        onBytes: (count) => this.#bytes += count,
      });
      if (stop.aborted || ended === undefined) break;
      this.#lastError = ended.reason;
      if (ended.final || (ended.permanent && this.#options.failFast)) {
        // The error itself where it has a type to tell it by (AuthenticationError).
        failure = ended.error ?? new Error(ended.reason);
        break;
      }
      const delay = this.#backoff.next();
      if (delay === undefined) {
        failure = new Error(
          `MjpegClient gave up after ${this.#backoff.failures} failed reconnects in a row; last error: ${this.#lastError}`,
        );
        break;
      }
      this.#state = "waiting";
      await sleep(delay, stop);
    }
    this.#finish(failure ?? stoppedError());
  }

  /** Ends a run: stopped state, pending dequeues and frames() iterations closed. */
  #finish(reason: unknown): void {
    this.#state = "stopped";
    this.#run = undefined;
    this.#autoStarted = false;
    this.#pool.close(reason);
    const isAbort = reason instanceof DOMException && reason.name === "AbortError";
    for (const queue of [...this.#queues]) queue.close(isAbort ? undefined : reason);
  }
}

function stoppedError(): DOMException {
  return new DOMException("MjpegClient stopped", "AbortError");
}
