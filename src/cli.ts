/**
 * The `mjpeg` command: serve a camera, a program, files, another stream or a
 * test pattern; probe, snapshot and record any MJPEG URL.
 *
 * Runs unchanged with `deno run -A src/cli.ts`, `bun src/cli.ts` and
 * `npx tsx src/cli.ts`, or as a standalone binary built by
 * `bun build --compile`.
 *
 * @example
 * ```sh
 * deno run -A jsr:@mjpeg/stream/cli serve --camera --width 1280 --height 720
 * ```
 *
 * @module
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import { realpathSync } from "node:fs";
import { escapeControls } from "./errors.ts";
import { camerasCommand } from "./cli/cameras.ts";
import { probeCommand, recordCommand, snapshotCommand } from "./cli/capture.ts";
import { serveCommand } from "./cli/serve.ts";
import { serviceCommand } from "./cli/service.ts";
import { type CliIo, UsageError } from "./cli/usage.ts";

export type { CliIo } from "./cli/usage.ts";

/** The package's version, as in package.json and deno.json (a test keeps the three equal). */
export const VERSION = "0.1.0";

const HELP = `Usage: mjpeg <command> [options]

MJPEG over HTTP: serve a camera, a program, files, another stream or a test
pattern to many viewers; read any MJPEG stream.

Commands:
  serve      serve a source over HTTP (default source: the test pattern)
  probe      print a stream's stats every few seconds
  snapshot   save one frame of a stream as a JPEG
  record     save a stream's frames to a file
  cameras    list the Raspberry Pi cameras (rpicam-hello --list-cameras)
  service    run "mjpeg serve" at boot as a systemd service (print, install, uninstall)

Run "mjpeg <command> --help" for a command's options, "mjpeg --version" for the version.
`;

const COMMANDS: Record<string, (argv: readonly string[], io: CliIo) => Promise<number>> = {
  serve: serveCommand,
  probe: probeCommand,
  snapshot: snapshotCommand,
  record: recordCommand,
  cameras: camerasCommand,
  service: (argv, io) => serviceCommand(argv, io),
};

const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/**
 * Runs the `mjpeg` command with `args` (without the program name) and
 * resolves with its exit status: 0 success, 1 failure, 2 a bad command line.
 *
 * @param args The arguments, e.g. `["serve", "--port", "9000"]`.
 * @param io Where output goes; the process's stdout and stderr by default.
 * @returns The exit status.
 *
 * @example
 * ```ts ignore
 * import { main } from "@mjpeg/stream/cli";
 * Deno.exit(await main(["snapshot", "http://127.0.0.1:8080/stream.mjpg", "-o", "now.jpg"]));
 * ```
 */
export async function main(args: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === "--version" || name === "-V") {
    io.stdout(`mjpeg ${VERSION}\n`);
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(
      `mjpeg: expected a command (${Object.keys(COMMANDS).join(", ")}), got ${
        JSON.stringify(name)
      }\n` +
        `Run "mjpeg --help" for usage.\n`,
    );
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(
        `mjpeg ${error.command}: ${error.message}\nRun "mjpeg ${error.command} --help" for usage.\n`,
      );
      return 2;
    }
    io.stderr(`mjpeg ${name}: ${escapeControls(String((error as Error).message ?? error))}\n`);
    return 1;
  }
}

// Run when executed directly (deno run, bun, tsx, a compiled binary), not when imported.
function isEntryPoint(): boolean {
  const meta = import.meta as ImportMeta & { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
