/**
 * `using` and `await using` for the tests' fixtures, on Deno, Bun and Node
 * alike. Node before 20.4 has no `Symbol.dispose` or `Symbol.asyncDispose`
 * (tsx lowers `using` but needs the symbols); they are filled in here, once,
 * with the registered symbols esbuild's and TypeScript's helpers fall back to,
 * so a fixture's `[Symbol.asyncDispose]` and the `using` that calls it agree.
 * Every fixture module imports this one first.
 */

const symbols = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
symbols.dispose ??= Symbol.for("Symbol.dispose");
symbols.asyncDispose ??= Symbol.for("Symbol.asyncDispose");

/**
 * Gives `value` a `[Symbol.asyncDispose]` that runs `cleanup(value)`, for an
 * object whose class has none: `await using hub = disposable(new FrameHub(), (h) => h.close())`.
 */
export function disposable<T extends object>(
  value: T,
  cleanup: (value: T) => unknown,
): T & AsyncDisposable {
  return Object.assign(value, {
    async [Symbol.asyncDispose]() {
      await cleanup(value);
    },
  });
}

/**
 * Runs `cleanup` when the block ends, however it ends:
 * `await using _timer = defer(() => clearInterval(timer))`.
 */
export function defer(cleanup: () => unknown): AsyncDisposable {
  return {
    async [Symbol.asyncDispose]() {
      await cleanup();
    },
  };
}
