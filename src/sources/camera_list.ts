/**
 * Which Raspberry Pi cameras are attached: runs `rpicam-hello --list-cameras`
 * (or `libcamera-hello` on older Raspberry Pi OS) and parses what it prints.
 *
 * The format is rpicam-apps' (core/options.cpp), one block per camera:
 *
 * ```text
 * Available cameras
 * -----------------
 * 0 : imx708 [4608x2592 10-bit RGGB] (/base/soc/i2c0mux/i2c@1/imx708@1a)
 *     Modes: 'SRGGB10_CSI2P' : 1536x864 [120.13 fps - (768, 432)/3072x1728 crop]
 *                              2304x1296 [56.03 fps - (0, 0)/4608x2592 crop]
 * ```
 *
 * or `No cameras available!`. Older releases printed no frame rates
 * (`'SRGGB12_CSI2P' : 2028x1080 2028x1520`) and no bit depth; `-v` adds an
 * "Available controls" block, which is skipped.
 *
 * @module
 */
import { SpawnError, spawnProcess } from "../runtime/spawn.ts";

/** One sensor mode: a raw format at one size, and how fast it can run. */
export interface CameraMode {
  /** The sensor's raw format, e.g. `SRGGB10_CSI2P`. */
  format: string;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** The fastest frame rate of this mode; absent when the program did not say. */
  fps?: number;
  /** The part of the sensor this mode reads, in sensor pixels; absent when not said. */
  crop?: { x: number; y: number; width: number; height: number };
}

/** One camera as `rpicam-hello --list-cameras` reports it. */
export interface CameraInfo {
  /** Its number: what `--camera N` (and rpicam-vid's `--camera`) selects. */
  index: number;
  /** The sensor model, e.g. `imx708`, `imx708_wide`, `imx219`, `ov5647`. */
  model: string;
  /** The sensor's active pixel array, when reported. */
  pixelArray?: { width: number; height: number };
  /** The deepest raw format's bits per pixel, when reported. */
  bitDepth?: number;
  /** The colour filter arrangement (`RGGB`, `MONO`, …), when reported. */
  colourFilter?: string;
  /** libcamera's id for it: the device-tree path of the sensor. */
  device: string;
  /** Its sensor modes, in the order listed. */
  modes: CameraMode[];
}

const CAMERA_LINE = /^(\d+)\s*:\s*(\S+)\s*(?:\[([^\]]*)\])?\s*\((.*)\)\s*$/;
const FORMAT = /^\s*(?:Modes:\s*)?'([^']+)'\s*:(.*)$/;
// A size, optionally followed by today's "[fps fps - (x, y)/WxH crop]" or 2022's "(fps fps)".
const SIZE =
  /(\d+)x(\d+)(?:\s*\[\s*([\d.]+|-?nan|inf)\s*fps\s*-\s*\((\d+),\s*(\d+)\)\/(\d+)x(\d+)\s*crop\s*\]|\s*\(([\d.]+)\s*fps\))?/gi;

/**
 * Parses the output of `rpicam-hello --list-cameras`.
 *
 * @param text What the program printed (stdout, or stdout and stderr).
 * @returns The cameras, in the order listed; empty for "No cameras available!".
 * @throws {Error} When the text is neither a camera list nor "No cameras
 * available!", quoting how it starts.
 *
 * @example
 * ```ts
 * import { parseCameraList } from "./camera_list.ts";
 * const [camera] = parseCameraList(
 *   "Available cameras\n-----------------\n" +
 *     "0 : ov5647 [2592x1944 10-bit GBRG] (/base/soc/i2c0mux/i2c@1/ov5647@36)\n" +
 *     "    Modes: 'SGBRG10_CSI2P' : 640x480 [58.92 fps - (16, 0)/2560x1920 crop]\n",
 * );
 * camera!.modes[0]!.fps; // 58.92
 * ```
 */
