/**
 * Snapshot cameras for the polling source's tests: a node:http one whose
 * answers each path scripts (ESP32-CAM's fresh JPEG per request, Frigate's
 * validators, Reolink's JSON error with status 200, slow and silent cameras),
 * counting requests, TCP connections and requests in flight; and one in
 * Python's standard library (`snapshot_camera.py`), another HTTP
 * implementation's keep-alive, counting the connections it accepts.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { fileURLToPath } from "node:url";
import "./dispose.ts";
import { fixtureFrames } from "./fixtures.ts";
import { sleep } from "./wait.ts";

/** What the node:http camera counted. */
export interface CameraCounts {
  requests: number;
  connections: number;
  inFlight: number;
  maxInFlight: number;
  /** Requests that carried If-None-Match or If-Modified-Since. */
  conditional: number;
}

/** A running node:http snapshot camera. */
export interface SnapshotCamera extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`, or `https://` with `tls` */
  url: string;
  counts: CameraCounts;
  /** Request times (performance.now()) per path. */
  times: Map<string, number[]>;
  /** What `/switch` answers: an image, or an error status. */
  switchTo: "image" | 404 | 500;
  /** Closes every connection now, as a camera does with idle ones. */
  drop(): void;
}

const ETAG = '"frame-1"';
const LAST_MODIFIED = "Sun, 29 Nov 2026 12:00:00 GMT";

/**
 * Starts the node:http camera on 127.0.0.1 and a free port.
 *
 * Paths: `/changing` (the next fixture each time), `/chunked` (the same,
 * chunked, as an ESP32's httpd_resp_send_chunk), `/same` (one fixture, no
 * validators), `/etag` and `/modified` (one fixture with an ETag or a
 * Last-Modified, 304 when asked with it), `/slow` (the next fixture after
 * 300 ms), `/404` (an HTML page), `/reolink` (a JSON error, status 200,
 * text/html), `/broken` (a JPEG cut short), `/hang` (no answer), `/switch`
 * (as `switchTo` says).
 *
 * @param options `tls`: serve https with this certificate and key (PEM).
 */
export async function startSnapshotCamera(
  options: { tls?: { cert: string; key: string } } = {},
): Promise<SnapshotCamera> {
  const counts: CameraCounts = {
    requests: 0,
    connections: 0,
    inFlight: 0,
    maxInFlight: 0,
    conditional: 0,
  };
  const times = new Map<string, number[]>();
  let next = 0;
  const image = (res: ServerResponse, data: Uint8Array, headers: Record<string, string> = {}) => {
    res.writeHead(200, {
      "content-type": "image/jpeg",
      "content-length": String(data.length),
      ...headers,
    });
    res.end(data);
  };
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.headers["if-none-match"] || req.headers["if-modified-since"]) counts.conditional++;
    switch (path) {
      case "/changing":
        return image(res, fixtureFrames[next++ % fixtureFrames.length]!);
      case "/chunked":
        res.writeHead(200, { "content-type": "image/jpeg" });
        res.write(fixtureFrames[next % fixtureFrames.length]!.subarray(0, 100));
        res.end(fixtureFrames[next++ % fixtureFrames.length]!.subarray(100));
        return;
      case "/same":
        return image(res, fixtureFrames[0]!);
      case "/etag":
        if (req.headers["if-none-match"] === ETAG) return res.writeHead(304).end();
        return image(res, fixtureFrames[1]!, { etag: ETAG, "cache-control": "no-cache" });
      case "/modified":
        if (req.headers["if-modified-since"] === LAST_MODIFIED) return res.writeHead(304).end();
        return image(res, fixtureFrames[2]!, { "last-modified": LAST_MODIFIED });
      case "/slow":
        await sleep(300);
        return image(res, fixtureFrames[next++ % fixtureFrames.length]!);
      case "/404":
        res.writeHead(404, { "content-type": "text/html" });
        return res.end("<html><body><h1>404 Not Found</h1></body></html>");
      case "/reolink":
        res.writeHead(200, { "content-type": "text/html" });
        return res.end(
          '[{"cmd":"Snap","code":1,"error":{"detail":"please login first","rspCode":-6}}]',
        );
      case "/broken":
        return image(res, fixtureFrames[3]!.subarray(0, 300));
      case "/hang":
        return; // never answered; the test's timeout must end it
      case "/switch":
        if (camera.switchTo === "image") {
          return image(res, fixtureFrames[next++ % fixtureFrames.length]!);
        }
        res.writeHead(camera.switchTo, { "content-type": "text/plain" });
        return res.end(`error ${camera.switchTo}`);
    }
    res.writeHead(404).end();
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    counts.requests++;
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (!times.has(path)) times.set(path, []);
    times.get(path)!.push(performance.now());
    counts.inFlight++;
    counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
    res.on("close", () => counts.inFlight--);
    void answer(req, res);
  };
  const server = options.tls ? createHttpsServer(options.tls, handler) : createServer(handler);
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    counts.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const camera: SnapshotCamera = {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    counts,
    times,
    switchTo: "image",
    drop() {
      for (const socket of sockets) socket.destroy();
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return camera;
}

/** The Python camera, as a child process. */
export interface PythonCamera extends AsyncDisposable {
  url: string;
  /** TCP connections it accepted so far. */
  connections(): number;
  /** Requests it answered so far. */
  requests(): number;
}

/**
 * Starts `snapshot_camera.py`: Python's http.server answering `/capture`
 * with the fixtures in turn, HTTP/1.1 keep-alive (or HTTP/1.0, closing each
 * connection, with `http10`).
 *
 * @param http10 Answer as HTTP/1.0 and close after each response.
 * @returns The camera.
 */
export async function startPythonCamera(http10 = false): Promise<PythonCamera> {
  const script = fileURLToPath(new URL("./snapshot_camera.py", import.meta.url));
  const frames = fileURLToPath(new URL("../fixtures/frames/", import.meta.url));
  const child: ChildProcess = spawn(
    "python3",
    [script, frames, ...(http10 ? ["--http10"] : [])],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  let connections = 0, requests = 0;
  let text = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      let newline: number;
      while ((newline = text.indexOf("\n")) >= 0) {
        const line = text.slice(0, newline);
        text = text.slice(newline + 1);
        if (line.startsWith("port ")) resolve(Number(line.slice(5)));
        else if (line === "connection") connections++;
        else if (line.startsWith("request ")) requests++;
      }
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    requests: () => requests,
    async [Symbol.asyncDispose]() {
      child.stdin!.end(); // it exits when its stdin closes
      if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}
