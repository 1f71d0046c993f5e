/**
 * The camera's settings — rpicam-vid's options of the same names — as one
 * table: each setting's type, range or choices, default and rpicam-vid
 * option. Everything that sets them validates with the zod fields made here:
 * `cameraSource()`'s options, `mjpeg serve`'s flags and config file, and
 * `POST /control`; `GET /control` describes them from the same table.
 *
 * Ranges are rpicam-apps' (core/options.cpp and Raspberry Pi's camera
 * documentation) and, where rpicam-vid takes any number, the ranges
 * libcamera's Raspberry Pi pipeline clamps to (brightness -1..1, contrast and
 * saturation 0..32, sharpness 0..16).
 *
 * @module
 */
import { z } from "zod";
import type { ControlDescription, ControlDescriptions } from "../internal/controls.ts";

/** Every camera setting, with its value. */
export interface CameraSettings {
  /** Image width in pixels, 32..4608. @default {640} */
  width: number;
  /** Image height in pixels, 32..3496. @default {480} */
  height: number;
  /** Frames per second, 0.1..120 (rpicam-vid's `--framerate`). @default {15} */
  fps: number;
  /** JPEG quality, 1..100 (rpicam-vid's `-q`). @default {80} */
  quality: number;
  /** Rotation in degrees; the camera stack supports 0 and 180. @default {0} */
  rotation: 0 | 180;
  /** Mirror left-right. @default {false} */
  hflip: boolean;
  /** Mirror top-bottom. @default {false} */
  vflip: boolean;
  /** Exposure time in microseconds, 0..700000000; 0 lets the camera choose. @default {0} */
  shutter: number;
  /** Analogue and digital gain together, 0..64; 0 lets the camera choose. @default {0} */
  gain: number;
  /** Exposure profile. @default {"normal"} */
  exposure: "normal" | "sport" | "short" | "long" | "custom";
  /** Auto white balance mode. @default {"auto"} */
  awb:
    | "auto"
    | "incandescent"
    | "tungsten"
    | "fluorescent"
    | "indoor"
    | "daylight"
    | "cloudy"
    | "custom";
  /** Exposure compensation in stops, -10..10. @default {0} */
  ev: number;
  /** Brightness, -1 (black) .. 1 (white). @default {0} */
  brightness: number;
  /** Contrast, 0..32; 1 is normal. @default {1} */
  contrast: number;
  /** Colour saturation, 0 (grey) .. 32; 1 is normal. @default {1} */
  saturation: number;
  /** Sharpening, 0..16; 1 is normal. @default {1} */
  sharpness: number;
  /** Autofocus mode, on cameras that have one (Camera Module 3). @default {"default"} */
  autofocusMode: "default" | "manual" | "auto" | "continuous";
  /** Focus in dioptres (1 / metres), 0 (infinity) .. 32; null leaves the lens alone. @default {null} */
  lensPosition: number | null;
}

/** The name of a camera setting. */
export type CameraSettingName = keyof CameraSettings;

interface Common {
  /** The rpicam-vid option that carries the setting. */
  option: string;
  description: string;
}
interface NumberSpec extends Common {
  type: "integer" | "number";
  min: number;
  max: number;
  step: number;
  default: number | null;
  nullable?: true;
  unit?: string;
  zero?: string;
}
interface ChoiceSpec extends Common {
  type: "choice";
  choices: readonly (string | number)[];
  default: string | number;
  unit?: string;
}
interface BooleanSpec extends Common {
  type: "boolean";
  default: boolean;
}
type SettingSpec = NumberSpec | ChoiceSpec | BooleanSpec;

