/**
 * Option checks for the wire layer, by hand: the decoder and encoder must run
 * in a browser with no dependencies, so zod (which the other layers use) is
 * not available here. Errors say what was expected and what came.
 *
 * @module
 */

/**
 * Checks that `options` is an object with no keys but `known`.
 *
 * @param options What the caller passed.
 * @param known The option names the caller may use.
 * @param what Who is checking, e.g. `MjpegParser`, for the message.
 * @returns The options as a record.
 * @throws {TypeError} For a non-object or an unknown key.
 */
export function checkOptionKeys(
  options: unknown,
  known: readonly string[],
  what: string,
): Record<string, unknown> {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`${what}: expected options as an object, got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${what}: unknown option ${JSON.stringify(key)}, expected one of ${known.join(", ")}`,
      );
    }
  }
  return options as Record<string, unknown>;
}

/**
 * Checks one option's type: `typeof` is one of `types` (or it is absent).
 *
 * @param options The checked options.
 * @param key The option's name.
 * @param types The `typeof` results allowed, `"null"` for null.
 * @param what Who is checking, for the message.
 * @throws {TypeError} When the value has another type.
 */
export function checkOptionType(
  options: Record<string, unknown>,
  key: string,
  types: readonly ("string" | "number" | "function" | "boolean" | "null")[],
  what: string,
): void {
  const value = options[key];
  if (value === undefined) return;
  const type = value === null ? "null" : typeof value;
  if (!(types as readonly string[]).includes(type)) {
    throw new TypeError(
      `${what}: expected ${key} as ${
        types.map((t) => t === "null" ? "null" : `a ${t}`).join(" or ")
      }, got ${show(value)}`,
    );
  }
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  return String(value);
}
