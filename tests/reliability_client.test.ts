import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Frame } from "../src/wire/mod.ts";
import { type FrameBuffer, MjpegClient } from "../src/client/mod.ts";
import { assertPoolIntact, assertStopsPromptly, lend } from "./helpers/client_checks.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { median } from "./helpers/statistics.ts";
import { startUpstream, type UpstreamConnection } from "./helpers/upstream.ts";
import { sleep, until } from "./helpers/wait.ts";
import { Rng } from "./helpers/fuzz_corpus.ts";
import { httpFetch } from "../src/runtime/http_fetch.ts";
import {
  type ConnectionLog,
  type Fault,
  FINAL_FRAMES,
  runPlanned,
} from "./helpers/reliability_client_upstream.ts";

// One long session against a camera that fails in every way it can. The seed
// comes from MJPEG_FAULT_SEED to replay a failure, else from the clock.
const SEED = Number(process.env.MJPEG_FAULT_SEED ?? (Date.now() >>> 0));
const FAULTS: Record<Exclude<Fault, "final">, number> = {
  die: 100,
  reset: 20,
  stall: 5,
  error: 12,
};
// Short next to the 10 s default, yet long enough that a test process starved
// of CPU on a busy machine does not give up on a live connection.
const FAULTY = Object.values(FAULTS).reduce((a, b) => a + b);
const STALL_MS = 1000;
const BACKOFF = { initialDelay: 10, maxDelay: 80, multiplier: 2, jitter: 0.5 };
const BUFFERS = 3;

/** Faults in a seeded random order, and a good connection last. */
function schedule(rng: Rng): Fault[] {
  const list: Fault[] = [];
  for (const [fault, n] of Object.entries(FAULTS)) {
    for (let i = 0; i < n; i++) list.push(fault as Fault);
  }
  for (let i = list.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return [...list, "final"];
}

interface Seen {
  sequence: number;
  sum: string;
}

/** Takes filled buffers until the client stops; now and then holds one a while (overruns). */
async function drainBuffers(client: MjpegClient, rng: Rng, seen: Seen[], held: Set<FrameBuffer>) {
  for (;;) {
    let buf: FrameBuffer;
    try {
      buf = await client.dequeueBuffer();
    } catch (error) {
      assert.equal((error as Error).name, "AbortError");
      return;
    }
    assert.ok(!held.has(buf), "a buffer handed out twice without being enqueued");
    held.add(buf);
    seen.push({ sequence: buf.sequence, sum: sha256(buf.data.subarray(0, buf.used)) });
    if (rng.chance(0.2)) await sleep(rng.int(1, 15));
    held.delete(buf);
    client.enqueueBuffer(buf);
  }
}

/** Iterates frames() until the client stops; sometimes slowly, so its queue drops some. */
async function drainFrames(frames: AsyncIterable<Frame>, rng: Rng, seen: Seen[]) {
  for await (const frame of frames) {
    seen.push({ sequence: frame.sequence, sum: sha256(frame.data) });
    if (rng.chance(0.2)) await sleep(rng.int(1, 15));
  }
}

function assertHandedOut(what: string, seen: Seen[], bySequence: string[]): void {
  let last = -1;
  for (const s of seen) {
    assert.ok(s.sequence > last, `${what}: sequence ${s.sequence} after ${last}`);
    last = s.sequence;
    assert.equal(
      s.sum,
      bySequence[s.sequence],
      `${what}: frame ${s.sequence} is not what was sent`,
    );
  }
}

function stats(values: number[]): string {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))]!.toFixed(1);
  return v.length ? `min ${at(0)} / median ${at(0.5)} / max ${at(1)} ms` : "-";
}

