/**
 * Scaling out as docs/deploy.md shows it: two relays (`mjpeg serve --url`, real
 * processes on this runtime) reading one camera server, behind Debian's nginx
 * balancing them as an `upstream`, with the config written at test time.
 * Viewers through nginx are spread over both relays, every frame byte-exact,
 * and the camera server sees exactly one connection per relay however many
 * watch.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MjpegDecoderStream } from "../src/wire/mod.ts";
import { startServing } from "./helpers/serving.ts";
import { startNginx } from "./helpers/proxies.ts";
import { type Served, statsOf, stopServe } from "./helpers/attack_sockets.ts";
import { startServe } from "./helpers/cli_run.ts";
import { fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { sleep, until } from "./helpers/wait.ts";
import { requireTools } from "./helpers/tools.ts";

const VIEWERS = 6;

/** Reads `url` until `until` is aborted; returns the checksums of the frames. */
async function watch(url: string, until: AbortSignal): Promise<string[]> {
  const sums: string[] = [];
  try {
    const response = await fetch(url, { signal: until });
    assert.equal(response.status, 200, url);
    const frames = response.body!.pipeThrough(
      new MjpegDecoderStream({ contentType: response.headers.get("content-type") }),
    );
    for await (const frame of frames) sums.push(sha256(frame.data));
  } catch (error) {
    if (!until.aborted) throw error;
  }
  return sums;
}

describe("relays behind nginx's load balancing", () => {
  it(`${VIEWERS} viewers through nginx are spread over two relays, each holding one connection to the camera`, async (t) => {
    if (!requireTools(t, "nginx")) return;
    await using camera = await startServing({}, { fps: 10 });
    const upstream = `${camera.server.url}/stream.mjpg`;
    const settled = await Promise.allSettled([1, 2].map(() => startServe(["--url", upstream])));
    const relays = settled.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
    try {
      for (const s of settled) if (s.status === "rejected") throw s.reason;
      await using nginx = await startNginx(
        `    location / { proxy_pass http://relays; }`,
        `  upstream relays {\n${
          relays.map((r) => `    server ${new URL(r.url).host};`).join("\n")
        }\n  }`,
      );
      const done = new AbortController();
      const watching = Array.from(
        { length: VIEWERS },
        () => watch(`${nginx.url}/stream.mjpg`, done.signal),
      );
      let counts: number[] = [];
      try {
        // Everyone is connected when the relays together count them all.
        await until(
          async () => {
            counts = await Promise.all(
              relays.map(async (r: Served) => (await statsOf(r)).viewers!),
            );
            return counts.reduce((a, b) => a + b, 0) === VIEWERS;
          },
          () => `the relays to count ${VIEWERS} viewers in all, got ${counts}`,
          15_000,
          100,
        );
        await sleep(2000);
        // The camera server sees the two relays, not the viewers.
        assert.equal(camera.hub.stats.viewers, 2, "one connection from each relay");
        assert.equal(camera.hub.stats.viewersTotal, 2, "and never more than one each");
      } finally {
        done.abort();
      }
      t.diagnostic(`viewers per relay: ${counts.join(", ")}`);
      // nginx's round robin alternates; at the least neither relay is left out.
      for (const [i, n] of counts.entries()) {
        assert.ok(n >= 2, `relay ${i + 1} serves ${n} of ${VIEWERS} viewers`);
      }
      for (const [i, sums] of (await Promise.all(watching)).entries()) {
        assert.ok(sums.length >= 10, `viewer ${i} got frames: ${sums.length}`);
        for (const sum of sums) assert.ok(fixtureSums.includes(sum), `viewer ${i}: byte-exact`);
      }
    } finally {
      for (const relay of relays) await stopServe(relay);
    }
  });
});
