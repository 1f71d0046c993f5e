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
import type { StreamControls } from "../internal/controls.ts";
import {
  CAMERA_SETTING_NAMES,
  cameraSettingFields,
  type CameraSettings,
  extraArgsSchema,
  frameTimeProblem,
  settingArgs,
} from "./camera_settings.ts";
import { cameraControls } from "./camera_controls.ts";
import {
  pickRestartPolicy,
  processFrames,
  requireProgram,
  type RestartPolicy,
  restartPolicyFields,
} from "./process.ts";
import { RestartRequests } from "./restart_requests.ts";
import { type FrameSource, type LogLine, logToStderr, type StatusListener } from "./source.ts";

/**
 * Options of {@linkcode cameraSource}; every field is optional. The image
 * settings (size, rate, quality, orientation, exposure, white balance, focus
 * …) can also change while the camera runs, through the source's `controls`.
 */
export interface CameraOptions extends RestartPolicy, Partial<CameraSettings> {
  /**
   * Which camera, as `rpicam-hello --list-cameras` numbers them (`mjpeg
   * cameras`), passed as `--camera N` when given; rpicam-vid's default is 0.
   */
  camera?: number;
  /**
   * More arguments for the program, e.g. `["--denoise", "cdn_off"]`; not the
   * options mjpeg gives itself or the settings above (those have their own
   * fields, which `controls` can change). @default {[]}
   */
  extraArgs?: string[];
  /** Programs to try, in order. @default {["rpicam-vid", "libcamera-vid"]} */
  programs?: string[];
  /** Where log lines go. @default {logToStderr} */
  log?: LogLine;
  /** Hears the source's state and last error when they change, e.g. `hub.reportSourceStatus`. */
  onStatus?: StatusListener;
}

/** The camera's stall timeout unless given: a hung camera driver is a known failure. */
export const CAMERA_STALL_TIMEOUT = 5000;

/** The zod schema of {@linkcode CameraOptions}. */
export const cameraOptionsSchema = z.object({
  ...cameraSettingFields("default"),
  camera: z.number().int().min(0).max(15).optional(),
  extraArgs: extraArgsSchema.default([]),
  programs: z.array(z.string().min(1)).min(1).default(["rpicam-vid", "libcamera-vid"]),
  ...restartPolicyFields(CAMERA_STALL_TIMEOUT),
  log: z.custom<LogLine>((v) => typeof v === "function", "expected a function").optional(),
  onStatus: z.custom<StatusListener>((v) => typeof v === "function", "expected a function")
    .optional(),
}).strict().superRefine((o, ctx) => {
  const problem = frameTimeProblem(o, o.stallTimeout);
  if (problem) ctx.addIssue({ code: "custom", path: [problem.setting], message: problem.message });
});

/** Camera options after validation, every default filled in. */
export type ResolvedCameraOptions = z.output<typeof cameraOptionsSchema>;

/**
 * The arguments the camera program gets: exactly
 * `-t 0 -n --codec mjpeg --width W --height H --framerate F -q Q --flush -v 0 -o -`,
 * then `--camera` when given, then each other setting that differs from its
 * default (`--rotation`, `--hflip`, `--vflip`, `--shutter`, `--gain`,
 * `--exposure`, `--awb`, `--ev`, `--brightness`, `--contrast`,
 * `--saturation`, `--sharpness`, `--autofocus-mode`, `--lens-position`, in
 * that order), then `extraArgs`.
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
  return argsOf(parseOptions(cameraOptionsSchema, options, "cameraSource options"));
}

function argsOf(o: ResolvedCameraOptions): string[] {
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
  args.push(...settingArgs(o), ...o.extraArgs);
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
 * Its `controls` change the settings while it runs (`GET|POST /control` of
 * `mjpegApp`): each change restarts the program at once with the new
 * arguments, after the old one has exited, and the frames go on.
 *
 * @param options Size, rate, quality, orientation, exposure, white balance,
 * focus, and restart policy.
 * @returns A source with `controls`; its iteration throws a `SourceError`
 * naming the programs tried when none is installed.
 * @throws {TypeError} When an option is out of range.
 *
 * @example
 * ```ts ignore
 * import { cameraSource, FrameHub, pipeToHub } from "@mjpeg/stream";
 * const hub = new FrameHub();
 * const camera = cameraSource({ width: 1280, height: 720, fps: 30 });
 * pipeToHub(camera, hub, new AbortController().signal);
 * await camera.controls.set({ awb: "daylight", brightness: 0.1 }); // restarts rpicam-vid
 * ```
 */
export function cameraSource(options: CameraOptions = {}): FrameSource & {
  readonly controls: StreamControls;
} {
  const o = parseOptions(cameraOptionsSchema, options, "cameraSource options");
  const log = o.log ?? logToStderr;
  const settingsOf = (options: ResolvedCameraOptions): CameraSettings =>
    Object.fromEntries(
      CAMERA_SETTING_NAMES.map((n) => [n, options[n]]),
    ) as unknown as CameraSettings;
  const state = { settings: settingsOf(o), stallTimeout: o.stallTimeout };
  const restarts = new RestartRequests();
  // Read before each run, so a restart runs with the settings as they are then.
  const candidates = () => {
    const args = argsOf({ ...o, ...state.settings });
    return o.programs.map((command) => ({ command, args }));
  };
  return {
    get description() {
      const { width, height, fps } = state.settings;
      return `camera${o.camera === undefined ? "" : ` ${o.camera}`} ${o.programs.join("|")} ` +
        `${width}x${height}@${fps}fps`;
    },
    controls: cameraControls(state, restarts, log),
    frames: (signal) =>
      processFrames(candidates, {
        name: "camera",
        contentType: "image/jpeg",
        ...pickRestartPolicy(o),
        maxFrameSize: undefined,
        env: undefined,
        log,
        diagnose: diagnoseCamera,
        onStatus: o.onStatus,
        restarts,
      }, signal),
    check: () => Promise.resolve(requireProgram(candidates(), "programs")),
  };
}
