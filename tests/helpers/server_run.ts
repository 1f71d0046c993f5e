/**
 * Runs an external client (ffmpeg, gst-launch, curl, chromium) without
 * blocking the event loop, since the server under test runs in the same
 * process. A deadline kills it, so no test can hang on a stuck client.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What a finished program left behind. */
export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: Uint8Array;
  stderr: string;
  /** True when the deadline killed it. */
  timedOut: boolean;
}

/** Runs `command` with `args`, killing it after `timeoutMs`. */
export function run(command: string, args: string[], timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Uint8Array[] = [];
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (chunk: Uint8Array) => out.push(chunk));
    child.stderr.on("data", (chunk: Uint8Array) => stderr += new TextDecoder().decode(chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const length = out.reduce((n, c) => n + c.length, 0);
      const stdout = new Uint8Array(length);
      let offset = 0;
      for (const chunk of out) {
        stdout.set(chunk, offset);
        offset += chunk.length;
      }
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** A fresh temporary directory; `remove()` deletes it. */
export function serverTempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `mjpeg-server-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
