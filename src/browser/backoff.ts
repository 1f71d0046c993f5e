/**
 * How long a view waits before reconnecting: exponential, capped, with
 * jitter, so a page of cameras whose server restarts does not come back in
 * lock-step, and a URL that keeps failing is tried less and less often —
 * never in a tight loop.
 *
 * @module
 */

/** The first wait after a failure, in milliseconds (before jitter). */
export const INITIAL_DELAY = 1000;
/** The longest wait between attempts, in milliseconds (before jitter). */
export const MAX_DELAY = 30_000;

/**
 * The wait before attempt number `failures` (1 for the first retry): 1 s,
 * 2 s, 4 s … capped at 30 s, each taken at random between half and all of it.
 *
 * @param failures Failed attempts in a row, at least 1.
 * @param random A number in [0, 1), for tests.
 * @returns Milliseconds to wait.
 */
export function retryDelay(failures: number, random: number = Math.random()): number {
  const base = Math.min(MAX_DELAY, INITIAL_DELAY * 2 ** Math.max(0, failures - 1));
  return Math.round(base / 2 + (base / 2) * random);
}

/**
 * Waits `ms` milliseconds, or less if `signal` aborts.
 *
 * @param ms Milliseconds.
 * @param signal Ends the wait early.
 * @returns A promise that never rejects.
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
