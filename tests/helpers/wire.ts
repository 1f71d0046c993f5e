/** Decoding in chunks, for the tests of the wire format. */
import { FrameAssembler } from "../../src/wire/frame_assembler.ts";
import {
  type Frame,
  MjpegDecoderStream,
  type MjpegDecoderStreamOptions,
} from "../../src/wire/mod.ts";
import { checkParserOptions, MjpegParser } from "../../src/wire/parser.ts";
import { chunk, collect, streamOf } from "./bytes.ts";

/**
 * Below this chunk size the bytes go to the parser and assembler that
 * MjpegDecoderStream wraps (its transform is `parser.push(chunk)`), not
 * through the stream: a web stream costs several promises per chunk, and
 * node:test's async hooks make each promise dear, so byte-by-byte feeding
 * through the stream took ~40 s per file on Node against ~3 s on Deno. The
 * larger sizes still go through the stream itself.
 */
export const DIRECT_BELOW = 1000;

/** Decodes `bytes` fed in chunks of `size`; returns the frames and the decoder's stats. */
export async function decode(
  bytes: Uint8Array,
  size: number,
  options: MjpegDecoderStreamOptions = {},
): Promise<{ frames: Frame[]; stats: MjpegDecoderStream["stats"]; errors: string[] }> {
  const errors: string[] = [];
  const withErrors = { ...options, onError: (e: Error) => errors.push(e.message) };
  if (size < DIRECT_BELOW) {
    checkParserOptions(withErrors, "MjpegDecoderStream"); // as the stream checks them
    const frames: Frame[] = [];
    const parser = new MjpegParser(new FrameAssembler((frame) => frames.push(frame)), withErrors);
    for (const piece of chunk(bytes, size)) parser.push(piece);
    parser.end();
    return { frames, stats: { ...parser.stats }, errors };
  }
  const decoder = new MjpegDecoderStream(withErrors);
  const out = await collect(streamOf(chunk(bytes, size)).pipeThrough(decoder));
  return { frames: out, stats: { ...decoder.stats }, errors };
}
/** Chunk sizes every variant is fed in: byte by byte up to whole. */
export const CHUNK_SIZES = [1, 2, 3, 5, 7, 13, 64, 1000, 4096, 65536, 1 << 30];
