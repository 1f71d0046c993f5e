/**
 * What the benchmarks that read bench/client_upstream.ts share: starting that
 * server, a certificate for its https, and curl's reading of it (the rate
 * every other reader is compared with, in the same round).
 *
 * @module
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** 10^6 bytes. */
export const MB = 1e6;

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A certificate for 127.0.0.1 and its key, as files. */
export interface Certificate {
  certFile: string;
  keyFile: string;
}

/** @returns A certificate for 127.0.0.1 made by openssl, and its key, in a temporary folder. */
export function makeCertificate(): Certificate {
  const dir = mkdtempSync(join(tmpdir(), "bench-tls-"));
  const certFile = join(dir, "cert.pem"), keyFile = join(dir, "key.pem");
  // deno-fmt-ignore
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", keyFile, "-out", certFile], { stdio: "ignore" });
  return { certFile, keyFile };
}

/**
 * Starts bench/client_upstream.ts in its own Node process (https with `tls`).
 *
 * @returns Its port, the JPEG and part sizes it sends, and a function that stops it.
 */
export function startServer(frameBytes: number, tls: Certificate | undefined) {
  const server = spawn(
    "node",
    [
      "--import",
      "tsx",
      "bench/client_upstream.ts",
      String(frameBytes),
      ...(tls ? [tls.certFile, tls.keyFile] : []),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  return new Promise<{ port: number; jpegBytes: number; partBytes: number; stop: () => void }>(
    (resolve) => {
      server.stdout.once("data", (line: Buffer) => {
        resolve({ ...JSON.parse(line.toString()), stop: () => server.stdin.end() });
      });
    },
  );
}

/** A reader's rate, and the CPU time (user + system) it spent per GB read. */
export interface Reading {
  megabytesPerSecond: number;
  cpuSecondsPerGigabyte: number;
}

/** `/usr/bin/time -f "%U %S"`'s last line: CPU seconds. */
export function cpuSeconds(stderr: string): number {
  const [user, system] = stderr.trim().split("\n").at(-1)!.split(" ").map(Number);
  return user! + system!;
}

/** curl's rate over `seconds`, as curl itself measures it. */
export function curl(url: string, seconds: number, caFile: string | undefined): Reading {
  const r = spawnSync("/usr/bin/time", [
    "-f",
    "%U %S",
    "curl",
    "-s",
    "-o",
    "/dev/null",
    "--max-time",
    String(seconds),
    "-w",
    "%{speed_download} %{size_download}",
    ...(caFile ? ["--cacert", caFile] : []),
    url,
  ], { encoding: "utf8" });
  const [speed, size] = r.stdout.split(" ").map(Number);
  return {
    megabytesPerSecond: speed! / MB,
    cpuSecondsPerGigabyte: cpuSeconds(r.stderr) / (size! / 1e9),
  };
}
