/**
 * `mjpeg cameras`: the Raspberry Pi cameras `rpicam-hello --list-cameras`
 * reports, as a table or as JSON, so a user knows which number to give
 * `--camera N` and which sizes and frame rates each camera offers.
 *
 * @module
 */
import { type CameraInfo, listCameras } from "../sources/camera_list.ts";
import { type CliIo, parseCommandLine, UsageError } from "./usage.ts";

/** The help text of `mjpeg cameras`. */
export const CAMERAS_HELP = `Usage: mjpeg cameras [--json]

Lists the cameras that "rpicam-hello --list-cameras" (or libcamera-hello)
reports: each camera's number (for "mjpeg serve --camera N"), its sensor, its
sensor modes with their fastest frame rate, and its device path. Exits with
status 1 when there is no camera.

  --json       print the list as JSON
  -h, --help   this help
`;

/**
 * Runs `mjpeg cameras`.
 *
 * @param argv The arguments after `cameras`.
 * @param io Where the list goes (stdout) and messages (stderr).
 * @returns The exit status: 0 cameras found, 1 none (or no program), 2 bad flags.
 */
export async function camerasCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const raw = parseCommandLine("cameras", argv, { json: { type: "boolean" } });
  if (raw.values.help) {
    io.stdout(CAMERAS_HELP);
    return 0;
  }
  if (raw.positionals.length > 0) {
    throw new UsageError(
      "cameras",
      `expected only flags, got ${JSON.stringify(raw.positionals[0])}`,
    );
  }
  const { program, cameras } = await listCameras();
  if (raw.values.json) io.stdout(JSON.stringify(cameras, null, 2) + "\n");
  else if (cameras.length > 0) io.stdout(cameraTable(cameras));
  if (cameras.length === 0) {
    io.stderr(
      `mjpeg cameras: no camera found (${program} --list-cameras: "No cameras available!"); ` +
        "check the ribbon cable, and that it is in the connector the right way round\n",
    );
    return 1;
  }
  return 0;
}

/**
 * The cameras as a table, one row per camera and size: a size offered in
 * several raw formats (8- and 10-bit) is one row with the fastest rate.
 *
 * @param cameras The cameras.
 * @returns The table, with a header row.
 */
export function cameraTable(cameras: readonly CameraInfo[]): string {
  const rows = [["CAMERA", "SENSOR", "SIZE", "MAX FPS", "FORMATS", "DEVICE"]];
  for (const camera of cameras) {
    const sizes = new Map<string, { fps: number | undefined; formats: string[] }>();
    for (const mode of camera.modes) {
      const key = `${mode.width}x${mode.height}`;
      const row = sizes.get(key) ?? { fps: undefined, formats: [] };
      if (mode.fps !== undefined) row.fps = Math.max(row.fps ?? 0, mode.fps);
      row.formats.push(mode.format);
      sizes.set(key, row);
    }
    if (sizes.size === 0) sizes.set("-", { fps: undefined, formats: [] });
    for (const [size, { fps, formats }] of sizes) {
      rows.push([
        String(camera.index),
        camera.model,
        size,
        fps === undefined ? "-" : fps.toFixed(2),
        formats.join(",") || "-",
        camera.device,
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const numeric = [false, false, false, true, false, false];
  return rows.map((row) =>
    row.map((cell, i) =>
      i === row.length - 1 ? cell : numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)
    ).join("  ")
  ).join("\n") + "\n";
}
