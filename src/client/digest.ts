/**
 * HTTP Digest authentication (RFC 7616, and RFC 2617's older form without
 * `qop`), as IP cameras ask for it: the algorithms MD5, SHA-256 and
 * SHA-512-256 with their `-sess` variants, `qop=auth` (and `auth-int`, whose
 * body hash is the empty body's, since only GETs are answered), `opaque`
 * echoed, `userhash`, and the nonce count kept across requests so a nonce
 * can be used again without a new challenge.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import type { Challenge } from "./www_authenticate.ts";
import { quoteString } from "./www_authenticate.ts";

/** The hash behind each algorithm name, by strength (strongest last). */
const ALGORITHMS: Record<string, { hash: string; strength: number }> = {
  "md5": { hash: "md5", strength: 1 },
  "sha-256": { hash: "sha256", strength: 2 },
  "sha-512-256": { hash: "sha512-256", strength: 3 },
};

/** The algorithm names this client answers, as a camera would write them. */
export const DIGEST_ALGORITHMS: readonly string[] = [
  "MD5",
  "MD5-sess",
  "SHA-256",
  "SHA-256-sess",
  "SHA-512-256",
  "SHA-512-256-sess",
];

/** A Digest challenge this client can answer, or why it cannot. */
export type DigestSupport = { strength: number } | { problem: string };

/**
 * Whether a Digest challenge can be answered, and how strong its algorithm is.
 *
 * @param challenge A challenge whose scheme is `digest`.
 * @returns Its strength (higher is better), or what is wrong with it.
 */
export function digestSupport(challenge: Challenge): DigestSupport {
  const algorithm = challenge.params.get("algorithm") ?? "MD5";
  const base = algorithm.toLowerCase().replace(/-sess$/, "");
  const known = ALGORITHMS[base];
  if (!known) {
    return {
      problem: `expected a Digest algorithm among ${DIGEST_ALGORITHMS.join(", ")}, got ${
        JSON.stringify(algorithm)
      }`,
    };
  }
  if (!challenge.params.get("nonce") || challenge.params.get("realm") === undefined) {
    return { problem: "expected a Digest challenge with a realm and a nonce, got one without" };
  }
  const qop = challenge.params.get("qop");
  if (qop !== undefined && chooseQop(qop) === undefined) {
    return { problem: `expected a Digest qop of auth or auth-int, got ${JSON.stringify(qop)}` };
  }
  return { strength: known.strength };
}

function chooseQop(offered: string): "auth" | "auth-int" | undefined {
  const options = offered.split(",").map((q) => q.trim().toLowerCase());
  return options.includes("auth") ? "auth" : options.includes("auth-int") ? "auth-int" : undefined;
}

/** What a Digest answer is computed from. */
export interface DigestInput {
  /** The user name, as the user gave it. */
  username: string;
  /** The password. */
  password: string;
  /** The request method. */
  method: string;
  /** The request target exactly as on the request line: path and query. */
  uri: string;
}

/**
 * One camera's Digest session: the challenge it answers, the nonce count and
 * the client nonce. Each answer counts one more use of the nonce, so the
 * session can answer again (on the next connection, or the next snapshot)
 * without waiting for a new challenge.
 */
export class DigestSession {
  readonly #challenge: Challenge;
  readonly #hash: string;
  readonly #sess: boolean;
  readonly #qop: "auth" | "auth-int" | undefined;
  #count = 0;
  #cnonce = newClientNonce();

  /**
   * @param challenge A challenge {@linkcode digestSupport} accepted.
   */
  constructor(challenge: Challenge) {
    this.#challenge = challenge;
    const algorithm = (challenge.params.get("algorithm") ?? "MD5").toLowerCase();
    this.#sess = algorithm.endsWith("-sess");
    this.#hash = ALGORITHMS[algorithm.replace(/-sess$/, "")]!.hash;
    const qop = challenge.params.get("qop");
    this.#qop = qop === undefined ? undefined : chooseQop(qop);
  }

  /** The realm, for messages. */
  get realm(): string {
    return this.#challenge.params.get("realm") ?? "";
  }

  /** Whether the camera said the nonce answered before was stale (the password was right). */
  get stale(): boolean {
    return this.#challenge.params.get("stale")?.toLowerCase() === "true";
  }

  /** The algorithm as the camera named it (MD5 when it named none). */
  get algorithm(): string {
    return this.#challenge.params.get("algorithm") ?? "MD5";
  }

