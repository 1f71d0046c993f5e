/**
 * Security review of the sources, proven on a real `mjpeg serve` process
 * traced by strace: hostile requests (path traversal in every spelling, shell
 * syntax in paths, queries and headers) never make the file source open
 * anything but its configured file, and never reach the command source's
 * argv or a shell. The trace records every file system call and every program
 * started, so "never" covers code paths no assertion on responses would see.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import process from "node:process";
import { cliCommand, startServe, writeConfig } from "./helpers/cli_run.ts";
import { sha256 } from "./helpers/hash.ts";
import { labelledJpeg } from "./helpers/jpeg.ts";
import { finished, runningInGroup } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";

/** Sends one raw request (no client-side URL clean-up) and returns up to `limit` bytes. */
function rawGet(url: string, target: string, extra = "", limit = 256 * 1024): Promise<Buffer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(
        `GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\n${extra}Connection: close\r\n\r\n`,
      );
    });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    // Streams never end by themselves: take what came within the time.
    const timer = setTimeout(done, 1500);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) done();
    });
    socket.on("close", done);
    socket.on("error", done);
  });
}

/** The body of a complete (Connection: close) response. */
function body(response: Buffer): Buffer {
  return response.subarray(response.indexOf("\r\n\r\n") + 4);
}

describe("security of the sources, traced on a real mjpeg serve", () => {
  it("the file source opens only its file and the command source's argv never holds a request value", async (t) => {
    if (!requireTools(t, "strace")) return;
    using dir = tempDir("security");
    const d = dir.path;
    const marker = join(d, "PWNED");
    mkdirSync(join(d, "cam"));
    const camera = labelledJpeg("CAMERA-FRAME", 0);
    writeFileSync(join(d, "cam", "cam.jpg"), camera);
    // Valid JPEGs next to and above the configured file: what traversal would be after.
    writeFileSync(join(d, "cam", "secret.jpg"), labelledJpeg("SECRET-SIBLING", 1));
    writeFileSync(join(d, "secret.jpg"), labelledJpeg("SECRET-PARENT", 2));
    const commandFrame = labelledJpeg("COMMAND-FRAME", 3);
    writeFileSync(join(d, "cmd.jpg"), commandFrame);
    const program = join(d, "cmd.sh");
    writeFileSync(program, '#!/bin/sh\nwhile :; do cat "${0%.sh}.jpg"; sleep 0.1; done\n');
    chmodSync(program, 0o755);
    const args = ["--quality", "80", "an argument with spaces"];
    const config = writeConfig(d, {
      statsInterval: 0,
      streams: {
        cam: { type: "file", path: join(d, "cam", "cam.jpg") },
        cmd: { type: "command", command: program, args, contentType: "image/jpeg" },
      },
    }, "config.json");
    const trace = join(d, "trace.log");
    const strace = ["strace", "-f", "-qq", "-s", "4096", "-e", "trace=%file,execve", "-o", trace];
    await using server = await startServe(["--config", config], {
      command: [...strace, ...cliCommand()],
    });
    const url = server.url;
    assert.equal(sha256(body(await rawGet(url, "/cam/snapshot.jpg"))), sha256(camera));
    assert.equal(sha256(body(await rawGet(url, "/cmd/snapshot.jpg"))), sha256(commandFrame));
    const shell = [
      `;touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `|touch ${marker}`,
      `&&touch ${marker}`,
      `'"$(touch ${marker})"'`,
    ];
    const targets = [
      "/../secret.jpg",
      "/cam/../secret.jpg",
      "/cam/../../secret.jpg",
      "/%2e%2e/secret.jpg",
      "/cam/%2e%2e%2fsecret.jpg",
      "/cam/..%2f..%2fsecret.jpg",
      "/cam/..%5csecret.jpg",
      "/cam/secret.jpg",
      "/cam/snapshot.jpg/../secret.jpg",
      "/cam/snapshot.jpg%00secret.jpg",
      `/cam/snapshot.jpg?path=${encodeURIComponent(join(d, "secret.jpg"))}`,
      `/cam/stream.mjpg?file=../secret.jpg&fps=1`,
      `/?action=snapshot&file=${encodeURIComponent(join(d, "cam", "secret.jpg"))}`,
      `/${encodeURIComponent(join(d, "secret.jpg"))}`,
      `http://127.0.0.1/../secret.jpg`,
      `//${d.slice(1)}/secret.jpg`,
      ...shell.flatMap((s) => [
        `/cmd/stream.mjpg?fps=${encodeURIComponent(s)}`,
        `/cmd/snapshot.jpg?args=${encodeURIComponent(s)}`,
        `/cmd/?action=${encodeURIComponent(s)}`,
        `/${encodeURIComponent(s)}/stream.mjpg`,
        `/cmd/${encodeURIComponent(s)}`,
      ]),
    ];
    for (const target of targets) {
      const response = await rawGet(url, target, `X-Command: $(touch ${marker})\r\n`);
      assert.ok(response.length > 0, `an answer to ${target}`);
      assert.ok(!response.includes("SECRET-"), `${target} served no other file`);
    }
    // The sources still run, unchanged.
    assert.equal(sha256(body(await rawGet(url, "/cam/snapshot.jpg"))), sha256(camera));
    // SIGINT to the runtime under strace (strace's child), which stops its sources cleanly.
    const tracee = readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, "utf8")
      .trim().split(" ").map(Number)[0];
    if (tracee) process.kill(tracee, "SIGINT");
    const result = await finished(server, 20_000);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!existsSync(marker), "no request value ran as a command");

    const lines = readFileSync(trace, "utf8").split("\n");
    // Every path any traced process touched, in any file system call.
    const paths = lines.flatMap((l) => [...l.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!));
    const hostile = paths.filter((p) => /secret|PWNED|touch/.test(p));
    assert.deepEqual(hostile, [], "no traced call named a secret file or carried shell syntax");
    // Under the test's folder, only these were ever looked at: the config, the
    // configured file, and the command (which reads its own frame).
    const touched = new Set(paths.filter((p) => p.startsWith(d)));
    assert.deepEqual(
      [...touched].sort(),
      [join(d, "cam", "cam.jpg"), join(d, "cmd.jpg"), program, config].sort(),
    );
    // The command was started with exactly its configured argv, never through a shell.
    const execs = lines.filter((l) => / execve\(/.test(l));
    const starts = execs.filter((l) => l.includes(`execve("${program}"`));
    assert.ok(starts.length >= 1, "the command ran");
    const argv = `[${[program, ...args].map((a) => JSON.stringify(a)).join(", ")}]`;
    for (const start of starts) assert.ok(start.includes(argv), start);
    const shells = execs.filter((l) => /execve\("[^"]*\/(ba|da)?sh", \[[^\]]*"-c"/.test(l));
    assert.deepEqual(shells, [], "no shell -c was run");
    const pids = [...new Set(starts.map((l) => Number(l.split(" ")[0])))];
    for (const pid of pids) assert.deepEqual(runningInGroup(pid), [], `command ${pid} is gone`);
  });
});
