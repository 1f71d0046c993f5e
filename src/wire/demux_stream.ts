/**
 * Bytes of a multiplexed MJPEG stream to named frames: a `TransformStream`
 * over {@linkcode MjpegDemuxer}.
 *
 * @module
 */
import { checkParserOptions } from "./parser.ts";
import {
  MjpegDemuxer,
  type MjpegDemuxerOptions,
  type MjpegDemuxerStats,
  type MuxFrame,
} from "./demuxer.ts";

/**
 * Splits a multiplexed MJPEG stream (parts named by an `X-Stream` header, as
 * `GET /mux.mjpg?streams=a,b` sends) into {@linkcode MuxFrame}s.
 *
 * @example Read several cameras over one connection
 * ```ts ignore
 * import { MjpegDemuxStream } from "@mjpeg/stream/wire";
 *
 * const response = await fetch("http://pi.local:8080/mux.mjpg?streams=front,back");
 * const demux = new MjpegDemuxStream({ contentType: response.headers.get("content-type") });
 * for await (const frame of response.body!.pipeThrough(demux)) {
 *   console.log(frame.stream, frame.data.length);
 * }
 * ```
 */
export class MjpegDemuxStream extends TransformStream<Uint8Array, MuxFrame> {
  readonly #demuxer: MjpegDemuxer;

  /**
   * Makes a demuxing stream.
   *
   * @param options Content-Type, size limits and the error callback.
   * @throws {TypeError} When an option is unknown or of the wrong type.
   */
  constructor(options: MjpegDemuxerOptions = {}) {
    checkParserOptions(options, "MjpegDemuxStream");
    let enqueue: (frame: MuxFrame) => void = () => {};
    const demuxer = new MjpegDemuxer((frame) => enqueue(frame), options);
    super({
      start(controller) {
        enqueue = (frame) => controller.enqueue(frame);
      },
      transform(chunk) {
        demuxer.push(chunk);
      },
      flush() {
        demuxer.end();
      },
    });
    this.#demuxer = demuxer;
  }

  /** Counters of frames read, parts skipped and problems recovered from. */
  get stats(): Readonly<MjpegDemuxerStats> {
    return this.#demuxer.stats;
  }
}
