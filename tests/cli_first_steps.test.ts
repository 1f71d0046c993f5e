/**
 * What a new user tries first, as they would type it: `npm start -- --file
 * DIR`, the examples next to a running `npm start`, and a config file with a
 * typo at the top level.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../src/cli.ts";
import { finished, repoRoot, sendSignal, startCli } from "./helpers/cli_run.ts";
import { runtimeName } from "./helpers/tools.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const FRAME = new URL("./fixtures/frames/001.jpg", import.meta.url);

async function mjpeg(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const code = await main(args, { stdout: () => {}, stderr: (t) => stderr += t });
  return { code, stderr };
}

/** How to run a TypeScript file with the runtime running this test. */
function runScript(file: string): string[] {
  if (runtimeName === "deno") return [process.execPath, "run", "-A", file];
  if (runtimeName === "bun") return [process.execPath, file];
  return [process.execPath, "--import", "tsx", file];
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("first steps", () => {
  it("npm start -- --file DIR serves the folder (the start script adds no source of its own)", async () => {
    const script: string = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"))
      .scripts.start;
    assert.doesNotMatch(script, /--pattern|--camera|--file|--url/, script);
    const folder = mkdtempSync(join(tmpdir(), "mjpeg-start-"));
    writeFileSync(join(folder, "a.jpg"), readFileSync(FRAME));
    // npm runs the script through sh; in a process group of its own, the
    // whole group (npm, sh, the server) can be stopped together.
    const child = spawn("npm", ["start", "--silent", "--", "--file", folder, "--port", "0"], {
      cwd: repoRoot,
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    child.stderr.setEncoding("utf8").on("data", (t: string) => log += t);
    const exited = new Promise((resolve) => child.once("close", resolve));
    try {
      const deadline = Date.now() + 30_000;
      let url: string | undefined;
      while (!url && Date.now() < deadline && child.exitCode === null) {
        url = /listening on (http:\/\/\S+?)\/ /.exec(log)?.[1];
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(url, `npm start did not listen:\n${log}`);
      const response = await fetch(`${url}/snapshot.jpg`);
      assert.equal(response.status, 200);
      assert.equal(
        sha256(new Uint8Array(await response.arrayBuffer())),
        sha256(readFileSync(FRAME)),
      );
    } finally {
      try {
        process.kill(-child.pid!, "SIGINT");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(folder, { recursive: true, force: true });
    }
  });

  for (const example of ["server.ts", "sources_camera_server.ts"]) {
    it(`examples/${example} takes --port, and by default a free port rather than npm start's 8080`, async () => {
      for (const args of [[], ["--port", String(await freePort())]]) {
        const child = startCli([`examples/${example}`, ...args], {
          command: runScript("").slice(0, -1),
          env: { PORT: "" },
        });
        try {
          const deadline = Date.now() + 20_000;
          let url: string | undefined;
          while (!url && Date.now() < deadline && child.exitCode === null) {
            url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(child.output.stdout)?.[1];
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          assert.ok(url, `no URL printed: ${child.output.stdout}${child.output.stderr}`);
          const port = Number(new URL(url).port);
          if (args.length) assert.equal(port, Number(args[1]));
          else assert.notEqual(port, 8080);
          const token = example === "server.ts" ? "?token=let-me-in-please" : "";
          const response = await fetch(`${url}/snapshot.jpg${token}`);
          assert.equal(response.status, 200, `${url}: ${await response.clone().text()}`);
          assert.equal(response.headers.get("content-type"), "image/jpeg");
          await response.arrayBuffer();
        } finally {
          sendSignal(child, "SIGINT");
          await finished(child, 10_000);
        }
      }
    });
  }

  it("an example refuses a port that is not one, saying what came", async () => {
    const child = startCli(["examples/server.ts", "--port", "eighty"], {
      command: runScript("").slice(0, -1),
    });
    const result = await finished(child, 20_000);
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /expected --port \(or PORT\) to be a whole number 0\.\.65535, got "eighty"/,
    );
  });

  it("a config file's typo at the top level is reported with the file's name and the key", async () => {
    const folder = mkdtempSync(join(tmpdir(), "mjpeg-config-"));
    const file = join(folder, "cameras.json");
    try {
      writeFileSync(file, JSON.stringify({ prot: 8081, streams: { cam: { type: "pattern" } } }));
      const top = await mjpeg("serve", "--config", file);
      assert.equal(top.code, 2);
      assert.match(
        top.stderr,
        new RegExp(
          `config file ${
            file.replace(/[.\\/]/g, "\\$&")
          }: unknown key "prot", expected one of port, host,`,
        ),
      );

      writeFileSync(file, JSON.stringify({ streams: { cam: { type: "pattern", widht: 320 } } }));
      const nested = await mjpeg("serve", "--config", file);
      assert.match(
        nested.stderr,
        /config file \S+cameras\.json: streams\.cam: unknown key "widht"/,
      );

      // A flag given with --config is reported as the flag, not as a key of the file.
      writeFileSync(file, JSON.stringify({ streams: { cam: { type: "pattern" } } }));
      const flag = await mjpeg("serve", "--config", file, "--port", "70000");
      assert.equal(flag.code, 2);
      assert.match(flag.stderr, /mjpeg serve: --port: .*65535/);
      assert.doesNotMatch(flag.stderr, /config/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
