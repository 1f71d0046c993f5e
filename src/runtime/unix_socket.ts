/**
 * The file of a unix-socket server: claimed before listening, given its mode
 * after, removed at shutdown. A socket file left by a server that died is
 * stale (connecting to it is refused) and is replaced; one a live server
 * answers on is in use, and so is anything that is not a socket: neither is
 * touched, and the error says which.
 *
 * @module
 */
import { chmod, lstat, stat, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { dirname } from "node:path";
import { SettingError } from "../internal/validate.ts";

/** The longest socket path Linux takes (`sun_path` is 108 bytes, with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Makes `path` free for a new socket: nothing there, or a stale socket file
 * (removed here).
 *
 * @param path The socket's path.
 * @param setting How to name the setting in errors (`path`, `--unix`).
 * @throws {SettingError} When the path is too long, its folder is missing, a
 *   live server listens there, or something other than a socket is there.
 */
export async function claimSocketPath(path: string, setting: string): Promise<void> {
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new SettingError(
      setting,
      `expected a socket path of at most ${MAX_SOCKET_PATH_BYTES} bytes, got ${bytes}`,
    );
  }
  let found: Awaited<ReturnType<typeof lstat>>;
  try {
    found = await lstat(path);
  } catch {
    try {
      if (!(await stat(dirname(path))).isDirectory()) throw new Error("not a directory");
    } catch {
      throw new SettingError(
        setting,
        `expected a path in an existing folder, got ${path} (no folder ${dirname(path)})`,
      );
    }
    return;
  }
  if (!found.isSocket()) {
    throw new SettingError(
      setting,
      `expected a free path for the socket, got ${path}, which exists and is not a socket`,
    );
  }
  const taken = await whyTaken(path);
  if (taken !== undefined) {
    throw new SettingError(setting, `expected a free path for the socket, got ${path}, ${taken}`);
  }
  await unlink(path).catch(() => {});
}

/**
 * Gives a socket file its permissions (e.g. 0o660: owner and group may connect).
 *
 * @param path The socket's path.
 * @param mode The permission bits.
 * @returns The file's inode, to recognise it at shutdown.
 */
export async function setSocketMode(path: string, mode: number | undefined): Promise<number> {
  if (mode !== undefined) await chmod(path, mode);
  return (await lstat(path)).ino;
}

/**
 * Removes the socket file at shutdown, if it is still the one this server made.
 * (Deno, Bun and Node remove it themselves when the listener closes; this
 * covers a runtime that does not.)
 *
 * @param path The socket's path.
 * @param ino Its inode when it was made.
 */
export async function removeSocketPath(path: string, ino: number): Promise<void> {
  try {
    const found = await lstat(path);
    if (found.isSocket() && found.ino === ino) await unlink(path);
  } catch { /* already gone */ }
}

/** Why the socket at `path` is not stale: a server accepts on it, or it cannot be tried. */
function whyTaken(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (why: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const live = "where a running server listens";
    // A server too busy to accept within a second is still a live server.
    const timer = setTimeout(() => done(live), 1000);
    socket.once("connect", () => done(live));
    socket.once("error", (error: Error & { code?: string }) => {
      // Refused: nobody listens, the file is left over. Anything else: leave it alone.
      if (error.code === "ECONNREFUSED" || error.code === "ENOENT") done(undefined);
      else done(`a socket this user cannot try (${error.code ?? error.message})`);
    });
  });
}
