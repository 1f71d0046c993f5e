// The entry point of bench/fuzz.ts's worker threads. Node cannot load a .ts
// worker on its own (tsx hooks only the main thread), so register tsx here;
// Deno and Bun load TypeScript natively.
if (!("Deno" in globalThis) && !("Bun" in globalThis)) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import("./fuzz.ts");
