/**
 * The benchmark's MJPEG server: writes multipart parts as fast as the socket
 * takes them, from one pre-built block, so the server costs almost nothing
 * and the client is what is measured. Runs in its own process (under Node)
 * so it does not share a core's event loop with the client.
 *
 * Usage: node --import tsx bench/client_upstream.ts FRAME_BYTES [CERT_FILE KEY_FILE]
 * (with a certificate and key: https). Prints the port on stdout, serves
 * until stdin closes.
 */
import { createServer as createTcpServer, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { readFileSync } from "node:fs";
import { encodeMjpegPart, encodeOpening } from "../src/wire/mod.ts";

const frameBytes = Number(process.argv[2] ?? 0);
const boundary = "bench";

/** A JPEG of roughly `size` bytes: a real fixture frame, padded with a COM segment run. */
function jpegOfSize(size: number): Uint8Array {
  const base = new Uint8Array(
    readFileSync(new URL("../tests/fixtures/frames/001.jpg", import.meta.url)),
  );
  if (size <= base.length) return base;
  // Comment segments (FF FE, length) after SOI keep it a valid JPEG of the wanted size.
  const out = new Uint8Array(size);
  out.set(base.subarray(0, 2));
  let at = 2;
  let remaining = size - base.length;
  while (remaining > 0) {
    const segment = Math.min(remaining, 65535 + 2);
    const payload = Math.max(segment - 4, 0);
    out[at] = 0xff;
    out[at + 1] = 0xfe;
    out[at + 2] = (payload + 2) >> 8;
    out[at + 3] = (payload + 2) & 0xff;
    out.fill(0x20, at + 4, at + 4 + payload);
    at += payload + 4;
    remaining -= payload + 4;
  }
  out.set(base.subarray(2), at);
  return out.subarray(0, at + base.length - 2);
}

const jpeg = jpegOfSize(frameBytes);
const part = encodeMjpegPart(jpeg, boundary);
// About 4 MiB of whole parts per write.
const perBlock = Math.max(1, Math.floor((4 << 20) / part.length));
const block = new Uint8Array(part.length * perBlock);
for (let i = 0; i < perBlock; i++) block.set(part, i * part.length);

const [certFile, keyFile] = process.argv.slice(3);
const serveOne = (socket: Socket) => {
  socket.on("error", () => {});
  socket.once("data", () => {
    socket.write(
      `HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: multipart/x-mixed-replace;boundary=${boundary}\r\n\r\n`,
    );
    socket.write(encodeOpening(boundary));
    const pump = () => {
      while (!socket.destroyed && socket.write(block)) { /* until the buffer is full */ }
      if (!socket.destroyed) socket.once("drain", pump);
    };
    pump();
  });
};
const server = certFile && keyFile
  ? createTlsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, serveOne)
  : createTcpServer(serveOne);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address !== "string") {
    console.log(
      JSON.stringify({ port: address.port, jpegBytes: jpeg.length, partBytes: part.length }),
    );
  }
});
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
process.stdin.resume();
