import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Backoff } from "../src/internal/backoff.ts";
import { sleep } from "../src/internal/sleep.ts";
import { basicAuthorization, redactUrl, splitCredentials } from "../src/client/credentials.ts";
import { CLIENT_DEFAULTS, resolveClientOptions } from "../src/client/options.ts";
import { formatStats } from "../src/client/stats.ts";
import { RateMeter } from "../src/internal/rate_meter.ts";
import { Deque } from "../src/client/deque.ts";
import { FrameQueue } from "../src/client/frame_queue.ts";
import type { Frame } from "../src/frame.ts";

const policy = { initialDelay: 100, maxDelay: 1000, multiplier: 2, jitter: 0, limit: 5 };

describe("Backoff", () => {
  it("grows exponentially up to the maximum and stops at the limit", () => {
    const backoff = new Backoff(policy);
    const delays = Array.from({ length: 6 }, () => backoff.next());
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, undefined]);
  });

  it("starts over after reset()", () => {
    const backoff = new Backoff(policy);
    backoff.next();
    backoff.next();
    backoff.reset();
    assert.equal(backoff.next(), 100);
  });

  it("takes up to `jitter` off each wait, never below the initial delay", () => {
    const low = new Backoff({ ...policy, jitter: 0.5 }, () => 0.999999);
    assert.deepEqual([low.next()!, low.next()!, low.next()!].map(Math.round), [100, 100, 200]);
    const high = new Backoff({ ...policy, jitter: 0.5 }, () => 0);
    assert.deepEqual([high.next(), high.next(), high.next()], [100, 200, 400]);
  });

  it("never gives up with an Infinity limit, never retries with 0", () => {
    const forever = new Backoff({ ...policy, limit: Infinity });
    for (let i = 0; i < 1000; i++) assert.equal(typeof forever.next(), "number");
    assert.equal(new Backoff({ ...policy, limit: 0 }).next(), undefined);
  });

  it("sleep ends early when its signal aborts", async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 20);
    await sleep(10_000, controller.signal);
    assert.ok(performance.now() - started < 1000);
  });
});

describe("MjpegClient options", () => {
  it("fills in the defaults", () => {
    const o = resolveClientOptions({});
    assert.deepEqual(o.reconnect, CLIENT_DEFAULTS.reconnect);
    assert.equal(o.stallTimeout, 10_000);
    assert.equal(o.frameQueueSize, 2);
    assert.equal(o.fetch, undefined); // the socket transport
    assert.equal(o.failFast, false);
  });

  it("rejects bad values saying what was expected and what came", () => {
    assert.throws(
      () => resolveClientOptions({ stallTimeout: -1 }),
      /expected stallTimeout.*got -1/,
    );
    assert.throws(
      () => resolveClientOptions({ stallTimeout: "5s" }),
      /expected stallTimeout as a number of milliseconds, got "5s"/,
    );
    assert.throws(
      () => resolveClientOptions({ reconnect: { jitter: 2 } }),
      /reconnect\.jitter: expected a number between 0 and 1, got 2/,
    );
    assert.throws(
      () => resolveClientOptions({ reconnect: { limit: 1.5 } }),
      /reconnect\.limit: expected a whole number >= 0 or Infinity, got 1.5/,
    );
    assert.throws(
      () => resolveClientOptions({ reconnect: { initialDelay: 500, maxDelay: 100 } }),
      /reconnect\.maxDelay: expected maxDelay >= initialDelay \(500\), got 100/,
    );
    assert.throws(() => resolveClientOptions({ fetch: 42 }), /expected fetch as a function/);
    assert.throws(
      () => resolveClientOptions({ auth: { user: "admin", password: "x" } }),
      /auth: expected auth as \{ username, password \} or \{ token \}/,
    );
    assert.throws(() => resolveClientOptions({ ca: "/etc/ca.pem" }), /ca: expected ca as PEM text/);
    assert.throws(
      () => resolveClientOptions({ insecure: "yes" }),
      /insecure: expected insecure as true or false, got "yes"/,
    );
    assert.throws(
      () => resolveClientOptions({ insecure: true, fetch: (r: Request) => fetch(r) }),
      /expected ca and insecure without fetch/,
    );
    assert.throws(() => resolveClientOptions({ signal: {} }), /expected signal as an AbortSignal/);
    assert.throws(
      () => resolveClientOptions({ stalTimeout: 5 }),
      /unknown option "stalTimeout", expected one of headers, signal, reconnect, stallTimeout,/,
    );
    assert.throws(() => resolveClientOptions({ maxFrameSize: 0 }), TypeError);
    assert.throws(
      () => resolveClientOptions(5),
      /invalid MjpegClient options: expected options as an object/,
    );
  });

  it("accepts an Infinity reconnect limit", () => {
    assert.equal(
      resolveClientOptions({ reconnect: { limit: Infinity } }).reconnect.limit,
      Infinity,
    );
  });
});

