/**
 * One misbehaving upstream must not take a relay's event loop from its other
 * streams. `mjpeg serve --config` runs two streams: `healthy`, the test
 * pattern at 10 fps, and `hostile`, a relay of an upstream that attacks it.
 * A viewer of the healthy stream counts frames, and `/healthy/stats` is
 * fetched every 250 ms with a 2 s deadline; both are compared with a run
 * where the second upstream is well-behaved.
 *
 * The attack (`storm`) answers every request with endless `100 Continue`
 * heads, as fast as the socket takes them.
 *
 *   node --import tsx bench/hostile_upstream.ts [runtimes=deno,bun,node] [attacks=none,storm] [seconds=8]
 *
 * Prints a markdown table. The upstream runs in this process, the server in
 * a child process of the runtime named.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";

const runtimes = (process.argv[2] ?? "deno,bun,node").split(",");
const attacks = (process.argv[3] ?? "none,storm").split(",");
const seconds = Number(process.argv[4] ?? 8);
const COMMANDS: Record<string, string[]> = {
  deno: ["deno", "run", "-A", "src/cli.ts"],
  bun: ["bun", "src/cli.ts"],
  node: ["node", "--import", "tsx", "src/cli.ts"],
};
const FIXTURE = new Uint8Array(
  (await import("node:fs")).readFileSync(
    new URL("../tests/fixtures/frames/001.jpg", import.meta.url),
  ),
);

/** An upstream that behaves as `attack` says, until closed. */
async function upstream(attack: string): Promise<{ url: string; close(): void }> {
  const sockets = new Set<Socket>();
  const continues = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n".repeat(2600));
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.once("data", async () => {
      const write = (data: string | Uint8Array) =>
        new Promise<boolean>((resolve) => socket.write(data, (e) => resolve(!e)));
      if (attack === "storm") {
        while (!socket.destroyed && await write(continues));
        return;
      }
      const head = "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=f\r\n\r\n";
      await write(head);
      const part = new Uint8Array([
        ...new TextEncoder().encode(`--f\r\nContent-Type: image/jpeg\r\n\r\n`),
        ...FIXTURE,
        13,
        10,
      ]);
      while (!socket.destroyed && await write(part)) {
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

interface Row {
  fps: number;
  p50: number;
  max: number;
  misses: number;
  probes: number;
}

async function measure(runtime: string, attack: string): Promise<Row> {
  const up = await upstream(attack);
  const dir = mkdtempSync(join(tmpdir(), "mjpeg-hostile-"));
  const config = join(dir, "config.json");
  writeFileSync(
    config,
    JSON.stringify({
      streams: {
        healthy: { type: "pattern", width: 160, height: 120, fps: 10 },
        hostile: { type: "url", url: up.url },
      },
    }),
  );
  const [program, ...args] = COMMANDS[runtime]!;
  const child = spawn(program!, [...args, "serve", "--port", "0", "--config", config], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr!.setEncoding("utf8").on("data", (t: string) => log += t);
  try {
    let base: string | undefined;
    for (let i = 0; i < 400 && !base; i++) {
      base = /listening on (http:\/\/\S+?)\/ /.exec(log)?.[1];
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!base) throw new Error(`serve did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 1500)); // both streams running
    const stop = AbortSignal.timeout(seconds * 1000);
    let frames = 0;
    const viewing = (async () => {
      try {
        const response = await fetch(`${base}/healthy/stream.mjpg`, { signal: stop });
        const decoder = new MjpegDecoderStream({
          contentType: response.headers.get("content-type"),
        });
        for await (const _ of response.body!.pipeThrough(decoder)) frames++;
      } catch { /* the window closed */ }
    })();
    const latencies: number[] = [];
    let misses = 0;
    while (!stop.aborted) {
      const started = performance.now();
      try {
        const r = await fetch(`${base}/healthy/stats`, { signal: AbortSignal.timeout(2000) });
        await r.json();
        latencies.push(performance.now() - started);
      } catch {
        misses++;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await viewing;
    latencies.sort((a, b) => a - b);
    return {
      fps: frames / seconds,
      p50: latencies[Math.floor(latencies.length / 2)] ?? NaN,
      max: latencies.at(-1) ?? NaN,
      misses,
      probes: latencies.length + misses,
    };
  } finally {
    child.kill("SIGKILL");
    up.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`healthy stream: test pattern at 10 fps; ${seconds} s per run`);
console.log("");
console.log(
  "| runtime | second upstream | healthy fps | /stats p50 ms | /stats max ms | /stats over 2 s |",
);
console.log("| --- | --- | ---: | ---: | ---: | ---: |");
for (const runtime of runtimes) {
  for (const attack of attacks) {
    const r = await measure(runtime, attack);
    console.log(
      `| ${runtime} | ${attack === "none" ? "well-behaved" : attack} | ${r.fps.toFixed(1)} | ${
        r.p50.toFixed(0)
      } | ${r.max.toFixed(0)} | ${r.misses} of ${r.probes} |`,
    );
  }
}
