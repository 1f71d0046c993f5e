/**
 * Unix sockets: `serve(app, { path, socketMode })` and `mjpeg serve --unix
 * PATH --unix-mode MODE` on each runtime, read by curl (`--unix-socket`) and
 * by nginx proxying to the socket; the socket file's mode, its removal at
 * shutdown, a stale file replaced, and a path in use (a live server, or a file
 * that is not a socket) refused with the setting named and nothing touched.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { serve } from "../src/server/mod.ts";
import { curlStream, startServing } from "./helpers/serving.ts";
import { startNginx } from "./helpers/proxies.ts";
import { fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { run, waitForLog } from "./helpers/processes.ts";
import { runCli, startCli } from "./helpers/cli_run.ts";
import { requireTools } from "./helpers/tools.ts";

/** A fresh folder for sockets, removed by `await using`. */
function socketDir(): { path: string } & AsyncDisposable {
  const path = mkdtempSync(join(tmpdir(), "mjpeg-unix-"));
  return {
    path,
    [Symbol.asyncDispose]: () => Promise.resolve(rmSync(path, { recursive: true, force: true })),
  };
}

/** A socket file with nobody listening, as a server that was killed leaves it. */
async function staleSocket(path: string): Promise<void> {
  const made = await run("python3", [
    "-c",
    "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
    path,
  ]);
  assert.equal(made.code, 0, made.stderr);
  assert.ok(statSync(path).isSocket());
}

