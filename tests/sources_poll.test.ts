import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameHub } from "../src/server/frame_hub.ts";
import { snapshotResponse } from "../src/server/snapshot_response.ts";
import { pollSource, type PollSourceOptions, type PollStatus } from "../src/sources/poll.ts";
import { SourceError } from "../src/sources/process.ts";
import { pipeToHub } from "../src/sources/source.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { sleep } from "./helpers/wait.ts";
import { startPythonCamera, startSnapshotCamera } from "./helpers/snapshot_camera.ts";
import { requireTools } from "./helpers/tools.ts";

/** Polls `url` into a hub for `ms`; returns the hub's count, the log and every status. */
async function pollFor(url: string, ms: number, options: PollSourceOptions = {}) {
  const hub = new FrameHub();
  const log: string[] = [];
  const statuses: PollStatus[] = [];
  const stop = new AbortController();
  const source = pollSource(url, {
    log: (line) => log.push(line),
    onStatus: (status) => statuses.push(status),
    ...options,
  });
  const piping = pipeToHub(source, hub, stop.signal);
  await sleep(ms);
  stop.abort();
  await piping;
  const published = hub.stats.framesPublished;
  const latest = hub.latest?.data;
  hub.close();
  return { published, latest, log, statuses, last: statuses.at(-1) };
}

/** Milliseconds between consecutive request times. */
function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

