import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { httpFetch, MAX_HEAD, MAX_INTERIM_RESPONSES } from "../src/runtime/http_fetch.ts";
import { ChunkedDecoder } from "../src/runtime/chunked.ts";
import { concat } from "./helpers/bytes.ts";
import { receive, startClient } from "./helpers/client_checks.ts";
import { fixtureFrames, fixtureSums } from "./helpers/fixtures.ts";
import { startUpstream } from "./helpers/upstream.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** Encodes `body` as chunks of `size` bytes, with an extension and a trailer for good measure. */
function chunked(body: Uint8Array, size: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += size) {
    const piece = body.subarray(i, i + size);
    parts.push(text(`${piece.length.toString(16)};ext=1\r\n`), piece, text("\r\n"));
  }
  parts.push(text("0\r\nX-Trailer: 1\r\n\r\n"));
  return concat(...parts);
}

describe("httpFetch, the client's socket transport", () => {
  it("reads a Content-Length body and sends the request headers", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await conn.head(200, { "Content-Type": "image/jpeg", "Content-Length": "5" });
      await conn.write("hello and more bytes the body does not include");
      await conn.closed();
    });
    const response = await httpFetch(
      new Request(upstream.url + "a?b=1", { headers: { "X-Token": "t" } }),
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "image/jpeg");
    assert.equal(await response.text(), "hello");
    const request = upstream.accepted[0]!.request;
    assert.equal(request.line, "GET /a?b=1 HTTP/1.1");
    assert.equal(request.headers.get("x-token"), "t");
    assert.equal(request.headers.get("host"), new URL(upstream.url).host);
  });

  it("keeps a response header byte 0x80-0x9F as one char (no windows-1252 crash)", async () => {
    await using upstream = await startUpstream(async (conn) => {
      await conn.write(concat(
        text("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Camera: caf"),
        new Uint8Array([0x85, 0xe9]),
        text("\r\n\r\nok"),
      ));
      await conn.closed();
    });
    const response = await httpFetch(new Request(upstream.url));
    assert.equal(response.headers.get("x-camera"), "caf\x85\xe9");
    assert.equal(await response.text(), "ok");
  });

  it("decodes a chunked body split at awkward places", async () => {
    const body = concat(...fixtureFrames);
    const wire = chunked(body, 1000);
    await using upstream = await startUpstream(async (conn) => {
      await conn.head(200, { "Transfer-Encoding": "chunked" });
      for (let i = 0; i < wire.length; i += 777) await conn.write(wire.subarray(i, i + 777));
      await conn.closed();
    });
    const response = await httpFetch(new Request(upstream.url));
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), body);
  });

  it("skips a 100 Continue, follows redirects and reports errors like fetch", async () => {
    await using upstream = await startUpstream(async (conn) => {
      const path = conn.request.line.split(" ")[1];
      if (path === "/old") {
        await conn.head(302, { Location: "/new", "Content-Length": "0" });
      } else if (path === "/new") {
        await conn.write("HTTP/1.1 100 Continue\r\n\r\n");
        await conn.head(200, { "Content-Length": "2" });
        await conn.write("ok");
      } else if (path === "/garbage") {
        await conn.write("SSH-2.0-OpenSSH_9.2\r\n\r\n");
      } else {
        conn.destroy();
      }
    });
    const response = await httpFetch(new Request(upstream.url + "old"));
    assert.equal(await response.text(), "ok");
    await assert.rejects(
      httpFetch(new Request(upstream.url + "garbage")),
      /expected an HTTP\/1.x status line, got "SSH-2.0-OpenSSH_9.2"/,
    );
    await assert.rejects(httpFetch(new Request(upstream.url + "drop")), TypeError);
  });

  it("errors a body cut short, and aborts with the request's signal", async () => {
    await using upstream = await startUpstream(async (conn) => {
      if (conn.index === 0) {
        await conn.head(200, { "Content-Length": "100" });
        await conn.write("only ten!!");
        conn.destroy();
        return;
      }
      await conn.head(200, {});
      await conn.write("x");
      await conn.closed();
    });
    const cut = await httpFetch(new Request(upstream.url));
    await assert.rejects(cut.arrayBuffer(), /closed before the body ended/);
    const controller = new AbortController();
    const response = await httpFetch(new Request(upstream.url, { signal: controller.signal }));
    const reader = response.body!.getReader();
    assert.equal((await reader.read()).value?.length, 1);
    const pending = reader.read();
    controller.abort(new DOMException("stop", "AbortError"));
    await assert.rejects(pending, { name: "AbortError" });
  });

  it("fails to connect with a TypeError naming the cause", async () => {
    await using upstream = await startUpstream(() => {});
    const url = upstream.url;
    await upstream.close();
    await assert.rejects(httpFetch(new Request(url)), /fetch failed: .*ECONNREFUSED|fetch failed/);
  });

  it("carries an MJPEG stream sent chunked into the client byte for byte", async () => {
    const stream = concat(
      ...fixtureFrames.map((f) =>
        concat(
          text(`--b\r\nContent-Type: image/jpeg\r\nContent-Length: ${f.length}\r\n\r\n`),
          f,
          text("\r\n"),
        )
      ),
    );
    await using upstream = await startUpstream(async (conn) => {
      await conn.head(200, {
        "Content-Type": "multipart/x-mixed-replace; boundary=b",
        "Transfer-Encoding": "chunked",
      });
      await conn.write(chunked(stream, 4096).subarray(0, -5)); // no last chunk: still streaming
      await conn.closed();
    });
    await using client = startClient(upstream.url, 8);
    assert.deepEqual((await receive(client, 8)).map((r) => r.sum), fixtureSums);
  });

  it("skips a few 1xx responses but refuses a flood of them, and a head byte by byte is read whole", async () => {
    await using upstream = await startUpstream(async (conn) => {
      const path = conn.request.line.split(" ")[1];
      const continues = Number(path?.slice(1));
      await conn.write("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n".repeat(continues));
      if (continues > MAX_INTERIM_RESPONSES) return await conn.closed();
      // The real head a byte at a time: the reader must find its end however it is cut.
      for (const byte of text("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) {
        await conn.write(new Uint8Array([byte]));
      }
    });
    const ok = await httpFetch(new Request(upstream.url + MAX_INTERIM_RESPONSES));
    assert.equal(await ok.text(), "ok");
    await assert.rejects(
      httpFetch(new Request(upstream.url + (MAX_INTERIM_RESPONSES + 1))),
      /protocol error: expected at most 8 informational \(1xx\) responses before the response, got more/,
    );
  });

  it("refuses a response head larger than 64 KiB, interim heads counted", async () => {
    await using upstream = await startUpstream(async (conn) => {
      // Each head under the limit, the two together over it; or one head over it.
      const header = (size: number) => `X-Big: ${"a".repeat(size)}\r\n`;
      if (conn.request.line.includes("/interim")) {
        await conn.write(`HTTP/1.1 100 Continue\r\n${header(MAX_HEAD * 0.6)}\r\n`);
        await conn.write(`HTTP/1.1 200 OK\r\n${header(MAX_HEAD * 0.6)}\r\n`);
      } else {
        await conn.write(`HTTP/1.1 200 OK\r\n${header(MAX_HEAD * 1.1)}\r\n`);
      }
      await conn.closed();
    });
    for (const path of ["interim", "final"]) {
      await assert.rejects(
        httpFetch(new Request(upstream.url + path)),
        /protocol error: expected a response head within 65536 bytes, got more/,
      );
    }
  });

  it("ChunkedDecoder rejects what is not chunked encoding", () => {
    const decoder = new ChunkedDecoder();
    assert.match(
      decoder.push(text("zz\r\n"), () => {}) ?? "",
      /expected a hexadecimal chunk size, got "zz"/,
    );
    const strict = new ChunkedDecoder();
    assert.match(
      strict.push(text("2\r\nabX\r\n"), () => {}) ?? "",
      /expected CRLF after a chunk, got "X"/,
    );
  });
});
