/**
 * TLS credentials for `serve()`: a certificate (chain) and its private key,
 * each given as PEM text or as the path of a PEM file. They are read once and
 * checked before anything listens — each must parse, and the key must be the
 * certificate's — so a mistake is one message naming the setting at start,
 * not a failed handshake at every client later.
 *
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { SettingError } from "../internal/validate.ts";

/** A certificate and its key, as {@linkcode ServeOptions.tls} takes them. */
export interface TlsOptions {
  /**
   * The server's certificate, followed by any intermediate certificates: PEM
   * text (`-----BEGIN CERTIFICATE-----…`, as a string or bytes) or a file's path.
   */
  cert: string | Uint8Array;
  /** The certificate's private key, unencrypted: PEM text or a file's path. */
  key: string | Uint8Array;
}

/** Checked credentials, as PEM text. */
export interface TlsCredentials {
  /** The certificate chain. */
  cert: string;
  /** The private key. */
  key: string;
}

/**
 * Reads and checks a certificate and key.
 *
 * @param tls PEM text or file paths.
 * @param names How to name the two settings in errors (the API's, or the CLI's flags).
 * @returns The PEM text of both.
 * @throws {SettingError} When a file cannot be read, holds no PEM certificate
 *   or key, or the key is not the certificate's.
 */
export async function loadTls(
  tls: TlsOptions,
  names: { cert: string; key: string } = { cert: "tls.cert", key: "tls.key" },
): Promise<TlsCredentials> {
  const cert = await pemText(tls.cert, names.cert);
  const key = await pemText(tls.key, names.key);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert.text);
  } catch {
    throw new SettingError(
      names.cert,
      `expected a PEM certificate ("-----BEGIN CERTIFICATE-----"), got ${firstLine(cert)}`,
    );
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key.text);
  } catch {
    throw new SettingError(
      names.key,
      `expected an unencrypted PEM private key ("-----BEGIN PRIVATE KEY-----"), got ${
        firstLine(key)
      }`,
    );
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new SettingError(
      names.key,
      `expected the private key of the certificate in ${names.cert} (${
        certificate.subject.replace(/\n/g, ", ")
      }), got another key${key.path ? ` (${key.path})` : ""}`,
    );
  }
  return { cert: cert.text, key: key.text };
}

interface Pem {
  text: string;
  /** The file it came from, if any. */
  path?: string;
}

async function pemText(value: string | Uint8Array, setting: string): Promise<Pem> {
  if (typeof value !== "string") return { text: new TextDecoder().decode(value) };
  if (value.includes("-----BEGIN ")) return { text: value };
  try {
    return { text: await readFile(value, "utf8"), path: value };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === "ENOENT"
      ? "no such file"
      : code === "EACCES"
      ? "permission denied"
      : code === "EISDIR"
      ? "a directory"
      : (error as Error).message;
    throw new SettingError(setting, `expected a readable PEM file, got ${value} (${why})`);
  }
}

/** What a PEM setting starts with, for an error: its first line, or that it is empty. */
function firstLine(pem: Pem): string {
  const line = pem.text.trimStart().split("\n", 1)[0]!.trim().slice(0, 60);
  const what = line === "" ? "an empty text" : JSON.stringify(line);
  return pem.path ? `${what} in ${pem.path}` : what;
}
