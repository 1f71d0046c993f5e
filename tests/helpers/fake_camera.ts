/**
 * Stand-ins for rpicam-vid, in a temporary directory that goes away with the
 * test's block:
 * - `fakeCameraDir()`: sources_fake_rpicam.sh under the camera programs'
 *   names, which records its argv and streams JPEGs (made by ffmpeg, or the
 *   files of FAKE_CAMERA_FRAMES); `env` puts it first on PATH.
 * - `FakeCamera`: reliability_sources_camera.sh, which follows a plan per run
 *   (write these files, sleep, hang, exit …) and records what it did.
 */
import "./dispose.ts";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { sha256 } from "./hash.ts";
import { labelledJpeg } from "./jpeg.ts";
import { runningInGroup } from "./processes.ts";
import { type TempDir, tempDir } from "./temp_dir.ts";

const standIn = fileURLToPath(new URL("./sources_fake_rpicam.sh", import.meta.url));
const scripted = fileURLToPath(new URL("./reliability_sources_camera.sh", import.meta.url));

/** Copies `script` into `dir` under each of `names`, executable. */
export function installProgram(script: string, dir: string, ...names: string[]): void {
  for (const name of names) {
    copyFileSync(script, join(dir, name));
    chmodSync(join(dir, name), 0o755);
  }
}

/** One run of the stand-in camera: its pid and argv (argv[0] is the name it ran under). */
export interface CameraRun {
  pid: number;
  argv: string[];
}

/** A directory holding the stand-in camera, and what it recorded there. */
export interface FakeCameraDir extends TempDir {
  /** PATH with the directory first, FAKE_CAMERA_DIR, and the variables given. */
  readonly env: Record<string, string>;
  /** Every run so far, in no particular order. */
  runs(): CameraRun[];
  /** How many runs still run: their process group (the program leads one) has a live process. */
  running(): number;
}

/**
 * A temporary directory with the stand-in camera installed as each of `names`
 * (rpicam-vid); `env` adds FAKE_CAMERA_FRAMES, FAKE_CAMERA_ABSENT … (see the
 * script).
 */
export function fakeCameraDir(
  names: string[] = ["rpicam-vid"],
  env: Record<string, string> = {},
): FakeCameraDir {
  const dir = tempDir("camera");
  installProgram(standIn, dir.path, ...names);
  const runs = () =>
    readdirSync(dir.path).filter((n) => n.startsWith("run.")).map((n) => ({
      pid: Number(n.slice(4)),
      argv: readFileSync(join(dir.path, n), "utf8").trimEnd().split("\n"),
    }));
  return Object.assign(dir, {
    env: { PATH: `${dir.path}:${process.env.PATH}`, FAKE_CAMERA_DIR: dir.path, ...env },
    runs,
    running: () => runs().filter((run) => runningInGroup(run.pid).length > 0).length,
  });
}

/** One run of the scripted camera, from the files it left. */
export interface FakeRun {
  k: number;
  pid: number;
  startedAt: number;
  /** When it exited by itself (an `exit` operation), in ms since the epoch. */
  exitedAt: number | undefined;
}

/** The scripted camera in a temporary directory, and what it wrote; disposing it removes them. */
export class FakeCamera implements Disposable {
  readonly dir: TempDir = tempDir("reliability");
  /** The program to give `cameraSource({ programs: [...] })`. */
  readonly program: string;
  /** sha256 → label of every labelled file written for the camera to send. */
  readonly labels: Map<string, string> = new Map();
  readonly #fileLabels = new Map<string, string>();

  constructor() {
    this.program = join(this.dir.path, "rpicam-vid");
    installProgram(scripted, this.dir.path, "rpicam-vid");
  }

  /** Stores bytes the plans can `write`; returns the file name. */
  file(name: string, bytes: Uint8Array, label?: string): string {
    writeFileSync(join(this.dir.path, name), bytes);
    if (label !== undefined) {
      this.labels.set(sha256(bytes), label);
      this.#fileLabels.set(name, label);
    }
    return name;
  }

  /** The bytes of a stored file. */
  bytes(name: string): Uint8Array {
    return new Uint8Array(readFileSync(join(this.dir.path, name)));
  }

  /** The label of a stored file, if it has one. */
  labelOf(name: string): string | undefined {
    return this.#fileLabels.get(name);
  }

  /** Stores a labelled JPEG `label` and returns its file name. */
  jpeg(label: string, index: number): string {
    return this.file(`${label}.jpg`, labelledJpeg(label, index), label);
  }

  /** Sets what run `k` (or every run without its own plan) does. */
  plan(k: number | "default", ops: string[]): void {
    writeFileSync(join(this.dir.path, `plan.${k}`), ops.join("\n") + "\n");
  }

  /** The runs so far, in order. */
  runs(): FakeRun[] {
    const out: FakeRun[] = [];
    for (let k = 0; existsSync(join(this.dir.path, `pid.${k}`)); k++) {
      const [pid, at] = this.read(`pid.${k}`)!.split(" ").map(Number);
      const exit = this.read(`exit.${k}`);
      out.push({ k, pid: pid!, startedAt: at!, exitedAt: exit ? Number(exit) : undefined });
    }
    return out;
  }

  /** A time the fake recorded with `stamp NAME` in run `k`. */
  stamp(name: string, k: number): number | undefined {
    const text = this.read(`${name}.${k}`);
    return text ? Number(text) : undefined;
  }

  /** Removes its directory. */
  [Symbol.dispose](): void {
    this.dir.remove();
  }

  private read(name: string): string | undefined {
    try {
      return readFileSync(join(this.dir.path, name), "utf8").trim() || undefined;
    } catch {
      return undefined; // being written, or not there
    }
  }
}
