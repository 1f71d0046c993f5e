#!/usr/bin/env node
// The `mjpeg` command for Node (npm's "bin"). In the npm package it runs the
// compiled lib/; in a checkout, which is never built, it runs the TypeScript
// sources through tsx (a dev dependency). Deno and Bun run src/cli.ts as is.
import { existsSync } from "node:fs";
import process from "node:process";

const source = new URL("../src/cli.ts", import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(source.href);
} else {
  cli = await import(new URL("../lib/src/cli.js", import.meta.url).href);
}
process.exit(await cli.main(process.argv.slice(2)));
