/**
 * Frames from any program that writes MJPEG to stdout: raw concatenated JPEGs
 * (`ffmpeg -f mjpeg -`) or a multipart stream (`ffmpeg -f mpjpeg -`,
 * GStreamer's multipartmux). Includes the USB webcam preset.
 *
 * @module
 */
import { readdir, stat } from "node:fs/promises";
import { z } from "zod";
import { parseOptions } from "../internal/validate.ts";
import {
  pickRestartPolicy,
  processFrames,
  requireProgram,
  type RestartPolicy,
  restartPolicyFields,
  SourceError,
} from "./process.ts";
import { type FrameSource, type LogLine, logToStderr, type StatusListener } from "./source.ts";

/** Options of {@linkcode commandSource}. */
export interface CommandOptions extends RestartPolicy {
  /**
   * `image/jpeg` when the program writes raw JPEGs, a `multipart/x-mixed-replace;
   * boundary=…` type for multipart; by default the format is detected from the bytes.
   */
  contentType?: string;
  /** Largest frame accepted, in bytes. @default the decoder's default */
  maxFrameSize?: number;
  /** Extra environment variables for the program. */
  env?: Record<string, string>;
  /** Where log lines go. @default {logToStderr} */
  log?: LogLine;
  /** Hears the source's state and last error when they change, e.g. `hub.reportSourceStatus`. */
  onStatus?: StatusListener;
}

const commandOptionsSchema = z.object({
  contentType: z.string().min(1).optional(),
  // A program may rightly be silent (motion-triggered, time-lapse): no
  // stall watchdog unless asked for; the webcam preset asks for 5000.
  ...restartPolicyFields(0),
  maxFrameSize: z.number().int().min(1024).optional(),
  env: z.record(z.string(), z.string()).optional(),
  log: z.custom<LogLine>((v) => typeof v === "function", "expected a function").optional(),
  onStatus: z.custom<StatusListener>((v) => typeof v === "function", "expected a function")
    .optional(),
}).strict();

/**
 * Frames from a program's stdout. The program is started with an argv array,
 * never through a shell, so arguments are passed exactly as given. When it
 * exits it is restarted with backoff (unless `restart: false`), and the log
 * line says why with the last lines of its stderr.
 *
 * @param command The program, looked up on PATH.
 * @param args Its arguments.
 * @param options Format, restart policy, environment.
 * @returns A source.
 * @throws {TypeError} When an option is invalid.
 *
 * @example
 * ```ts ignore
 * import { commandSource } from "@mjpeg/stream";
 * const source = commandSource("ffmpeg", [
 *   "-re", "-f", "lavfi", "-i", "testsrc=size=640x480:rate=15", "-f", "mjpeg", "-",
 * ]);
 * ```
 */
export function commandSource(
  command: string,
  args: readonly string[] = [],
  options: CommandOptions = {},
): FrameSource {
  if (typeof command !== "string" || command === "") {
    throw new TypeError(`commandSource: expected a program name, got ${JSON.stringify(command)}`);
  }
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw new TypeError("commandSource: expected args to be an array of strings");
  }
  const o = parseOptions(commandOptionsSchema, options, "commandSource options");
  const candidate = { command, args: [...args] };
  return {
    description: `command ${command}`,
    frames: (signal) =>
      processFrames([candidate], {
        name: `command ${command}`,
        contentType: o.contentType,
        ...pickRestartPolicy(o),
        maxFrameSize: o.maxFrameSize,
        env: o.env,
        log: o.log ?? logToStderr,
        onStatus: o.onStatus,
      }, signal),
    check: () => Promise.resolve(requireProgram([candidate], "command")),
  };
}

/** Options of {@linkcode webcamSource}. */
export interface WebcamOptions extends Omit<CommandOptions, "contentType"> {
  /** The V4L2 device. @default {"/dev/video0"} */
  device?: string;
  /** Width in pixels; the camera must offer MJPEG at this size. @default {640} */
  width?: number;
  /** Height in pixels. @default {480} */
  height?: number;
  /** Frames per second. @default {15} */
  fps?: number;
}

const webcamShape = z.object({
  device: z.string().regex(/^\/dev\/[\w./-]+$/, "expected a device path like /dev/video0")
    .default("/dev/video0"),
  width: z.number().int().min(16).max(8192).default(640),
  height: z.number().int().min(16).max(8192).default(480),
  fps: z.number().min(1).max(240).default(15),
});

/**
 * The ffmpeg arguments of the webcam preset: the camera's own JPEGs are
 * copied to stdout without decoding or re-encoding (`-c copy`), so it costs
 * almost no CPU; without the banner, so what ffmpeg says on stderr is its error:
 * `-hide_banner -loglevel error -f v4l2 -input_format mjpeg -video_size WxH
 * -framerate F -i /dev/videoN -c copy -f mjpeg -`.
 *
 * @param options Device, size and rate.
 * @returns The argv after `ffmpeg`.
 */
export function webcamArgs(
  options: Pick<WebcamOptions, "device" | "width" | "height" | "fps">,
): string[] {
  const o = parseOptions(webcamShape.strict(), options, "webcam options");
  // deno-fmt-ignore
  return [
    "-hide_banner", "-loglevel", "error",
    "-f", "v4l2", "-input_format", "mjpeg",
    "-video_size", `${o.width}x${o.height}`, "-framerate", String(o.fps),
    "-i", o.device, "-c", "copy", "-f", "mjpeg", "-",
  ];
}

/**
 * A USB webcam (UVC) through ffmpeg, passing the camera's MJPEG through
 * unchanged. Needs `ffmpeg` on PATH and a camera that offers MJPEG
 * (`v4l2-ctl --list-formats-ext` shows it).
 *
 * @param options Device, size, rate, restart policy.
 * @returns A source.
 * @throws {TypeError} When an option is invalid.
 *
 * @example
 * ```ts ignore
 * import { webcamSource } from "@mjpeg/stream";
 * const source = webcamSource({ device: "/dev/video0", width: 1280, height: 720, fps: 30 });
 * ```
 */
export function webcamSource(options: WebcamOptions = {}): FrameSource {
  const { device, width, height, fps, ...rest } = options;
  const args = webcamArgs({
    ...(device !== undefined ? { device } : {}),
    ...(width !== undefined ? { width } : {}),
    ...(height !== undefined ? { height } : {}),
    ...(fps !== undefined ? { fps } : {}),
  });
  // A webcam always delivers frames, so silence means a hang (a USB reset).
  const source = commandSource("ffmpeg", args, {
    stallTimeout: 5000,
    ...rest,
    contentType: "image/jpeg",
  });
  const path = device ?? "/dev/video0";
  return {
    description: `webcam ${path}`,
    frames: source.frames,
    check: async () => {
      await checkDevice(path);
      await source.check?.();
    },
  };
}

/** A webcam that is not plugged in is a mistake to say at start, with the devices there are. */
async function checkDevice(device: string): Promise<void> {
  const info = await stat(device).catch(() => undefined);
  if (info?.isCharacterDevice()) return;
  const videos = (await readdir("/dev").catch(() => [] as string[]))
    .filter((name) => /^video\d+$/.test(name))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((name) => `/dev/${name}`);
  const there = videos.length > 0
    ? `the video devices here are ${videos.join(", ")}`
    : "there is no /dev/video* device here (is the camera plugged in?)";
  const what = info ? "not a device" : "no such device";
  throw new SourceError(`expected a video device, got ${device}: ${what}; ${there}`, {
    setting: "device",
  });
}