/** Each setting, in the order rpicam-vid gets them and a form shows them. */
export const CAMERA_SETTINGS: { readonly [K in CameraSettingName]: SettingSpec } = {
  width: {
    type: "integer",
    min: 32,
    max: 4608,
    step: 2,
    default: 640,
    unit: "px",
    option: "--width",
    description: "image width",
  },
  height: {
    type: "integer",
    min: 32,
    max: 3496,
    step: 2,
    default: 480,
    unit: "px",
    option: "--height",
    description: "image height",
  },
  fps: {
    type: "number",
    min: 0.1,
    max: 120,
    step: 0.1,
    default: 15,
    unit: "fps",
    option: "--framerate",
    description: "frames per second",
  },
  quality: {
    type: "integer",
    min: 1,
    max: 100,
    step: 1,
    default: 80,
    option: "-q",
    description: "JPEG quality",
  },
  rotation: {
    type: "choice",
    choices: [0, 180],
    default: 0,
    unit: "°",
    option: "--rotation",
    description: "rotation",
  },
  hflip: { type: "boolean", default: false, option: "--hflip", description: "mirror left-right" },
  vflip: { type: "boolean", default: false, option: "--vflip", description: "mirror top-bottom" },
  shutter: {
    type: "integer",
    min: 0,
    max: 700_000_000,
    step: 100,
    default: 0,
    unit: "µs",
    zero: "automatic",
    option: "--shutter",
    description: "exposure time",
  },
  gain: {
    type: "number",
    min: 0,
    max: 64,
    step: 0.1,
    default: 0,
    zero: "automatic",
    option: "--gain",
    description: "analogue and digital gain",
  },
  exposure: {
    type: "choice",
    choices: ["normal", "sport", "short", "long", "custom"],
    default: "normal",
    option: "--exposure",
    description: "exposure profile",
  },
  awb: {
    type: "choice",
    choices: [
      "auto",
      "incandescent",
      "tungsten",
      "fluorescent",
      "indoor",
      "daylight",
      "cloudy",
      "custom",
    ],
    default: "auto",
    option: "--awb",
    description: "white balance",
  },
  ev: {
    type: "number",
    min: -10,
    max: 10,
    step: 0.1,
    default: 0,
    unit: "stops",
    option: "--ev",
    description: "exposure compensation",
  },
  brightness: {
    type: "number",
    min: -1,
    max: 1,
    step: 0.05,
    default: 0,
    option: "--brightness",
    description: "brightness",
  },
  contrast: {
    type: "number",
    min: 0,
    max: 32,
    step: 0.1,
    default: 1,
    option: "--contrast",
    description: "contrast (1: normal)",
  },
  saturation: {
    type: "number",
    min: 0,
    max: 32,
    step: 0.1,
    default: 1,
    option: "--saturation",
    description: "colour saturation (0: grey, 1: normal)",
  },
  sharpness: {
    type: "number",
    min: 0,
    max: 16,
    step: 0.1,
    default: 1,
    option: "--sharpness",
    description: "sharpening (1: normal)",
  },
  autofocusMode: {
    type: "choice",
    choices: ["default", "manual", "auto", "continuous"],
    default: "default",
    option: "--autofocus-mode",
    description: "autofocus mode",
  },
  lensPosition: {
    type: "number",
    min: 0,
    max: 32,
    step: 0.1,
    default: null,
    nullable: true,
    unit: "dioptres",
    zero: "infinity",
    option: "--lens-position",
    description: "focus (1 / distance in metres)",
  },
};

/** The names of the settings, in the table's order. */
export const CAMERA_SETTING_NAMES = Object.keys(CAMERA_SETTINGS) as CameraSettingName[];

/** Every setting at its default. */
export const DEFAULT_CAMERA_SETTINGS: CameraSettings = Object.fromEntries(
  CAMERA_SETTING_NAMES.map((name) => [name, CAMERA_SETTINGS[name].default]),
) as unknown as CameraSettings;

// One setting's schema, whose messages name the range: the same words for
// the API, a flag, a config key and POST /control.
function settingSchema(spec: SettingSpec): z.ZodType {
  if (spec.type === "boolean") return z.boolean({ error: "expected true or false" });
  if (spec.type === "choice") {
    const expected = `expected one of ${spec.choices.join(", ")}`;
    return z.union(spec.choices.map((c) => z.literal(c)), { error: expected });
  }
  const unit = spec.unit ? ` ${spec.unit}` : "";
  const zero = spec.zero ? ` (0: ${spec.zero})` : "";
  const expected = `expected ${spec.type === "integer" ? "a whole number" : "a number"} ` +
    `between ${spec.min} and ${spec.max}${unit}${zero}`;
  let schema = z.number({ error: expected });
  if (spec.type === "integer") schema = schema.int({ error: expected });
  schema = schema.min(spec.min, { error: expected }).max(spec.max, { error: expected });
  return spec.nullable ? schema.nullable() : schema;
}

type Fields<T> = {
  [K in CameraSettingName]: z.ZodType<
    T extends "default" ? CameraSettings[K] : CameraSettings[K] | undefined
  >;
};

/**
 * The zod fields of every setting, to spread into an options schema.
 *
 * @param mode `default`: an absent setting takes its default (the API);
 * `optional`: it stays absent (a config file, a change to some settings).
 * @returns The fields by setting name.
 */
export function cameraSettingFields<M extends "default" | "optional">(mode: M): Fields<M> {
  return Object.fromEntries(CAMERA_SETTING_NAMES.map((name) => {
    const spec = CAMERA_SETTINGS[name];
    const schema = settingSchema(spec);
    return [name, mode === "default" ? schema.default(spec.default as never) : schema.optional()];
  })) as unknown as Fields<M>;
}

