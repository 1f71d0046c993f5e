/**
 * Command-line parsing shared by every `mjpeg` command: `node:util`
 * `parseArgs` for the syntax, zod for the values, and one error type that the
 * entry point turns into a message and exit status 2.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { escapeControls } from "../errors.ts";
import type { z } from "zod";
import { issueMessage } from "../internal/validate.ts";

/** Where a command's output goes: the process's streams, or a test's strings. */
export interface CliIo {
  /** Writes results (help, stats) to standard output. */
  stdout(text: string): void;
  /** Writes messages and log lines to standard error. */
  stderr(text: string): void;
}

/**
 * A log function writing one timestamped line to `io.stderr`. Control
 * characters are escaped: a line may quote an upstream (a status line, a
 * program's stderr), and must not drive the terminal or forge more lines.
 *
 * @param io The command's output.
 * @returns The log function.
 */
export function logTo(io: CliIo): (line: string) => void {
  return (line) => io.stderr(`${new Date().toISOString()} ${escapeControls(line)}\n`);
}

/** A command line that does not say what the command needs; exit status 2. */
export class UsageError extends Error {
  /** The command whose usage to show, e.g. `serve`. */
  readonly command: string;
  /**
   * @param command The command, for the hint to run `--help`.
   * @param message What was expected and what came.
   */
  constructor(command: string, message: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** One flag as `parseArgs` wants it. */
export interface FlagSpec {
  /** `string` flags take a value; `boolean` ones do not. */
  type: "string" | "boolean";
  /** A one-letter alias, e.g. `o` for `--output`. */
  short?: string;
}

/** The parsed command line, before zod. */
export interface RawCommandLine {
  /** Flags by name: strings, or true for boolean flags. */
  values: Record<string, string | boolean | undefined>;
  /** Arguments that are not flags. */
  positionals: string[];
}

/**
 * Parses `argv` with `parseArgs` (strict: unknown flags are errors), turning
 * its errors into {@linkcode UsageError}s.
 *
 * @param command The command name, for messages.
 * @param argv The arguments after the command name.
 * @param flags The flags the command accepts (`help` is added).
 * @returns The flags and positionals.
 * @throws {UsageError} On an unknown flag, a missing value, or a value given to a boolean.
 */
export function parseCommandLine(
  command: string,
  argv: readonly string[],
  flags: Record<string, FlagSpec>,
): RawCommandLine {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...flags, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
    return { values: values as RawCommandLine["values"], positionals };
  } catch (error) {
    // parseArgs' messages name the flag; drop its advice about "--" which
    // does not apply here.
    let message = (error as Error).message.replace(/\. To specify a positional.*$/s, "");
    if (/^Unknown option/.test(message)) {
      message += `; expected one of ${Object.keys(flags).map((f) => `--${f}`).join(", ")}`;
    }
    throw new UsageError(command, message);
  }
}

/**
 * Validates parsed flags with a zod schema, turning the first problems into a
 * {@linkcode UsageError} that names the flag (`--port: expected …`).
 *
 * @param command The command name, for messages.
 * @param schema The schema of the command's options.
 * @param value The options built from the command line.
 * @param describePath Names the flag or setting at a path; by default `--kebab-case` of its last key.
 * @param topLevel Names where a problem of the whole object comes from (an unknown key), e.g. a config file.
 * @returns The validated options.
 * @throws {UsageError} When a value is out of range or malformed.
 */
export function validateFlags<T extends z.ZodType>(
  command: string,
  schema: T,
  value: unknown,
  describePath: (path: readonly PropertyKey[]) => string = flagName,
  topLevel?: string,
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0
      ? `${describePath(issue.path)}: `
      : topLevel
      ? `${topLevel}: `
      : "";
    return `${where}${issueMessage(issue, schema, "key")}`;
  });
  throw new UsageError(command, problems.join("; "));
}

/**
 * The flag for an option path: `--` and the kebab-case of its last key.
 *
 * @param path The option's path in the validated object.
 * @returns E.g. `--max-viewers` for `["maxViewers"]`.
 */
export function flagName(path: readonly PropertyKey[]): string {
  return `--${String(path.at(-1)).replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`;
}

/**
 * A flag's value as a number, or a {@linkcode UsageError} saying what was expected.
 *
 * @param command The command name, for messages.
 * @param flag The flag's name without dashes.
 * @param value The flag's text, if given.
 * @returns The number, or undefined when the flag was not given.
 * @throws {UsageError} When the text is not a number.
 */
export function numberFlag(
  command: string,
  flag: string,
  value: string | boolean | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  if (!Number.isFinite(n)) {
    throw new UsageError(command, `--${flag}: expected a number, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * Splits a command line into argv the way a user expects from a shell —
 * whitespace separates, single and double quotes group, backslash escapes —
 * without running a shell, so nothing is expanded or executed.
 *
 * @param line The command line, e.g. `ffmpeg -i "my file.mp4" -f mjpeg -`.
 * @returns The words.
 * @throws {Error} On an unclosed quote.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`expected a closing ${quote} in ${JSON.stringify(line)}`);
  if (inWord) words.push(word);
  return words;
}
