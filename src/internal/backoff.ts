/**
 * Waiting between attempts: the one backoff policy the client's reconnects,
 * the sources' restarts and the CLI's source restarts share — its options,
 * their validation, and the timing itself.
 *
 * @module
 */
import { z } from "zod";
import { duration } from "./duration.ts";

/**
 * How long to wait between attempts, in milliseconds: the client's
 * `reconnect` option and the sources' `restart` option.
 *
 * The n-th failure in a row waits `initialDelay * multiplier^n`, capped at
 * `maxDelay`, minus up to `jitter` of it at random (never less than
 * `initialDelay`). Success starts the count over.
 */
export interface BackoffOptions {
  /** Milliseconds before the first attempt after a failure. */
  initialDelay?: number;
  /** The longest wait between attempts, in milliseconds; at least 1. */
  maxDelay?: number;
  /** How much the wait grows per failed attempt in a row, at least 1. */
  multiplier?: number;
  /**
   * Fraction (0..1) of each wait that is random, so many clients of one
   * camera do not retry in lock-step.
   */
  jitter?: number;
  /**
   * How many attempts in a row may fail before giving up. `Infinity` never
   * gives up; `0` never retries.
   *
   * @default {Infinity}
   */
  limit?: number;
}

/** A backoff with every default filled in. */
export type BackoffPolicy = Required<BackoffOptions>;

/**
 * The zod schema of {@linkcode BackoffOptions}, filling in `defaults`, and
 * checking that `maxDelay` is not below `initialDelay`.
 *
 * @param defaults The caller's defaults (the client reconnects sooner and with jitter).
 * @param maxDelay The longest delay a caller may ask for, in milliseconds.
 * @returns The schema; its output is a complete {@linkcode BackoffPolicy}.
 */
export function backoffSchema(defaults: BackoffPolicy, maxDelay: number): z.ZodType<BackoffPolicy> {
  return z.strictObject({
    initialDelay: duration("initialDelay", { unit: "ms", max: maxDelay }).optional(),
    // At least 1: a cap of 0 would retry in a busy loop.
    maxDelay: duration("maxDelay", { unit: "ms", min: 1, max: maxDelay }).optional(),
    multiplier: z.number({ error: "expected a number >= 1" }).finite()
      .min(1, { error: "expected a number >= 1" }).optional(),
    jitter: z.number({ error: "expected a number between 0 and 1" })
      .min(0, { error: "expected a number between 0 and 1" })
      .max(1, { error: "expected a number between 0 and 1" }).optional(),
    // z.number() refuses Infinity, which here means "never give up".
    limit: z.custom<number>(
      (v) => typeof v === "number" && v >= 0 && (v === Infinity || Number.isInteger(v)),
      { error: "expected a whole number >= 0 or Infinity" },
    ).optional(),
  })
    .transform((o): BackoffPolicy => ({
      initialDelay: o.initialDelay ?? defaults.initialDelay,
      // A first delay above the default cap raises the cap with it.
      maxDelay: o.maxDelay ?? Math.max(defaults.maxDelay, o.initialDelay ?? 0),
      multiplier: o.multiplier ?? defaults.multiplier,
      jitter: o.jitter ?? defaults.jitter,
      limit: o.limit ?? defaults.limit,
    }))
    .refine((p) => p.maxDelay >= p.initialDelay, {
      error: (issue) => {
        const p = issue.input as BackoffPolicy;
        return `expected maxDelay >= initialDelay (${p.initialDelay})`;
      },
      path: ["maxDelay"],
    });
}

/**
 * The wait before each attempt, by {@linkcode BackoffOptions}' rule. Even
 * from an `initialDelay` of 0 the wait grows (0, 1, 2, 4 … ms), so something
 * that fails at once never retries in a busy loop. A success calls `reset()`.
 *
 * @example
 * ```ts ignore
 * const backoff = new Backoff({ initialDelay: 100, maxDelay: 1000, multiplier: 2, jitter: 0, limit: 3 });
 * [backoff.next(), backoff.next(), backoff.next(), backoff.next()]; // [100, 200, 400, undefined]
 * ```
 */
export class Backoff {
  #policy: BackoffPolicy;
  #random: () => number;
  #failures = 0;

  /**
   * Makes a backoff with no failures yet.
   *
   * @param policy The policy, defaults filled in.
   * @param random A source of numbers in [0, 1); injectable for tests.
   */
  constructor(policy: BackoffPolicy, random: () => number = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  /** Failed attempts since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Counts one more failure and says how long to wait.
   *
   * @returns Milliseconds to wait, or undefined when the limit is reached.
   */
  next(): number | undefined {
    const { initialDelay, maxDelay, multiplier, jitter, limit } = this.#policy;
    if (this.#failures >= limit) return undefined;
    const floor = this.#failures === 0 ? 0 : 2 ** (this.#failures - 1);
    const base = Math.min(maxDelay, Math.max(initialDelay * multiplier ** this.#failures, floor));
    this.#failures++;
    return Math.max(initialDelay, base - base * jitter * this.#random());
  }

  /** Forgets past failures, after an attempt that worked. */
  reset(): void {
    this.#failures = 0;
  }
}