describe("pollSource", () => {
  it("asks at most fps times a second, over one kept-alive connection, publishing each new image", async () => {
    await using camera = await startSnapshotCamera();
    const run = await pollFor(`${camera.url}/changing`, 1500, { fps: 10 });
    const times = camera.times.get("/changing")!;
    // The bound, counted at the camera with slack for the jitter of arrival
    // (the first request also waits for the connection): at most fps + 2 in
    // any second, and never two at once.
    assert.ok(times.length <= 17, `${times.length} requests in 1.5 s at 10 fps`);
    assert.ok(times.length >= 5, `${times.length} requests in 1.5 s at 10 fps`);
    for (const start of times) {
      const inSecond = times.filter((t) => t >= start && t < start + 1000).length;
      assert.ok(inSecond <= 12, `${inSecond} requests within a second at 10 fps`);
    }
    assert.ok(Math.min(...gaps(times)) >= 25, `gaps ${gaps(times).map(Math.round)}`);
    assert.equal(camera.counts.connections, 1, "one TCP connection for every request");
    assert.equal(run.last?.connections, 1);
    assert.equal(run.published, run.last?.requests, "each new image published once");
    assert.ok(camera.counts.requests - run.published <= 1, "(one may be cut by the stop)");
    assert.equal(run.last?.state, "running");
    assert.ok(fixtureSums.includes(sha256(run.latest!)), "published byte-exact");
  });

  it("keeps the connection for chunked answers too (an ESP32's httpd_resp_send_chunk)", async () => {
    await using camera = await startSnapshotCamera();
    const run = await pollFor(`${camera.url}/chunked`, 800, { fps: 20 });
    assert.ok(camera.counts.requests >= 4, `${camera.counts.requests} requests`);
    assert.equal(camera.counts.connections, 1);
    assert.equal(run.published, run.last?.requests);
    assert.ok(fixtureSums.includes(sha256(run.latest!)));
  });

  it("never has two requests in flight when the camera is slower than fps", async () => {
    await using camera = await startSnapshotCamera();
    const run = await pollFor(`${camera.url}/slow`, 1500, { fps: 20 });
    assert.equal(camera.counts.maxInFlight, 1);
    // 300 ms per answer: at most 1500 / 300 + 1 requests, whatever fps asks.
    assert.ok(camera.counts.requests <= 6, `${camera.counts.requests} requests`);
    assert.ok(camera.counts.requests >= 3, `${camera.counts.requests} requests`);
    assert.equal(camera.counts.connections, 1);
    assert.ok(run.published >= 2);
  });

  it("publishes nothing for a 304 (ETag, Last-Modified) or a byte-identical image", async () => {
    await using camera = await startSnapshotCamera();
    const etag = await pollFor(`${camera.url}/etag`, 600, { fps: 20 });
    assert.equal(etag.published, 1);
    assert.ok(etag.last!.notModified >= 3, `${etag.last!.notModified} answers 304`);
    assert.equal(etag.last!.notModified, etag.last!.requests - 1);
    assert.equal(sha256(etag.latest!), sha256(fixtureFrames[1]!));

    const conditional = camera.counts.conditional;
    const modified = await pollFor(`${camera.url}/modified`, 600, { fps: 20 });
    assert.equal(modified.published, 1);
    assert.ok(modified.last!.notModified >= 3);
    assert.ok(camera.counts.conditional - conditional >= 3, "If-Modified-Since sent");

    const same = await pollFor(`${camera.url}/same`, 600, { fps: 20 });
    assert.equal(same.published, 1);
    assert.ok(same.last!.unchanged >= 3, `${same.last!.unchanged} unchanged`);
    assert.equal(same.last!.state, "running");
    assert.deepEqual(same.log, []);
  });

  it("a camera whose picture does not change stays online, with fresh snapshots", async () => {
    await using camera = await startSnapshotCamera();
    for (const path of ["/etag", "/same"]) {
      // Nothing new is published after the first answer: the hub hears that the
      // camera answered from the source's `running` reports, not from frames.
      const hub = new FrameHub({ offlineAfter: 400 });
      const stop = new AbortController();
      const source = pollSource(`${camera.url}${path}`, {
        fps: 10,
        log: () => {},
        onStatus: (status) => hub.reportSourceStatus(status),
      });
      const piping = pipeToHub(source, hub, stop.signal);
      try {
        await sleep(1500);
        assert.equal(hub.stats.framesPublished, 1, path);
        assert.equal(hub.status.online, true, `${path}: ${JSON.stringify(hub.status)}`);
        assert.equal(hub.status.state, "running", path);
        const snapshot = await snapshotResponse(hub, { maxAge: 500, timeout: 0 });
        assert.equal(snapshot.status, 200, `${path}: ${await snapshot.clone().text()}`);
        assert.equal(
          sha256(new Uint8Array(await snapshot.arrayBuffer())),
          sha256(hub.latest!.data),
        );
      } finally {
        stop.abort();
        await piping;
        hub.close();
      }
    }
  });

  it("backs off on errors, logs one line per change of cause, and recovers", async () => {
    await using camera = await startSnapshotCamera();
    camera.switchTo = 404;
    const hub = new FrameHub();
    const log: string[] = [];
    let status: PollStatus | undefined;
    const stop = new AbortController();
    const source = pollSource(`${camera.url}/switch`, {
      fps: 20,
      retry: { initialDelay: 100, maxDelay: 800, multiplier: 2, jitter: 0 },
      log: (line) => log.push(line),
      onStatus: (s) => {
        status = s;
        hub.reportSourceStatus(s);
      },
    });
    const piping = pipeToHub(source, hub, stop.signal);
    try {
      await sleep(1600);
      const times = camera.times.get("/switch")!;
      // At 20 fps that would be 32 requests; backed off (0, 100, 300, 700,
      // 1500 ms) it is about 5, each wait longer than the one before.
      assert.ok(times.length <= 7, `${times.length} requests in 1.6 s`);
      const waits = gaps(times);
      assert.ok(waits.at(-1)! >= 350, `waits ${waits.map(Math.round)}`);
      assert.equal(log.length, 1, log.join("\n"));
      assert.match(
        log[0]!,
        /expected a 2xx status, got 404 Not Found \("text\/plain" "error 404"\)/,
      );
      assert.equal(status?.state, "retrying");
      assert.equal(hub.stats.source?.state, "retrying");
      assert.match(String(hub.stats.source?.lastError), /404/);
      // The hub's own status reads the same report: the one the viewer page shows.
      assert.equal(hub.stats.status.state, "retrying");
      assert.match(String(hub.stats.status.lastError), /404/);

      camera.switchTo = 500;
      await sleep(1200);
      assert.equal(log.length, 2, log.join("\n"));
      assert.match(log[1]!, /got 500 Internal Server Error/);

      camera.switchTo = "image";
      const deadline = Date.now() + 5000;
      while (hub.stats.framesPublished === 0 && Date.now() < deadline) await sleep(20);
      assert.ok(hub.stats.framesPublished >= 1);
      assert.equal(log.length, 3, log.join("\n"));
      assert.match(log[2]!, /answering again after \d+ failed requests/);
      assert.equal(hub.stats.source?.state, "running");
      assert.equal(hub.stats.source?.lastError, null);
    } finally {
      stop.abort();
      await piping;
      hub.close();
    }
  });

  it("says what came instead of a JPEG, and gives up after retry.limit failures in a row", async () => {
    await using camera = await startSnapshotCamera();
    const fail = async (path: string, options: PollSourceOptions = {}) => {
      const source = pollSource(`${camera.url}${path}`, {
        retry: { limit: 0 },
        log: () => {},
        ...options,
      });
      const error = await (async () => {
        for await (const _ of source.frames(AbortSignal.timeout(10_000))) { /* none expected */ }
      })().then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof SourceError, String(error));
      return error.message;
    };
    assert.match(
      await fail("/404"),
      /gave up after 1 failed requests in a row; last: expected a 2xx status, got 404 Not Found \("text\/html" "<html><body><h1>404 Not Found<\/h1><\/body><\/html>"\)/,
    );
    assert.match(
      await fail("/reolink"),
      /expected a JPEG, got "text\/html" "\[\{\\"cmd\\":\\"Snap\\",.*please login first/,
    );
    assert.match(await fail("/broken"), /expected a complete JPEG, got 300 bytes without its end/);
    assert.match(
      await fail("/hang", { timeout: 300 }),
      /expected an answer within 300 ms, got none/,
    );
    assert.match(
      await fail("/changing", { maxFrameSize: 100 }),
      /expected an image of at most 100 bytes, got Content-Length \d+/,
    );
    await using closed = await startSnapshotCamera();
    const refused = closed.url;
    await closed[Symbol.asyncDispose]();
    const source = pollSource(`${refused}/capture`, { retry: { limit: 0 }, log: () => {} });
    await assert.rejects(
      (async () => {
        for await (const _ of source.frames(AbortSignal.timeout(10_000))) { /* none */ }
      })(),
      /ECONNREFUSED/,
    );
  });

  it("keeps the connection alive with Python's http.server (HTTP/1.1), and copes with HTTP/1.0 closing it", async (t) => {
    if (!requireTools(t, "python3")) return;
    {
      await using camera = await startPythonCamera();
      const run = await pollFor(`${camera.url}/capture`, 1000, { fps: 20 });
      assert.ok(camera.requests() >= 5, `${camera.requests()} requests`);
      assert.equal(camera.connections(), 1, "one TCP connection at the server");
      assert.equal(run.published, run.last?.requests);
      assert.ok(fixtureSums.includes(sha256(run.latest!)));
    }
    {
      await using camera = await startPythonCamera(true);
      const run = await pollFor(`${camera.url}/capture`, 1000, { fps: 20 });
      assert.ok(camera.requests() >= 5, `${camera.requests()} requests`);
      // A connection each; the stop may cut the last one before its request was read.
      await sleep(100); // the counts come through a pipe, after the answers
      const unused = camera.connections() - camera.requests();
      assert.ok(
        unused === 0 || unused === 1,
        `${camera.connections()} connections, ${camera.requests()} requests`,
      );
      assert.equal(run.last?.connections, run.last?.requests);
      assert.equal(run.published, run.last?.requests);
      assert.deepEqual(run.log, []);
    }
  });

  it("asks again on a new connection when the camera closed the kept one", async () => {
    // node:http closes an idle kept-alive connection after keepAliveTimeout
    // (5 s); here the test closes it between two requests.
    await using camera = await startSnapshotCamera();
    const log: string[] = [];
    const stop = new AbortController();
    const frames: number[] = [];
    const source = pollSource(`${camera.url}/changing`, { fps: 2, log: (l) => log.push(l) });
    const reading = (async () => {
      for await (const frame of source.frames(stop.signal)) {
        frames.push(frame.sequence);
        if (frames.length === 1) {
          // Drop every connection while the poller waits for its next turn.
          await sleep(100);
          camera.drop();
        }
        if (frames.length === 3) stop.abort();
      }
    })();
    await reading;
    assert.deepEqual(frames, [0, 1, 2]);
    assert.equal(camera.counts.connections, 2);
    assert.deepEqual(log, [], "a closed idle connection is no failure");
  });

  it("validates its URL and options", () => {
    assert.throws(() => pollSource("ftp://x/y"), /expected an http:\/\/ or https:\/\/ URL/);
    assert.throws(() => pollSource("http://x/", { fps: 0 }), /fps: expected fps >= 0.01, got 0/);
    assert.throws(() => pollSource("http://x/", { fps: 100 }), /expected fps <= 60/);
    assert.throws(
      () => pollSource("http://x/", { timeout: -1 } as PollSourceOptions),
      /timeout/,
    );
    assert.throws(
      () => pollSource("http://x/", { speed: 1 } as PollSourceOptions),
      /unknown option "speed"/,
    );
    assert.equal(
      pollSource("http://admin:secret@127.0.0.1:9/cgi-bin/api.cgi?cmd=Snap", { fps: 2 })
        .description,
      "poll http://127.0.0.1:9/cgi-bin/api.cgi?cmd=Snap at up to 2 fps",
    );
  });
});
