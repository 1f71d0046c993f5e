/**
 * Leak detectors for the load, churn and soak tests, the same on Deno, Bun and
 * Node: forced GC where the runtime allows it, RSS, the load process spawned
 * with the runtime running the test, and counters of timers and AbortSignal
 * "abort" listeners that are still pending (installed by wrapping the globals
 * the server code calls, so the runtimes' own internals are not counted).
 */
import "./dispose.ts";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import v8 from "node:v8";
import vm from "node:vm";
import type { Buffer } from "node:buffer";
import { scriptCommand } from "./runtime.ts";

type Gc = () => void;
const g = globalThis as unknown as {
  gc?: Gc;
  Bun?: { gc(sync: boolean): void };
};

function findGc(): { gc: Gc | undefined; how: string } {
  if (g.Bun) return { gc: () => g.Bun!.gc(true), how: "Bun.gc(true)" };
  if (g.gc) return { gc: g.gc, how: "globalThis.gc" };
  try {
    // V8 (Node, Deno): expose gc at run time; a new context then has it.
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as Gc;
    if (typeof gc === "function") return { gc, how: "v8 --expose-gc" };
  } catch { /* fall through */ }
  return { gc: undefined, how: "none (settle period only)" };
}

/** How garbage collection is forced on this runtime, for test names and logs. */
export const gcMethod: { gc: Gc | undefined; how: string } = findGc();

/** RSS in MB after forcing GC (twice, with a pause, so finalizers run) and a settle period. */
export async function settledRssMb(settleMs = 500): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gcMethod.gc?.();
    await new Promise((resolve) => setTimeout(resolve, settleMs / 3));
  }
  return process.memoryUsage().rss / 1e6;
}

/**
 * Runs a TypeScript script in its own process on the runtime running the
 * test, with a stdin to talk to it.
 *
 * @param script Path from the repository root.
 * @param args The script's arguments.
 */
export function spawnScript(script: string, args: string[]): ChildProcess {
  const [program, ...rest] = scriptCommand(script);
  return spawn(program!, [...rest, ...args], { stdio: ["pipe", "pipe", "inherit"] });
}

/** Calls `onLine` with each stdout line of `child`. */
export function onLines(child: ChildProcess, onLine: (line: string) => void): void {
  let buffered = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      onLine(buffered.slice(0, nl).trim());
      buffered = buffered.slice(nl + 1);
    }
  });
}

/** Counters of pending timers and abort listeners; `restore()` or disposal puts the globals back. */
export interface LeakTracker extends Disposable {
  /** Timeouts set and neither fired nor cleared. */
  readonly pendingTimers: number;
  /** Timeouts set in all (to show the test exercised them). */
  readonly timersSet: number;
  /** Abort listeners added and neither removed nor fired once. */
  readonly abortListeners: number;
  /** Abort listeners added in all (to show the test exercised them). */
  readonly abortListenersAdded: number;
  restore(): void;
}

/**
 * Wraps `setTimeout`/`clearTimeout` and `EventTarget`'s listener methods (for
 * "abort" on AbortSignals) to count what is still pending.
 */
export function trackLeaks(): LeakTracker {
  const pending = new Set<unknown>();
  let timersSet = 0;
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const wrappedSet = (fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
    const id: unknown = realSet(
      (...a: unknown[]) => {
        pending.delete(key(id));
        fn(...a);
      },
      ms,
      ...rest,
    );
    pending.add(key(id));
    timersSet++;
    return id;
  };
  const wrappedClear = (id: unknown) => {
    pending.delete(key(id));
    realClear(id as Parameters<typeof clearTimeout>[0]);
  };
  Object.assign(globalThis, { setTimeout: wrappedSet, clearTimeout: wrappedClear });

  const proto = EventTarget.prototype;
  const realAdd = proto.addEventListener;
  const realRemove = proto.removeEventListener;
  // Per signal: the caller's listener → the wrapper registered in its place.
  const wrappers = new WeakMap<object, Map<unknown, EventListener>>();
  let listeners = 0;
  let listenersAdded = 0;
  proto.addEventListener = function (this: EventTarget, type, listener, options) {
    if (!(this instanceof AbortSignal) || type !== "abort" || !listener) {
      return realAdd.call(this, type, listener, options);
    }
    let map = wrappers.get(this);
    if (!map) wrappers.set(this, map = new Map());
    if (map.has(listener)) return;
    const once = typeof options === "object" && options?.once === true;
    const wrapper: EventListener = (event) => {
      if (once && map!.delete(listener)) listeners--;
      if (typeof listener === "function") listener.call(this, event);
      else listener.handleEvent(event);
    };
    map.set(listener, wrapper);
    listeners++;
    listenersAdded++;
    realAdd.call(this, type, wrapper, options);
  };
  proto.removeEventListener = function (this: EventTarget, type, listener, options) {
    const wrapper = this instanceof AbortSignal && type === "abort"
      ? wrappers.get(this)?.get(listener)
      : undefined;
    if (wrapper === undefined) return realRemove.call(this, type, listener, options);
    wrappers.get(this)!.delete(listener);
    listeners--;
    realRemove.call(this, type, wrapper, options);
  };
  const restore = () => {
    Object.assign(globalThis, { setTimeout: realSet, clearTimeout: realClear });
    proto.addEventListener = realAdd;
    proto.removeEventListener = realRemove;
  };
  return {
    get pendingTimers() {
      return pending.size;
    },
    get timersSet() {
      return timersSet;
    },
    get abortListeners() {
      return listeners;
    },
    get abortListenersAdded() {
      return listenersAdded;
    },
    restore,
    [Symbol.dispose]: restore,
  };
}

// Node's timers are objects, Deno's and Bun's numbers (Bun: objects with a number too).
function key(id: unknown): unknown {
  return typeof id === "object" && id !== null && Symbol.toPrimitive in id ? Number(id) : id;
}
