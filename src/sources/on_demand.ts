/**
 * Running a source only while someone watches: a Pi camera that nobody looks
 * at need not run (and heat the Pi). The source starts when its hub is first
 * wanted (a viewer connects, or a snapshot waits for a frame) and stops
 * `idle` ms after the last one leaves; a viewer who comes back within that
 * time finds it still running. Viewers that arrive together start it once:
 * demand is one flag on the hub, and this loop runs one source at a time.
 *
 * @module
 */
import type { Frame } from "../frame.ts";
import type { FrameSource, SourceReport } from "./source.ts";

/** What running a source on demand needs from its hub (a `FrameHub` has it all). */
export interface DemandHub {
  /** True while anyone wants frames. */
  readonly wanted: boolean;
  /**
   * Calls `listener` when `wanted` changes.
   *
   * @param listener Gets the new value.
   * @returns A function that stops the calls.
   */
  watchDemand(listener: (wanted: boolean) => void): () => void;
  /**
   * Takes the source's status: `stopped` while idle, `starting` when started.
   *
   * @param status The status.
   */
  reportSourceStatus?(status: SourceReport): void;
}

/** How long a source run on demand keeps running after the last viewer left: 10 s. */
export const DEFAULT_ON_DEMAND_IDLE = 10_000;

/**
 * Wraps a source so that it runs only while `hub` is wanted.
 *
 * @param source The source (a camera, a command, a relay…).
 * @param hub The hub it feeds.
 * @param idle Milliseconds it keeps running after the hub stops being wanted.
 * @returns A source whose frames pause (no process, no connection) while nobody watches.
 */
export function onDemandSource(source: FrameSource, hub: DemandHub, idle: number): FrameSource {
  const report = (state: SourceReport["state"]) =>
    hub.reportSourceStatus?.({ state, lastError: null, since: Date.now() });
  const wrapped: FrameSource = {
    description: `${source.description}, on demand`,
    async *frames(signal: AbortSignal): AsyncGenerator<Frame> {
      while (!signal.aborted) {
        if (!hub.wanted) {
          report("stopped");
          if (!await untilWanted(hub, signal)) return;
        }
        const run = new AbortController();
        const onAbort = () => run.abort(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        let timer: ReturnType<typeof setTimeout> | undefined;
        let idled = false;
        const idleStop = () => {
          clearTimeout(timer);
          timer = setTimeout(() => {
            idled = true;
            run.abort(new Error("nobody watches"));
          }, idle);
        };
        const unwatch = hub.watchDemand((wanted) => wanted ? clearTimeout(timer) : idleStop());
        if (!hub.wanted) idleStop();
        report("starting");
        try {
          for await (const frame of source.frames(run.signal)) yield frame;
        } catch (error) {
          if (!idled && !signal.aborted) throw error;
        } finally {
          unwatch();
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          run.abort();
        }
        // Stopped, or the source ended by itself as it would have without this wrapper.
        if (signal.aborted || !idled) return;
      }
    },
  };
  if (source.check) wrapped.check = () => source.check!();
  // The camera's settings stay reachable (at /control) while it is stopped.
  return source.controls ? { ...wrapped, controls: source.controls } : wrapped;
}

/** Resolves true once the hub is wanted, false if `signal` aborts first. */
function untilWanted(hub: DemandHub, signal: AbortSignal): Promise<boolean> {
  if (hub.wanted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      unwatch();
      signal.removeEventListener("abort", onAbort);
      resolve(value);
    };
    const onAbort = () => done(false);
    const unwatch = hub.watchDemand((wanted) => wanted && done(true));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
