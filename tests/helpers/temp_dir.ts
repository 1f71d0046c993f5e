/** Temporary directories that remove themselves: `using dir = tempDir("cli")`. */
import "./dispose.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh directory under the system's temp directory. */
export interface TempDir extends Disposable {
  /** Its absolute path. */
  readonly path: string;
  /** Deletes it and everything in it (again is a no-op). */
  remove(): void;
}

/** Makes a fresh directory named `mjpeg-PREFIX-…`; disposing it deletes it. */
export function tempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), `mjpeg-${prefix}-`));
  const remove = () => rmSync(path, { recursive: true, force: true });
  return { path, remove, [Symbol.dispose]: remove };
}
