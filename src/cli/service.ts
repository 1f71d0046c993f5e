/**
 * `mjpeg service print|install|uninstall`: `mjpeg serve` with the given
 * options as a systemd service, so a camera streams from boot. The serve
 * options are validated exactly as `mjpeg serve` would, before anything is
 * written.
 *
 * @module
 */
import { constants } from "node:fs";
import { access, rm, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { type SelfCommand, selfCommand } from "../runtime/self_command.ts";
import { spawnProcess } from "../runtime/spawn.ts";
import { normalizeServeArgs, parseServeArgs, SERVE_FLAGS } from "./serve_flags.ts";
import { type RawWord, systemdUnit } from "./systemd_unit.ts";
import { type CliIo, UsageError } from "./usage.ts";

/** The help text of `mjpeg service`. */
export const SERVICE_HELP =
  `Usage: mjpeg service print|install|uninstall [--name NAME] [--dry-run] [serve options]

Runs "mjpeg serve" with the serve options given as a systemd service that
starts at boot, restarts when it fails and logs to the journal. The options
are checked as "mjpeg serve" checks them before anything is written.

  print        print the unit file
  install      write /etc/systemd/system/mjpeg.service, then run
               "systemctl daemon-reload" and "systemctl enable --now" (as root)
  uninstall    "systemctl disable --now", remove the unit, daemon-reload (as root)

  --name NAME  the unit is mjpeg-NAME.service, so several can run
  --dry-run    print what install or uninstall would do, and do nothing
  -h, --help   this help

The unit runs this program by its absolute path, as a user of its own in the
video group, with the system read-only and only the camera devices open. A
--config file is handed to the service privately (LoadCredential=), so a
password in it stays out of the unit; --auth and --token given as options are
in the unit, where local users can read them.

Example:
  sudo mjpeg service install --camera --host 0.0.0.0 --config /etc/mjpeg.json
  journalctl -u mjpeg -f
`;

/** What `install` and `uninstall` do to the system; tests give their own. */
export interface ServiceSystem {
  /** Where unit files go. */
  unitDir: string;
  /** How to run this program again: the unit's ExecStart= before `serve`. */
  self(): SelfCommand;
  /** True when running as root. */
  isRoot(): boolean;
  /** True when the file exists. */
  exists(path: string): Promise<boolean>;
  /** Writes a file (mode 0644). */
  writeFile(path: string, text: string): Promise<void>;
  /** Removes a file. */
  removeFile(path: string): Promise<void>;
  /** Runs a program; resolves with its exit status and last output lines. */
  run(program: string, args: string[]): Promise<{ code: number | null; output: string }>;
}

/** The real system: /etc/systemd/system and systemctl. */
export const hostSystem: ServiceSystem = {
  unitDir: "/etc/systemd/system",
  self: selfCommand,
  isRoot: () => process.getuid?.() === 0,
  exists: (path) => access(path, constants.F_OK).then(() => true, () => false),
  writeFile: (path, text) => writeFile(path, text, { mode: 0o644 }),
  removeFile: (path) => rm(path),
  run: async (program, args) => {
    const child = await spawnProcess(program, args);
    const stdout = await new Response(child.stdout).text();
    const exit = await child.exited;
    return { code: exit.code, output: [stdout.trim(), ...child.stderrTail()].join("\n").trim() };
  },
};

const ACTIONS = ["print", "install", "uninstall"] as const;
type Action = (typeof ACTIONS)[number];
// Paths the service reads that a relative path would resolve wrongly from "/".
const PATH_FLAGS = new Set(["file", "camera-program"]);
const HOME = /^\/(home|root|run\/user)(\/|$)/;

/**
 * Runs `mjpeg service`.
 *
 * @param argv The arguments after `service`.
 * @param io Where the unit, the plan and messages go.
 * @param system The system to change (the host's by default).
 * @returns The exit status: 0 done, 1 failed (not root, systemctl failed), 2 bad options.
 */
export async function serviceCommand(
  argv: readonly string[],
  io: CliIo,
  system: ServiceSystem = hostSystem,
): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === "--help" || action === "-h") {
    io.stdout(SERVICE_HELP);
    return action === undefined ? 2 : 0;
  }
  if (!ACTIONS.includes(action as Action)) {
    throw new UsageError(
      "service",
      `expected print, install or uninstall, got ${JSON.stringify(action)}`,
    );
  }
  let name = "mjpeg";
  let dryRun = false;
  const serveArgs: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === "--help" || arg === "-h") {
      io.stdout(SERVICE_HELP);
      return 0;
    } else if (arg === "--dry-run") dryRun = true;
    else if (arg === "--name" || arg.startsWith("--name=")) {
      const value = arg === "--name" ? rest[++i] : arg.slice("--name=".length);
      if (value === undefined || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(value)) {
        throw new UsageError(
          "service",
          `--name: expected letters, digits, - and _ (it becomes mjpeg-NAME.service), got ${
            JSON.stringify(value ?? "nothing")
          }`,
        );
      }
      name = `mjpeg-${value}`;
    } else serveArgs.push(arg);
  }
  const unitPath = join(system.unitDir, `${name}.service`);
  if (action === "uninstall") {
    if (serveArgs.length > 0) {
      throw new UsageError("service", `uninstall: expected no serve options, got ${serveArgs[0]}`);
    }
    return await uninstall(name, unitPath, dryRun, io, system);
  }
  if (dryRun && action === "print") {
    throw new UsageError("service", "--dry-run: expected only with install or uninstall");
  }
  const unit = await buildUnit(name, serveArgs, io, system.self());
  if (action === "print") {
    io.stdout(unit);
    return 0;
  }
  return await install(name, unitPath, unit, dryRun, io, system);
}

