/**
 * The fuzzer's seed corpus: real MJPEG streams (the ffmpeg and GStreamer
 * fixtures, raw concatenations of the JPEG fixtures, streams written by
 * MjpegEncoderStream, and multipart without Content-Length), each with a map of
 * where every frame lies, so a mutation's effect on each frame can be judged.
 * Also the seeded PRNG every fuzz run uses, so failures reproduce.
 */
import { type Frame, MjpegEncoderStream } from "../../src/wire/mod.ts";
import { collect, concat } from "./bytes.ts";
import { fixture, fixtureFrames } from "./fixtures.ts";

/** A small, fast, seedable PRNG (sfc32, seeded through splitmix32). */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor((this.u32() / 4294967296) * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
}

/** Where one frame lies in a corpus stream. */
export interface FramePlace {
  /** First byte that must be read intact for this frame to be found (CRLF before its delimiter, or its SOI). */
  guard: number;
  /** Start of its delimiter line (multipart) or SOI (raw). */
  start: number;
  /** Start of its header block (multipart; equals bodyStart for raw). */
  headerStart: number;
  /** First byte of the JPEG. */
  bodyStart: number;
  /** Just past the JPEG. */
  bodyEnd: number;
  /** The parser can hand out the frame once it has read up to here. */
  doneAt: number;
  /** Index into {@linkcode Corpus.contents}. */
  content: number;
}

/** One stream of the corpus. */
export interface CorpusStream {
  name: string;
  bytes: Uint8Array;
  /** The Content-Type an HTTP response would carry; undefined makes the parser sniff. */
  contentType: string | undefined;
  kind: "multipart" | "raw";
  /** The delimiter line text (`--boundary`), multipart only. */
  delimiter: string;
  /** Whether parts carry Content-Length. */
  lengths: boolean;
  frames: FramePlace[];
}

/** The corpus: streams, and the distinct JPEGs they carry. */
export interface Corpus {
  streams: CorpusStream[];
  contents: Uint8Array[];
  /** Largest JPEG in the corpus. */
  largest: number;
}

/** Index of `needle` in `hay` at or after `from`, or -1. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0]!;
  for (let i = hay.indexOf(first, from); i >= 0; i = hay.indexOf(first, i + 1)) {
    if (i + needle.length > hay.length) return -1;
    let k = 1;
    while (k < needle.length && hay[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Maps a multipart stream whose JPEGs are `jpegs`, in order. */
function mapMultipart(
  bytes: Uint8Array,
  delimiter: string,
  jpegs: Uint8Array[],
  ids: number[],
  lengths: boolean,
): FramePlace[] {
  const delim = latin1(delimiter);
  const places: FramePlace[] = [];
  let cursor = 0;
  jpegs.forEach((jpeg, i) => {
    const start = indexOfBytes(bytes, delim, cursor);
    const headerStart = bytes.indexOf(0x0a, start) + 1;
    const bodyStart = indexOfBytes(bytes, jpeg, headerStart);
    if (start < 0 || bodyStart < 0) throw new Error(`frame ${i} not found in the stream`);
    const bodyEnd = bodyStart + jpeg.length;
    let doneAt = bodyEnd;
    if (!lengths) {
      // Without Content-Length the frame ends when the next delimiter line is read.
      const next = indexOfBytes(bytes, delim, bodyEnd);
      const lf = next < 0 ? -1 : bytes.indexOf(0x0a, next);
      doneAt = lf < 0 ? bytes.length : lf + 1;
    }
    places.push({
      guard: Math.max(0, start - 2),
      start,
      headerStart,
      bodyStart,
      bodyEnd,
      doneAt,
      content: ids[i]!,
    });
    cursor = bodyEnd;
  });
  return places;
}