  /**
   * The `Authorization` value for one more request with this nonce.
   *
   * @param input Who asks for what.
   * @param cnonce The client nonce; a random one by default (tests fix it to
   *   compare with other clients).
   * @returns The header value, `Digest username="…", …`.
   */
  answer(input: DigestInput, cnonce?: string): string {
    this.#count++;
    // A -sess key is bound to one client nonce; other algorithms take a fresh one each time.
    if (cnonce !== undefined) this.#cnonce = cnonce;
    else if (!this.#sess && this.#count > 1) this.#cnonce = newClientNonce();
    const p = this.#challenge.params;
    const realm = p.get("realm") ?? "";
    const nonce = p.get("nonce") ?? "";
    const nc = this.#count.toString(16).padStart(8, "0");
    const response = digestResponse({
      hash: this.#hash,
      sess: this.#sess,
      qop: this.#qop,
      username: input.username,
      password: input.password,
      realm,
      nonce,
      nc,
      cnonce: this.#cnonce,
      method: input.method,
      uri: input.uri,
    });
    const userhash = p.get("userhash")?.toLowerCase() === "true";
    const fields: string[] = [];
    if (userhash) {
      fields.push(`username=${quoteString(hex(this.#hash, `${input.username}:${realm}`))}`);
    } else if (/^[\x20-\x7e]*$/.test(input.username)) {
      fields.push(`username=${quoteString(input.username)}`);
    } else {
      // RFC 7616 §3.4.4: a name that is not ASCII goes as an extended parameter.
      fields.push(`username*=UTF-8''${encodeExtended(input.username)}`);
    }
    fields.push(`realm=${quoteString(realm)}`, `nonce=${quoteString(nonce)}`);
    fields.push(`uri=${quoteString(input.uri)}`);
    if (p.has("algorithm")) fields.push(`algorithm=${p.get("algorithm")}`);
    fields.push(`response="${response}"`);
    if (p.has("opaque")) fields.push(`opaque=${quoteString(p.get("opaque")!)}`);
    if (this.#qop) {
      fields.push(`qop=${this.#qop}`, `nc=${nc}`, `cnonce=${quoteString(this.#cnonce)}`);
    } else if (this.#sess) {
      // RFC 2617 has no -sess without qop; the server cannot check it without the cnonce.
      fields.push(`cnonce=${quoteString(this.#cnonce)}`);
    }
    if (userhash) fields.push("userhash=true");
    return `Digest ${fields.join(", ")}`;
  }
}

/** Everything the `response` field is computed from. */
export interface DigestFields {
  /** The node:crypto hash name: md5, sha256 or sha512-256. */
  hash: string;
  /** Whether the algorithm is a `-sess` one. */
  sess: boolean;
  /** The qop chosen, or undefined for RFC 2069's form. */
  qop: "auth" | "auth-int" | undefined;
  /** The user name (not hashed). */
  username: string;
  /** The password. */
  password: string;
  /** The challenge's realm. */
  realm: string;
  /** The challenge's nonce. */
  nonce: string;
  /** The nonce count, 8 hex digits. */
  nc: string;
  /** The client nonce. */
  cnonce: string;
  /** The request method. */
  method: string;
  /** The request target. */
  uri: string;
}

/**
 * The `response` field of a Digest answer (RFC 7616 §3.4.1), exported so the
 * tests can check it against what curl sent for the same nonce.
 *
 * @param f The inputs.
 * @returns The response as lower-case hex.
 */
export function digestResponse(f: DigestFields): string {
  let ha1 = hex(f.hash, `${f.username}:${f.realm}:${f.password}`);
  if (f.sess) ha1 = hex(f.hash, `${ha1}:${f.nonce}:${f.cnonce}`);
  const ha2 = f.qop === "auth-int"
    ? hex(f.hash, `${f.method}:${f.uri}:${hex(f.hash, "")}`)
    : hex(f.hash, `${f.method}:${f.uri}`);
  return f.qop
    ? hex(f.hash, `${ha1}:${f.nonce}:${f.nc}:${f.cnonce}:${f.qop}:${ha2}`)
    : hex(f.hash, `${ha1}:${f.nonce}:${ha2}`);
}

function hex(hash: string, text: string): string {
  return createHash(hash).update(text, "utf8").digest("hex");
}

function newClientNonce(): string {
  return randomBytes(16).toString("hex");
}

function encodeExtended(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*!]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
