/**
 * An IP camera for the client tests: tests/helpers/camera_server.py (Python's
 * standard library: http.server, hashlib, ssl) started as a real process, so
 * Digest and TLS are checked by code nobody here wrote. Every request it got
 * is in `requests`, with whether its Authorization validated and why not.
 */
import "./dispose.ts";
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { sleep } from "./wait.ts";

/** What camera_server.py is told (see its docstring). */
export interface CameraConfig {
  auth?: "digest" | "basic" | "none";
  user?: string;
  password?: string;
  realm?: string;
  algorithms?: string[];
  extraChallenges?: string[];
  qop?: string | null;
  opaque?: string | null;
  userhash?: boolean;
  staleAfter?: number;
  splitHeaders?: boolean;
  mode?: "stream" | "snapshot";
  frames?: number;
  interval?: number;
  http10?: boolean;
  host?: string;
  port?: number;
  notFound?: string[];
  html?: string[];
  cert?: string;
  key?: string;
  lifetime?: number;
  blackhole?: boolean;
}

/** One request as the camera saw it. */
export interface CameraRequest {
  line: string;
  authorization: string | null;
  fields?: Record<string, string>;
  valid: boolean;
  stale: boolean;
  problem: string | null;
}

/** A running camera. */
export interface Camera extends AsyncDisposable {
  /** `http(s)://host:port/` */
  url: string;
  port: number;
  /** Every request so far, in order. */
  requests: CameraRequest[];
  /** TLS handshakes that failed (the client refused the certificate). */
  tlsErrors: string[];
  /** Waits until `count` requests are logged (the log comes through a pipe, after the response). */
  logged(count: number, ms?: number): Promise<CameraRequest[]>;
  close(): Promise<void>;
}

const script = fileURLToPath(new URL("./camera_server.py", import.meta.url));

/** Starts camera_server.py with `config`; resolves once it listens. */
export function startCamera(config: CameraConfig = {}): Promise<Camera> {
  const child: ChildProcess = spawn("python3", [script, JSON.stringify(config)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const requests: CameraRequest[] = [];
  const tlsErrors: string[] = [];
  return new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error("camera_server.py did not start")), 15_000);
    child.once("error", reject);
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      buffered += text;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const entry = JSON.parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (entry.event === "request") requests.push(entry);
        else if (entry.event === "tls-error") tlsErrors.push(entry.error);
        else if (entry.event === "listening") {
          clearTimeout(timer);
          const host = config.host ?? "127.0.0.1";
          const scheme = config.cert ? "https" : "http";
          const port = entry.port as number;
          const close = () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once("close", () => done());
              child.stdin!.end();
              setTimeout(() => child.kill("SIGKILL"), 2000).unref();
            });
          const logged = async (count: number, ms = 5000) => {
            const deadline = Date.now() + ms;
            while (requests.length < count && Date.now() < deadline) {
              await sleep(20);
            }
            return requests;
          };
          resolve({
            logged,
            url: `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}/`,
            port,
            requests,
            tlsErrors,
            close,
            [Symbol.asyncDispose]: close,
          });
        }
      }
    });
  });
}