/** Validates the serve options and makes the unit for them. */
async function buildUnit(
  name: string,
  serveArgs: string[],
  io: CliIo,
  self: SelfCommand,
): Promise<string> {
  const { config } = await parseServeArgs(serveArgs);
  if (!config) throw new UsageError("service", "expected serve options, got --help");
  const { tokens } = parseArgs({
    args: normalizeServeArgs(serveArgs),
    options: SERVE_FLAGS,
    strict: true,
    allowPositionals: false,
    tokens: true,
  });
  const words: (string | RawWord)[] = [...self.argv, "serve"];
  const shown: string[] = ["mjpeg", "serve"];
  const reads: string[] = self.kind === "binary" ? [self.argv[0]!] : [...self.argv];
  let credential: { name: string; path: string } | undefined;
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const flag = `--${token.name}`;
    let value = token.value;
    // `--camera` and `--on-demand` alone come back from normalizeServeArgs as `--flag=`.
    if (
      value === undefined ||
      ((token.name === "camera" || token.name === "on-demand") && value === "")
    ) {
      words.push(flag);
      shown.push(flag);
      continue;
    }
    if (token.name === "config") {
      // systemd copies the file to a directory only the service can read.
      credential = { name: "config.json", path: resolve(value) };
      words.push(flag, { raw: "${CREDENTIALS_DIRECTORY}/config.json" });
      shown.push(flag, credential.path);
      continue;
    }
    if (PATH_FLAGS.has(token.name) && (token.name === "file" || value.includes("/"))) {
      value = resolve(value);
      reads.push(value);
    }
    // A value starting with a dash is joined to its flag, as parseArgs needs it.
    if (value.startsWith("-")) words.push(`${flag}=${value}`);
    else words.push(flag, value);
    shown.push(flag, secret(token.name, value));
  }
  const secretFlag = tokens.find((t) => t.kind === "option" && /^(auth|token)$/.test(t.name));
  if (secretFlag?.kind === "option") {
    io.stderr(
      `mjpeg service: note: the unit holds the ${
        secretFlag.name === "auth" ? "password" : "token"
      }, which ` +
        `local users can read with "systemctl show ${name}"; put it in a --config file to ` +
        "keep it private\n",
    );
  }
  const inHome = reads.filter((p) => isAbsolute(p) && HOME.test(p));
  if (inHome.length > 0) {
    io.stderr(
      `mjpeg service: note: the service runs as its own user, which must be able to read ` +
        `${inHome[0]}; home directories are usually private: copy what it needs to ` +
        `/usr/local/bin, /opt or /srv\n`,
    );
  }
  return systemdUnit({
    name,
    command: words,
    summary: shown.join(" "),
    ...(self.kind !== "binary" && self.projectDir ? { workingDirectory: self.projectDir } : {}),
    ...(credential ? { credential } : {}),
    denoCache: self.kind === "deno",
    privilegedPort: config.port !== undefined && config.port > 0 && config.port < 1024,
    readsHome: inHome.length > 0 || (self.projectDir !== undefined && HOME.test(self.projectDir)),
  });
}

