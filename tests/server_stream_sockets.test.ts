/**
 * The stream's sockets: `TCP_NODELAY` on every connection `mjpeg serve`
 * accepts, over HTTP and HTTPS, read from the system calls strace saw (each
 * part is one write, and Nagle's algorithm would hold its tail back until the
 * viewer acknowledged the part before); and the first frame at once — a viewer
 * or a snapshot arriving at a camera that sends a frame every 10 s gets the
 * last one immediately, directly and through nginx and Caddy (Home Assistant
 * takes the first JPEG of a stream as its still image).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { MjpegDecoderStream } from "../src/wire/mod.ts";
import { cliCommand, startServe } from "./helpers/cli_run.ts";
import { finished } from "./helpers/processes.ts";
import { curlStream, startServing } from "./helpers/serving.ts";
import { startAll, startCaddy, startNginx } from "./helpers/proxies.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { makeCertificates } from "./helpers/tls_certs.ts";
import { requireTools } from "./helpers/tools.ts";

/**
 * The descriptors `accept`ed in an strace log that were not given
 * TCP_NODELAY = 1 before being closed or the log ends. By descriptor, not by
 * thread: a runtime may accept on one thread and set options on another.
 */
function withoutNoDelay(trace: string): { accepted: number; without: string[] } {
  const pending = new Set<string>();
  const without: string[] = [];
  let accepted = 0;
  for (const line of trace.split("\n")) {
    const accept = /\baccept4?\(.*\)\s+=\s+(\d+)/.exec(line);
    if (accept) {
      accepted++;
      if (pending.has(accept[1]!)) without.push(accept[1]!);
      pending.add(accept[1]!);
    }
    const set = /\bsetsockopt\((\d+), SOL_TCP, TCP_NODELAY, \[1\], \d+\)\s+=\s+0/.exec(line);
    if (set) pending.delete(set[1]!);
  }
  return { accepted, without: [...without, ...pending] };
}

/** Time until the first whole frame of `url`, and that frame. */
async function firstFrame(url: string): Promise<{ ms: number; data: Uint8Array }> {
  const started = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 15_000);
  try {
    const response = await fetch(url, { signal: controller.signal });
    assert.equal(response.status, 200, url);
    const frames = response.body!.pipeThrough(
      new MjpegDecoderStream({ contentType: response.headers.get("content-type") }),
    );
    for await (const frame of frames) return { ms: Date.now() - started, data: frame.data };
    throw new Error(`${url} ended before a frame`);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

describe("stream sockets", () => {
  it("mjpeg serve sets TCP_NODELAY on each viewer's socket, over HTTP and over HTTPS (strace)", async (t) => {
    if (!requireTools(t, "strace", "curl", "openssl")) return;
    await using certs = await makeCertificates();
    const dir = mkdtempSync(join(tmpdir(), "mjpeg-nodelay-"));
    try {
      for (const secure of [false, true]) {
        const trace = join(dir, `trace-${secure}.log`);
        const strace = [
          "strace",
          "-f",
          "-qq",
          "-e",
          "trace=accept,accept4,setsockopt",
          "-o",
          trace,
        ];
        const child = await startServe([
          ...["--pattern", "--width", "160", "--height", "120", "--fps", "10"],
          ...(secure ? ["--tls-cert", certs.good.cert, "--tls-key", certs.good.key] : []),
        ], { command: [...strace, ...cliCommand()] });
        let read;
        try {
          read = await Promise.all(
            [1, 2].map(() =>
              curlStream(`${child.url}/stream.mjpg`, secure ? ["--cacert", certs.caFile] : [], 1)
            ),
          );
        } finally {
          // SIGINT to the runtime under strace (strace's child), which stops cleanly.
          const tracee = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8")
            .trim().split(" ").map(Number)[0];
          if (tracee) process.kill(tracee, "SIGINT");
          await finished(child, 20_000);
        }
        for (const r of read) assert.ok(r.frames.length >= 3, `curl read frames: ${r.stderr}`);
        const { accepted, without } = withoutNoDelay(readFileSync(trace, "utf8"));
        assert.ok(accepted >= 2, `the two viewers' connections in the trace: ${accepted}`);
        assert.deepEqual(
          without,
          [],
          `${secure ? "HTTPS" : "HTTP"}: every accepted socket gets TCP_NODELAY`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a viewer and a snapshot get the last frame at once from a camera sending one every 10 s, directly and through nginx and Caddy", async (t) => {
    if (!requireTools(t, "nginx", "caddy")) return;
    // publishFixtures sends the first frame now, the next in 10 s.
    await using serving = await startServing({}, { fps: 0.1 });
    const host = new URL(serving.server.url).host;
    const [nginx, caddy] = await startAll([
      startNginx(`location / { proxy_pass http://${host}; }`),
      startCaddy(`  reverse_proxy ${host}`),
    ]);
    await using _nginx = nginx;
    await using _caddy = caddy;
    const expected = sha256(fixtureFrames[0]!);
    const bases = [["direct", serving.server.url], ["nginx", nginx.url], [
      "caddy",
      caddy.url,
    ]] as const;
    const report: string[] = [];
    for (const [name, base] of bases) {
      const { ms, data } = await firstFrame(`${base}/stream.mjpg`);
      report.push(`${name}: ${ms} ms`);
      assert.equal(sha256(data), expected, `${name}: the camera's last frame, byte for byte`);
      // The next frame is 10 s away: anything under 2 s was the one already there.
      assert.ok(ms < 2000, `${name}: the first frame after ${ms} ms, expected at once`);
      const started = Date.now();
      const snapshot = await fetch(`${base}/snapshot.jpg`);
      const bytes = new Uint8Array(await snapshot.arrayBuffer());
      assert.equal(snapshot.status, 200, name);
      assert.equal(sha256(bytes), expected, `${name}: the snapshot is the last frame`);
      assert.ok(Date.now() - started < 2000, `${name}: the snapshot at once`);
    }
    t.diagnostic(`first frame: ${report.join(", ")}`);
  });
});
