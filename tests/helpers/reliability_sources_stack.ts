/**
 * Helpers for the sources fault-injection tests: a scripted fake camera
 * (reliability_sources_camera.sh), uniquely labelled JPEGs, the real server
 * stack (FrameHub → Hono app → serve() on 127.0.0.1), and an HTTP viewer that
 * records every frame it gets with its arrival time.
 */
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Frame } from "../../src/frame.ts";
import { type MjpegServer, serve } from "../../src/runtime/serve.ts";
import { FrameHub } from "../../src/server/frame_hub.ts";
import { mjpegApp } from "../../src/hono/mjpeg_app.ts";
import type { FrameSource } from "../../src/sources/source.ts";
import { MjpegDecoderStream } from "../../src/wire/decoder_stream.ts";
import { fixtureFrames, sha256, sleep } from "./server_frames.ts";
import { tempDir } from "./sources_util.ts";

const script = fileURLToPath(new URL("./reliability_sources_camera.sh", import.meta.url));

/**
 * A fixture JPEG made unique by a comment (COM) segment after SOI naming it,
 * so a frame seen by a viewer tells which run and which write it came from.
 */
export function labelledJpeg(label: string, index: number): Uint8Array {
  const base = fixtureFrames[index % fixtureFrames.length]!;
  const text = new TextEncoder().encode(label);
  const segment = new Uint8Array(4 + text.length);
  segment.set([0xff, 0xfe, (text.length + 2) >> 8, (text.length + 2) & 0xff]);
  segment.set(text, 4);
  const out = new Uint8Array(base.length + segment.length);
  out.set(base.subarray(0, 2));
  out.set(segment, 2);
  out.set(base.subarray(2), 2 + segment.length);
  return out;
}

/** One run of the fake camera, from the files it left. */
export interface FakeRun {
  k: number;
  pid: number;
  startedAt: number;
  /** When it exited by itself (an `exit` operation), in ms since the epoch. */
  exitedAt: number | undefined;
}

/** The fake camera in a temporary directory, and what it wrote. */
export class FakeCamera {
  readonly dir: { path: string; remove(): void } = tempDir("reliability");
  /** The program to give `cameraSource({ programs: [...] })`. */
  readonly program: string;
  /** sha256 → label of every labelled file written for the camera to send. */
  readonly labels: Map<string, string> = new Map();
  readonly #fileLabels = new Map<string, string>();

  constructor() {
    this.program = join(this.dir.path, "rpicam-vid");
    copyFileSync(script, this.program);
    chmodSync(this.program, 0o755);
  }

  /** Stores bytes the plans can `write`; returns the file name. */
  file(name: string, bytes: Uint8Array, label?: string): string {
    writeFileSync(join(this.dir.path, name), bytes);
    if (label !== undefined) {
      this.labels.set(sha256(bytes), label);
      this.#fileLabels.set(name, label);
    }
    return name;
  }

  /** The bytes of a stored file. */
  bytes(name: string): Uint8Array {
    return new Uint8Array(readFileSync(join(this.dir.path, name)));
  }

  /** The label of a stored file, if it has one. */
  labelOf(name: string): string | undefined {
    return this.#fileLabels.get(name);
  }

  /** Stores a labelled JPEG `label` and returns its file name. */
  jpeg(label: string, index: number): string {
    return this.file(`${label}.jpg`, labelledJpeg(label, index), label);
  }

  /** Sets what run `k` (or every run without its own plan) does. */
  plan(k: number | "default", ops: string[]): void {
    writeFileSync(join(this.dir.path, `plan.${k}`), ops.join("\n") + "\n");
  }

  /** The runs so far, in order. */
  runs(): FakeRun[] {
    const out: FakeRun[] = [];
    for (let k = 0; existsSync(join(this.dir.path, `pid.${k}`)); k++) {
      const [pid, at] = this.read(`pid.${k}`)!.split(" ").map(Number);
      const exit = this.read(`exit.${k}`);
      out.push({ k, pid: pid!, startedAt: at!, exitedAt: exit ? Number(exit) : undefined });
    }
    return out;
  }

  /** A time the fake recorded with `stamp NAME` in run `k`. */
  stamp(name: string, k: number): number | undefined {
    const text = this.read(`${name}.${k}`);
    return text ? Number(text) : undefined;
  }

  private read(name: string): string | undefined {
    try {
      return readFileSync(join(this.dir.path, name), "utf8").trim() || undefined;
    } catch {
      return undefined; // being written, or not there
    }
  }
}

/** A frame as it reached someone, and when. */
export interface Seen {
  at: number;
  hash: string;
  data: Uint8Array;
}

/** The real server stack fed by a source, with a tap on what is published. */
export interface Stack {
  hub: FrameHub;
  server: MjpegServer;
  /** Every frame the source gave, as published to the hub. */
  published: Seen[];
  /** Starts feeding the hub from `source` (once); settles when the source's loop ends. */
  feed(source: FrameSource): Promise<void>;
  /** Stops the source (and its processes), then the server. */
  stop(): Promise<void>;
}

/**
 * Starts hub + Hono app + serve() on an ephemeral port of 127.0.0.1. The
 * source starts with `feed()`, so viewers can connect before its first frame.
 */
export async function startStack(): Promise<Stack> {
  const hub = new FrameHub();
  const server = await serve(mjpegApp({ streams: hub }), { port: 0, hostname: "127.0.0.1" });
  const controller = new AbortController();
  const published: Seen[] = [];
  let piping: Promise<void> = Promise.resolve();
  return {
    hub,
    server,
    published,
    feed(source) {
      piping = (async () => {
        for await (const frame of source.frames(controller.signal)) {
          if (controller.signal.aborted) break;
          published.push({ at: Date.now(), hash: sha256(frame.data), data: frame.data });
          hub.publish(frame.data, frame.headers);
        }
      })();
      return piping;
    },
    async stop() {
      controller.abort();
      await piping.catch(() => {});
      await server.close();
      hub.close();
    },
  };
}

/** An HTTP viewer of `/stream.mjpg` that records what it gets. */
export class Viewer {
  readonly frames: Seen[] = [];
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
          this.frames.push({ at: Date.now(), hash: sha256(frame.data), data: frame.data });
        }
        if (!this.#closing) this.endedEarly = "the stream ended";
      } catch (error) {
        setStatus(0);
        if (!this.#closing) this.endedEarly = String(error);
      }
    })();
  }

  /** Waits until `check()` holds, up to `ms`; returns whether it did. */
  async until(check: (frames: Seen[]) => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!check(this.frames) && Date.now() < deadline && this.endedEarly === undefined) {
      await sleep(10);
    }
    return check(this.frames);
  }

  /** Disconnects. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#controller.abort();
    await this.done;
  }
}

/** Waits until `check()` holds, up to `ms`; returns whether it did. */
export async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await sleep(10);
  return check();
}

/** The median of numbers (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
