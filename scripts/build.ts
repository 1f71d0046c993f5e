/**
 * `npm run build` (and `npm pack`, through `prepack`): compiles the package
 * to `lib/` — ESM JavaScript with `.d.ts` declarations — for projects that
 * install it from npm and run it without a TypeScript loader. A checkout
 * never needs this: Deno, Bun and `tsx` run the sources as they are.
 *
 * tsc rewrites `./x.ts` imports to `./x.js` in the JavaScript it emits, but
 * leaves them as written in declarations; they are rewritten here so a
 * user's type checker, whatever its settings, finds `./x.d.ts`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

const root = new URL("..", import.meta.url).pathname;
const lib = join(root, "lib");
rmSync(lib, { recursive: true, force: true });
const tsc = spawnSync(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

let rewritten = 0;
for (const entry of readdirSync(lib, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, "utf8");
  const fixed = text.replace(
    /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*)\.ts(["'])/g,
    (_, before, path, after) => `${before}${path}.js${after}`,
  );
  if (fixed !== text) {
    writeFileSync(file, fixed);
    rewritten++;
  }
}
console.log(`built lib/ (${rewritten} declaration files with rewritten imports)`);
