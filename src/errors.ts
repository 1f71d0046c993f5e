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

/**
 * Shows up to `max` bytes as text for an error message, with control
 * characters escaped, so binary garbage cannot break a log line.
 *
 * @param bytes The bytes to show.
 * @param max How many bytes to show at most.
 * @returns A printable, quoted excerpt.
 */
export function excerpt(bytes: Uint8Array, max = 32): string {
  let out = "";
  const end = Math.min(bytes.length, max);
  for (let i = 0; i < end; i++) {
    const b = bytes[i]!;
    if (b === 0x0d) out += "\\r";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x22) out += '\\"';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\x" + b.toString(16).padStart(2, "0");
  }
  return `"${out}${bytes.length > max ? "…" : ""}"`;
}
