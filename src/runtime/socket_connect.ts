/**
 * Opening the socket of one request for the fast transport: TCP for
 * `http:`, TLS (node:tls, which Deno, Bun and Node all provide with the same
 * verification and error codes) for `https:`, and the errors in words a
 * camera's owner can act on: which certificate check failed (self-signed,
 * expired, another host's, an unknown CA) and whether a deadline ran out
 * while connecting or later.
 *
 * @module
 */
import { connect as connectTcp, isIP, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";

/** How to trust an https server. */
export interface TlsOptions {
  /** PEM text of the CA certificate(s) to trust instead of the built-in ones. */
  ca?: string | undefined;
  /** Skip certificate checks (a camera's self-signed certificate, on a network you trust). */
  insecure?: boolean | undefined;
}

/** A socket being opened, and the event that says it can carry a request. */
export interface OpeningSocket {
  /** The socket (a TLSSocket for https). */
  socket: Socket;
  /** `connect` for TCP, `secureConnect` once the TLS handshake is done. */
  readyEvent: "connect" | "secureConnect";
  /** `host:port`, for messages. */
  address: string;
}

/** node:net's `onread`: reads go into one buffer, handed to `callback`, instead of `data` events. */
export interface ReadInto {
  /** The buffer every read fills. */
  buffer: Uint8Array;
  /** Gets each read: `buffer`, of which `size` bytes are new. */
  callback(size: number, buffer: Uint8Array): boolean;
}

/**
 * Starts connecting to a URL's host and port.
 *
 * @param url An http: or https: URL.
 * @param tls Certificate options for https.
 * @param onread For plain TCP, read into this buffer (node:tls has no such
 *   option: a TLS socket emits `data` events whatever is given here).
 * @returns The socket and the event to wait for.
 */
export function openSocket(url: URL, tls: TlsOptions = {}, onread?: ReadInto): OpeningSocket {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const secure = url.protocol === "https:";
  const port = Number(url.port || (secure ? 443 : 80));
  const address = `${url.hostname}:${port}`;
  if (!secure) {
    const socket = connectTcp({ host, port, ...(onread ? { onread } : {}) });
    return { socket, readyEvent: "connect", address };
  }
  const socket = connectTls({
    host,
    port,
    // SNI takes names only; an address is checked against the certificate's IP entries.
    ...(isIP(host) ? {} : { servername: host }),
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    rejectUnauthorized: !tls.insecure,
    ALPNProtocols: ["http/1.1"],
  });
  return { socket, readyEvent: "secureConnect", address };
}

/**
 * The connection was not made before the caller's deadline (its signal
 * aborted with a `TimeoutError`): a camera that is off, or a host that
 * drops the packets, rather than one that is slow to answer.
 */
export class ConnectTimeoutError extends TypeError {
  /** `host:port`. */
  readonly address: string;
  /**
   * @param address `host:port`.
   * @param tls Whether the connection was https (the handshake may be what hung).
   * @param options The signal's reason as `cause`.
   */
  constructor(address: string, tls: boolean, options?: ErrorOptions) {
    super(
      `connect timeout: expected a ${tls ? "TCP and TLS " : ""}connection to ${address}, got none`,
      options,
    );
    this.name = "ConnectTimeoutError";
    this.address = address;
  }
}

/**
 * The server's certificate was not trusted. Not worth retrying: it will not
 * change by itself, so the read commands end at once on it.
 */
export class TlsCertificateError extends TypeError {
  /** The TLS library's code, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`. */
  readonly code: string;
  /**
   * @param message What was expected and what came.
   * @param code The TLS library's code.
   */
  constructor(message: string, code: string) {
    super(message);
    this.name = "TlsCertificateError";
    this.code = code;
  }
}

// What each verification failure means to the person who has to fix it.
const CERTIFICATE_PROBLEMS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "a self-signed certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "a chain that ends in an untrusted self-signed certificate",
  CERT_HAS_EXPIRED: "a certificate that has expired",
  CERT_NOT_YET_VALID: "a certificate that is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "a certificate for another host",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "a certificate signed by an unknown CA",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "a certificate signed by an unknown CA",
  UNABLE_TO_GET_ISSUER_CERT: "a certificate signed by an unknown CA",
  CERT_SIGNATURE_FAILURE: "a certificate whose signature does not verify",
  CERT_REVOKED: "a revoked certificate",
};

/**
 * A socket error as the transport reports it: certificate failures as a
 * {@linkcode TlsCertificateError} that names the reason and the way out,
 * anything else as fetch does (`fetch failed: …`).
 *
 * @param error The socket's error.
 * @param address `host:port`, for the message.
 * @returns The error to reject with.
 */
export function socketError(error: Error, address: string): TypeError {
  const code = (error as Error & { code?: unknown }).code;
  const problem = typeof code === "string" ? CERTIFICATE_PROBLEMS[code] : undefined;
  if (problem !== undefined) {
    const names = code === "ERR_TLS_CERT_ALTNAME_INVALID" ? certificateNames(error) : "";
    return new TlsCertificateError(
      `TLS: expected a trusted certificate from ${address}, got ${problem}${names} (${code}); ` +
        `trust its CA with the ca option (--ca FILE), or skip the check with insecure (--insecure)`,
      code as string,
    );
  }
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER") {
    // OpenSSL's words ("ssl3_get_record:wrong version number") hide the usual cause.
    return new TypeError(
      `TLS: expected a TLS handshake from ${address}, got something else: is it an http:// server?`,
    );
  }
  return new TypeError(`fetch failed: ${error.message}`, { cause: error });
}

function certificateNames(error: Error): string {
  const cert = (error as Error & { cert?: { subjectaltname?: unknown } }).cert;
  const names = cert?.subjectaltname;
  return typeof names === "string" && names !== "" ? ` (${names})` : "";
}
