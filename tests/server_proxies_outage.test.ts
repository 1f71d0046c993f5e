/**
 * A 30 s camera outage behind nginx (`proxy_read_timeout 5s`) and Caddy: the
 * keepalive parts keep both viewers connected, parts keep arriving through
 * the outage (the last frame again, then the offline card), and live frames
 * come again at once, on the same connections. It runs on Bun only: the
 * keepalive is the hub's, sent the same way by every runtime's server (the
 * in-process outage tests run on all three), and the proxies are what is
 * tested here.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FRAME_KIND_HEADER } from "../src/frame.ts";
import { startServing } from "./helpers/serving.ts";
import { type Proxy, startAll, startCaddy, startNginx } from "./helpers/proxies.ts";
import { sleep } from "./helpers/wait.ts";
import { requireTools } from "./helpers/tools.ts";
import { watchStream } from "./helpers/viewers.ts";
import { runsOn } from "./helpers/runtime.ts";

const OUTAGE_SECONDS = 30;

/** Each part's arrival time and X-Frame-Kind (empty for a live frame); whether the stream ended early. */
async function watch(url: string, ms: number) {
  const { parts, endedAt } = await watchStream(url, ms);
  return {
    parts: parts.map(({ at, headers }) => ({ at, kind: headers.get(FRAME_KIND_HEADER) ?? "" })),
    endedAt,
  };
}

describe(`a ${OUTAGE_SECONDS} s outage behind nginx and Caddy`, () => {
  it("viewers stay connected through it with parts arriving, and get live frames at once after", async (t) => {
    if (!runsOn(t, "bun", "what nginx and Caddy do through an outage")) return;
    if (!requireTools(t, "nginx", "caddy")) return;
    await using serving = await startServing({}, { fps: 10 });
    const host = new URL(serving.server.url).host;
    const [nginx, caddy]: [Proxy, Proxy] = await startAll([
      startNginx(`
    location /webcam/ {
      proxy_pass http://${host}/;
      proxy_read_timeout 5s;
    }`),
      startCaddy(`  handle_path /webcam/* {
    reverse_proxy ${host}
  }`),
    ]);
    await using _nginx = nginx;
    await using _caddy = caddy;
    const watching = Promise.all(
      [nginx, caddy].map((p) => watch(`${p.url}/webcam/stream.mjpg`, OUTAGE_SECONDS * 1000 + 6000)),
    );
    await sleep(2000);
    serving.publishing(false);
    const down = Date.now();
    await sleep(OUTAGE_SECONDS * 1000);
    const back = Date.now();
    serving.publishing(true);
    const seen = await watching;
    for (const [i, { parts, endedAt }] of seen.entries()) {
      const name = i === 0 ? "nginx" : "caddy";
      assert.equal(endedAt, undefined, `${name}: the stream stayed open`);
      const during = parts.filter((p) => p.at > down + 500 && p.at < back);
      // The gaps between parts during the outage stay well under proxy_read_timeout.
      let gap = 0;
      for (let j = 1; j < during.length; j++) {
        gap = Math.max(gap, during[j]!.at - during[j - 1]!.at);
      }
      t.diagnostic(
        `${name}: ${during.length} parts in the outage (${
          [...new Set(during.map((p) => p.kind))].join(", ")
        }), longest gap ${gap} ms`,
      );
      // About one a second; two thirds of that on a busy machine.
      assert.ok(
        during.length >= OUTAGE_SECONDS * 2 / 3,
        `${name}: parts during the outage: ${during.length}`,
      );
      assert.ok(gap < 4000, `${name}: the longest gap in the outage was ${gap} ms`);
      assert.ok(during.every((p) => p.kind !== ""), `${name}: no live frame during the outage`);
      const live = parts.filter((p) => p.at >= back && p.kind === "");
      assert.ok(live.length >= 10, `${name}: live frames after: ${live.length}`);
      assert.ok(
        live[0]!.at - back < 1000,
        `${name}: the first live frame ${live[0]!.at - back} ms after`,
      );
    }
  });
});
