#!/usr/bin/env node
// The `mjpeg` command for Node (npm's "bin"): loads the TypeScript sources
// through tsx, so no build step is needed. Deno and Bun run src/cli.ts directly.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
process.exit(await main(process.argv.slice(2)));
