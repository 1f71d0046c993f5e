/**
 * Request size limits on a real server, the same answer on every runtime:
 * 414 for a long URL, 431 for a large header block, before auth is asked.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { FrameHub } from "../src/server/mod.ts";
import { requestLimits } from "../src/hono/request_limits.ts";
import { mjpegApp } from "../src/hono/mjpeg_app.ts";
import { startStack } from "./helpers/stack.ts";

/** Sends a raw request and returns the status line (or what happened instead). */
function statusOf(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    let reply = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    socket.on("data", (d: Uint8Array) => (reply += new TextDecoder().decode(d)));
    socket.on("close", () => resolve(reply.split("\r\n")[0] || "closed without a reply"));
    socket.on("error", () => resolve("connection error"));
    setTimeout(() => socket.destroy(), 5000).unref?.();
  });
}

describe("request limits", () => {
  it("refuses a long URL with 414 and a large header block with 431, before asking for credentials", async () => {
    await using stack = await startStack({ app: { auth: { token: "a-long-enough-token" } } });
    const { hub, server } = stack;
    hub.publish(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
    const get = (path: string, extra = "") =>
      statusOf(
        server.port,
        `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`,
      );
    assert.match(await get("/snapshot.jpg?token=a-long-enough-token"), / 200 /);
    assert.match(await get("/snapshot.jpg"), / 401 /);
    assert.match(await get("/" + "a".repeat(3000)), / 414 /);
    assert.match(await get("/snapshot.jpg", `X-Big: ${"b".repeat(20_000)}\r\n`), / 431 /);
    // Many headers adding up past the limit (fewer than Deno's cap of ~100 headers).
    const many = Array.from({ length: 80 }, (_, i) => `X-H${i}: ${"c".repeat(110)}\r\n`).join("");
    assert.match(await get("/snapshot.jpg", many), / 431 /);
    // The server is still there for well-behaved clients.
    assert.match(await get("/snapshot.jpg?token=a-long-enough-token"), / 200 /);
  });

  it("takes its limits from the app's options and checks them", async () => {
    const check = requestLimits({ maxUrlLength: 100, maxHeaderBytes: 300 });
    assert.equal(check(new Request("http://127.0.0.1/" + "a".repeat(99))), undefined);
    const long = check(new Request("http://127.0.0.1/" + "a".repeat(100)));
    assert.equal(long?.status, 414);
    assert.match(await long!.text(), /expected at most 100 bytes, got 101/);
    assert.equal(
      check(new Request("http://x/", { headers: { "x-a": "b".repeat(300) } }))?.status,
      431,
    );
    assert.throws(
      () => requestLimits({ maxUrlLength: 10 }),
      /maxUrlLength: Too small: expected number to be >=64/,
    );
    assert.throws(
      () => mjpegApp({ streams: new FrameHub(), limits: { maxHeaderBytes: -1 } }),
      /maxHeaderBytes/,
    );
  });
});
