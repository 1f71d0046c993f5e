/**
 * Log lines that clients can cause (a failing request, a full connection
 * table, descriptors running out) must not let a flood of bad requests fill
 * the disk, and must not carry what a request held: a `?token=` in a URL, a
 * password in `user:pass@`. {@linkcode RateLimitedLog} writes each cause once,
 * then at most once per interval with a count; {@linkcode redactSecrets}
 * takes queries and credentials out of text before it is logged.
 *
 * @module
 */

/** Options for {@linkcode RateLimitedLog}. */
export interface RateLimitedLogOptions {
  /**
   * Milliseconds between two lines about the same cause.
   *
   * @default {60000}
   */
  interval?: number;
  /**
   * Causes remembered at once; more are counted under one "other problems" cause.
   *
   * @default {64}
   */
  maxCauses?: number;
}

interface CauseState {
  loggedAt: number;
  suppressed: number;
}

/**
 * Writes a line for a cause the first time it happens, then at most once per
 * `interval`, saying how many were left out in between. Memory is bounded:
 * at most `maxCauses` causes are tracked.
 *
 * @example
 * ```ts
 * import { RateLimitedLog } from "./rate_limited_log.ts";
 * const lines: string[] = [];
 * const log = new RateLimitedLog((line) => lines.push(line));
 * for (let i = 0; i < 500; i++) log.report("bad-host", "400 for a request without a usable Host");
 * lines.length; // 1
 * ```
 */
export class RateLimitedLog {
  readonly #write: (line: string) => void;
  readonly #interval: number;
  readonly #maxCauses: number;
  readonly #causes = new Map<string, CauseState>();

  /**
   * @param write Where lines go (e.g. the command's logger).
   * @param options The interval and how many causes to remember.
   */
  constructor(write: (line: string) => void, options: RateLimitedLogOptions = {}) {
    this.#write = write;
    this.#interval = options.interval ?? 60_000;
    this.#maxCauses = options.maxCauses ?? 64;
  }

  /**
   * Reports one occurrence of `cause`; logs `line` unless this cause was
   * logged less than an interval ago.
   *
   * @param cause A short key naming the problem (e.g. `"EMFILE"`); lines about one cause are rate-limited together.
   * @param line The line to log; pass it through {@linkcode redactSecrets} if a client could have put text in it.
   */
  report(cause: string, line: string): void {
    const now = Date.now();
    let key = cause;
    if (!this.#causes.has(key) && this.#causes.size >= this.#maxCauses) key = "\0other";
    const state = this.#causes.get(key);
    if (state === undefined) {
      this.#causes.set(key, { loggedAt: now, suppressed: 0 });
      this.#write(key === cause ? line : `${line} (and other problems not logged one by one)`);
      return;
    }
    if (now - state.loggedAt < this.#interval) {
      state.suppressed++;
      return;
    }
    const more = state.suppressed > 0
      ? ` (${state.suppressed} more like it in the last ${
        Math.round((now - state.loggedAt) / 1000)
      } s not logged)`
      : "";
    state.loggedAt = now;
    state.suppressed = 0;
    this.#write(line + more);
  }
}

const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*@)?([^\s?#]*)(\?[^\s#]*)?(#\S*)?/gi;
// A query outside a URL the pattern above recognised (e.g. after a host with a space in it).
const QUERY_IN_TEXT = /\?[^\s'"`<>?]*=[^\s'"`<>]*/g;
const CREDENTIAL_HEADER = /\b(authorization|cookie|proxy-authorization)(\s*[:=]\s*)[^\r\n]*/gi;
const TOKEN_PARAMETER = /([?&;]\s*(?:token|access_token|password|pass|key|auth)=)[^&\s#]*/gi;

/**
 * Takes secrets out of text before it is logged: a URL keeps its scheme,
 * host and path, but its query becomes `?…`, its fragment goes and
 * `user:pass@` becomes `***@`; `Authorization:`/`Cookie:` values and
 * `token=`-like parameters outside URLs become `***`.
 *
 * @param text A message that may quote a request (an error's message or stack).
 * @returns The text without queries or credentials.
 *
 * @example
 * ```ts
 * import { redactSecrets } from "./rate_limited_log.ts";
 * redactSecrets("Invalid URL: 'http://a b/stream.mjpg?token=s3cret'");
 * // "Invalid URL: 'http://a b/stream.mjpg?…'"
 * ```
 */
export function redactSecrets(text: string): string {
  return text
    .replace(
      URL_IN_TEXT,
      (_all, scheme: string, userinfo: string | undefined, rest: string, query?: string) =>
        `${scheme}${userinfo ? "***@" : ""}${rest}${query ? "?…" : ""}`,
    )
    .replace(QUERY_IN_TEXT, "?…")
    .replace(CREDENTIAL_HEADER, (_all, name: string, separator: string) => `${name}${separator}***`)
    .replace(TOKEN_PARAMETER, (_all, name: string) => `${name}***`);
}

/**
 * A short, redacted description of an unexpected error for a log line, and a
 * key that groups errors of one cause (its type and message, digits folded).
 *
 * @param error What was thrown.
 * @returns The cause key and the text to log.
 */
export function describeError(error: unknown): { cause: string; text: string } {
  const name = error instanceof Error ? error.name : typeof error;
  // Control characters a client put in a message must not reach a terminal.
  // deno-lint-ignore no-control-regex
  const controls = /[\x00-\x08\x0b-\x1f\x7f]/g;
  const message = redactSecrets(error instanceof Error ? error.message : String(error))
    .replace(controls, "?")
    .slice(0, 300);
  // The first stack frame says where; it names our files, never request data.
  const frame = error instanceof Error
    ? redactSecrets(error.stack?.split("\n").find((line) => /^\s+at /.test(line))?.trim() ?? "")
    : "";
  return {
    cause: `${name}: ${message.replace(/\d+/g, "#")}`,
    text: `${name}: ${message}${frame ? ` (${frame.slice(0, 200)})` : ""}`,
  };
}