/** Open handles by type where the runtime tells (Node); empty elsewhere. */
function handles(): Map<string, number> {
  const counts = new Map<string, number>();
  const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo;
  for (const type of info?.() ?? []) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

describe("MjpegClient under fault injection", () => {
  it(`survives ${FAULTY} faulty connections byte-exact, counters adding up (seed ${SEED})`, {
    timeout: 60_000,
  }, async () => {
    const started = performance.now();
    const before = handles();
    const rng = new Rng(SEED);
    const plan = schedule(rng);
    const logs: ConnectionLog[] = [];
    const conns: UpstreamConnection[] = [];
    {
      // The client is disposed first, then the server: the handle check below comes after both.
      await using upstream = await startUpstream(async (conn) => {
        conns.push(conn);
        const fault = plan[conn.index] ?? "final";
        const ordinal = plan.slice(0, conn.index).filter((f) => f === fault).length;
        logs.push(await runPlanned(conn, fault, ordinal, rng, client));
      });
      // Every attempt the client makes, to explain one the server never saw.
      const attempts: string[] = [];
      await using client = new MjpegClient(upstream.url, {
        fetch: (request) => {
          const at = performance.now() - started;
          return httpFetch(request).then(
            (response) => (attempts.push(`${at.toFixed(0)}:${response.status}`), response),
            (error) => {
              attempts.push(`${at.toFixed(0)}:${(error as Error).message}`);
              throw error;
            },
          );
        },
        stallTimeout: STALL_MS,
        reconnect: BACKOFF,
        frameQueueSize: 2,
      });
      lend(client, 65536, BUFFERS);
      const viaBuffers: Seen[] = [], viaFrames: Seen[] = [], held = new Set<FrameBuffer>();
      client.start();
      const consumers = Promise.all([
        drainBuffers(client, new Rng(SEED ^ 1), viaBuffers, held),
        drainFrames(client.frames(), new Rng(SEED ^ 2), viaFrames),
      ]);
      // The last connection serves whole frames and stays open.
      await until(() => upstream.connections === plan.length, "every planned connection", 25_000);
      await until(
        () =>
          logs.length === plan.length - 1 &&
          client.stats.frames === logs.reduce((n, l) => n + l.complete, FINAL_FRAMES),
        "the last connection's frames",
        5000,
      ).catch((error) => {
        const sent = logs.reduce((n, l) => n + l.complete, FINAL_FRAMES);
        throw new Error(
          `${error.message}: ${logs.length}/${
            plan.length - 1
          } connections logged, ${sent} frames sent, seed ${SEED}; ${client.formatStats()}`,
        );
      });
      const stopMs = await assertStopsPromptly(client);
      await consumers;
      await until(() => logs.length === plan.length, "every connection closed", 2000);
      logs.sort((a, b) => a.index - b.index);
      // An attempt cut short by stop() may reach the server's accept a moment later.
      await until(() => upstream.sockets >= client.stats.reconnects + 1, "accepts", 1000)
        .catch(() => {});
      const gaps = logs.slice(1).map((l, i) => l.acceptedAt - logs[i]!.closedAt);

      // What the server sent, connection by connection, fixes what the client must report.
      const bySequence = logs.flatMap((l) => l.started);
      const complete = logs.reduce((n, l) => n + l.complete, 0);
      const cut = logs.reduce((n, l) => n + l.started.length - l.complete, 0);
      const s = client.stats;
      const figures = {
        seed: SEED,
        connections: upstream.connections,
        sockets: upstream.sockets,
        partsStarted: bySequence.length,
        complete,
        cut,
        viaBuffers: viaBuffers.length,
        viaFrames: viaFrames.length,
        discarded: s.discardedFrames,
        overruns: s.overruns,
        faults: count(logs.map((l) => l.fault)),
        cutWhere: count(logs.flatMap((l) => l.cutWhere ?? [])),
        shapes: count(logs.map((l) => l.shape)),
        reconnectGap: stats(gaps),
        stalledFor: stats(logs.flatMap((l) => l.stalledFor ?? [])),
        stopMs: Number(stopMs.toFixed(1)),
        runMs: 0,
      };
      const context = () =>
        `failed attempts ${
          attempts.filter((a) => !/:\d+$/.test(a)).join(", ")
        }; seed ${SEED} (MJPEG_FAULT_SEED=${SEED} replays it); ${
          JSON.stringify(figures)
        }; ${client.formatStats()}`;
      try {
        assert.equal(upstream.connections, plan.length);
        assert.equal(s.reconnects, upstream.sockets - 1, "reconnects = connections - 1");
        assert.equal(s.frames, complete, "complete frames = parts sent whole");
        assert.equal(s.abortedFrames, cut, "aborted frames = parts cut after they began");
        assertHandedOut("dequeueBuffer", viaBuffers, bySequence);
        assertHandedOut("frames()", viaFrames, bySequence);
        // Each complete frame went to a buffer or was discarded, and to the
        // frames() iterator or was dropped from its queue.
        assert.equal(viaBuffers.length + viaFrames.length + s.discardedFrames, 2 * complete);
        for (const l of logs) {
          assert.ok(
            !l.clientLeftFirst,
            `connection ${l.index} (${l.fault}): the client hung up first`,
          );
        }
        for (const l of logs.filter((l) => l.fault === "stall")) {
          // Seen from the server: its write callback and close event lag
          // the client's clock by a few ms, by tens on a loaded machine.
          assert.ok(l.stalledFor! >= STALL_MS - 50, `stall noticed after ${l.stalledFor} ms`);
          assert.ok(l.stalledFor! < STALL_MS + 1000, `stall noticed only after ${l.stalledFor} ms`);
        }
        // Each wait is at least initialDelay by the client's clock; Node's
        // timers count from the loop's cached time, so one gap seen from
        // here can come out a few ms short after a busy tick. Hence the median.
        assert.ok(
          median(gaps) >= BACKOFF.initialDelay - 1,
          `reconnect gaps ${figures.reconnectGap}`,
        );
        for (const gap of gaps) {
          assert.ok(gap >= 0 && gap < BACKOFF.maxDelay + 1000, `a reconnect after ${gap} ms`);
        }
      } catch (error) {
        (error as Error).message += `\n${context()}`;
        throw error;
      }
      assert.equal(held.size, 0);
      await assertPoolIntact(client, BUFFERS);
      await until(
        () => conns.every((c) => c.socket.destroyed),
        "the client's sockets closed",
        2000,
      );
      figures.runMs = Math.round(performance.now() - started);
      console.log(`reliability_client figures: ${JSON.stringify(figures)}`);
    }
    await sleep(20); // so the sockets' closes land before they are counted
    const after = handles();
    for (const type of ["TCPSocketWrap", "TCPServerWrap", "Timeout"]) {
      assert.ok(
        (after.get(type) ?? 0) <= (before.get(type) ?? 0),
        `${type} left open: ${after.get(type)} after, ${before.get(type)} before`,
      );
    }
  });
});

describe("MjpegClient counters after a cut", () => {
  // Regression: a frame that found no free buffer was counted as discarded
  // when it began, and again as aborted when the connection died under it.
  it("counts a frame with no free buffer that is then cut off as aborted only", async () => {
    await using upstream = await startUpstream(async (conn) => {
      if (conn.index > 0) return await conn.closed();
      await conn.head(200, { "Content-Type": "multipart/x-mixed-replace;boundary=frame" });
      await conn.part(fixtureFrames[0]!, "frame"); // fills the only buffer
      await conn.part(fixtureFrames[1]!, "frame"); // no buffer free: discarded
      const jpeg = fixtureFrames[2]!;
      await conn.write(`--frame\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
      await conn.write(jpeg.subarray(0, 100)); // no buffer free, then cut: aborted
      conn.destroy();
    });
    await using client = new MjpegClient(upstream.url, { reconnect: BACKOFF });
    client.enqueueBuffer(client.requestBuffers(65536, 1)[0]!);
    client.start();
    await until(() => client.stats.reconnects === 1, "the reconnect");
    const s = client.stats;
    assert.deepEqual([s.frames, s.discardedFrames, s.abortedFrames], [2, 1, 1]);
    await assertStopsPromptly(client);
    await assertPoolIntact(client, 1);
  });
});

function count(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
