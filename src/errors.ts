/**
 * Typed errors, so callers can tell bad input from their own mistakes.
 *
 * @module
 */

/**
 * The bytes are not an MJPEG stream this module can read. The message says
 * what was expected and what came, e.g.
 * `expected "--frame" delimiter, got "HTTP/1.1 502"`.
 */
export class MjpegProtocolError extends Error {
  /**
   * Makes the error.
   *
   * @param message What was expected and what came instead.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MjpegProtocolError";
  }
}

// C0 controls, DEL and C1 controls: every terminal escape sequence starts
// with one (ESC, or the 8-bit CSI 0x9B), and CR/LF forge log lines.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;
// For bytes shown as text: anything that is not printable ASCII, and the quote.
const NOT_PRINTABLE_ASCII = /[^\x20-\x21\x23-\x7e]/g;
const NAMED: Record<string, string> = { "\r": "\\r", "\n": "\\n", "\t": "\\t", '"': '\\"' };

/**
 * Escapes control characters (C0, DEL, C1, and so every ANSI escape
 * sequence) in text that came from the network, before it reaches a
 * terminal or a log: `\x00`, `\x1b`, `\x9b`, `\r`, `\n`, `\t`. Everything
 * else, backslashes included, is left as it is, so escaping twice changes
 * nothing.
 *
 * @param text Text from an upstream: a status line, a header, an error message.
 * @returns The text, safe to print.
 *
 * @example
 * ```ts
 * import { escapeControls } from "./errors.ts";
 * escapeControls("Not\x00Found\x1b[2J"); // "Not\\x00Found\\x1b[2J"
 * ```
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, escapeChar);
}

/**
 * Shows up to `max` bytes as quoted text for an error message: printable
 * ASCII as it is, every other byte escaped like {@linkcode escapeControls}
 * does, so binary garbage cannot break a log line.
 *
 * @param bytes The bytes to show.
 * @param max How many bytes to show at most.
 * @returns A printable, quoted excerpt.
 */
export function excerpt(bytes: Uint8Array, max = 32): string {
  let text = "";
  const end = Math.min(bytes.length, max);
  for (let i = 0; i < end; i++) text += String.fromCharCode(bytes[i]!);
  return `"${text.replace(NOT_PRINTABLE_ASCII, escapeChar)}${bytes.length > max ? "…" : ""}"`;
}

/**
 * Quotes text from the network for an error message, like JSON.stringify
 * but with every control character escaped (JSON leaves DEL and C1 raw).
 *
 * @param text The text; cut to `max` characters.
 * @param max How many characters to show at most.
 * @returns The quoted, printable text.
 */
export function quoteUntrusted(text: string, max = 80): string {
  const shown = text.length > max ? text.slice(0, max) : text;
  return `"${escapeControls(shown).replaceAll('"', '\\"')}${text.length > max ? "…" : ""}"`;
}

function escapeChar(c: string): string {
  return NAMED[c] ?? "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0");
}
