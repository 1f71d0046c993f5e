/**
 * Telling a stalled viewer from a slow one. A response body here is pulled:
 * the server asks for the next chunk once the connection has taken the last.
 * A viewer that still reads, however slowly, keeps asking; one whose
 * connection takes nothing (a client that stopped reading, a peer that
 * vanished without a FIN) never asks again, and would hold its slot, its
 * `--max-viewers` place and its descriptor forever.
 *
 * One timer sweeps every watched body (not a timer per frame per viewer); a
 * body handed a chunk that is still not taken after `timeout` is reported.
 *
 * @module
 */
import type { StreamControl } from "../runtime/stream_control.ts";

/** Watches one response body; see {@linkcode watchStall}. */
export interface StallWatch {
  /** A chunk was handed to the connection: the clock runs until it is taken. */
  handed(): void;
  /** The connection asked for more: it took the last chunk. */
  taken(): void;
  /** Stops watching (the body ended). */
  stop(): void;
}

interface Entry {
  /** When the chunk not yet taken was handed over (performance.now()), or -1. */
  since: number;
  timeout: number;
  onStall: () => void;
}

const entries = new Set<Entry>();
let sweeper: ReturnType<typeof setInterval> | undefined;
let period = Infinity;

function sweep(): void {
  const now = performance.now();
  for (const entry of entries) {
    if (entry.since >= 0 && now - entry.since >= entry.timeout) {
      entries.delete(entry);
      entry.onStall();
    }
  }
  if (entries.size === 0) stopSweeper();
}

function stopSweeper(): void {
  if (sweeper !== undefined) clearInterval(sweeper);
  sweeper = undefined;
  period = Infinity;
}

/**
 * Starts watching a body for a stall.
 *
 * @param timeout Milliseconds a handed chunk may stay untaken; the report
 *   comes within a quarter of this (at most a second) after.
 * @param onStall Called once when the body stalls; watching then stops.
 * @returns The watch: call `handed()` on each enqueue, `taken()` on each pull.
 *
 * @example
 * ```ts ignore
 * const watch = watchStall(30_000, () => dropViewer());
 * // in pull(): watch.taken(); …; controller.enqueue(part); watch.handed();
 * ```
 */
export function watchStall(timeout: number, onStall: () => void): StallWatch {
  const entry: Entry = { since: -1, timeout, onStall };
  entries.add(entry);
  const wanted = Math.min(1000, Math.max(25, timeout / 4));
  if (wanted < period) {
    if (sweeper !== undefined) clearInterval(sweeper);
    period = wanted;
    sweeper = setInterval(sweep, period);
    // Connections keep a process alive, not this timer (Node and Bun).
    (sweeper as { unref?: () => void }).unref?.();
  }
  return {
    handed: () => void (entry.since = performance.now()),
    taken: () => void (entry.since = -1),
    stop: () => {
      if (entries.delete(entry) && entries.size === 0) stopSweeper();
    },
  };
}

/**
 * Wraps a finite response body (a snapshot) so its sender learns when the
 * connection has taken all of it, went away, or stalled for `timeout` ms (the
 * body then errors). `onEnd` runs once, whichever comes first.
 *
 * @param body The body to send.
 * @param timeout Milliseconds a chunk may stay untaken; 0 for no limit.
 * @param onEnd Called once when the body is over.
 * @returns A pull-based body with the same bytes.
 */
export function watchedBody(
  body: ReadableStream<Uint8Array>,
  timeout: number,
  onEnd: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let over = false;
  const end = () => {
    if (over) return;
    over = true;
    watch?.stop();
    onEnd();
  };
  let controller: ReadableStreamDefaultController<Uint8Array>;
  const watch = timeout > 0
    ? watchStall(timeout, () => {
      controller.error(new Error(`stalled: no bytes taken for ${timeout} ms`));
      reader.cancel().catch(() => {});
      end();
    })
    : undefined;
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    async pull(c) {
      watch?.taken();
      const { done, value } = await reader.read();
      if (over) return;
      if (done) {
        c.close();
        end();
        return;
      }
      c.enqueue(value);
      watch?.handed();
    },
    cancel(reason) {
      reader.cancel(reason).catch(() => {});
      end();
    },
  }, { highWaterMark: 0 });
}

/**
 * Ends a stalled viewer's body. Under our `serve()` the connection is cut and
 * the body just closes: an error would be logged by the HTTP adapter once per
 * dropped viewer, a way for anyone to fill the log. Under someone else's
 * server, an error is how a body says "abort this connection" rather than
 * "this response is complete".
 *
 * @param controller The body's controller.
 * @param control The body's registered control (its `cut`, when our server sends it).
 * @param timeout The viewer timeout that passed, for the error's message.
 */
export function endStalledBody(
  controller: ReadableStreamDefaultController<Uint8Array>,
  control: StreamControl,
  timeout: number,
): void {
  if (control.cut) {
    control.cut();
    controller.close();
  } else {
    controller.error(new Error(`viewer stalled: no bytes taken for ${timeout} ms`));
  }
}
