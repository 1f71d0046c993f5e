/**
 * Reading the challenges of a 401's `WWW-Authenticate` (RFC 9110 §11.6.1).
 * A camera may send several, in one header or in several (which `Headers`
 * joins with ", "), e.g. `Digest realm="cam", algorithm=SHA-256, nonce="…",
 * Digest realm="cam", algorithm=MD5, nonce="…", Basic realm="cam"`, so the
 * commas that separate challenges and those that separate one challenge's
 * parameters are told apart by what follows them: `name=` continues a
 * challenge, a lone word starts the next.
 *
 * @module
 */

/** One challenge: its scheme and its parameters (names lower-cased). */
export interface Challenge {
  /** The scheme, lower-cased: `basic`, `digest`, `bearer`, … */
  scheme: string;
  /** The parameters, names lower-cased, quoted strings unquoted. */
  params: Map<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const TOKEN68 = /[A-Za-z0-9._~+/-]+=*/y;
const SPACE = /[ \t]*/y;

/**
 * Parses a `WWW-Authenticate` value into its challenges. Unparsable pieces
 * are skipped rather than fatal: a camera's odd extra challenge must not hide
 * the Digest one beside it.
 *
 * @param header The header's value (several headers joined with ", ").
 * @returns The challenges in order.
 *
 * @example
 * ```ts
 * import { parseChallenges } from "./www_authenticate.ts";
 * const [digest] = parseChallenges('Digest realm="cam", nonce="abc", qop="auth"');
 * digest?.params.get("nonce"); // "abc"
 * ```
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let current: Challenge | undefined;
  let at = 0;
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = at;
    const found = pattern.exec(header);
    if (!found) return undefined;
    at = pattern.lastIndex;
    return found[0];
  };
  while (at < header.length) {
    match(SPACE);
    if (header[at] === ",") {
      at++;
      continue;
    }
    const word = match(TOKEN);
    if (word === undefined) {
      // Not a token: skip to the next comma.
      const comma = header.indexOf(",", at);
      at = comma < 0 ? header.length : comma + 1;
      continue;
    }
    match(SPACE);
    if (header[at] === "=" && current) {
      at++;
      match(SPACE);
      current.params.set(word.toLowerCase(), readValue());
      continue;
    }
    current = { scheme: word.toLowerCase(), params: new Map() };
    challenges.push(current);
    // A token68 (Negotiate's blob) rather than parameters: keep it as "token68".
    const start = at;
    const blob = match(TOKEN68);
    if (blob !== undefined) {
      match(SPACE);
      if (at >= header.length || header[at] === ",") current.params.set("token68", blob);
      else at = start;
    }
  }
  return challenges;

  function readValue(): string {
    if (header[at] !== '"') return match(TOKEN) ?? "";
    let value = "";
    for (at++; at < header.length; at++) {
      const c = header[at]!;
      if (c === '"') {
        at++;
        break;
      }
      if (c === "\\" && at + 1 < header.length) at++;
      value += header[at];
    }
    return value;
  }
}

/**
 * A value as a quoted-string: quotes and backslashes escaped.
 *
 * @param value The text.
 * @returns It in double quotes.
 */
export function quoteString(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