/** A live server on a unix socket, as another program would hold it. */
async function liveServer(path: string): Promise<Server & AsyncDisposable> {
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.end("HTTP/1.0 200 OK\r\ncontent-length: 11\r\n\r\nstill here\n");
  });
  await new Promise<void>((resolve) => server.listen({ path }, resolve));
  return Object.assign(server, {
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}

describe("unix sockets", () => {
  it("serve({ path, socketMode }): curl --unix-socket reads byte-exact parts, the file has the mode, and is gone after close", async (t) => {
    if (!requireTools(t, "curl")) return;
    await using dir = socketDir();
    const path = join(dir.path, "camera.sock");
    const serving = await startServing({ path, socketMode: 0o660 });
    try {
      assert.equal(serving.server.path, path);
      assert.equal(serving.server.port, 0);
      assert.equal(serving.server.url, `http+unix://${encodeURIComponent(path)}`);
      assert.ok(statSync(path).isSocket());
      assert.equal(statSync(path).mode & 0o777, 0o660);
      const read = await curlStream("http://camera/stream.mjpg", ["--unix-socket", path]);
      assert.equal(read.code, 28, `the stream was still going: ${read.stderr}`);
      assert.match(read.head, /^HTTP\/1\.1 200/);
      assert.ok(read.frames.length >= 10, `about 30 frames in 1 s, got ${read.frames.length}`);
      for (const frame of read.frames) assert.ok(fixtureSums.includes(sha256(frame)));
      const stats = await run("curl", ["-sS", "--unix-socket", path, "http://camera/stats"]);
      assert.ok(JSON.parse(new TextDecoder().decode(stats.stdout)).framesPublished > 0);
    } finally {
      await serving[Symbol.asyncDispose]();
    }
    assert.equal(existsSync(path), false, "the socket file is removed at shutdown");
  });

  it("a stale socket file is replaced; a live server's socket and a file that is not a socket are refused and left alone", async (t) => {
    if (!requireTools(t, "curl", "python3")) return;
    await using dir = socketDir();
    const app = new Hono().get("/", (c) => c.text("ours\n"));

    const stale = join(dir.path, "stale.sock");
    await staleSocket(stale);
    const server = await serve(app, { path: stale, log: () => {} });
    const answer = await run("curl", ["-sS", "--unix-socket", stale, "http://x/"]);
    assert.equal(new TextDecoder().decode(answer.stdout), "ours\n");
    await server.close();

    const taken = join(dir.path, "taken.sock");
    await using other = await liveServer(taken);
    await assert.rejects(
      serve(app, { path: taken, log: () => {} }),
      /path: expected a free path for the socket, got .*taken\.sock, where a running server listens$/,
    );
    const still = await run("curl", ["-sS", "--unix-socket", taken, "http://x/"]);
    assert.equal(
      new TextDecoder().decode(still.stdout),
      "still here\n",
      "the live server is untouched",
    );
    void other;

    const file = join(dir.path, "notes.txt");
    writeFileSync(file, "keep me");
    await assert.rejects(
      serve(app, { path: file, log: () => {} }),
      /path: expected a free path for the socket, got .*notes\.txt, which exists and is not a socket$/,
    );
    assert.equal(readFileSync(file, "utf8"), "keep me");
    await assert.rejects(
      serve(app, { path: join(dir.path, "no", "such", "folder.sock") }),
      /path: expected a path in an existing folder/,
    );
    await assert.rejects(
      serve(app, { path: join(dir.path, "x.sock"), port: 8080 }),
      /invalid serve options: port: expected either a unix socket path or port, not both/,
    );
    await assert.rejects(
      serve(app, { socketMode: 0o600 }),
      /invalid serve options: socketMode: expected only with path/,
    );
  });

  it("nginx proxies to the socket (proxy_pass http://unix:…): byte-exact parts through it", async (t) => {
    if (!requireTools(t, "nginx", "curl")) return;
    await using dir = socketDir();
    const path = join(dir.path, "camera.sock");
    // nginx's worker must be able to connect: the folder and the socket open to it.
    await using serving = await startServing({ path, socketMode: 0o666 });
    await using nginx = await startNginx(`
    location /webcam/ {
      proxy_pass http://unix:${path}:/;
      proxy_read_timeout 5s;
    }`);
    const read = await curlStream(`${nginx.url}/webcam/stream.mjpg`, [], 2);
    assert.equal(read.code, 28, `the stream was still going: ${read.stderr}\n${nginx.log()}`);
    assert.match(read.head, /^HTTP\/1\.1 200/);
    assert.ok(read.frames.length >= 20, `frames through nginx: ${read.frames.length}`);
    for (const frame of read.frames) assert.ok(fixtureSums.includes(sha256(frame)));
    assert.equal(serving.hub.stats.viewersTotal, 1);
  });

  it("mjpeg serve --unix --unix-mode 660: the log names the socket, curl reads it, SIGTERM removes it; in use, exit 2 with nothing started", async (t) => {
    if (!requireTools(t, "curl")) return;
    await using dir = socketDir();
    const path = join(dir.path, "mjpeg.sock");
    const child = startCli([
      ...["serve", "--pattern", "--width", "160", "--height", "120", "--fps", "10"],
      ...["--unix", path, "--unix-mode", "660"],
    ]);
    try {
      await waitForLog(child, new RegExp(`listening on unix:${path} \\(`));
      assert.equal(statSync(path).mode & 0o777, 0o660);
      const read = await curlStream("http://pi/stream.mjpg", ["--unix-socket", path], 2);
      assert.ok(read.frames.length >= 5, `frames over the socket: ${read.frames.length}`);

      const marker = join(dir.path, "started");
      const second = await runCli([
        ...["serve", "--command", `sh -c "touch ${marker}; sleep 5"`, "--unix", path],
      ], { timeoutMs: 20_000 });
      assert.equal(second.code, 2, second.stderr);
      assert.match(
        second.stderr,
        /--unix: expected a free path for the socket, got .*mjpeg\.sock, where a running server listens/,
      );
      assert.doesNotMatch(second.stderr, /listening/);
      assert.equal(existsSync(marker), false, "no source was started");
      assert.ok(existsSync(path), "the running server's socket is left alone");
    } finally {
      const result = await child.stop("SIGTERM");
      assert.equal(result.code, 0, result.stderr);
    }
    assert.equal(existsSync(path), false, "SIGTERM removed the socket file");
    const bad = await runCli(["serve", "--unix", path, "--port", "9000"]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /--port: expected no TCP port, host or TLS with a unix socket \(--unix\)/,
    );
  });
});