// What mjpeg itself passes to rpicam-vid, and the aliases of the settings'
// options: given again in extraArgs, rpicam-vid would refuse to start
// (boost's "cannot be specified more than once"), so they are refused here.
const OWN_OPTIONS = [
  "-t",
  "--timeout",
  "-n",
  "--nopreview",
  "--codec",
  "--flush",
  "-v",
  "--verbose",
  "-o",
  "--output",
  "--camera",
];
const ALIASES: Record<string, CameraSettingName> = {
  "--quality": "quality",
  "--analoggain": "gain",
};

/** The zod schema of `extraArgs`: more rpicam-vid arguments, none that mjpeg sets itself. */
export const extraArgsSchema: z.ZodType<string[]> = z.array(z.string()).superRefine((args, ctx) => {
  for (const [index, arg] of args.entries()) {
    const option = arg.startsWith("-") ? arg.split("=")[0]! : undefined;
    if (option === undefined) continue;
    const setting = ALIASES[option] ??
      CAMERA_SETTING_NAMES.find((name) => CAMERA_SETTINGS[name].option === option);
    if (setting !== undefined) {
      const flag = setting.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
      ctx.addIssue({
        code: "custom",
        path: [index],
        message: `expected no ${option}: it is the camera's ${setting} setting; give it as ` +
          `that (--${flag} on mjpeg serve's command line), so /control can change it`,
      });
    } else if (OWN_OPTIONS.includes(option)) {
      ctx.addIssue({
        code: "custom",
        path: [index],
        message: `expected no ${option}: mjpeg passes it to rpicam-vid itself`,
      });
    }
  }
});

/** The settings every run gets, in this order, whatever their values. */
export const ALWAYS_GIVEN: readonly CameraSettingName[] = ["width", "height", "fps", "quality"];

/**
 * rpicam-vid's arguments for the settings that differ from their defaults
 * (but `--width`, `--height`, `--framerate` and `-q`, which are always given
 * first), in the table's order.
 *
 * @param settings Validated settings.
 * @returns The arguments, e.g. `["--rotation", "180", "--awb", "daylight"]`.
 */
export function settingArgs(settings: CameraSettings): string[] {
  const args: string[] = [];
  for (const name of CAMERA_SETTING_NAMES) {
    if (ALWAYS_GIVEN.includes(name)) continue;
    const spec = CAMERA_SETTINGS[name];
    const value = settings[name];
    if (value === spec.default || value === null) continue;
    if (typeof value === "boolean") args.push(spec.option);
    else args.push(spec.option, String(value));
  }
  return args;
}

/**
 * The settings as `GET /control` shows them: each one's type, range or
 * choices, default and current value.
 *
 * @param settings The current settings.
 * @returns The descriptions by setting name.
 */
export function describeSettings(settings: CameraSettings): ControlDescriptions {
  const out: ControlDescriptions = {};
  for (const name of CAMERA_SETTING_NAMES) {
    const { option: _option, ...spec } = CAMERA_SETTINGS[name];
    const description: ControlDescription = { ...spec, value: settings[name] };
    out[name] = description;
  }
  return out;
}

/**
 * A frame must come sooner than the stall timeout, or the watchdog takes the
 * camera for hung and restarts it forever: the time of one frame (1/fps, or
 * the exposure time when longer) is checked against it.
 *
 * @param settings The frame rate and exposure time.
 * @param stallTimeout The stall timeout in milliseconds (0: no watchdog).
 * @returns The setting at fault and what was expected, or undefined when they agree.
 */
export function frameTimeProblem(
  settings: Pick<CameraSettings, "fps" | "shutter">,
  stallTimeout: number,
): { setting: "fps" | "shutter"; message: string } | undefined {
  if (stallTimeout <= 0) return undefined;
  const seconds = stallTimeout / 1000;
  const why =
    `the stall timeout (${seconds} s) restarts a camera that sends no frame for that long`;
  if (1000 / settings.fps >= stallTimeout) {
    return {
      setting: "fps",
      message: `expected more than ${+(1 / seconds).toFixed(3)} fps: ${why}; ` +
        "lengthen the stall timeout for a slower camera",
    };
  }
  if (settings.shutter / 1000 >= stallTimeout) {
    return {
      setting: "shutter",
      message: `expected an exposure shorter than ${seconds * 1e6} µs: ${why}; ` +
        "lengthen the stall timeout for longer exposures",
    };
  }
  return undefined;
}
