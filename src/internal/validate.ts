/**
 * Option validation for the server side: one zod parse, and on failure one
 * error that names the option, what was expected and what came.
 *
 * @module
 */
import type { z } from "zod";

/**
 * Parses `value` with `schema`, or throws a `TypeError` listing every problem.
 *
 * @param schema The zod schema.
 * @param value The options as given.
 * @param what What the options are for, e.g. `"FrameHub options"`.
 * @returns The parsed options.
 */
export function parseOptions<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what: string,
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.join(".");
    const got = issue.path.length > 0 ? `, got ${show(pick(value, issue.path))}` : "";
    return `${path ? path + ": " : ""}${issue.message}${got}`;
  });
  throw new TypeError(`invalid ${what}: ${problems.join("; ")}`);
}

function pick(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 60 ? text.slice(0, 60) + "…" : text;
  } catch {
    return String(value);
  }
}