// What Description= shows of a value: no password, no token.
function secret(flag: string, value: string): string {
  if (flag === "auth") return value.replace(/:.*/s, ":***");
  return flag === "token" ? "***" : value;
}

async function install(
  name: string,
  unitPath: string,
  unit: string,
  dryRun: boolean,
  io: CliIo,
  system: ServiceSystem,
): Promise<number> {
  const existed = await system.exists(unitPath);
  const steps: [string, string[]][] = [
    ["systemctl", ["daemon-reload"]],
    ["systemctl", ["enable", "--now", `${name}.service`]],
    // enable --now leaves a running service as it is; new options need a restart.
    ...(existed ? [["systemctl", ["restart", `${name}.service`]] as [string, string[]]] : []),
  ];
  if (dryRun) {
    io.stdout(`would write ${unitPath}:\n${unit}\n`);
    for (const [program, args] of steps) io.stdout(`would run: ${program} ${args.join(" ")}\n`);
    return 0;
  }
  if (!system.isRoot()) return notRoot("install", unitPath, io);
  await system.writeFile(unitPath, unit);
  io.stderr(`wrote ${unitPath}\n`);
  if (!(await runSteps(steps, io, system))) return 1;
  io.stderr(
    `${name}.service is enabled and running; its log: journalctl -u ${name} -f; ` +
      `its state: systemctl status ${name}\n`,
  );
  return 0;
}

async function uninstall(
  name: string,
  unitPath: string,
  dryRun: boolean,
  io: CliIo,
  system: ServiceSystem,
): Promise<number> {
  const steps: [string, string[]][] = [["systemctl", ["disable", "--now", `${name}.service`]]];
  if (dryRun) {
    for (const [program, args] of steps) io.stdout(`would run: ${program} ${args.join(" ")}\n`);
    io.stdout(`would remove ${unitPath}\nwould run: systemctl daemon-reload\n`);
    return 0;
  }
  if (!system.isRoot()) return notRoot("uninstall", unitPath, io);
  if (!(await system.exists(unitPath))) {
    io.stderr(`mjpeg service uninstall: expected ${unitPath}, got no such file: not installed\n`);
    return 1;
  }
  if (!(await runSteps(steps, io, system))) return 1;
  await system.removeFile(unitPath);
  io.stderr(`removed ${unitPath}\n`);
  return (await runSteps([["systemctl", ["daemon-reload"]]], io, system)) ? 0 : 1;
}

function notRoot(action: string, unitPath: string, io: CliIo): number {
  io.stderr(
    `mjpeg service ${action}: expected to run as root (it changes ${unitPath} and runs ` +
      `systemctl), got user id ${process.getuid?.() ?? "unknown"}; run it with sudo, or add ` +
      "--dry-run to see what it would do\n",
  );
  return 1;
}

async function runSteps(
  steps: [string, string[]][],
  io: CliIo,
  system: ServiceSystem,
): Promise<boolean> {
  for (const [program, args] of steps) {
    const { code, output } = await system.run(program, args);
    if (code !== 0) {
      io.stderr(
        `mjpeg service: ${program} ${args.join(" ")} exited with status ${code}` +
          (output ? `: ${output}` : "") + "\n",
      );
      return false;
    }
  }
  return true;
}
