/**
 * Settings a stream can change while it runs (a camera's rotation, exposure,
 * focus …), as the sources offer them and the HTTP routes serve them at
 * `/control`. The sources implement {@linkcode StreamControls}; the Hono app
 * only calls it, so neither layer imports the other.
 *
 * @module
 */

/** A control's value: a number, a word, on/off, or null for "not set". */
export type ControlValue = number | string | boolean | null;

/**
 * One control, described so that a page can build a form for it without
 * knowing the camera: its type, its range or choices, its default and the
 * value it has now.
 */
export interface ControlDescription {
  /** `integer` and `number` have `min` and `max`; `choice` has `choices`. */
  type: "integer" | "number" | "boolean" | "choice";
  /** The value now. */
  value: ControlValue;
  /** The value the camera program uses when it is not given. */
  default: ControlValue;
  /** The smallest value (numbers). */
  min?: number;
  /** The largest value (numbers). */
  max?: number;
  /** A sensible step for a slider (numbers). */
  step?: number;
  /** The values allowed (choices). */
  choices?: readonly (string | number)[];
  /** Whether null ("not set") is allowed. */
  nullable?: boolean;
  /** The unit of a number, e.g. `µs`. */
  unit?: string;
  /** What 0 means when it means something special, e.g. `automatic`. */
  zero?: string;
  /** What the control does, in a few words. */
  description: string;
}

/** Every control of a stream, by name, in the order a form shows them. */
export type ControlDescriptions = Record<string, ControlDescription>;

/** What {@linkcode StreamControls.set} did. */
export interface ControlChange {
  /** The names of the controls whose value changed (none: nothing was restarted). */
  changed: string[];
  /** Every control after the change. */
  controls: ControlDescriptions;
}

/**
 * A stream's settings that can change at run time, as `mjpegApp` serves them
 * at `GET /control` and `POST /control`. `cameraSource()` returns a source
 * with one; implement it for a source of your own.
 */
export interface StreamControls {
  /**
   * Describes every control with its current value.
   *
   * @returns The controls by name.
   */
  describe(): ControlDescriptions;
  /**
   * Changes some controls. Changes are applied in the order calls are made
   * (the last wins); the stream keeps its viewers across whatever the change
   * needs (a camera restarts its program).
   *
   * @param changes Control name → new value.
   * @returns What changed, once the change has taken effect.
   * @throws {ControlError} When a name is unknown or a value out of range
   * (the HTTP route answers 400 with its message).
   */
  set(changes: Record<string, unknown>): Promise<ControlChange>;
}

/**
 * A change that cannot be made: an unknown control, or a value of the wrong
 * type or out of range. Its message says what was expected and what came.
 */
export class ControlError extends TypeError {
  /**
   * Makes the error.
   *
   * @param message What was expected and what came.
   */
  constructor(message: string) {
    super(message);
    this.name = "ControlError";
  }
}
