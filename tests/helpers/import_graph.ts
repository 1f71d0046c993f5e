/**
 * The static import graph of the package's entry points, and the layer rule
 * it must keep: each entry imports only its own layer and those below it
 * (DESIGN.md's entry-point table). Read from the source text, so the check
 * sees exactly what a bundler would follow.
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** A layer of `src/`, or a dependency. */
export type Layer =
  | "root"
  | "wire"
  | "internal"
  | "runtime"
  | "client"
  | "server"
  | "sources"
  | "hono"
  | "browser"
  | "cli";

/** Which layers, npm packages and `node:` modules each layer may import. */
export const LAYER_RULES: Record<Layer, { layers: Layer[]; packages: string[]; node: boolean }> = {
  wire: { layers: ["wire"], packages: [], node: false },
  internal: { layers: ["internal", "wire"], packages: ["zod"], node: true },
  runtime: {
    layers: ["runtime", "internal", "wire"],
    packages: ["zod", "@hono/node-server"],
    node: true,
  },
  client: { layers: ["client", "runtime", "internal", "wire"], packages: ["zod"], node: true },
  server: { layers: ["server", "runtime", "internal", "wire"], packages: ["zod"], node: true },
  sources: {
    layers: ["sources", "client", "runtime", "internal", "wire"],
    packages: ["zod"],
    node: true,
  },
  hono: {
    layers: ["hono", "server", "runtime", "internal", "wire"],
    packages: ["hono", "zod"],
    node: true,
  },
  // The <mjpeg-view> element runs in a browser: the wire format and nothing else.
  browser: { layers: ["browser", "wire"], packages: [], node: false },
  cli: {
    layers: ["cli", "hono", "sources", "server", "client", "runtime", "internal", "wire"],
    packages: ["hono", "zod"],
    node: true,
  },
  root: {
    layers: ["cli", "hono", "sources", "server", "client", "runtime", "internal", "wire"],
    packages: [],
    node: false,
  },
};

/**
 * The layer a file of the package belongs to.
 *
 * @param path The file's path relative to the package root, with `/`.
 */
export function layerOf(path: string): Layer {
  if (path === "mod.ts") return "root";
  if (path === "src/frame.ts" || path === "src/errors.ts") return "wire";
  if (path === "src/cli.ts") return "cli";
  const folder = /^src\/([a-z]+)\//.exec(path)?.[1];
  if (folder && folder in LAYER_RULES && folder !== "root") return folder as Layer;
  throw new Error(`expected a file in a layer of src/, got ${path}`);
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^"'`;]*?\s+from\s+)?["']([^"']+)["']/g;

/**
 * The static import specifiers of a module's source (`import … from`,
 * `export … from`, bare `import "x"`), skipping comments, so doc examples do
 * not count. Dynamic `import()` is not followed: it loads only when called.
 */
export function staticImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
  return [...code.matchAll(IMPORT)].map((m) => m[1]!);
}

/** One import that breaks the layer rule. */
export interface ForbiddenEdge {
  /** The importing file, relative to the root. */
  from: string;
  /** The imported file, package or `node:` module. */
  to: string;
  /** Why it is forbidden. */
  why: string;
}

/**
 * Walks the static imports from `entry` and lists every edge that breaks
 * {@linkcode LAYER_RULES}.
 *
 * @param root The package root.
 * @param entry The entry file, relative to the root.
 * @param read Reads a file (injectable, so the checker itself can be tested).
 * @returns The files reached and the forbidden edges.
 */
export function checkLayers(
  root: string,
  entry: string,
  read: (path: string) => string = (path) => readFileSync(path, "utf8"),
): { files: string[]; forbidden: ForbiddenEdge[] } {
  const seen = new Set<string>();
  const forbidden: ForbiddenEdge[] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const layer = layerOf(file);
    const rule = LAYER_RULES[layer];
    for (const specifier of staticImports(read(join(root, file)))) {
      if (specifier.startsWith(".")) {
        const target = relative(root, resolve(root, dirname(file), specifier)).replaceAll(
          "\\",
          "/",
        );
        const targetLayer = layerOf(target);
        if (!rule.layers.includes(targetLayer)) {
          forbidden.push({
            from: file,
            to: target,
            why: `${layer} may import ${rule.layers.join(", ")}, not ${targetLayer}`,
          });
        }
        queue.push(target);
      } else if (specifier.startsWith("node:")) {
        if (!rule.node) {
          forbidden.push({
            from: file,
            to: specifier,
            why: `${layer} may not import node: modules`,
          });
        }
      } else {
        const name = specifier.startsWith("@")
          ? specifier.split("/").slice(0, 2).join("/")
          : specifier.split("/")[0]!;
        if (!rule.packages.includes(name)) {
          forbidden.push({
            from: file,
            to: specifier,
            why: `${layer} may import the packages [${rule.packages.join(", ")}], not ${name}`,
          });
        }
      }
    }
  }
  return { files: [...seen].sort(), forbidden };
}