describe("URL credentials", () => {
  it("leave the URL, percent-decoded as UTF-8", () => {
    const { url, credentials } = splitCredentials(
      "http://admin:s%C3%A9cret@127.0.0.1:8080/stream",
    );
    assert.equal(url.href, "http://127.0.0.1:8080/stream");
    assert.deepEqual(credentials, { username: "admin", password: "s\u00e9cret" });
  });

  it("may hold : @ and % in the password, escaped or as typed", () => {
    for (
      const [typed, password] of [
        ["http://admin:a%3Ab%40c%25d@127.0.0.1/", "a:b@c%d"],
        ["http://admin:p@ss:w%rd@127.0.0.1/", "p@ss:w%rd"],
        ["http://admin:50%off@127.0.0.1/", "50%off"],
        ["http://admin:%FF%FE@127.0.0.1/", "%FF%FE"], // not UTF-8: kept as typed
      ] as const
    ) {
      assert.deepEqual(splitCredentials(typed).credentials, { username: "admin", password });
      assert.equal(splitCredentials(typed).url.href, "http://127.0.0.1/");
    }
  });

  it("make a Basic value from the UTF-8 bytes", () => {
    assert.equal(
      basicAuthorization("admin", "s\u00e9cret"),
      "Basic " + btoa("admin:s\xc3\xa9cret"),
    );
  });

  it("are absent from plain URLs and redacted in displayed ones", () => {
    assert.equal(splitCredentials("http://127.0.0.1/").credentials, undefined);
    assert.equal(redactUrl("http://admin:pw@127.0.0.1/"), "http://admin:***@127.0.0.1/");
  });

  it("only http(s) URLs are accepted", () => {
    assert.throws(
      () => splitCredentials("ftp://x/"),
      /expected an http: or https: URL, got "ftp:"/,
    );
    assert.throws(() => splitCredentials("nope"), /expected an absolute http\(s\) URL, got "nope"/);
  });
});

describe("stats", () => {
  it("RateMeter measures a steady rate without rounding", () => {
    const meter = new RateMeter();
    for (let t = 0; t <= 3000; t += 1000 / 30) meter.tick(t + 10_000);
    const fps = meter.rate(13_000);
    assert.ok(Math.abs(fps - 30) < 1.5, `fps ${fps}`);
    assert.equal(new RateMeter().rate(5), 0);
  });

  it("RateMeter falls to zero when frames stop", () => {
    const meter = new RateMeter();
    for (let t = 0; t < 1000; t += 10) meter.tick(t);
    assert.equal(meter.rate(10_000), 0);
  });

  it("formatStats prints py-mjpeg's block", () => {
    const text = formatStats({
      url: "http://x/",
      state: "streaming",
      fps: 29.97,
      overruns: 2,
      reconnects: 0,
      frames: 2984,
      discardedFrames: 704,
      abortedFrames: 0,
      keepalives: 0,
      queued: 0,
      ready: 0,
      bytes: 10,
      lastError: undefined,
    });
    assert.match(text, /^MjpegClient:\n {2}URL {13}: http:\/\/x\/\n/);
    assert.match(text, /\n {2}FPS {13}: 29\.97\n/);
    assert.match(text, /\n {2}Buffer overruns : 2\n/);
    assert.match(text, /\n {2}Discarded frames: 704\n/);
    assert.match(text, /\n {2}Buffer queue {4}: 0\n/);
  });
});

describe("queues", () => {
  it("Deque keeps order through growth and removal", () => {
    const q = new Deque<number>();
    for (let i = 0; i < 40; i++) q.push(i);
    for (let i = 0; i < 10; i++) q.shift();
    assert.ok(q.remove(20));
    assert.ok(!q.remove(99));
    const out = [];
    for (let x = q.shift(); x !== undefined; x = q.shift()) out.push(x);
    assert.deepEqual(
      out,
      [...Array.from({ length: 30 }, (_, i) => i + 10)].filter((x) => x !== 20),
    );
  });

  it("FrameQueue keeps the newest frames and ends when closed", async () => {
    let detached = 0;
    const q = new FrameQueue(2, () => {
      detached++;
    });
    const frame = (sequence: number): Frame => ({
      data: new Uint8Array(1),
      headers: new Headers(),
      sequence,
      timestamp: 0,
    });
    assert.equal(q.push(frame(0)), 0);
    assert.equal(q.push(frame(1)), 0);
    assert.equal(q.push(frame(2)), 1);
    assert.equal((await q.next()).value?.sequence, 1);
    assert.equal((await q.next()).value?.sequence, 2);
    const waiting = q.next();
    q.push(frame(3));
    assert.equal((await waiting).value?.sequence, 3);
    q.close();
    assert.equal((await q.next()).done, true);
    assert.equal(detached, 1);
  });

  it("FrameQueue throws a close error once", async () => {
    const q = new FrameQueue(2, () => {});
    const waiting = q.next();
    q.close(new Error("gave up"));
    await assert.rejects(waiting, /gave up/);
    assert.equal((await q.next()).done, true);
  });
});
