/**
 * Shared helpers for the sources tests: taking frames from a source with a
 * deadline, a temporary directory, and a PATH prefix for fake programs.
 */
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Frame } from "../../src/frame.ts";
import type { FrameSource } from "../../src/sources/source.ts";

/** The fake camera script (see sources_fake_rpicam.sh). */
export const fakeCameraScript: string = fileURLToPath(
  new URL("./sources_fake_rpicam.sh", import.meta.url),
);

/** Takes `count` frames from `source` (then stops it), failing after `timeoutMs`. */
export async function take(
  source: FrameSource,
  count: number,
  timeoutMs = 15_000,
): Promise<Frame[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const frames: Frame[] = [];
  try {
    for await (const frame of source.frames(controller.signal)) {
      frames.push(frame);
      if (frames.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  if (frames.length < count) {
    throw new Error(`expected ${count} frames within ${timeoutMs} ms, got ${frames.length}`);
  }
  return frames;
}

/** A fresh temporary directory; `remove()` deletes it. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `mjpeg-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Installs the fake camera under each of `names` in `dir`. */
export function installFakeCamera(dir: string, ...names: string[]): void {
  for (const name of names) {
    copyFileSync(fakeCameraScript, join(dir, name));
    chmodSync(join(dir, name), 0o755);
  }
}

/** Runs `fn` with PATH set to `path`, then restores it. */
export async function withPath<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = path;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

/** True while a process with this id exists (and is not a zombie we could reap). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts of JPEGs (FF D8) and ends (FF D9) at the right places. */
export function isJpeg(bytes: Uint8Array): boolean {
  const n = bytes.length;
  return n > 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[n - 2] === 0xff &&
    bytes[n - 1] === 0xd9;
}

/**
 * The processes of a process group that are still running (zombies left for
 * the container's init to reap are not running and are not counted). Reads
 * /proc, so it needs no `ps`.
 */
export function runningInGroup(pgid: number): string[] {
  const running: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces, so split after its ")".
    const close = stat.lastIndexOf(")");
    const [state, , pgrp] = stat.slice(close + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") {
      running.push(`${entry} ${stat.slice(0, close + 1)}`);
    }
  }
  return running;
}

/**
 * Starts of the stand-in camera (helpers/sources_fake_rpicam.sh) in `dir` so
 * far, by its run.<pid> files, and how many of them still run, by /proc (a
 * zombie has exited).
 */
export function fakeCameraRuns(dir: string): { started: number; running: number } {
  const pids = readdirSync(dir).filter((f) => f.startsWith("run.")).map((f) => f.slice(4));
  const running = pids.filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
    } catch {
      return false; // gone
    }
  });
  return { started: pids.length, running: running.length };
}
