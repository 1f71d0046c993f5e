/** Waiting in tests: a plain pause, and a bounded wait for a condition. */

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** A value that is not false, 0, "", null or undefined. */
export type Truthy<T> = Exclude<T, false | 0 | "" | null | undefined>;

/**
 * Checks `check()` every `every` ms (10) until it returns a truthy value, and
 * returns that value; fails after `ms` with `timed out after MS ms waiting for
 * WHAT`. `what` may be a function, to describe the state when the wait gave
 * up. A check that asks the server under test (an HTTP request) goes less
 * often, so the asking does not load what it measures.
 */
export async function until<T>(
  check: () => T | Promise<T>,
  what: string | (() => string),
  ms = 5000,
  every = 10,
): Promise<Truthy<T>> {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${ms} ms waiting for ${typeof what === "string" ? what : what()}`,
      );
    }
    await sleep(every);
  }
}
