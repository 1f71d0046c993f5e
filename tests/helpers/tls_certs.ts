/**
 * Certificates made by openssl at test time, one set for every TLS test: a
 * test CA and the server certificates it signed (for this machine, for
 * another host, expired), a self-signed one; plus, for Chromium, an NSS
 * database (under a home folder of its own) that trusts the CA, so the
 * browser checks the chain as it would a real one.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./processes.ts";
import { tempDir } from "./temp_dir.ts";

/** A certificate's file and its private key's file. */
export interface CertificateFiles {
  cert: string;
  key: string;
}

/** Certificates made by openssl for a test: a CA, and server certificates it signed. */
export interface Certificates extends Disposable {
  /** The folder holding every file. */
  dir: string;
  /** The CA certificate, PEM text. */
  caPem: string;
  /** Its file, for `curl --cacert`, `ffmpeg -ca_file`, `--ca`. */
  caFile: string;
  /** For 127.0.0.1, ::1 and localhost, signed by the CA. */
  good: CertificateFiles;
  /** Self-signed, for 127.0.0.1 and localhost (its key is not `good`'s). */
  selfSigned: CertificateFiles;
  /** Signed by the CA for camera.example only. */
  otherHost: CertificateFiles;
  /** Signed by the CA, expired. */
  expired: CertificateFiles;
  /**
   * A home folder whose NSS database (`.pki/nssdb`) trusts the CA: run
   * Chromium with `HOME` set to it. Made on first use (needs `certutil`).
   */
  chromiumHome(): Promise<string>;
}

/** Makes the certificates in a temp dir with openssl (removed on dispose). */
export function makeCertificates(): Certificates {
  const temp = tempDir("tls");
  const dir = temp.path;
  const openssl = (...args: string[]) =>
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  // EC keys: openssl makes them at once, where RSA takes a noticeable while.
  const key = (name: string) =>
    openssl(
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-out",
      `${name}.key`,
    );
  const signed = (name: string, cn: string, alt: string, days: string) => {
    key(name);
    openssl("req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
    writeFileSync(
      join(dir, `${name}.cnf`),
      `subjectAltName=${alt}\nbasicConstraints=CA:FALSE\n` +
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    );
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      days,
      "-extfile",
      `${name}.cnf`,
    );
  };
  key("ca");
  openssl(
    "req",
    "-x509",
    "-new",
    "-key",
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
  );
  const loopback = "DNS:localhost,IP:127.0.0.1,IP:::1";
  signed("good", "localhost", loopback, "1");
  signed("other", "camera.example", "DNS:camera.example", "1");
  // -days -1: its notAfter is a day before now.
  signed("expired", "localhost", loopback, "-1");
  key("self");
  openssl(
    "req",
    "-x509",
    "-new",
    "-key",
    "self.key",
    "-out",
    "self.pem",
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    `subjectAltName=${loopback}`,
  );
  const pair = (name: string) => ({
    cert: join(dir, `${name}.pem`),
    key: join(dir, `${name}.key`),
  });
  const caFile = join(dir, "ca.pem");
  let home: string | undefined;
  return {
    dir,
    caFile,
    caPem: readFileSync(caFile, "utf8"),
    good: pair("good"),
    selfSigned: pair("self"),
    otherHost: pair("other"),
    expired: pair("expired"),
    async chromiumHome() {
      if (home) return home;
      const nss = join(dir, "home", ".pki", "nssdb");
      const made = await run("sh", [
        "-c",
        `mkdir -p "$1" && certutil -N --empty-password -d "sql:$1" && ` +
        `certutil -A -d "sql:$1" -t "C,," -n "mjpeg-stream test CA" -i "$2"`,
        "sh",
        nss,
        caFile,
      ]);
      if (made.code !== 0) throw new Error(`certutil failed: ${made.stderr}`);
      home = join(dir, "home");
      return home;
    },
    [Symbol.dispose]: temp.remove,
  };
}
