/** Decoding in chunks, for the tests of the wire format. */
import {
  type Frame,
  MjpegDecoderStream,
  type MjpegDecoderStreamOptions,
} from "../../src/wire/mod.ts";
import { chunk, collect, streamOf } from "./bytes.ts";

/** Decodes `bytes` fed in chunks of `size`; returns the frames and the decoder's stats. */
export async function decode(
  bytes: Uint8Array,
  size: number,
  options: MjpegDecoderStreamOptions = {},
): Promise<{ frames: Frame[]; stats: MjpegDecoderStream["stats"]; errors: string[] }> {
  const errors: string[] = [];
  const decoder = new MjpegDecoderStream({ ...options, onError: (e) => errors.push(e.message) });
  const out = await collect(streamOf(chunk(bytes, size)).pipeThrough(decoder));
  return { frames: out, stats: { ...decoder.stats }, errors };
}

/** Chunk sizes every variant is fed in: byte by byte up to whole. */
export const CHUNK_SIZES = [1, 2, 3, 5, 7, 13, 64, 1000, 4096, 65536, 1 << 30];
