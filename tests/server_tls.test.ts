/**
 * HTTPS: `serve(app, { tls })` and `mjpeg serve --tls-cert --tls-key` on each
 * runtime, with a CA and a server certificate made by openssl at test time,
 * read by real clients that check the chain: curl (`--cacert`), ffmpeg
 * (`-tls_verify 1 -ca_file`), headless Chromium (the CA in its NSS database)
 * and the project's own client (`MjpegClient`'s `ca`, `mjpeg record --ca`). Plus what TLS must not break: the header timeout
 * covers a handshake that never comes, and a bad certificate, key or file is
 * refused before anything listens.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "../src/server/mod.ts";
import { MjpegClient } from "../src/client/mod.ts";
import { Hono } from "hono";
import { accepts, curlStream, decodeParts, startServing } from "./helpers/serving.ts";
import { freePort } from "./helpers/ports.ts";
import { type Certificates, makeCertificates } from "./helpers/tls_certs.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { paddedJpeg } from "./helpers/jpeg.ts";
import { sha256 } from "./helpers/hash.ts";
import { sleep, until } from "./helpers/wait.ts";
import { connect as tlsConnect } from "node:tls";
import { spawn } from "node:child_process";
import { run } from "./helpers/processes.ts";
import { openPage } from "./helpers/chromium.ts";
import { runCli, startServe } from "./helpers/cli_run.ts";
import { probe } from "./helpers/attack_sockets.ts";
import { inCI, requireTools, which } from "./helpers/tools.ts";
import { runtimeName } from "./helpers/runtime.ts";

let certs: Certificates | undefined;

describe("HTTPS", () => {
  before(() => {
    // Every test here needs openssl; without it (locally) each one skips.
    if (which("openssl")) certs = makeCertificates();
    else if (inCI) throw new Error("CI must run every test: needs openssl");
  });
  after(() => certs?.[Symbol.dispose]());

  /** The certificates, or a skip (locally) when openssl is missing. */
  const need = (t: { skip(m?: string): void }, ...tools: string[]) =>
    requireTools(t, "openssl", ...tools) ? certs! : undefined;

  it("serve() with certificate and key files: curl with --cacert reads byte-exact parts; without the CA it refuses", async (t) => {
    const c = need(t, "curl");
    if (!c) return;
    await using serving = await startServing({ tls: { cert: c.good.cert, key: c.good.key } });
    assert.match(serving.server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const read = await curlStream(`${serving.server.url}/stream.mjpg`, ["--cacert", c.caFile]);
    assert.equal(read.code, 28, `the stream was still going when curl stopped: ${read.stderr}`);
    assert.match(read.head, /^HTTP\/1\.1 200/);
    assert.ok(read.frames.length >= 10, `about 30 frames in 1 s, got ${read.frames.length}`);
    for (const frame of read.frames) assert.ok(fixtureSums.includes(sha256(frame)));

    const stats = await run("curl", ["-sS", "--cacert", c.caFile, `${serving.server.url}/stats`]);
    assert.equal(stats.code, 0, stats.stderr);
    assert.ok(JSON.parse(new TextDecoder().decode(stats.stdout)).framesPublished > 0);
    const untrusted = await run("curl", ["-sS", "-o", "/dev/null", `${serving.server.url}/`]);
    assert.equal(untrusted.code, 60, "curl without the CA refuses the certificate");
    const plain = await run("curl", [
      ...["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"],
      serving.server.url.replace("https:", "http:") + "/",
    ]);
    assert.notEqual(new TextDecoder().decode(plain.stdout), "200", "no plain HTTP on the TLS port");
  });

  it("serve() with PEM text (a string and bytes) instead of paths; links in the page stay https", async (t) => {
    const c = need(t, "curl");
    if (!c) return;
    await using serving = await startServing(
      {
        tls: {
          cert: readFileSync(c.good.cert, "utf8"),
          key: new Uint8Array(readFileSync(c.good.key)),
        },
      },
      { prefix: "/webcam" },
    );
    const snapshot = await run("curl", [
      ...["-sS", "--cacert", c.caFile, `${serving.server.url}/webcam/snapshot.jpg`],
    ]);
    assert.equal(snapshot.code, 0, snapshot.stderr);
    assert.ok(fixtureSums.includes(sha256(snapshot.stdout)), "a byte-exact fixture JPEG");
    // The bare prefix redirects; the request URL the app sees is https, so the Location is too.
    const redirect = await run("curl", [
      ...["-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}"],
      ...["--cacert", c.caFile, `${serving.server.url}/webcam`],
    ]);
    assert.equal(
      new TextDecoder().decode(redirect.stdout),
      `301 ${serving.server.url}/webcam/`,
    );
  });

  it("ffmpeg checking the chain (-tls_verify 1 -ca_file) copies byte-exact frames; without the CA it fails", async (t) => {
    const c = need(t, "ffmpeg");
    if (!c) return;
    await using serving = await startServing({ tls: { cert: c.good.cert, key: c.good.key } });
    const url = `${serving.server.url}/stream.mjpg`;
    const read = await run("ffmpeg", [
      ...["-v", "error", "-nostdin", "-tls_verify", "1", "-ca_file", c.caFile, "-f", "mpjpeg"],
      ...["-i", url, "-frames:v", "10", "-c:v", "copy", "-f", "mpjpeg", "-"],
    ]);
    assert.equal(read.code, 0, read.stderr);
    const frames = await decodeParts(read.stdout, "multipart/x-mixed-replace;boundary=ffmpeg");
    assert.equal(frames.length, 10);
    for (const frame of frames) assert.ok(fixtureSums.includes(sha256(frame)));
    const refused = await run("ffmpeg", [
      ...["-v", "error", "-nostdin", "-tls_verify", "1", "-f", "mpjpeg"],
      ...["-i", url, "-frames:v", "1", "-f", "null", "-"],
    ]);
    assert.notEqual(refused.code, 0, "ffmpeg without the CA refuses the certificate");
    assert.match(refused.stderr, /certificate|verif/i);
  });

  it("headless Chromium trusting the test CA shows the page over https: stream painted, snapshot, stats", async (t) => {
    const c = need(t, "chromium", "certutil");
    if (!c) return;
    await using serving = await startServing({ tls: { cert: c.good.cert, key: c.good.key } });
    const page = await openPage(`${serving.server.url}/`, [], { HOME: await c.chromiumHome() });
    try {
      let state: { protocol: string; width: number; fps: string } | undefined;
      for (let i = 0; i < 100; i++) {
        state = await page.evaluate(`(() => {
          const view = document.querySelector("mjpeg-view");
          return view && { protocol: location.protocol, width: view.stats?.width ?? 0,
            fps: document.querySelector("[data-out=fps]").textContent };
        })()`) as typeof state;
        if (state && state.width > 0 && Number(state.fps) > 0) break;
        await sleep(100);
      }
      assert.ok(state, "the page loaded (an untrusted certificate would have stopped it)");
      assert.equal(state.protocol, "https:");
      assert.equal(state.width, 320, "<mjpeg-view> painted a 320x240 frame");
      assert.ok(Number(state.fps) > 0, `the page polled /stats, got fps ${state.fps}`);
      const snapshot = await page.evaluate(`(async () => {
        const response = await fetch("snapshot.jpg");
        if (!response.ok) return "status " + response.status;
        const bytes = await response.arrayBuffer();
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
        return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      })()`) as string;
      assert.ok(
        fixtureSums.includes(snapshot),
        `the page's snapshot is a fixture, got ${snapshot}`,
      );
      assert.equal(serving.hub.stats.viewers, 1, "the page's stream is one viewer");
    } finally {
      await page.close();
    }
  });

  it("the project's client with the CA (MjpegClient's ca, mjpeg record --ca) reads byte-exact frames; without it, refuses", async (t) => {
    const c = need(t);
    if (!c) return;
    await using serving = await startServing({ tls: { cert: c.good.cert, key: c.good.key } });
    const url = `${serving.server.url}/stream.mjpg`;
    const ca = c.caPem;
    const received: Uint8Array[] = [];
    for await (const frame of new MjpegClient(url, { ca }).frames()) {
      received.push(frame.data.slice());
      if (received.length === 8) break;
    }
    for (const frame of received) assert.ok(fixtureSums.includes(sha256(frame)));

    const dir = mkdtempSync(join(tmpdir(), "mjpeg-tls-record-"));
    try {
      const out = join(dir, "clip.mjpeg");
      const recorded = await runCli([
        ...["record", url, "--ca", c.caFile, "-o", out, "--frames", "8", "--format", "multipart"],
      ]);
      assert.equal(recorded.code, 0, recorded.stderr);
      const frames = await decodeParts(
        new Uint8Array(readFileSync(out)),
        "multipart/x-mixed-replace;boundary=mjpegstream",
      );
      assert.equal(frames.length, 8, recorded.stderr);
      for (const frame of frames) assert.ok(fixtureSums.includes(sha256(frame)));
      const untrusted = await runCli(["record", url, "-o", join(dir, "no.mjpeg"), "--frames", "1"]);
      assert.equal(untrusted.code, 1, untrusted.stderr);
      assert.match(untrusted.stderr, /expected a trusted certificate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a connection that never starts its handshake is closed after headerTimeout (Bun: its own ~13 s), and does not hold up others", async (t) => {
    const c = need(t, "curl");
    if (!c) return;
    await using serving = await startServing({
      tls: { cert: c.good.cert, key: c.good.key },
      headerTimeout: 1000,
    });
    const silent = probe(serving.server.port);
    const halfHello = probe(serving.server.port);
    // The first bytes of a ClientHello record, and then nothing.
    halfHello.socket.once("connect", () => halfHello.socket.write(Uint8Array.of(22, 3, 1, 2, 0)));
    const snapshot = await run("curl", [
      ...["-sS", "--cacert", c.caFile, "--max-time", "5", `${serving.server.url}/snapshot.jpg`],
    ]);
    assert.equal(snapshot.code, 0, `served while two handshakes hang: ${snapshot.stderr}`);
    // Bun reports a TLS connection to the server only once its handshake is
    // done, so neither the header timeout nor handshakeTimeout reaches it
    // before; Bun's idle timeout cuts it (docs/server.md says so).
    const limit = runtimeName === "bun" ? 20_000 : 4000;
    await Promise.race([Promise.all([silent.closed, halfHello.closed]), sleep(limit + 1000)]);
    for (const [name, p] of [["silent", silent], ["half a ClientHello", halfHello]] as const) {
      const after = p.closedAfter();
      assert.ok(after !== undefined, `${name}: closed by the server`);
      assert.ok(after >= 900 && after < limit, `${name}: closed after ${after} ms (timeout 1000)`);
      p.socket.destroy();
    }
  });

  it("a viewer that stops reading over TLS is dropped after viewerTimeout while one that reads keeps its frames", async (t) => {
    const c = need(t, "python3");
    if (!c) return;
    const big = fixtureFrames.map((frame) => paddedJpeg(frame, 200_000));
    const bigSums = new Set(big.map(sha256));
    await using serving = await startServing(
      { tls: { cert: c.good.cert, key: c.good.key } },
      { viewerTimeout: 1500, frames: big },
    );
    const ca = readFileSync(c.caFile);
    // The reader, in-process; the viewer that stops reading is a python3
    // process, since a paused node:tls socket in Deno keeps reading.
    const reader = tlsConnect({ port: serving.server.port, host: "127.0.0.1", ca });
    reader.on("error", () => {});
    // HTTP/1.0, so the body comes without chunk framing on every runtime.
    reader.write("GET /stream.mjpg HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    const chunks: Uint8Array[] = [];
    reader.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    const stalled = spawn(
      "python3",
      ["-c", STALLED_VIEWER, String(serving.server.port), c.caFile],
      {
        stdio: "ignore",
      },
    );
    try {
      await until(
        () => serving.hub.stats.viewersStalled === 1,
        () => `the stalled viewer to be dropped: ${JSON.stringify(serving.hub.stats)}`,
        25_000,
        100,
      );
      assert.equal(serving.hub.stats.viewers, 1, "the reader is still watching");
      const body = concatBytes(chunks);
      const text = new TextDecoder("latin1").decode(body.subarray(0, 200));
      const headEnd = new TextDecoder("latin1").decode(body).indexOf("\r\n\r\n");
      assert.match(text, /^HTTP\/1\.[01] 200/);
      const frames = await decodeParts(
        body.subarray(headEnd + 4),
        "multipart/x-mixed-replace;boundary=mjpegstream",
      );
      assert.ok(frames.length >= 20, `the reader kept getting frames: ${frames.length}`);
      for (const frame of frames) {
        assert.ok(
          bigSums.has(sha256(frame)),
          `a frame of ${frame.length} bytes is a padded fixture`,
        );
      }
    } finally {
      stalled.kill("SIGKILL");
      reader.destroy();
    }
  });

  it("serve() refuses a key that is not the certificate's, a missing file, or a key given as the certificate, before listening", async (t) => {
    const c = need(t);
    if (!c) return;
    const port = await freePort();
    const app = new Hono().get("/", (ctx) => ctx.text("never"));
    const cases: [{ cert: string; key: string }, RegExp][] = [
      [
        { cert: c.good.cert, key: c.selfSigned.key },
        /^tls\.key: expected the private key of the certificate in tls\.cert \(CN=localhost\), got another key/,
      ],
      [
        { cert: join(c.dir, "missing.pem"), key: c.good.key },
        /^tls\.cert: expected a readable PEM file, got .*missing\.pem \(no such file\)$/,
      ],
      [
        { cert: c.good.key, key: c.good.key },
        /^tls\.cert: expected a PEM certificate \("-----BEGIN CERTIFICATE-----"\), got "-----BEGIN PRIVATE KEY-----" in /,
      ],
      [
        {
          cert: readFileSync(c.good.cert, "utf8"),
          key: "-----BEGIN PRIVATE KEY-----\nnot base64\n",
        },
        /^tls\.key: expected an unencrypted PEM private key/,
      ],
    ];
    for (const [tls, message] of cases) {
      await assert.rejects(
        serve(app, { port, tls, log: () => {} }),
        (error: Error) => message.test(error.message) || assert.fail(error.message),
      );
      assert.equal(await accepts(port), false, "nothing listens after the refusal");
    }
    await assert.rejects(
      serve(app, { port, tls: { cert: c.good.cert } } as never),
      /invalid serve options: tls\.key/,
    );
  });

  it("mjpeg serve --tls-cert --tls-key: https in the log, curl reads the stream, SIGTERM stops it", async (t) => {
    const c = need(t, "curl");
    if (!c) return;
    const served = await startServe([
      ...["--pattern", "--width", "160", "--height", "120", "--fps", "10"],
      ...["--tls-cert", c.good.cert, "--tls-key", c.good.key],
    ]);
    try {
      assert.match(served.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const read = await curlStream(`${served.url}/stream.mjpg`, ["--cacert", c.caFile], 2);
      assert.ok(read.frames.length >= 5, `frames over https: ${read.frames.length}`);
      assert.match(
        served.output.stderr,
        /stream pattern: .* → https:\/\/127\.0\.0\.1:\d+\/stream\.mjpg/,
      );
    } finally {
      const result = await served.stop("SIGTERM");
      assert.equal(result.code, 0, result.stderr);
    }
  });

  it("mjpeg serve with a bad certificate, key or file exits 2 naming the setting, with nothing started", async (t) => {
    const c = need(t);
    if (!c) return;
    const dir = mkdtempSync(join(tmpdir(), "mjpeg-tls-cli-"));
    try {
      const marker = join(dir, "started");
      // A source that leaves a mark if it is ever started.
      const source = ["--command", `sh -c "touch ${marker}; sleep 5"`];
      const config = join(dir, "serve.json");
      writeFileSync(
        config,
        JSON.stringify({
          tlsCert: c.good.cert,
          tlsKey: c.selfSigned.key,
          streams: { cam: { type: "command", command: "sh", args: ["-c", `touch ${marker}`] } },
        }),
      );
      const cases: [string[], RegExp][] = [
        [
          [...source, "--tls-cert", c.good.cert, "--tls-key", c.selfSigned.key],
          /--tls-key: expected the private key of the certificate in --tls-cert \(CN=localhost\), got another key/,
        ],
        [
          [...source, "--tls-cert", join(dir, "nope.pem"), "--tls-key", c.good.key],
          /--tls-cert: expected a readable PEM file, got .*nope\.pem \(no such file\)/,
        ],
        [
          [...source, "--tls-cert", c.good.cert],
          /--tls-key: expected a certificate and its key together .*got only one/,
        ],
        [
          [...source, "--tls-cert", c.good.cert, "--tls-key", c.good.key, "--unix", join(dir, "s")],
          /--tls-cert: expected no TCP port, host or TLS with a unix socket/,
        ],
        [
          ["--config", config],
          /config file .*serve\.json: tlsKey: expected the private key of the certificate in config file .*: tlsCert/,
        ],
      ];
      for (const [args, message] of cases) {
        const result = await runCli(["serve", "--port", "0", ...args], { timeoutMs: 20_000 });
        assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, message);
        assert.doesNotMatch(result.stderr, /listening/);
        assert.equal(existsSync(marker), false, "no source was started");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A TLS viewer that checks the chain, asks for the stream, reads its head and then nothing. */
const STALLED_VIEWER = `
import socket, ssl, sys, time
context = ssl.create_default_context(cafile=sys.argv[2])
viewer = context.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                             server_hostname="127.0.0.1")
viewer.sendall(b"GET /stream.mjpg HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n")
viewer.recv(100)
time.sleep(60)
`;

function concatBytes(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
