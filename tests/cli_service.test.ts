import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseServeArgs } from "../src/cli/serve_flags.ts";
import { serviceCommand, type ServiceSystem } from "../src/cli/service.ts";
import { quoteExecArg } from "../src/cli/systemd_unit.ts";
import { UsageError } from "../src/cli/usage.ts";
import { cliCommand, runCli, writeConfig } from "./helpers/cli_run.ts";
import { repoRoot, runtimeName } from "./helpers/runtime.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";
import { verifyUnit } from "./helpers/systemd.ts";

/** What `mjpeg service print` puts before `serve` when run from sources on this runtime. */
function selfArgv(): string[] {
  const [program, ...rest] = cliCommand();
  return [
    realpathSync(program!),
    ...rest.slice(0, -1),
    realpathSync(resolve(repoRoot, rest.at(-1)!)),
  ];
}

/** A system that records what install and uninstall would do to it. */
function fakeSystem(root: boolean, failing?: string) {
  const dir = tempDir("unit-dir");
  const calls: string[] = [];
  const system: ServiceSystem = {
    unitDir: dir.path,
    self: () => ({ kind: "binary", argv: ["/usr/local/bin/mjpeg"] }),
    isRoot: () => root,
    exists: (path) => Promise.resolve(existsSync(path)),
    writeFile: (path, text) => Promise.resolve(writeFileSync(path, text)),
    removeFile: (path) => {
      calls.push(`rm ${path}`);
      return Promise.resolve(spawnSync("rm", [path]) && undefined);
    },
    run: (program, args) => {
      calls.push(`${program} ${args.join(" ")}`);
      const fails = failing !== undefined && args.join(" ").includes(failing);
      return Promise.resolve({ code: fails ? 1 : 0, output: fails ? "Unit not found." : "" });
    },
  };
  return Object.assign(dir, { calls, system });
}

async function service(system: ServiceSystem, ...args: string[]) {
  let stdout = "", stderr = "";
  const code = await serviceCommand(args, {
    stdout: (t) => stdout += t,
    stderr: (t) => stderr += t,
  }, system);
  return { code, stdout, stderr };
}

