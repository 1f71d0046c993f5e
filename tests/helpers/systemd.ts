/**
 * Checking systemd units with the real systemd-analyze, for the tests of
 * `mjpeg service`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { splitCommandLine } from "../../src/cli/usage.ts";
import { tempDir } from "./temp_dir.ts";

/**
 * Checks a unit with systemd-analyze verify, then reads back the argv systemd
 * parsed from its ExecStart= (verify dumps the loaded unit at debug level,
 * quoting words as a shell would), with variables expanded as systemd does
 * when it runs the command: `$$` becomes `$`, `$VAR` and `${VAR}` the
 * variable's value, here empty but for the credentials directory.
 */
export function verifyUnit(unit: string, name = "mjpeg"): string[] {
  using dir = tempDir("unit");
  const file = join(dir.path, `${name}.service`);
  writeFileSync(file, unit);
  const verify = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr, "", "no warnings");
  const dump = spawnSync("systemd-analyze", ["verify", file], {
    encoding: "utf8",
    env: { ...process.env, SYSTEMD_LOG_LEVEL: "debug" },
  });
  const line = /-> ExecStart:\n\s+Command Line: (.*)\n/.exec(dump.stdout);
  assert.ok(line, `ExecStart in the dump:\n${dump.stdout}`);
  return splitCommandLine(line[1]!).map((word) =>
    word.replace(
      /\$\$|\$\{(\w+)\}|\$(\w+)/g,
      (match, braced?: string) =>
        match === "$$" ? "$" : braced === "CREDENTIALS_DIRECTORY" ? match : "",
    )
  );
}
