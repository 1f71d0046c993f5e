/**
 * The server's connections attacked as a hostile client would (issue 9,
 * server side), each attack replayed over raw sockets against the real
 * `mjpeg serve` on the runtime running the tests: descriptors run out,
 * request heads that never finish, too many connections from one address,
 * requests without a usable Host, smuggled heads, pipelined requests with
 * auth. Viewers that never read: `reliability_attacks_viewers.test.ts`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SMALL_PATTERN, startServe } from "./helpers/cli_run.ts";
import {
  drip,
  idleFlood,
  portOf,
  probe,
  probes,
  rawExchange,
  splitResponses,
  startServeWithFileLimit,
  stopServe,
} from "./helpers/attack_sockets.ts";
import { runtimeName } from "./helpers/runtime.ts";
import { sleep, until } from "./helpers/wait.ts";

describe(`attacks on the server's connections (${runtimeName})`, () => {
  it("survives running out of file descriptors: keeps its viewers, closes new connections, logs once, recovers", async () => {
    // Both the default connection cap (below the open-file limit) and a cap
    // set above it, which makes the runtime's own accept() fail with EMFILE.
    for (const extra of [[], ["--max-connections", "100000"]]) {
      await using served = await startServeWithFileLimit(
        [...SMALL_PATTERN, "--header-timeout", "60", "--stats-interval", "0", ...extra],
        256,
      );
      {
        using viewer = probe(portOf(served), "GET /stream.mjpg HTTP/1.1\r\nHost: a\r\n\r\n");
        await until(() => viewer.bytes() > 0, "the viewer gets frames", 5000, 100);
        using flood = await idleFlood(portOf(served), 400);
        await sleep(1000);
        const during = viewer.bytes();
        // A newcomer is turned away (closed or reset, or left waiting), not served.
        const newcomer = await rawExchange(
          portOf(served),
          "GET /stats HTTP/1.1\r\nHost: a\r\n\r\n",
          2000,
        );
        assert.doesNotMatch(newcomer, /^HTTP\/1\.1 200/, `${extra}: no answer while out of room`);
        await sleep(1000);
        assert.ok(viewer.bytes() > during, `${extra}: the viewer kept getting frames`);
        assert.equal(viewer.closedAfter(), undefined, "the viewer is still connected");
        assert.equal(served.exitCode, null, "the server is alive");
        for (const socket of flood) socket.socket.destroy();
        await until(
          async () => {
            const reply = await rawExchange(
              portOf(served),
              "GET /stats HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
              1000,
            );
            return reply.startsWith("HTTP/1.1 200");
          },
          `${extra}: new connections are served again once descriptors are free`,
          5000,
          100,
        );
      }
      const log = await stopServe(served);
      assert.doesNotMatch(log, /Uncaught|Too many open files \(os error 24\)\n\s+at /);
      const lines = log.split("\n").filter((line) =>
        /connection limit reached|out of file descriptors/.test(line)
      );
      if (extra.length === 0) {
        // About 200 refused connections, one line.
        assert.equal(lines.length, 1, log);
        assert.match(lines[0]!, /connection limit reached \(\d+ open\)/);
      } else if (runtimeName === "deno") {
        // Our accept loop sees EMFILE (Node's and Bun's handle it inside the runtime).
        assert.equal(lines.length, 1, log);
        assert.match(lines[0]!, /out of file descriptors/);
      }
    }
  });

  it("cuts idle and dripped request heads after --header-timeout, not streams", async () => {
    await using served = await startServe([
      ...SMALL_PATTERN,
      "--header-timeout",
      "1.5",
      "--stats-interval",
      "0",
    ]);
    const idle = probe(portOf(served));
    const head = `GET /stats HTTP/1.1\r\nHost: a\r\nX-Pad: ${"p".repeat(500)}`;
    const dripped = drip(portOf(served), head, 50);
    using viewer = probe(portOf(served), "GET /stream.mjpg HTTP/1.1\r\nHost: a\r\n\r\n");
    // A kept-alive connection answered once, then idle.
    const keptAlive = probe(portOf(served), "GET /stats HTTP/1.1\r\nHost: a\r\n\r\n");
    await Promise.race([
      Promise.all([idle.closed, dripped.closed, keptAlive.closed]),
      sleep(6000),
    ]);
    for (const [name, p] of [["idle", idle], ["dripped", dripped]] as const) {
      const after = p.closedAfter();
      assert.ok(after !== undefined, `${name} connection closed`);
      assert.ok(after >= 1400 && after < 5000, `${name} closed after ${after} ms`);
      assert.match(p.received(), /^HTTP\/1\.1 408/, `${name} told why`);
    }
    assert.ok(keptAlive.closedAfter() !== undefined, "an idle kept-alive connection is closed");
    assert.match(keptAlive.received(), /^HTTP\/1\.1 200/);
    // A stream is not a request head: it outlives the header timeout.
    assert.equal(viewer.closedAfter(), undefined, "the viewer is still connected");
    const before = viewer.bytes();
    await sleep(500);
    assert.ok(viewer.bytes() > before, "and still getting frames");
  });

  it("closes connections beyond --max-connections-per-address, and logs it once", async () => {
    await using served = await startServe([
      ...SMALL_PATTERN,
      "--max-connections-per-address",
      "3",
      "--stats-interval",
      "0",
    ]);
    {
      using held = probes(Array.from({ length: 3 }, () => probe(portOf(served))));
      await sleep(500);
      using beyond = probes(Array.from({ length: 5 }, () => probe(portOf(served))));
      await Promise.race([Promise.all(beyond.map((p) => p.closed)), sleep(5000)]);
      for (const p of beyond) {
        assert.ok(p.closedAfter() !== undefined, "a connection beyond the cap is closed");
        assert.equal(p.received(), "", "without an answer");
      }
      assert.deepEqual(held.map((p) => p.closedAfter()), [undefined, undefined, undefined]);
      for (const p of held) p.socket.destroy();
      // Once they are gone, the address may connect again.
      await until(
        async () =>
          (await rawExchange(
            portOf(served),
            "GET /stats HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            1000,
          )).startsWith("HTTP/1.1 200"),
        "the address served again",
        5000,
        100,
      );
    }
    const log = await stopServe(served);
    assert.equal(log.match(/connection limit per address reached/g)?.length, 1, log);
  });

  it("answers 400 to a request without a usable Host, and never logs the token", async () => {
    const token = "tok-Qz93-never-logged";
    await using served = await startServe([
      ...SMALL_PATTERN,
      "--token",
      token,
      "--stats-interval",
      "0",
    ]);
    const odd = [
      `GET /stream.mjpg?token=${token} HTTP/1.0\r\n\r\n`,
      `GET /stream.mjpg?token=${token} HTTP/1.1\r\nConnection: close\r\n\r\n`,
      `GET /stream.mjpg?token=${token} HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`,
      `GET /snapshot.jpg?token=${token} HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n`,
      `GET /stats?token=${token} HTTP/1.1\r\nHost: user:pw@cam\r\nConnection: close\r\n\r\n`,
      `GET /?action=stream&token=${token} HTTP/1.1\r\nHost: cam:99999\r\nConnection: close\r\n\r\n`,
    ];
    for (const request of odd) {
      const reply = await rawExchange(portOf(served), request);
      assert.match(
        reply,
        /^HTTP\/1\.1 400 /,
        `${JSON.stringify(request)} → ${reply.slice(0, 40)}`,
      );
      assert.ok(!reply.includes(token), "the reply does not echo the token");
    }
    // 500 of them in a burst: still 400s, and the log does not fill.
    const burst = await Promise.all(
      Array.from({ length: 500 }, (_, i) => rawExchange(portOf(served), odd[i % odd.length]!)),
    );
    assert.equal(burst.filter((r) => r.startsWith("HTTP/1.1 400")).length, 500);
    const ok = await rawExchange(
      portOf(served),
      `GET /stats?token=${token} HTTP/1.1\r\nHost: cam\r\nConnection: close\r\n\r\n`,
    );
    assert.match(ok, /^HTTP\/1\.1 200/);
    const log = await stopServe(served);
    assert.ok(!log.includes(token), `the token reached the log:\n${log}`);
    assert.ok(log.length < 2000, `the log grew to ${log.length} bytes:\n${log}`);
  });

  it("refuses malformed and smuggled request heads, and answers nothing hidden behind them", async () => {
    // Deno's server parses heads itself now; all three must refuse the same.
    await using served = await startServe([...SMALL_PATTERN, "--stats-interval", "0"]);
    const hidden = "GET /stats HTTP/1.1\r\nHost: a\r\n\r\n";
    const hostile: Record<string, string> = {
      "Content-Length with Transfer-Encoding":
        `GET /stats HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${hidden}`,
      "two Content-Lengths":
        `POST /stats HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef${hidden}`,
      "a folded header": `GET /stats HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n${hidden}`,
      "a space before the colon": `GET /stats HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n${hidden}`,
      "bare LF line ends": `GET /stats HTTP/1.1\nHost: a\n\n${hidden}`,
      "a NUL in a value": `GET /stats HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n${hidden}`,
      "a negative Content-Length":
        `POST /stats HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n${hidden}`,
      "a TLS hello": "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
      "a 70 KB head": `GET /stats HTTP/1.1\r\nHost: a\r\n${"X-Big: b\r\n".repeat(7000)}\r\n`,
    };
    for (const [what, request] of Object.entries(hostile)) {
      const started = Date.now();
      const responses = splitResponses(await rawExchange(portOf(served), request, 4000));
      assert.equal(responses.length, 1, `${what}: one answer, got ${responses.length}`);
      assert.ok(responses[0]!.status >= 400, `${what}: refused, got ${responses[0]!.status}`);
      assert.ok(Date.now() - started < 3000, `${what}: refused at once`);
    }
    const good = await rawExchange(
      portOf(served),
      hidden.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"),
    );
    assert.match(good, /^HTTP\/1\.1 200/);
  });

  it("answers pipelined requests in order, with and without auth", async () => {
    const token = "tok-Pp71-pipelined";
    for (
      const [args, authorization] of [
        [[], undefined],
        [["--token", token], `Bearer ${token}`],
        [["--auth", "viewer:pw-pipelined"], `Basic ${btoa("viewer:pw-pipelined")}`],
      ] as const
    ) {
      await using served = await startServe([...SMALL_PATTERN, ...args, "--stats-interval", "0"]);
      const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
      await until(
        async () => {
          const response = await fetch(`${served.url}/snapshot.jpg`, { headers });
          await response.body?.cancel();
          return response.status === 200;
        },
        "a first snapshot",
        5000,
        100,
      );
      const auth = authorization ? `Authorization: ${authorization}\r\n` : "";
      const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: cam\r\n${auth}\r\n`;
      const reply = await rawExchange(
        portOf(served),
        request("/stats?summary=1") + request("/snapshot.jpg") + request("/stats") +
          request("/nowhere") +
          request("/snapshot.jpg").replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"),
        5000,
      );
      const responses = splitResponses(reply);
      assert.deepEqual(
        responses.map((r) => [r.status, r.headers["content-type"]?.split(";")[0]]),
        [
          [200, "application/json"],
          [200, "image/jpeg"],
          [200, "application/json"],
          [404, "text/plain"],
          [200, "image/jpeg"],
        ],
        `${args.join(" ") || "no auth"}: ${reply.slice(0, 200)}`,
      );
      assert.equal(JSON.parse(responses[0]!.body).viewers, 0);
      assert.ok("viewerStats" in JSON.parse(responses[2]!.body), "the third answers the third");
      for (const jpeg of [responses[1]!, responses[4]!]) {
        assert.equal(jpeg.body.length, Number(jpeg.headers["content-length"]));
        assert.equal(jpeg.body.charCodeAt(0), 0xff);
      }
    }
  });
});
