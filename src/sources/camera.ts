/**
 * The Raspberry Pi camera through `rpicam-vid` (or `libcamera-vid` on older
 * Raspberry Pi OS), which writes raw JPEGs to stdout. rpicam-apps encodes
 * MJPEG in software (libjpeg, four threads) on every Pi model, so the CPU
 * sets how large and fast a stream can be (docs/deploy.md).
 *
 * @module
 */
import { z } from "zod";
import { parseOptions } from "../internal/validate.ts";
import {
  pickRestartPolicy,
  processFrames,
  type ProgramCandidate,
  requireProgram,
  type RestartPolicy,
  restartPolicyFields,
} from "./process.ts";
import { type FrameSource, type LogLine, logToStderr, type StatusListener } from "./source.ts";

/** Options of {@linkcode cameraSource}; every field is optional. */
export interface CameraOptions extends RestartPolicy {
  /** Image width in pixels, 32..4608. @default {640} */
  width?: number;
  /** Image height in pixels, 32..3496. @default {480} */
  height?: number;
  /** Frames per second, 1..120. @default {15} */
  fps?: number;
  /** JPEG quality, 1..100. @default {80} */
  quality?: number;
  /** Rotation in degrees; the camera stack supports 0 and 180. @default {0} */
  rotation?: 0 | 180;
  /** Mirror left-right. @default {false} */
  hflip?: boolean;
  /** Mirror top-bottom. @default {false} */
  vflip?: boolean;
  /**
   * Which camera, as `rpicam-hello --list-cameras` numbers them (`mjpeg
   * cameras`), passed as `--camera N` when given; rpicam-vid's default is 0.
   */
  camera?: number;
  /** More arguments for the program, e.g. `["--awb", "indoor"]`. @default {[]} */
  extraArgs?: string[];
  /** Programs to try, in order. @default {["rpicam-vid", "libcamera-vid"]} */
  programs?: string[];
  /** Where log lines go. @default {logToStderr} */
  log?: LogLine;
  /** Hears the source's state and last error when they change, e.g. `hub.reportSourceStatus`. */
  onStatus?: StatusListener;
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);

const cameraOptionsSchema = z.object({
  width: int(32, 4608).default(640),
  height: int(32, 3496).default(480),
  fps: z.number().min(1).max(120).default(15),
  quality: int(1, 100).default(80),
  rotation: z.union([z.literal(0), z.literal(180)]).default(0),
  hflip: z.boolean().default(false),
  vflip: z.boolean().default(false),
  camera: int(0, 15).optional(),
  extraArgs: z.array(z.string()).default([]),
  programs: z.array(z.string().min(1)).min(1).default(["rpicam-vid", "libcamera-vid"]),
  // A hung camera driver is a known failure: watch for it by default.
  ...restartPolicyFields(5000),
  log: z.custom<LogLine>((v) => typeof v === "function", "expected a function").optional(),
  onStatus: z.custom<StatusListener>((v) => typeof v === "function", "expected a function")
    .optional(),
}).strict();

/**
 * The arguments the camera program gets: exactly
 * `-t 0 -n --codec mjpeg --width W --height H --framerate F -q Q --flush -v 0 -o -`,
 * then `--camera` when given, `--rotation`, `--hflip`, `--vflip` when set, then `extraArgs`.
 *
 * @param options Camera options (validated).
 * @returns The argv after the program name.
 *
 * @example
 * ```ts
 * import { cameraArgs } from "@mjpeg/stream";
 * cameraArgs({ width: 1280, height: 720, fps: 30 });
 * // ["-t", "0", "-n", "--codec", "mjpeg", "--width", "1280", ...]
 * ```
 */
export function cameraArgs(options: CameraOptions = {}): string[] {
  const o = parseOptions(cameraOptionsSchema, options, "cameraSource options");
  // deno-fmt-ignore
  const args = [
    "-t", "0", // run until stopped
    "-n", // no preview window
    "--codec", "mjpeg",
    "--width", String(o.width),
    "--height", String(o.height),
    "--framerate", String(o.fps),
    "-q", String(o.quality),
    "--flush", // flush stdout after every frame: lower latency
    "-v", "0", // quiet: stderr only carries errors
    "-o", "-",
  ];
  if (o.camera !== undefined) args.push("--camera", String(o.camera));
  if (o.rotation !== 0) args.push("--rotation", String(o.rotation));
  if (o.hflip) args.push("--hflip");
  if (o.vflip) args.push("--vflip");
  args.push(...o.extraArgs);
  return args;
}

// What rpicam-apps prints (as "ERROR: *** … ***") when it cannot open the
// camera, and what to tell the user for each; see OpenCamera in rpicam_app.cpp.
const CAMERA_FAILURES: [RegExp, string][] = [
  [
    /no cameras available/i,
    'no camera found ("no cameras available"): check the ribbon cable and that ' +
    '"mjpeg cameras" lists the camera',
  ],
  [
    /selected camera is not available/i,
    'no camera with that number ("selected camera is not available"): "mjpeg cameras" ' +
    "lists the numbers",
  ],
  [
    /failed to acquire camera/i,
    'the camera is in use by another program ("failed to acquire camera")',
  ],
];

/**
 * Names the camera failures a user must fix, from the camera program's last
 * stderr lines.
 *
 * @param stderrTail The program's last stderr lines.
 * @param program The program that ran, e.g. `rpicam-vid`.
 * @returns A message for the log, or undefined for other failures.
 */
export function diagnoseCamera(stderrTail: readonly string[], program: string): string | undefined {
  for (const [pattern, message] of CAMERA_FAILURES) {
    if (stderrTail.some((line) => pattern.test(line))) return `${program}: ${message}`;
  }
  return undefined;
}

/**
 * Frames from the Raspberry Pi camera. Runs `rpicam-vid` (falling back to
 * `libcamera-vid`), reads its raw JPEG output, and restarts it with backoff
 * when it dies or hangs (no frame for `stallTimeout`), logging why with the
 * last lines of its stderr. When there is no camera (or it is busy), that is
 * logged once in plain words and the retries stay quiet until it changes.
 *
 * @param options Size, rate, quality, orientation, and restart policy.
 * @returns A source; its iteration throws a `SourceError` naming the programs
 * tried when none is installed.
 * @throws {TypeError} When an option is out of range.
 *
 * @example
 * ```ts ignore
 * import { cameraSource, FrameHub, pipeToHub } from "@mjpeg/stream";
 * const hub = new FrameHub();
 * pipeToHub(cameraSource({ width: 1280, height: 720, fps: 30 }), hub, new AbortController().signal);
 * ```
 */
export function cameraSource(options: CameraOptions = {}): FrameSource {
  const o = parseOptions(cameraOptionsSchema, options, "cameraSource options");
  const args = cameraArgs(options);
  const candidates: ProgramCandidate[] = o.programs.map((command) => ({ command, args }));
  return {
    description: `camera${o.camera === undefined ? "" : ` ${o.camera}`} ${o.programs.join("|")} ` +
      `${o.width}x${o.height}@${o.fps}fps`,
    frames: (signal) =>
      processFrames(candidates, {
        name: "camera",
        contentType: "image/jpeg",
        ...pickRestartPolicy(o),
        maxFrameSize: undefined,
        env: undefined,
        log: o.log ?? logToStderr,
        diagnose: diagnoseCamera,
        onStatus: o.onStatus,
      }, signal),
    check: () => Promise.resolve(requireProgram(candidates, "programs")),
  };
}
