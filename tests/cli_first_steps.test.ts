/**
 * What a new user tries first, as they would type it: `npm start -- --file
 * DIR`, the examples next to a running `npm start`, and a config file with a
 * typo at the top level.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mjpeg, writeConfig } from "./helpers/cli_run.ts";
import { fixtureFiles, fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { freePort } from "./helpers/ports.ts";
import { finished, start, waitForLog } from "./helpers/processes.ts";
import { repoRoot, scriptCommand } from "./helpers/runtime.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { until } from "./helpers/wait.ts";

describe("first steps", () => {
  it("npm start -- --file DIR serves the folder (the start script adds no source of its own)", async () => {
    const script: string = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"))
      .scripts.start;
    assert.doesNotMatch(script, /--pattern|--camera|--file|--url/, script);
    using folder = tempDir("start");
    writeFileSync(join(folder.path, "a.jpg"), readFileSync(fixtureFiles[0]!));
    // npm runs the script through sh; in a process group of its own, the
    // whole group (npm, sh, the server) is stopped together.
    await using npm = start(
      ["npm", "start", "--silent", "--", "--file", folder.path, "--port", "0"],
      { cwd: repoRoot, detached: true },
    );
    const [, url] = await waitForLog(npm, /listening on (http:\/\/\S+?)\/ /, 30_000);
    const response = await fetch(`${url}/snapshot.jpg`);
    assert.equal(response.status, 200);
    assert.equal(sha256(new Uint8Array(await response.arrayBuffer())), fixtureSums[0]);
  });

  for (const example of ["server.ts", "sources_camera_server.ts"]) {
    it(`examples/${example} takes --port, and by default a free port rather than npm start's 8080`, async () => {
      for (const args of [[], ["--port", String(await freePort())]]) {
        await using child = start([...scriptCommand(`examples/${example}`), ...args], {
          cwd: repoRoot,
          env: { PORT: "" },
        });
        const url = await until(
          () => /(http:\/\/127\.0\.0\.1:\d+)\//.exec(child.output.stdout)?.[1],
          () => `a URL printed: ${child.output.stdout}${child.output.stderr}`,
          20_000,
        );
        const port = Number(new URL(url).port);
        if (args.length) assert.equal(port, Number(args[1]));
        else assert.notEqual(port, 8080);
        const token = example === "server.ts" ? "?token=let-me-in-please" : "";
        const response = await fetch(`${url}/snapshot.jpg${token}`);
        assert.equal(response.status, 200, `${url}: ${await response.clone().text()}`);
        assert.equal(response.headers.get("content-type"), "image/jpeg");
        await response.arrayBuffer();
      }
    });
  }

  it("an example refuses a port that is not one, saying what came", async () => {
    const result = await finished(
      start([...scriptCommand("examples/server.ts"), "--port", "eighty"], { cwd: repoRoot }),
      20_000,
    );
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /expected --port \(or PORT\) to be a whole number 0\.\.65535, got "eighty"/,
    );
  });

  it("a config file's typo at the top level is reported with the file's name and the key", async () => {
    using folder = tempDir("config");
    const file = writeConfig(
      folder.path,
      { prot: 8081, streams: { cam: { type: "pattern" } } },
      "cameras.json",
    );
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

    writeConfig(folder.path, { streams: { cam: { type: "pattern", widht: 320 } } }, "cameras.json");
    const nested = await mjpeg("serve", "--config", file);
    assert.match(
      nested.stderr,
      /config file \S+cameras\.json: streams\.cam: unknown key "widht"/,
    );

    // A flag given with --config is reported as the flag, not as a key of the file.
    writeConfig(folder.path, { streams: { cam: { type: "pattern" } } }, "cameras.json");
    const flag = await mjpeg("serve", "--config", file, "--port", "70000");
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /mjpeg serve: --port: .*65535/);
    assert.doesNotMatch(flag.stderr, /config/);
  });
});
