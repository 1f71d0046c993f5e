/** The files in tests/fixtures: real JPEGs from ffmpeg, and real multipart bodies. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256 } from "./hash.ts";

const fixturesDir = fileURLToPath(new URL("../fixtures/", import.meta.url));

/** Absolute path of a file in tests/fixtures (a plain path: `%` in `name` stays as it is). */
export function fixturePath(name: string): string {
  return join(fixturesDir, name);
}

/** A fixture file's bytes. */
export function fixture(name: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

/** Paths of the eight 320x240 JPEG frames made by ffmpeg, 001.jpg to 008.jpg, in order. */
export const fixtureFiles: string[] = Array.from(
  { length: 8 },
  (_, i) => fixturePath(`frames/00${i + 1}.jpg`),
);

/** The eight fixture frames' bytes, in order. */
export const fixtureFrames: Uint8Array<ArrayBuffer>[] = fixtureFiles.map((path) =>
  new Uint8Array(readFileSync(path))
);

/** The fixture frames' sha256 checksums, in order. */
export const fixtureSums: string[] = fixtureFrames.map(sha256);
