/**
 * Size and start-up time of the single-file binaries `npm run build:binaries`
 * writes, for each set of Bun build flags worth comparing: the x64 binary run
 * natively, the arm64 one under qemu-aarch64 (an emulator: its times show the
 * ratio between flag sets, not what a Raspberry Pi takes).
 *
 * Start-up is measured two ways, each the median of several rounds: `--help`
 * (load the bundle, print, exit) and `serve` until it logs "listening on".
 *
 * Usage: `bun bench/binary_startup.ts [runs]`
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";

const root = resolve(import.meta.dirname ?? ".", "..");
const runs = Number(process.argv[2] ?? 5);
const VARIANTS: Record<string, string> = {
  "none": "",
  "--minify --keep-names": "--minify --keep-names",
  "--bytecode": "--bytecode --format=esm",
  "--minify --keep-names --bytecode (kept)": "--minify --keep-names --bytecode --format=esm",
};
const TARGETS = {
  "linux-x64": [] as string[],
  "linux-arm64 (qemu)": ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"],
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timeHelp(command: string[]): number {
  const start = performance.now();
  const result = spawnSync(command[0]!, [...command.slice(1), "--help"], { stdio: "ignore" });
  if (result.status !== 0) throw new Error(`${command.join(" ")} --help: status ${result.status}`);
  return performance.now() - start;
}

function timeListening(command: string[]): Promise<number> {
  const start = performance.now();
  const child = spawn(command[0]!, [
    ...command.slice(1),
    "serve",
    "--port",
    "0",
    "--stats-interval",
    "0",
    "--pattern",
    "--width",
    "160",
    "--height",
    "120",
    "--fps",
    "1",
  ], { stdio: ["ignore", "ignore", "pipe"] }); // deno-fmt-ignore
  return new Promise((done, fail) => {
    let log = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`no "listening on" within 60 s:\n${log}`));
    }, 60_000);
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      log += text;
      if (!log.includes("listening on")) return;
      const elapsed = performance.now() - start;
      clearTimeout(timer);
      child.once("close", () => done(elapsed));
      child.kill("SIGKILL");
    });
  });
}

const out = mkdtempSync(join(tmpdir(), "mjpeg-binary-bench-"));
try {
  const cases: { name: string; target: string; binary: string; command: string[] }[] = [];
  for (const [name, flags] of Object.entries(VARIANTS)) {
    const dir = join(out, String(cases.length));
    const build = spawnSync(
      join(root, "node_modules/.bin/bun"),
      ["scripts/build_binaries.ts", "--out", dir, `--bun-flags=${flags}`],
      { cwd: root, encoding: "utf8" },
    );
    if (build.status !== 0) throw new Error(`build with ${flags}: ${build.stderr}`);
    for (const [target, prefix] of Object.entries(TARGETS)) {
      const binary = join(dir, `mjpeg-${target.split(" ")[0]}`);
      cases.push({ name, target, binary, command: [...prefix, binary] });
    }
  }
  // Rounds go through every case in turn, so a busy spell on a shared machine
  // slows all of them alike instead of one.
  const help = cases.map((): number[] => []);
  const listening = cases.map((): number[] => []);
  for (let round = 0; round < runs; round++) {
    for (const [i, c] of cases.entries()) {
      help[i]!.push(timeHelp(c.command));
      listening[i]!.push(await timeListening(c.command));
    }
  }
  console.log(`| Bun flags | target | size (MB) | \`--help\` (ms) | \`serve\` to listening (ms) |`);
  console.log(`| --- | --- | ---: | ---: | ---: |`);
  for (const [i, c] of cases.entries()) {
    const mb = (statSync(c.binary).size / 1e6).toFixed(1);
    console.log(
      `| ${c.name} | ${c.target} | ${mb} | ${median(help[i]!).toFixed(0)} | ${
        median(listening[i]!).toFixed(0)
      } |`,
    );
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