function mapRaw(jpegs: Uint8Array[], ids: number[]): FramePlace[] {
  let at = 0;
  return jpegs.map((jpeg, i) => {
    const start = at;
    at += jpeg.length;
    return {
      guard: start,
      start,
      headerStart: start,
      bodyStart: start,
      bodyEnd: at,
      doneAt: at,
      content: ids[i]!,
    };
  });
}

async function encoderStream(jpegs: Uint8Array[], boundary: string): Promise<Uint8Array> {
  const input = new ReadableStream<Frame>({
    start(controller) {
      jpegs.forEach((data, sequence) =>
        controller.enqueue({ data, headers: new Headers(), sequence, timestamp: 0 })
      );
      controller.close();
    },
  });
  const parts = await collect(input.pipeThrough(new MjpegEncoderStream({ boundary })));
  return concat(...parts);
}

let cached: Promise<Corpus> | undefined;

/** Builds the corpus once. */
export function loadCorpus(): Promise<Corpus> {
  cached ??= buildCorpus();
  return cached;
}

async function buildCorpus(): Promise<Corpus> {
  const specials = ["exif-thumbnail.jpg", "progressive.jpg", "restart-markers.jpg"].map(fixture);
  const contents = [...fixtureFrames, ...specials];
  const [exif, progressive, restart] = [8, 9, 10];
  const byFrames = (ids: number[]) => ids.map((id) => contents[id]!);
  const eight = [0, 1, 2, 3, 4, 5, 6, 7];
  const mixed = [exif, 0, progressive, 1, restart, 2, 3, 4, 5, 6, 7, exif, 0, 1, restart, 2];
  const streams: CorpusStream[] = [];
  const add = (
    name: string,
    bytes: Uint8Array,
    contentType: string | undefined,
    delimiter: string,
    ids: number[],
    lengths: boolean,
  ) => {
    const kind = delimiter ? "multipart" : "raw";
    const places = kind === "multipart"
      ? mapMultipart(bytes, delimiter, byFrames(ids), ids, lengths)
      : mapRaw(byFrames(ids), ids);
    streams.push({ name, bytes, contentType, kind, delimiter, lengths, frames: places });
  };
  const mixedType = "multipart/x-mixed-replace";
  const ffmpeg = fixture("ffmpeg.mpjpeg");
  add("ffmpeg.mpjpeg", ffmpeg, `${mixedType};boundary=ffmpeg`, "--ffmpeg", eight, true);
  add("ffmpeg.mpjpeg, no Content-Type", ffmpeg, undefined, "--ffmpeg", eight, true);
  add(
    "gstreamer.multipart",
    fixture("gstreamer.multipart"),
    `${mixedType}; boundary=ThisRandomString`,
    "--ThisRandomString",
    eight,
    true,
  );
  const raw16 = [...eight, ...eight];
  add("raw frames/*.jpg x2", concat(...byFrames(raw16)), "image/jpeg", "", raw16, true);
  add(
    "raw exif/progressive/restart mix, sniffed",
    concat(...byFrames(mixed)),
    undefined,
    "",
    mixed,
    true,
  );
  const all = [...eight, exif, progressive, restart];
  add(
    "MjpegEncoderStream",
    await encoderStream(byFrames(all), "mjpegstream"),
    `${mixedType};boundary=mjpegstream`,
    "--mjpegstream",
    all,
    true,
  );
  const noLength = (eol: string) =>
    concat(
      ...all.flatMap((
        id,
      ) => [`--frame${eol}Content-Type: image/jpeg${eol}${eol}`, contents[id]!, eol]),
      `--frame--${eol}`,
    );
  add(
    "no Content-Length, CRLF",
    noLength("\r\n"),
    `${mixedType}; boundary=frame`,
    "--frame",
    all,
    false,
  );
  add(
    "no Content-Length, LF only",
    noLength("\n"),
    `${mixedType}; boundary=frame`,
    "--frame",
    all,
    false,
  );
  return { streams, contents, largest: Math.max(...contents.map((c) => c.length)) };
}
