/**
 * How many connections a server holds, in all and per client address. Each
 * connection costs a file descriptor, and a process that runs out of them
 * can no longer accept, open a camera or start a program; so `serve()` closes
 * connections beyond a cap at once, below the open-file limit, and says so in
 * the log (once, then at most once a minute).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { RateLimitedLog } from "../internal/rate_limited_log.ts";

/**
 * The default connection cap: the soft open-file limit (from /proc on Linux)
 * less what the rest of the process may need (an eighth, at least 64).
 *
 * @returns The cap, or undefined where the limit cannot be read.
 */
export function defaultMaxConnections(): number | undefined {
  if (!mayRead("/proc/self/limits")) return undefined;
  let limits: string;
  try {
    limits = readFileSync("/proc/self/limits", "utf8");
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
  if (soft === undefined || soft === "unlimited") return undefined;
  const limit = Number(soft);
  return Math.max(16, limit - Math.max(64, Math.floor(limit / 8)));
}

/**
 * Whether reading `path` needs no permission prompt: on Deno, reading without
 * `--allow-read` would ask the user at the terminal, so ask Deno first.
 *
 * @param path The file.
 * @returns False on Deno without read permission for it; true elsewhere.
 */
export function mayRead(path: string): boolean {
  const deno = (globalThis as {
    Deno?: { permissions?: { querySync?(d: { name: "read"; path: string }): { state: string } } };
  }).Deno;
  if (deno === undefined) return true;
  try {
    return deno.permissions?.querySync?.({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}

/** Counts open connections and refuses those beyond the caps. */
export class ConnectionGuard {
  readonly #max: number;
  readonly #maxPerAddress: number;
  readonly #perAddress = new Map<string, number>();
  readonly #log: RateLimitedLog;
  #open = 0;

  /**
   * @param caps The most connections at once, and per client address (undefined: no cap).
   * @param log Where refusals are reported, rate-limited.
   */
  constructor(
    caps: { maxConnections: number | undefined; maxConnectionsPerAddress: number | undefined },
    log: RateLimitedLog,
  ) {
    this.#max = caps.maxConnections ?? Infinity;
    this.#maxPerAddress = caps.maxConnectionsPerAddress ?? Infinity;
    this.#log = log;
  }

  /** Connections open now. */
  get open(): number {
    return this.#open;
  }

  /**
   * Admits a new connection, or reports why not; the caller closes a refused one.
   *
   * @param address The client's address (IP), or "" when there is none (unix sockets).
   * @returns True when admitted (call {@linkcode ConnectionGuard.release} when it closes).
   */
  admit(address: string): boolean {
    if (this.#open >= this.#max) {
      this.#log.report(
        "max-connections",
        `connection limit reached (${this.#max} open): new connections are closed until some end`,
      );
      return false;
    }
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (address !== "" && fromAddress >= this.#maxPerAddress) {
      this.#log.report(
        "max-connections-per-address",
        `connection limit per address reached (${this.#maxPerAddress} from ${address}): its new connections are closed`,
      );
      return false;
    }
    this.#open++;
    if (this.#maxPerAddress !== Infinity) this.#perAddress.set(address, fromAddress + 1);
    return true;
  }

  /**
   * Forgets an admitted connection that has closed.
   *
   * @param address The address it was admitted with.
   */
  release(address: string): void {
    this.#open--;
    const fromAddress = this.#perAddress.get(address);
    if (fromAddress === undefined) return;
    if (fromAddress <= 1) this.#perAddress.delete(address);
    else this.#perAddress.set(address, fromAddress - 1);
  }
}
