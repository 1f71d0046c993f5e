import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameHub, MjpegClient, mjpegResponse, serve } from "../mod.ts";
import { FIXTURE_FRAMES } from "./helpers/upstream.ts";
import { assertPoolIntact, FIXTURE_SUMS, lend, receive } from "./helpers/client_checks.ts";

/** The fixture frames in order, then nothing until the viewer goes away. */
async function* fixtureThenWait(signal: AbortSignal): AsyncGenerator<Uint8Array> {
  yield* FIXTURE_FRAMES;
  await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
}

describe("MjpegClient against this module's own server", () => {
  it("reads mjpegResponse served by serve() on this runtime, byte for byte", async () => {
    const server = await serve({
      fetch: (request) =>
        mjpegResponse(fixtureThenWait(request.signal), { signal: request.signal }),
    }, { port: 0, hostname: "127.0.0.1", shutdownTimeout: 100 });
    const client = new MjpegClient(server.url + "/stream.mjpg");
    try {
      lend(client, 65536, 8);
      client.start();
      const got = await receive(client, 8);
      assert.deepEqual(got.map((r) => r.sum), FIXTURE_SUMS);
      assert.deepEqual(got.map((r) => r.sequence), [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.equal(client.stats.reconnects, 0);
      await client.stop();
      await assertPoolIntact(client, 8);
    } finally {
      await client.stop();
      await server.close();
    }
  });

  it("follows a FrameHub frame by frame through frames()", async () => {
    const hub = new FrameHub();
    const server = await serve({
      fetch: (request) => mjpegResponse(hub, { signal: request.signal }),
    }, { port: 0, hostname: "127.0.0.1", shutdownTimeout: 100 });
    const client = new MjpegClient(server.url + "/stream.mjpg");
    try {
      const frames = client.frames();
      const sums: number[] = [];
      hub.publish(FIXTURE_FRAMES[0]!);
      for (let i = 0; i < 8; i++) {
        const { value } = await frames.next();
        const index = FIXTURE_FRAMES.findIndex((f) =>
          f.length === value!.data.length && f.every((b, j) => b === value!.data[j])
        );
        sums.push(index);
        // Publish the next one only after this one arrived: none can be skipped.
        if (i < 7) hub.publish(FIXTURE_FRAMES[i + 1]!);
      }
      assert.deepEqual(sums, [0, 1, 2, 3, 4, 5, 6, 7]);
      await frames.return!();
    } finally {
      await client.stop();
      hub.close();
      await server.close();
    }
  });
});