export function parseCameraList(text: string): CameraInfo[] {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => /^\s*Available cameras\s*$/.test(l));
  if (start < 0) {
    if (lines.some((l) => /No cameras available/i.test(l))) return [];
    const first = lines.find((l) => l.trim() !== "") ?? "";
    throw new Error(
      `expected "Available cameras" or "No cameras available!", got ${
        first ? JSON.stringify(first.slice(0, 120)) : "no output"
      }`,
    );
  }
  const cameras: CameraInfo[] = [];
  let camera: CameraInfo | undefined;
  let format: string | undefined;
  let inControls = false; // `-v` lists controls after the modes, until the next camera
  for (const line of lines.slice(start + 1)) {
    const head = CAMERA_LINE.exec(line);
    if (head) {
      camera = { index: Number(head[1]), model: head[2]!, device: head[4]!, modes: [] };
      describeSensor(camera, head[3] ?? "");
      cameras.push(camera);
      format = undefined;
      inControls = false;
      continue;
    }
    if (/Available controls/.test(line)) inControls = true;
    if (!camera || inControls) continue;
    const named = FORMAT.exec(line);
    if (named) format = named[1];
    else if (!/^\s+\d+x\d+/.test(line)) continue; // blank lines, dashes
    if (format === undefined) continue;
    const rest = named ? named[2]! : line;
    for (const m of rest.matchAll(SIZE)) {
      const mode: CameraMode = { format, width: Number(m[1]), height: Number(m[2]) };
      const fps = Number(m[3] ?? m[8]);
      if (Number.isFinite(fps)) mode.fps = fps;
      if (m[4] !== undefined) {
        mode.crop = {
          x: Number(m[4]),
          y: Number(m[5]),
          width: Number(m[6]),
          height: Number(m[7]),
        };
      }
      camera.modes.push(mode);
    }
  }
  return cameras;
}

// "4608x2592 10-bit RGGB", "4056x3040", or nothing.
function describeSensor(camera: CameraInfo, properties: string): void {
  const size = /(\d+)x(\d+)/.exec(properties);
  if (size) camera.pixelArray = { width: Number(size[1]), height: Number(size[2]) };
  const bits = /(\d+)-bit/.exec(properties);
  if (bits) camera.bitDepth = Number(bits[1]);
  const filter = /\b(RGGB|GRBG|GBRG|BGGR|RGB|MONO)\b/.exec(properties);
  if (filter) camera.colourFilter = filter[1]!;
}

/** What {@linkcode listCameras} found, and which program said so. */
export interface CameraList {
  /** The program that ran, e.g. `rpicam-hello`. */
  program: string;
  /** The cameras it listed. */
  cameras: CameraInfo[];
}

/**
 * Lists the attached cameras by running the first of `programs` on PATH with
 * `--list-cameras`.
 *
 * @param programs Programs to try, in order.
 * @param timeoutMs How long the program may take (it opens every camera).
 * @returns The program that ran and the cameras it listed.
 * @throws {Error} When no program exists, it fails, takes too long, or prints
 * something that is not a camera list.
 */
export async function listCameras(
  programs: readonly string[] = ["rpicam-hello", "libcamera-hello"],
  timeoutMs = 20_000,
): Promise<CameraList> {
  for (const program of programs) {
    let child;
    try {
      child = await spawnProcess(program, ["--list-cameras"]);
    } catch (error) {
      if (error instanceof SpawnError && (error.code === "ENOENT" || error.code === "EACCES")) {
        continue;
      }
      throw error;
    }
    const timer = setTimeout(() => void child.stop(1000), timeoutMs);
    try {
      const stdout = await new Response(child.stdout).text();
      const exit = await child.exited;
      const stderr = child.stderrTail();
      if (exit.code !== 0 && !/Available cameras|No cameras available/i.test(stdout)) {
        const how = exit.signal
          ? `was stopped (${exit.signal})`
          : `exited with status ${exit.code}`;
        throw new Error(
          `${program} --list-cameras ${how}` +
            (stderr.length
              ? `: ${stderr.slice(-3).map((l) => JSON.stringify(l)).join(" | ")}`
              : ""),
        );
      }
      try {
        return { program, cameras: parseCameraList([stdout, ...stderr].join("\n")) };
      } catch (error) {
        throw new Error(`${program} --list-cameras: ${(error as Error).message}`);
      }
    } finally {
      clearTimeout(timer);
    }
  }
  throw new Error(
    `no program to list cameras: tried ${programs.map((p) => `"${p}"`).join(" and ")}, ` +
      "none found on PATH (Raspberry Pi OS has them in the rpicam-apps package)",
  );
}
