/**
 * Durations in options, flags and config files: one zod schema builder, so
 * every timeout, interval and delay is bounded below and above and says so
 * the same way. The upper bound is not pedantry: `setTimeout` and
 * `setInterval` fire at once for a delay over 2^31-1 ms, so an unbounded
 * `--stats-interval 3000000` became a log line every millisecond.
 *
 * @module
 */
import { z } from "zod";

/** The longest delay `setTimeout` honours, in milliseconds (about 24.8 days). */
export const MAX_TIMER_MS: number = 2 ** 31 - 1;

/** The range a duration may take; see {@linkcode duration}. */
export interface DurationRange {
  /** `"ms"` for the API's options, `"s"` for command-line flags and config seconds. */
  unit: "ms" | "s";
  /** The smallest value. @default {0} */
  min?: number;
  /** Whether `min` itself is refused (`> 0` rather than `>= 0`). @default {false} */
  exclusive?: boolean;
  /** The largest value; never more than {@linkcode MAX_TIMER_MS}. */
  max: number;
  /** Only whole numbers. @default {false} */
  integer?: boolean;
  /** What 0 means, when it means something special, e.g. `"0 turns it off"`. */
  zero?: string;
}

/**
 * A zod schema for a duration option, bounded on both sides, whose messages
 * name the option, the unit and the range.
 *
 * @param name The option as the user wrote it (`stallTimeout`), or `""` when the
 *   message is prefixed with it anyway (`--interval: expected …`).
 * @param range Unit and bounds.
 * @returns A number schema; add `.optional()` or `.default()` as needed.
 * @throws {RangeError} When `max` is beyond what a timer can wait (a mistake in this code).
 *
 * @example
 * ```ts
 * import { duration } from "./duration.ts";
 * const schema = duration("stallTimeout", { unit: "ms", exclusive: true, max: 3_600_000 });
 * schema.safeParse(0).error?.issues[0]?.message;
 * // "expected stallTimeout > 0 and <= 3600000 milliseconds (1 h)"
 * ```
 */
export function duration(name: string, range: DurationRange): z.ZodNumber {
  const { unit, min = 0, max, exclusive = false, integer = false } = range;
  const maxMs = unit === "s" ? max * 1000 : max;
  if (!(maxMs <= MAX_TIMER_MS) || max < min) {
    throw new RangeError(`duration ${name}: expected min <= max <= ${MAX_TIMER_MS} ms, got ${max}`);
  }
  const unitName = unit === "s" ? "seconds" : "milliseconds";
  const shown = unit === "ms" && max >= 1000 ? ` (${humanMs(max)})` : "";
  const zero = range.zero ? `; ${range.zero}` : "";
  const subject = name ? `${name} ` : "";
  const expected = exclusive
    ? `expected ${subject}> ${min} and <= ${max} ${unitName}${shown}${zero}`
    : `expected ${subject}between ${min} and ${max} ${unitName}${shown}${zero}`;
  const a = name ? `${name} as a` : "a";
  let schema = z.number({ error: `expected ${a} number of ${unitName}` });
  if (integer) schema = schema.int({ error: `expected ${a} whole number of ${unitName}` });
  schema = exclusive ? schema.gt(min, { error: expected }) : schema.min(min, { error: expected });
  return schema.max(max, { error: expected });
}

/** 3600000 → "1 h": the bound as a reader thinks of it. */
function humanMs(ms: number): string {
  for (const [size, unit] of [[86_400_000, "days"], [3_600_000, "h"], [60_000, "min"]] as const) {
    if (ms >= size) return `${+(ms / size).toFixed(1)} ${unit}`;
  }
  return `${+(ms / 1000).toFixed(1)} s`;
}