describe("mjpeg service", () => {
  it("prints a hardened unit systemd-analyze verify accepts, running this runtime with the serve options", async (t) => {
    if (!requireTools(t, "systemd-analyze")) return;
    const args = [
      "--camera",
      "1",
      "--host",
      "0.0.0.0",
      "--port",
      "8080",
      "--auth",
      "pi:secret-pass",
    ];
    const r = await runCli(["service", "print", ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(verifyUnit(r.stdout), [...selfArgv(), "serve", ...args]);
    for (
      const line of [
        "Description=mjpeg-stream: mjpeg serve --camera 1 --host 0.0.0.0 --port 8080 --auth pi:***",
        `WorkingDirectory=${realpathSync(repoRoot)}`,
        "Restart=on-failure",
        "StandardOutput=journal",
        "StandardError=journal",
        "DynamicUser=yes",
        "SupplementaryGroups=video",
        "DevicePolicy=closed",
        "DeviceAllow=char-video4linux rw",
        "DeviceAllow=char-media rw",
        "DeviceAllow=char-dma_heap rw",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "WantedBy=multi-user.target",
      ]
    ) {
      assert.ok(r.stdout.split("\n").includes(line), `${line} in\n${r.stdout}`);
    }
    assert.match(r.stderr, /the unit holds the password, which local users can read/);
    if (runtimeName === "deno") {
      assert.match(r.stdout, /^Environment=DENO_DIR=\/var\/cache\/mjpeg$/m);
    }
  });

  it("keeps --on-demand without seconds as it was given, beside --camera", async (t) => {
    if (!requireTools(t, "systemd-analyze")) return;
    const r = await runCli(["service", "print", "--camera", "--on-demand", "--keepalive", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(verifyUnit(r.stdout), [
      ...selfArgv(),
      "serve",
      "--camera",
      "--on-demand",
      "--keepalive",
      "2",
    ]);
  });

  it("quotes awkward arguments (spaces, quotes, %, $, backslashes, ;) so serve gets them as given", async (t) => {
    if (!requireTools(t, "systemd-analyze")) return;
    const args = [
      "--command",
      `ffmpeg -i 'my clip.mp4' -vf "drawtext=text='50% of $HOME ${"${USER}"}'" -f mjpeg -`,
      "--auth",
      `pi:pa$$w0rd 100% "sure" back\\slash`,
      "--cors",
      ";",
      "--host",
      "%n$",
      "--no-restart",
      "--stall-timeout",
      "0.8",
    ];
    const r = await runCli(["service", "print", ...args]);
    assert.equal(r.code, 0, r.stderr);
    const argv = verifyUnit(r.stdout);
    const self = selfArgv();
    assert.deepEqual(argv.slice(0, self.length + 1), [...self, "serve"]);
    assert.deepEqual(argv.slice(self.length + 1), args);
    // And serve reads them as the same configuration.
    assert.deepEqual(
      (await parseServeArgs(argv.slice(self.length + 1))).config,
      (await parseServeArgs(args)).config,
    );
    // Control characters, which a dump shows raw, are C-escaped in the unit.
    assert.equal(quoteExecArg("a\nb\tc\x01"), '"a\\nb\\tc\\x01"');
    assert.equal(quoteExecArg(""), '""');
  });

  it("hands a --config file to the service privately by its absolute path; --name, --file, ports below 1024", async (t) => {
    if (!requireTools(t, "systemd-analyze")) return;
    using dir = tempDir("service-config");
    const config = writeConfig(dir.path, { port: 80, streams: { cam: { type: "camera" } } });
    const r = await runCli([
      "service",
      "print",
      "--name",
      "garage",
      "--config",
      relative(repoRoot, config),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(verifyUnit(r.stdout, "mjpeg-garage"), [
      ...selfArgv(),
      "serve",
      "--config",
      "${CREDENTIALS_DIRECTORY}/config.json",
    ]);
    const lines = r.stdout.split("\n");
    for (
      const line of [
        `LoadCredential=config.json:${config}`,
        "SyslogIdentifier=mjpeg-garage",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
      ]
    ) assert.ok(lines.includes(line), `${line} in\n${r.stdout}`);
    assert.equal(r.stderr, "", "no note: the password would be in the file");
    const token = ["--token", "long-token"];
    const flagged = await runCli(["service", "print", "--config", config, ...token]);
    assert.equal(flagged.code, 0, flagged.stderr);
    assert.match(flagged.stderr, /the unit holds the token, which local users can read/);

    const files = await runCli([
      "service",
      "print",
      "--file",
      "tests/fixtures/frames",
      "--fps",
      "5",
    ]);
    assert.equal(files.code, 0, files.stderr);
    assert.deepEqual(verifyUnit(files.stdout).slice(-5), [
      "serve",
      "--file",
      join(realpathSync(repoRoot), "tests/fixtures/frames"),
      "--fps",
      "5",
    ]);
  });

  it("refuses bad options with exit status 2 and writes nothing", async () => {
    const cases: [string[], RegExp][] = [
      [["install", "--port", "70000"], /--port: .*65535/],
      [
        ["install", "--camera", "--url", "http://x/"],
        /expected one source, got --camera and --url/,
      ],
      [["install", "--camera=16"], /--camera: .*<=15/],
      [["print", "--bogus"], /Unknown option '--bogus'/],
      [["install", "--name", "../etc"], /--name: expected letters, digits, - and _/],
      [["install", "--config", "/nonexistent/streams.json"], /cannot read config file/],
      [["frobnicate"], /expected print, install or uninstall, got "frobnicate"/],
      [["uninstall", "--camera"], /uninstall: expected no serve options, got --camera/],
      [["print", "--dry-run", "--camera"], /--dry-run: expected only with install or uninstall/],
    ];
    for (const [args, message] of cases) {
      using fake = fakeSystem(true);
      await assert.rejects(service(fake.system, ...args), (error: Error) => {
        assert.ok(error instanceof UsageError, `${args.join(" ")}: ${error}`);
        assert.match(error.message, message, args.join(" "));
        return true;
      });
      assert.deepEqual(fake.calls, []);
      assert.equal(existsSync(join(fake.path, "mjpeg.service")), false);
    }
    const r = await runCli(["service", "print", "--fps", "fast", "--camera"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /mjpeg serve: --fps: expected a number, got "fast"/);
  });

  it("installs as root only: writes the unit, reloads, enables and starts it; uninstall reverses it", async () => {
    using user = fakeSystem(false);
    const refused = await service(user.system, "install", "--camera");
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /mjpeg service install: expected to run as root .*run it with sudo/,
    );
    assert.deepEqual(user.calls, []);
    assert.equal(existsSync(join(user.path, "mjpeg.service")), false);

    const dry = await service(
      user.system,
      "install",
      "--dry-run",
      "--camera",
      "--host",
      "0.0.0.0",
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      new RegExp(`^would write ${join(user.path, "mjpeg.service")}:\n# mjpeg.service`),
    );
    assert.match(
      dry.stdout,
      /^ExecStart=\/usr\/local\/bin\/mjpeg serve --camera --host 0\.0\.0\.0$/m,
    );
    assert.match(
      dry.stdout,
      /would run: systemctl daemon-reload\nwould run: systemctl enable --now mjpeg\.service\n$/,
    );
    assert.deepEqual(user.calls, []);
    assert.equal(existsSync(join(user.path, "mjpeg.service")), false);
    assert.equal((await service(user.system, "uninstall")).code, 1);
    using root = fakeSystem(true);
    const unitPath = join(root.path, "mjpeg.service");
    const printed = await service(root.system, "print", "--camera");
    const installed = await service(root.system, "install", "--camera");
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal(readFileSync(unitPath, "utf8"), printed.stdout);
    assert.deepEqual(root.calls, [
      "systemctl daemon-reload",
      "systemctl enable --now mjpeg.service",
    ]);
    assert.match(installed.stderr, /journalctl -u mjpeg -f/);

    // Installing again with new options restarts it with them.
    root.calls.length = 0;
    assert.equal((await service(root.system, "install", "--camera", "1")).code, 0);
    assert.match(
      readFileSync(unitPath, "utf8"),
      /^ExecStart=\/usr\/local\/bin\/mjpeg serve --camera 1$/m,
    );
    assert.deepEqual(root.calls, [
      "systemctl daemon-reload",
      "systemctl enable --now mjpeg.service",
      "systemctl restart mjpeg.service",
    ]);

    root.calls.length = 0;
    const removed = await service(root.system, "uninstall");
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(root.calls, [
      "systemctl disable --now mjpeg.service",
      `rm ${unitPath}`,
      "systemctl daemon-reload",
    ]);
    assert.equal(existsSync(unitPath), false);
    const again = await service(root.system, "uninstall");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not installed/);
    using failing = fakeSystem(true, "enable");
    const r = await service(failing.system, "install", "--name", "door", "--camera");
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /systemctl enable --now mjpeg-door\.service exited with status 1: Unit not found\./,
    );
  });
});
