import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameHub, MjpegClient, mjpegResponse, serve } from "../mod.ts";
import { assertPoolIntact, receive, startClient } from "./helpers/client_checks.ts";
import { disposable } from "./helpers/dispose.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";

/** The fixture frames in order, then nothing until the viewer goes away. */
async function* fixtureThenWait(signal: AbortSignal): AsyncGenerator<Uint8Array> {
  yield* fixtureFrames;
  await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
}

describe("MjpegClient against this module's own server", () => {
  it("reads mjpegResponse served by serve() on this runtime, byte for byte", async () => {
    await using server = await serve({
      fetch: (request) =>
        mjpegResponse(fixtureThenWait(request.signal), { signal: request.signal }),
    }, { port: 0, hostname: "127.0.0.1", shutdownTimeout: 100 });
    await using client = startClient(server.url + "/stream.mjpg", 8);
    const got = await receive(client, 8);
    assert.deepEqual(got.map((r) => r.sum), fixtureSums);
    assert.deepEqual(got.map((r) => r.sequence), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(client.stats.reconnects, 0);
    await client.stop();
    await assertPoolIntact(client, 8);
  });

  it("follows a FrameHub frame by frame through frames()", async () => {
    await using hub = disposable(new FrameHub(), (h) => h.close());
    await using server = await serve({
      fetch: (request) => mjpegResponse(hub, { signal: request.signal }),
    }, { port: 0, hostname: "127.0.0.1", shutdownTimeout: 100 });
    await using client = new MjpegClient(server.url + "/stream.mjpg");
    const frames = client.frames();
    const sums: number[] = [];
    hub.publish(fixtureFrames[0]!);
    for (let i = 0; i < 8; i++) {
      const { value } = await frames.next();
      const index = fixtureFrames.findIndex((f) =>
        f.length === value!.data.length && f.every((b, j) => b === value!.data[j])
      );
      sums.push(index);
      // Publish the next one only after this one arrived: none can be skipped.
      if (i < 7) hub.publish(fixtureFrames[i + 1]!);
    }
    assert.deepEqual(sums, [0, 1, 2, 3, 4, 5, 6, 7]);
    await frames.return!();
  });
});
