/** Shared helpers for tests of the wire format: fixtures, chunking, checksums. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type Frame,
  MjpegDecoderStream,
  type MjpegDecoderStreamOptions,
} from "../../src/wire/mod.ts";

/** Absolute path of a file in tests/fixtures. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/** A fixture file's bytes. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

/** The eight real JPEG frames made by ffmpeg. */
export const frames: Uint8Array[] = [1, 2, 3, 4, 5, 6, 7, 8].map((i) =>
  fixture(`frames/00${i}.jpg`)
);

/** Hex SHA-256 of some bytes. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Joins byte arrays (strings are taken as latin1 text). */
export function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  const arrays = parts.map((p) =>
    typeof p === "string" ? Uint8Array.from(p, (c) => c.charCodeAt(0)) : p
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** Splits bytes into chunks of `size` (fresh copies, like network reads). */
export function chunk(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

/** Collects a stream into an array (Node 20 has no Array.fromAsync). */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

/** A readable stream of the given chunks. */
export function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

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
