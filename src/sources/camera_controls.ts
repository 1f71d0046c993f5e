/**
 * A camera's settings changed while it streams: the {@linkcode StreamControls}
 * of `cameraSource()`. A change is validated with the settings' own schema,
 * logged in one line, and applied by restarting rpicam-vid with exactly the
 * new arguments; the source's frames go on, so viewers stay connected.
 *
 * @module
 */
import { z } from "zod";
import { type ControlChange, ControlError, type StreamControls } from "../internal/controls.ts";
import { describeProblems } from "../internal/validate.ts";
import {
  CAMERA_SETTING_NAMES,
  cameraSettingFields,
  type CameraSettingName,
  type CameraSettings,
  describeSettings,
  frameTimeProblem,
} from "./camera_settings.ts";
import type { RestartRequests } from "./restart_requests.ts";
import type { LogLine } from "./source.ts";

const changesSchema = z.strictObject(cameraSettingFields("optional"));

/** The settings a camera runs with, and the stall timeout they must agree with. */
export interface CameraState {
  /** The settings now; replaced (never mutated) by each change. */
  settings: CameraSettings;
  /** Milliseconds without a frame before the camera is restarted (0: never). */
  readonly stallTimeout: number;
}

/**
 * Makes the controls of one camera.
 *
 * @param state The settings the camera's runs read; a change replaces `state.settings`.
 * @param restarts Restarts the camera's program with the new settings.
 * @param log Where each change is logged.
 * @returns The controls.
 */
export function cameraControls(
  state: CameraState,
  restarts: RestartRequests,
  log: LogLine,
): StreamControls {
  return {
    describe: () => describeSettings(state.settings),
    // Not async: the change is checked and merged before this returns, so
    // changes take effect in the order they were made and the last wins.
    set(changes: Record<string, unknown>): Promise<ControlChange> {
      if (changes === null || typeof changes !== "object" || Array.isArray(changes)) {
        return Promise.reject(
          new ControlError('expected an object of setting → value, e.g. {"brightness":0.2}'),
        );
      }
      const parsed = changesSchema.safeParse(changes);
      if (!parsed.success) {
        const problems = describeProblems(changesSchema, changes, parsed.error, "control");
        return Promise.reject(new ControlError(problems.join("; ")));
      }
      const next = { ...state.settings };
      for (const [name, value] of Object.entries(parsed.data)) {
        if (value !== undefined) (next as Record<string, unknown>)[name] = value;
      }
      const problem = frameTimeProblem(next, state.stallTimeout);
      if (problem) {
        return Promise.reject(
          new ControlError(`${problem.setting}: ${problem.message}, got ${next[problem.setting]}`),
        );
      }
      const changed = CAMERA_SETTING_NAMES.filter((name) => next[name] !== state.settings[name]);
      if (changed.length === 0) {
        return Promise.resolve({ changed, controls: describeSettings(state.settings) });
      }
      const was = state.settings;
      state.settings = next;
      log(
        `camera: settings changed: ${changed.map((n) => change(n, was, next)).join(", ")}; ` +
          (restarts.running ? "restarting the camera with them" : "the camera starts with them"),
      );
      return restarts.request().then(() => ({
        changed,
        controls: describeSettings(state.settings),
      }));
    },
  };
}

function change(name: CameraSettingName, was: CameraSettings, now: CameraSettings): string {
  const show = (value: unknown) => value === null ? "unset" : String(value);
  return `${name} ${show(was[name])} → ${show(now[name])}`;
}
