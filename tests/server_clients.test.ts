/**
 * The server against real clients over real sockets: ffmpeg, GStreamer, curl
 * and plain TCP viewers, on whichever runtime runs the tests (serve() picks it).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";
import { defer } from "./helpers/dispose.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { run } from "./helpers/processes.ts";
import { startStack } from "./helpers/stack.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";
import { sleep, until } from "./helpers/wait.ts";

/** Checks every JPEG file in `dir` is one of the fixtures, byte for byte; returns the count. */
function checkFrameFiles(dir: string): number {
  const files = readdirSync(dir).filter((f) => f.endsWith(".jpg"));
  for (const file of files) {
    const digest = sha256(new Uint8Array(readFileSync(join(dir, file))));
    assert.ok(fixtureSums.includes(digest), `${file} is byte-identical to a fixture frame`);
  }
  return files.length;
}

async function decode(bytes: Uint8Array, contentType: string): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new MjpegDecoderStream({ contentType }));
  for await (const frame of stream) frames.push(frame.data);
  return frames;
}

describe("server with real clients", () => {
  it("serve() leaves the application's global Request and Response alone", async () => {
    // @hono/node-server (Node's and Bun's adapter) swaps them for its own
    // classes unless told not to; an application's `new Response(stream)`
    // then behaved differently after serve() (seen on Bun: a client's
    // injected fetch never streamed).
    const before = [globalThis.Request, globalThis.Response];
    await using stack = await startStack({ fps: 30 });
    const response = await fetch(`${stack.server.url}/stats`);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.equal(globalThis.Request, before[0], "Request is the runtime's own");
    assert.equal(globalThis.Response, before[1], "Response is the runtime's own");
  });

  it("ffmpeg copies 20 byte-exact frames from /stream.mjpg and decodes them", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    await using stack = await startStack({ fps: 30 });
    const { server, hub } = stack;
    using dir = tempDir("ffmpeg");
    const url = `${server.url}/stream.mjpg`;
    const copied = await run("ffmpeg", [
      ...["-v", "error", "-nostdin", "-i", url, "-frames:v", "20"],
      ...["-c:v", "copy", "-f", "image2", join(dir.path, "%03d.jpg")],
    ]);
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(checkFrameFiles(dir.path), 20);
    const decoded = await run("ffmpeg", [
      ...["-v", "error", "-nostdin", "-i", url, "-frames:v", "20", "-f", "null", "-"],
    ]);
    assert.equal(decoded.code, 0, decoded.stderr);
    assert.equal(decoded.stderr, "", "no decode warnings");
    await until(() => hub.stats.viewers === 0, "ffmpeg to leave and no viewer to remain", 2000);
  });

  it("ffmpeg reads mjpg-streamer's /?action=stream with Basic credentials in the URL", async (t) => {
    if (!requireTools(t, "ffmpeg")) return;
    await using stack = await startStack({
      app: { auth: { username: "pi", password: "raspberry" } },
      fps: 30,
    });
    const { server } = stack;
    const url = `http://pi:raspberry@127.0.0.1:${server.port}/?action=stream`;
    const result = await run("ffmpeg", [
      ...["-v", "error", "-nostdin", "-i", url, "-frames:v", "10", "-f", "null", "-"],
    ]);
    assert.equal(result.code, 0, result.stderr);
  });

  it("GStreamer souphttpsrc ! multipartdemux ! jpegdec reads byte-exact frames", async (t) => {
    if (!requireTools(t, "gst-launch-1.0")) return;
    await using stack = await startStack({ fps: 30 });
    const { server } = stack;
    using dir = tempDir("gst");
    const result = await run("gst-launch-1.0", [
      ..."-q souphttpsrc".split(" "),
      `location=${server.url}/stream.mjpg`,
      ..."! multipartdemux ! identity eos-after=11 ! tee name=t".split(" "),
      ..."t. ! queue ! jpegdec ! fakesink".split(" "),
      ..."t. ! queue ! multifilesink".split(" "),
      `location=${join(dir.path, "%03d.jpg")}`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    // identity's eos-after counts the buffer that triggers EOS, which is not passed on.
    assert.ok(checkFrameFiles(dir.path) >= 10);
  });

  it("curl gets the stream headers and frames the decoder reads back", async (t) => {
    if (!requireTools(t, "curl")) return;
    await using stack = await startStack({ fps: 30 });
    const { server } = stack;
    const result = await run("curl", [
      ...["-sS", "-D", "-", "--max-time", "1", `${server.url}/stream.mjpg`],
    ]);
    assert.equal(result.code, 28, "curl stopped by --max-time: the stream was still going");
    const text = new TextDecoder("latin1").decode(result.stdout);
    const headEnd = text.indexOf("\r\n\r\n");
    const head = text.slice(0, headEnd).toLowerCase();
    assert.match(head, /^http\/1\.1 200/);
    assert.match(head, /content-type: multipart\/x-mixed-replace;boundary=mjpegstream/);
    assert.match(head, /cache-control: no-cache, no-store, must-revalidate, private/);
    assert.match(head, /pragma: no-cache/);
    assert.match(head, /x-accel-buffering: no/);
    const frames = await decode(
      result.stdout.subarray(headEnd + 4),
      "multipart/x-mixed-replace;boundary=mjpegstream",
    );
    assert.ok(frames.length >= 10, `expected about 30 frames in 1 s, got ${frames.length}`);
    for (const frame of frames) assert.ok(fixtureSums.includes(sha256(frame)));
  });

  it("auth answers 401 with no stream bytes to curl with wrong or no credentials", async (t) => {
    if (!requireTools(t, "curl")) return;
    await using stack = await startStack({
      app: { auth: { username: "pi", password: "raspberry" } },
      fps: 30,
    });
    const { server, hub } = stack;
    for (const credentials of [[], ["-u", "pi:wrong"], ["-u", "admin:raspberry"]]) {
      const result = await run("curl", [
        ...["-sS", "-D", "-", "--max-time", "3", ...credentials, `${server.url}/stream.mjpg`],
      ]);
      const text = new TextDecoder("latin1").decode(result.stdout);
      assert.equal(result.code, 0, "a 401 is a complete answer, not a stream");
      assert.match(text, /^HTTP\/1\.1 401/);
      assert.match(text.toLowerCase(), /www-authenticate: basic realm="mjpeg-stream"/);
      assert.ok(!text.includes("\xff\xd8"), "no JPEG bytes");
      assert.ok(!text.includes("--mjpegstream"), "no multipart bytes");
    }
    assert.equal(hub.stats.viewersTotal, 0);
    const ok = await run("curl", [
      ...["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-u", "pi:raspberry"],
      `${server.url}/snapshot.jpg`,
    ]);
    assert.equal(new TextDecoder().decode(ok.stdout), "200");
  });

  it("200 viewers connecting and leaving leave no subscriber behind", async () => {
    await using stack = await startStack({ fps: 30 });
    const { server, hub } = stack;
    const sockets = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect(server.port, "127.0.0.1", () => {
            socket.write(`GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
          });
          socket.once("data", () => resolve(socket));
          socket.once("error", reject);
          socket.setTimeout(10_000, () => reject(new Error(`viewer ${i} got no bytes`)));
        })),
    );
    await until(
      () => hub.stats.viewers === 200,
      () => `200 viewers (${hub.stats.viewers} so far)`,
      5000,
    );
    // Half leave politely (FIN), half vanish (RST), as browsers and crashed clients do.
    sockets.forEach((socket, i) => i % 2 ? socket.end() : socket.resetAndDestroy());
    await until(
      () => hub.stats.viewers === 0,
      () => `0 viewers after all left (${hub.stats.viewers} left)`,
      5000,
    );
    await until(() => server.activeStreams === 0, "no active stream", 2000);
  });

  it("close() ends every stream cleanly and finishes", async (t) => {
    if (!requireTools(t, "curl")) return;
    await using stack = await startStack({ fps: 30 });
    const { server, hub } = stack;
    const clients = Array.from(
      { length: 3 },
      () =>
        run("curl", ["-sS", "-o", "/dev/null", "--max-time", "20", `${server.url}/stream.mjpg`]),
    );
    await until(() => hub.stats.viewers === 3, "three viewers", 5000);
    await sleep(200);
    const started = Date.now();
    await stack.close();
    await server.finished;
    const took = Date.now() - started;
    assert.ok(took < 3000, `close took ${took} ms; the streams should end at once`);
    for (const client of await Promise.all(clients)) {
      assert.equal(client.code, 0, `curl saw a complete response: ${client.stderr}`);
    }
    assert.equal(hub.stats.viewers, 0);
  });
  it("keeps a stream open through 11 s without frames (no idle timeout cuts it)", async () => {
    // No keepalive: the runtime's own idle timeout is what is tested here.
    await using stack = await startStack({ hub: { keepalive: 0, offlineAfter: 0 } });
    const { hub, server } = stack;
    hub.publish(fixtureFrames[0]!);
    let text = "";
    let closed = false;
    const socket = net.connect(server.port, "127.0.0.1", () => {
      socket.write("GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    });
    socket.on("data", (chunk: Uint8Array) => text += new TextDecoder("latin1").decode(chunk));
    socket.on("close", () => closed = true);
    await using _socket = defer(() => socket.destroy());
    await until(() => text.includes("x-timestamp"), "a first part", 5000);
    // Runtimes have idle timeouts (Bun: 10 s by default); a camera that pauses must not cut viewers.
    await sleep(11_000);
    assert.equal(closed, false, "the idle stream is still open");
    hub.publish(fixtureFrames[1]!);
    await until(() => text.split("x-timestamp").length === 3, "a second part", 5000);
  });
});
