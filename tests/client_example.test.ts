import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { serveMultipart, startUpstream } from "./helpers/upstream.ts";
import { runtimeName } from "./helpers/runtime.ts";

/** How to run a TypeScript file with the runtime running this test. */
function command(file: string): string[] {
  if (runtimeName === "deno") return [process.execPath, "run", "-A", file];
  if (runtimeName === "bun") return [process.execPath, file];
  return [process.execPath, "--import", "tsx", file];
}

describe("examples/client.ts", () => {
  it("runs the py-mjpeg loop against a server and prints py-mjpeg's stats block", async () => {
    const upstream = await startUpstream(async (conn) => {
      await serveMultipart(conn, { intervalMs: 10 });
    });
    try {
      const [exe, ...args] = command("examples/client.ts");
      const child = spawn(exe!, [...args, upstream.url, "1"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (chunk) => (out += chunk));
      child.stderr.on("data", (chunk) => (out += chunk));
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const code = await new Promise((resolve) => child.on("close", resolve));
      clearTimeout(timer);
      assert.equal(code, 0, out);
      assert.match(
        out,
        /MjpegClient:\n {2}URL {13}: http:\/\/127\.0\.0\.1:\d+\/\n {2}State {11}: stopped\n/,
      );
      const frames = Number(/Total frames {4}: (\d+)/.exec(out)?.[1]);
      assert.ok(frames > 10, out);
      assert.match(out, /largest frame: \d{4,5} bytes/);
    } finally {
      await upstream.close();
    }
  });
});
