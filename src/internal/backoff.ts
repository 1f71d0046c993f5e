/**
 * Reconnect timing: exponential backoff with jitter.
 *
 * @module
 */

/** The numbers of a backoff, in milliseconds, every default filled in. */
export interface BackoffPolicy {
  /** The first wait. */
  initialDelay: number;
  /** The longest wait. */
  maxDelay: number;
  /** How much the wait grows per failure in a row. */
  multiplier: number;
  /** Fraction (0..1) of each wait that is random. */
  jitter: number;
  /** Failures in a row before giving up (`Infinity`: never). */
  limit: number;
}

/**
 * The wait before each reconnect attempt. The n-th failure in a row waits
 * `initialDelay * multiplier^n`, capped at `maxDelay`, minus up to `jitter`
 * of it at random, never less than `initialDelay`. A stream that delivered a
 * frame calls `reset()`, so a camera that drops out once an hour reconnects
 * quickly every time.
 *
 * @example
 * ```ts
 * import { Backoff } from "./backoff.ts";
 * const backoff = new Backoff({ initialDelay: 100, maxDelay: 1000, multiplier: 2, jitter: 0, limit: 3 });
 * [backoff.next(), backoff.next(), backoff.next(), backoff.next()]; // [100, 200, 400, undefined]
 * ```
 */
export class Backoff {
  #policy: BackoffPolicy;
  #random: () => number;
  #failures = 0;

  /**
   * @param policy The reconnect options, defaults filled in.
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
    const base = Math.min(maxDelay, initialDelay * multiplier ** this.#failures);
    this.#failures++;
    return Math.max(initialDelay, base - base * jitter * this.#random());
  }

  /** Forgets past failures, after a connection that delivered frames. */
  reset(): void {
    this.#failures = 0;
  }
}
