import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { splitCommandLine } from "../src/cli/usage.ts";
import { assertUsageErrors, mjpeg, runCli } from "./helpers/cli_run.ts";

describe("mjpeg command line", () => {
  it("prints help for the command and every subcommand, exit status 0", async () => {
    const top = await mjpeg("--help");
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Usage: mjpeg <command>/);
    for (const command of ["serve", "probe", "snapshot", "record"]) {
      const r = await mjpeg(command, "--help");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Usage: mjpeg ${command}`));
    }
  });

  it("rejects bad command lines with what was expected, exit status 2", async () => {
    const bare = await mjpeg();
    assert.equal(bare.code, 2);
    assert.match(bare.stdout, /Usage: mjpeg <command>/);
    const cases: [string[], RegExp][] = [
      [
        ["stream"],
        /expected a command \(serve, probe, snapshot, record, cameras, service\), got "stream"/,
      ],
      [["serve", "--bogus"], /Unknown option '--bogus'; expected one of --pattern/],
      [["serve", "--port", "70000"], /--port: .*65535/],
      [["serve", "--port"], /--port/],
      [["serve", "--width", "wide"], /--width: expected a number, got "wide"/],
      [
        ["serve", "--url", "http://x/", "--width", "320"],
        /--width: expected only with --pattern, --camera, --webcam, not with --url/,
      ],
      [["serve", "--camera", "--url", "http://x/"], /expected one source, got --camera and --url/],
      [["serve", "--url", "ftp://x/"], /--url: expected an http:\/\/ or https:\/\/ URL/],
      [["serve", "--auth", "nocolon"], /--auth: expected user:password/],
      [
        ["serve", "--auth", "a:b", "--token", "long-enough"],
        /expected --auth or --token, not both/,
      ],
      [["serve", "--token", "short"], /--token: expected a token of at least 8 characters/],
      [["serve", "--command", "ffmpeg 'unclosed"], /--command: expected a closing '/],
      [["serve", "--config", "/nonexistent/streams.json"], /cannot read config file/],
      [["serve", "stray"], /expected only flags, got "stray"/],
      [["snapshot", "http://127.0.0.1:9/"], /expected a file name \(-o out.jpg\)/],
      [["record", "http://127.0.0.1:9/", "-o", "x", "--frames", "0"], /--frames > 0/],
      [
        ["record", "http://127.0.0.1:9/", "-o", "x", "--format", "avi"],
        /--format: expected raw or multipart/,
      ],
      [["probe", "not-a-url"], /URL: expected an http:\/\/ or https:\/\/ URL/],
      [["probe"], /expected one URL, got 0 arguments/],
      [
        ["probe", "http://127.0.0.1:9/", "--interval", "0"],
        /--interval: expected > 0 and <= 86400 seconds/,
      ],
      [
        ["snapshot", "http://127.0.0.1:9/", "-o", "x", "--timeout", "3601"],
        /--timeout: expected > 0 and <= 3600 seconds/,
      ],
      [
        ["record", "http://127.0.0.1:9/", "-o", "x", "--seconds", "604801"],
        /--seconds: expected > 0 and <= 604800 seconds/,
      ],
      [
        ["serve", "--stats-interval", "86401"],
        /--stats-interval: expected between 0 and 86400 seconds; 0 turns them off/,
      ],
    ];
    await assertUsageErrors([], cases);
  });

  it("exits with status 2 and a message as a real process too", async () => {
    const r = await runCli(["serve", "--fps", "fast"]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /mjpeg serve: --fps: expected a number, got "fast"\nRun "mjpeg serve --help"/,
    );
    const help = await runCli(["record", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: mjpeg record URL -o FILE/);
  });

  it("splits --command like a shell would, without running one", () => {
    assert.deepEqual(
      splitCommandLine(`ffmpeg -i "my file.mp4" -vf 'scale=320:-1' a\\ b $(rm) ;`),
      ["ffmpeg", "-i", "my file.mp4", "-vf", "scale=320:-1", "a b", "$(rm)", ";"],
    );
    assert.deepEqual(splitCommandLine(`  x  ""  `), ["x", ""]);
  });
});
