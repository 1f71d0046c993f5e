import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { finished, start } from "./helpers/processes.ts";
import { repoRoot, scriptCommand } from "./helpers/runtime.ts";
import { serveMultipart, startUpstream } from "./helpers/upstream.ts";

describe("examples/client.ts", () => {
  it("runs the py-mjpeg loop against a server and prints py-mjpeg's stats block", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await serveMultipart(conn, { intervalMs: 10 });
    });
    const run = await finished(
      start([...scriptCommand("examples/client.ts"), upstream.url, "1"], { cwd: repoRoot }),
      20_000,
    );
    const out = run.stdout + run.stderr;
    assert.equal(run.code, 0, out);
    assert.match(
      out,
      /MjpegClient:\n {2}URL {13}: http:\/\/127\.0\.0\.1:\d+\/\n {2}State {11}: stopped\n/,
    );
    const frames = Number(/Total frames {4}: (\d+)/.exec(out)?.[1]);
    assert.ok(frames > 10, out);
    assert.match(out, /largest frame: \d{4,5} bytes/);
  });
});
