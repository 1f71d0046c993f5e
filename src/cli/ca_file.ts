/**
 * `--ca FILE` and a config file's `ca`: the PEM file of the CA that signed a
 * camera's https certificate. Read and checked while the flags are, so a
 * wrong path is a usage error (exit status 2) that names the file, not a
 * connection failure later.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

/**
 * Reads a CA file.
 *
 * @param path The file.
 * @returns Its PEM text.
 * @throws {Error} When it cannot be read or holds no certificate, saying which.
 */
export function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new Error(`cannot read ${path} (${code ?? (error as Error).message})`);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Error(
      `expected a PEM certificate ("-----BEGIN CERTIFICATE-----") in ${path}, got none`,
    );
  }
  return text;
}

/** A CA file's path, checked to be a readable PEM certificate. */
export const caFileSchema: z.ZodType<string> = z.string({ error: "expected a file name" }).min(1)
  .superRefine((path, ctx) => {
    try {
      readCaFile(path);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message, input: path });
    }
  });
