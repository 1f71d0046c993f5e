import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { findProgram, SpawnError, spawnProcess } from "../src/runtime/spawn.ts";
import { isAlive, runningInGroup } from "./helpers/processes.ts";
import { sleep } from "./helpers/wait.ts";

describe("spawnProcess", () => {
  it("reads stdout to the end and keeps stderr's last lines", async () => {
    const child = await spawnProcess(
      "sh",
      ["-c", "for i in 1 2 3 4 5; do echo line $i >&2; done; head -c 100000 /dev/zero; exit 7"],
      { stderrLines: 3 },
    );
    let bytes = 0;
    for await (const chunk of child.stdout) bytes += chunk.length;
    assert.equal(bytes, 100000);
    assert.deepEqual(await child.exited, { code: 7, signal: null });
    assert.deepEqual(child.stderrTail(), ["line 3", "line 4", "line 5"]);
  });

  it("stops with SIGINT, and with SIGKILL after the grace period; nothing of the group is left", async () => {
    const polite = await spawnProcess("sleep", ["30"]);
    assert.deepEqual(await polite.stop(1000), { code: null, signal: "SIGINT" });
    assert.ok(!isAlive(polite.pid));

    // A wrapper that ignores SIGINT and runs a child of its own.
    const stubborn = await spawnProcess("sh", ["-c", "trap '' INT; sleep 30 & wait"]);
    await sleep(200); // let the shell install its trap
    assert.equal(runningInGroup(stubborn.pid).length, 2, "the shell and its sleep");
    const started = Date.now();
    assert.deepEqual(await stubborn.stop(300), { code: null, signal: "SIGKILL" });
    assert.ok(Date.now() - started < 3000);
    assert.deepEqual(runningInGroup(stubborn.pid), [], "the whole process group is gone");
  });

  it("says which program could not be run", async () => {
    await assert.rejects(spawnProcess("no-such-program-here", []), (error: unknown) => {
      assert.ok(error instanceof SpawnError);
      assert.equal(error.code, "ENOENT");
      assert.match(error.message, /cannot run "no-such-program-here"/);
      return true;
    });
    assert.equal(findProgram("no-such-program-here"), undefined);
    assert.match(findProgram("sh") ?? "", /\/sh$/);
  });
});
