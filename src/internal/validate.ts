/**
 * Option validation for every layer above the wire: one zod parse, and on
 * failure one error that names each bad option, what was expected and what
 * came. The CLI words the same problems as flags and config keys.
 *
 * @module
 */
import { z } from "zod";

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
  throw new TypeError(
    `invalid ${what}: ${describeProblems(schema, value, result.error).join("; ")}`,
  );
}

/**
 * Each problem of a failed parse in words: where (`path: `), what was
 * expected, and what came (`, got 3`).
 *
 * @param schema The schema that was parsed.
 * @param value The value that was parsed.
 * @param error The parse's error.
 * @param noun What a key is called where it came from, for unknown keys: an `option`, a `control`.
 * @returns One line per problem.
 */
export function describeProblems(
  schema: z.ZodType,
  value: unknown,
  error: z.ZodError,
  noun = "option",
): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.join(".");
    const got = issue.path.length > 0 && issue.code !== "unrecognized_keys"
      ? `, got ${show(pick(value, issue.path))}`
      : "";
    return `${path ? path + ": " : ""}${issueMessage(issue, schema, noun)}${got}`;
  });
}

/**
 * One problem in words: zod's message, except for unknown keys, which are
 * named with the keys the schema expects there (a typo is the usual cause).
 *
 * @param issue The zod issue.
 * @param schema The schema that was parsed, to find the expected keys.
 * @param noun What a key is called where it came from: an `option`, a config file's `key`.
 * @returns What was expected (and, for unknown keys, what came).
 */
export function issueMessage(
  issue: z.core.$ZodIssue,
  schema: z.ZodType,
  noun = "option",
): string {
  // A record's key that its own schema refused: that schema's words, not zod's "Invalid key".
  if (issue.code === "invalid_key" && issue.issues.length > 0) return issue.issues[0]!.message;
  if (issue.code !== "unrecognized_keys") return issue.message;
  const known = keysAt(schema, issue.path);
  return `unknown ${noun}${issue.keys.length > 1 ? "s" : ""} ${
    issue.keys.map((k) => JSON.stringify(k)).join(", ")
  }${known.length > 0 ? `, expected one of ${known.join(", ")}` : ""}`;
}

/**
 * `true`, `false`, or an object `schema` accepts (a restart policy: on, off,
 * or how). Not a z.union, whose one message would hide which field of the
 * object is wrong: here each problem keeps its path and its words.
 *
 * @param schema The object's schema.
 * @param expected What to say when the value is neither a boolean nor an object.
 * @returns The schema.
 */
export function booleanOr<T extends z.ZodType>(
  schema: T,
  expected: string,
): z.ZodType<boolean | z.output<T>> {
  return z.unknown().transform((value, ctx): boolean | z.output<T> => {
    if (typeof value === "boolean") return value;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      ctx.addIssue({ code: "custom", message: expected, input: value });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      ctx.addIssue({
        code: "custom",
        message: issueMessage(issue, schema),
        path: issue.path,
        input: value,
      });
    }
    return z.NEVER;
  });
}

interface SchemaDef {
  type: string;
  in?: z.ZodType;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
}

/** The keys an object schema at `path` accepts, looking through optional, default and pipes. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = schema;
  for (let i = 0; i <= path.length; i++) {
    let def = current?._zod.def as SchemaDef | undefined;
    while (def && (def.in ?? def.innerType)) {
      current = def.type === "pipe" ? def.in : def.innerType;
      def = current?._zod.def as SchemaDef | undefined;
    }
    if (!def) return [];
    if (i === path.length) return def.type === "object" && def.shape ? Object.keys(def.shape) : [];
    if (def.type === "object") current = def.shape?.[String(path[i])];
    else if (def.type === "record") current = def.valueType;
    else return [];
  }
  return [];
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

/**
 * A setting that is well-formed but cannot work as given: a file that is not
 * there, a key that is not the certificate's, a socket path in use. Thrown
 * before anything starts; the CLI reports it under the flag's name and exits
 * with 2.
 */
export class SettingError extends Error {
  /** The setting, as the caller named it: `tls.key`, `--tls-key`. */
  readonly setting: string;
  /**
   * @param setting The setting's name.
   * @param message What was expected and what came.
   */
  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = "SettingError";
    this.setting = setting;
  }
}
