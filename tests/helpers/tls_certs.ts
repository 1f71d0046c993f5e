/**
 * Certificates made by openssl at test time: a test CA, a server certificate
 * it signed for 127.0.0.1 and localhost, and a key that belongs to neither;
 * plus, for Chromium, an NSS database (under a home folder of its own) that
 * trusts the CA, so the browser checks the chain as it would a real one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./processes.ts";

/** The files and PEM text of a test CA and the server certificate it signed. */
export interface TestCertificates extends AsyncDisposable {
  /** The folder holding every file below. */
  dir: string;
  /** The CA's certificate, for `curl --cacert`, `ffmpeg -ca_file`, `NODE_EXTRA_CA_CERTS`. */
  caPath: string;
  /** The server's certificate (CN=localhost; 127.0.0.1 and localhost in subjectAltName). */
  certPath: string;
  /** The server certificate's private key. */
  keyPath: string;
  /** A private key that is not the server certificate's. */
  otherKeyPath: string;
  /** The server certificate as PEM text. */
  certPem: string;
  /** Its key as PEM text. */
  keyPem: string;
  /**
   * A home folder whose NSS database (`.pki/nssdb`) trusts the CA: run
   * Chromium with `HOME` set to it. Made on first use (needs `certutil`).
   */
  chromiumHome(): Promise<string>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const result = await run("sh", [
    "-c",
    `cd "$1" && shift && exec openssl "$@"`,
    "sh",
    cwd,
    ...args,
  ]);
  if (result.code !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
}

/** Makes a CA and a server certificate with openssl in a fresh temporary folder. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), "mjpeg-tls-"));
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ecKey,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=mjpeg-stream test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await openssl(
    ["req", ...ecKey, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
    dir,
  );
  writeFileSync(
    join(dir, "server.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  ], dir);
  await openssl([
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    "other.key",
  ], dir);
  const at = (name: string) => join(dir, name);
  let home: string | undefined;
  return {
    dir,
    caPath: at("ca.pem"),
    certPath: at("server.pem"),
    keyPath: at("server.key"),
    otherKeyPath: at("other.key"),
    certPem: readFileSync(at("server.pem"), "utf8"),
    keyPem: readFileSync(at("server.key"), "utf8"),
    async chromiumHome() {
      if (home) return home;
      const nss = join(dir, "home", ".pki", "nssdb");
      const made = await run("sh", [
        "-c",
        `mkdir -p "$1" && certutil -N --empty-password -d "sql:$1" && ` +
        `certutil -A -d "sql:$1" -t "C,," -n "mjpeg-stream test CA" -i "$2"`,
        "sh",
        nss,
        at("ca.pem"),
      ]);
      if (made.code !== 0) throw new Error(`certutil failed: ${made.stderr}`);
      home = join(dir, "home");
      return home;
    },
    [Symbol.asyncDispose]: () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}
