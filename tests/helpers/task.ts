/**
 * Work a test runs alongside its body (a source piped to a hub, a viewer, a
 * publishing loop), stopped by an AbortSignal: disposing it aborts the signal
 * and waits for the work to end, so nothing outlives the test.
 */
import "./dispose.ts";

/** Work running in the background; disposal is `stop()`. */
export interface Background<T> extends AsyncDisposable {
  /** The signal `run` was given; aborted by `stop()`. */
  readonly signal: AbortSignal;
  /** Settles when the work ends, by itself or stopped. */
  readonly done: Promise<T>;
  /** Aborts the signal and waits for the work to end; returns what it returned. */
  stop(): Promise<T>;
}

/** Starts `run(signal)` without waiting for it: `await using piping = background((s) => …)`. */
export function background<T>(run: (signal: AbortSignal) => Promise<T>): Background<T> {
  const controller = new AbortController();
  const done = run(controller.signal);
  const stop = () => {
    controller.abort();
    return done;
  };
  return {
    signal: controller.signal,
    done,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
