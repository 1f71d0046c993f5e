/**
 * The one way every reader of a camera makes a request — `MjpegClient`, the
 * relay, `probe`, `snapshot`, `record` and snapshot polling: the transport
 * (a socket, TLS with the camera's CA, or the caller's fetch), redirects
 * followed by our rules, and the camera's 401 challenges answered with the
 * credentials.
 *
 * Credentials are answered to challenges, not sent up front: a camera that
 * asks for Digest never sees the password in Basic's clear text. Once a
 * scheme worked, the next requests to that camera carry it from the start
 * (Basic as it is, Digest with the same nonce and the next nonce count), so
 * a reconnect or the next snapshot costs no extra round trip. A bearer token
 * is sent up front, as tokens are meant to be.
 *
 * Only the origin the credentials were given for gets them, hop by hop: a
 * redirect to another host is followed without them and its challenges go
 * unanswered.
 *
 * A camera that locks an account after a few failed logins is not hammered:
 * after {@linkcode MAX_AUTH_FAILURES} refusals in a row, requests fail at
 * once without reaching it. A stale nonce (`stale=true`: the password was
 * right, the nonce old) is answered again and counts as no failure.
 *
 * @module
 */
import { escapeControls } from "../errors.ts";
import { createHttpFetch, httpFetch } from "../runtime/http_fetch.ts";
import { type FetchLike, fetchWithRedirects } from "../runtime/redirects.ts";
import type { TlsOptions } from "../runtime/socket_connect.ts";
import { basicAuthorization, type Credentials } from "./credentials.ts";
import { DigestSession, digestSupport } from "./digest.ts";
import { type Challenge, parseChallenges } from "./www_authenticate.ts";

/**
 * Refused logins in a row after which a camera is asked no more: many
 * cameras (Hikvision's, Dahua's) lock an account for a while after a handful
 * of failed logins, and a misconfigured reader must not lock the owner out.
 */
export const MAX_AUTH_FAILURES = 3;
/** Stale-nonce answers in one request before giving up on a camera that calls every nonce stale. */
const MAX_STALE_RETRIES = 2;

/** Why authentication failed; a new attempt with the same credentials would fail too. */
export class AuthenticationError extends Error {
  /**
   * `refused`: the camera answered 401 to our answer; `unsupported`: no
   * challenge we can answer (an unknown Digest algorithm, a token asked for
   * when a password was given); `exhausted`: refused
   * {@linkcode MAX_AUTH_FAILURES} times in a row, so not tried again.
   */
  readonly kind: "refused" | "unsupported" | "exhausted";
  /**
   * Made by the client, the relay and the poller; catch it by class or by `name`.
   *
   * @param message What was expected and what came.
   * @param kind Which failure.
   */
  constructor(message: string, kind: "refused" | "unsupported" | "exhausted") {
    super(message);
    this.name = "AuthenticationError";
    this.kind = kind;
  }
}

/** Options of {@linkcode cameraFetch}. */
export interface CameraFetchOptions extends TlsOptions {
  /** The camera's URL: its origin is the only one the credentials go to. */
  url: string | URL;
  /** A user name and password, or a bearer token. */
  credentials?: Credentials | undefined;
  /**
   * Makes one request without following redirects; by default the socket
   * transport with `ca` and `insecure`.
   */
  fetch?: FetchLike | undefined;
}

/**
 * Makes a fetch function for one camera. Keep it for the camera's life: it
 * holds the Digest state (nonce, nonce count) and the count of refusals.
 *
 * @param options The camera, its credentials, how to trust it.
 * @returns A fetch: redirects followed, challenges answered.
 * @throws {AuthenticationError} From the returned function, when the
 *   credentials were refused or no challenge can be answered.
 *
 * @example
 * ```ts ignore
 * const fetchCamera = cameraFetch({
 *   url: "http://192.168.1.64/ISAPI/Streaming/channels/101/picture",
 *   credentials: { username: "admin", password: "secret" },
 * });
 * const jpeg = await (await fetchCamera(new Request(url))).arrayBuffer();
 * ```
 */
export function cameraFetch(options: CameraFetchOptions): FetchLike {
  const transport = options.fetch ??
    (options.ca !== undefined || options.insecure
      ? createHttpFetch({ ca: options.ca, insecure: options.insecure })
      : httpFetch);
  const credentials = options.credentials;
  if (!credentials) return (request) => fetchWithRedirects(transport, request);
  const auth = new CameraAuth(new URL(options.url).origin, credentials, transport);
  const hop: FetchLike = (request) => auth.fetch(request);
  return (request) => fetchWithRedirects(hop, request);
}

/** One camera's credentials and what it accepted so far. */
class CameraAuth {
  readonly #origin: string;
  readonly #credentials: Credentials;
  readonly #transport: FetchLike;
  #basic = false; // the camera took Basic: send it up front
  #digest: DigestSession | undefined; // the camera took Digest with this nonce
  #refusals = 0;

  constructor(origin: string, credentials: Credentials, transport: FetchLike) {
    this.#origin = origin;
    this.#credentials = credentials;
    this.#transport = transport;
  }

  async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).origin !== this.#origin) return await this.#transport(request);
    if (this.#refusals >= MAX_AUTH_FAILURES) {
      throw new AuthenticationError(
        `expected the camera to accept ${this.#who()}, got ${this.#refusals} refusals in a row; ` +
          `not asking again, so that a camera that locks an account after a few failed logins ` +
          `does not lock it (fix the credentials and start again)`,
        "exhausted",
      );
    }
    const c = this.#credentials;
    if ("token" in c) {
      const response = await this.#transport(authorized(request, `Bearer ${c.token}`));
      if (response.status !== 401) return this.#accepted(response);
      discard(response);
      throw this.#refused(response, "to the bearer token");
    }
    let authorization = this.#upFront(request, c);
    let answered = false; // a challenge of this request was answered
    let staleRetries = 0;
    for (;;) {
      const response = await this.#transport(
        authorization === undefined ? request : authorized(request, authorization),
      );
      if (response.status !== 401) {
        return authorization === undefined ? response : this.#accepted(response);
      }
      discard(response);
      const challenges = parseChallenges(response.headers.get("www-authenticate") ?? "");
      const chosen = choose(challenges);
      const stale = chosen instanceof DigestSession && chosen.stale &&
        authorization?.startsWith("Digest ") === true;
      if (stale) {
        if (++staleRetries > MAX_STALE_RETRIES) {
          throw new AuthenticationError(
            `expected a usable Digest nonce, got ${staleRetries} stale ones in a row`,
            "unsupported",
          );
        }
      } else if (answered) {
        throw this.#refused(response, `after answering its ${this.#scheme(chosen)}`);
      }
      answered = true;
      if (typeof chosen === "object" && "problem" in chosen) {
        throw new AuthenticationError(chosen.problem, "unsupported");
      }
      this.#basic = chosen === "basic";
      this.#digest = chosen === "basic" ? undefined : chosen;
      authorization = this.#upFront(request, c);
    }
  }

  /** What to send before any challenge: what the camera took last time. */
  #upFront(request: Request, c: { username: string; password: string }): string | undefined {
    if (this.#basic) return basicAuthorization(c.username, c.password);
    if (!this.#digest) return undefined;
    const url = new URL(request.url);
    return this.#digest.answer({
      username: c.username,
      password: c.password,
      method: request.method,
      uri: url.pathname + url.search,
    });
  }

  #accepted(response: Response): Response {
    this.#refusals = 0;
    return response;
  }

  #refused(response: Response, answer: string): AuthenticationError {
    this.#refusals++;
    this.#basic = false;
    this.#digest = undefined;
    const status = `${response.status} ${escapeControls(response.statusText)}`.trim();
    const refused = `expected the camera to accept ${this.#who()}, got ${status} ${answer}`;
    if (this.#refusals < MAX_AUTH_FAILURES) {
      return new AuthenticationError(
        `${refused} (refusal ${this.#refusals} in a row; the client stops at ${MAX_AUTH_FAILURES})`,
        "refused",
      );
    }
    return new AuthenticationError(
      `${refused}, ${this.#refusals} times in a row; not asking again, so that a camera that ` +
        `locks an account after a few failed logins does not lock it`,
      "exhausted",
    );
  }

  #scheme(chosen: Chosen): string {
    return chosen instanceof DigestSession
      ? `Digest challenge (realm ${JSON.stringify(chosen.realm)}, algorithm ${chosen.algorithm})`
      : "Basic challenge";
  }

  #who(): string {
    const c = this.#credentials;
    return "token" in c ? "the bearer token" : `the password of user ${JSON.stringify(c.username)}`;
  }
}

/**
 * The strongest challenge we can answer with a user name and password: the
 * strongest Digest algorithm, then Basic; a 401 with no challenge at all is
 * answered with Basic, as curl does. A problem says why none can be answered.
 */
function choose(challenges: Challenge[]): Chosen {
  let best: { challenge: Challenge; strength: number } | undefined;
  let problem: string | undefined;
  for (const challenge of challenges) {
    if (challenge.scheme !== "digest") continue;
    const support = digestSupport(challenge);
    if ("problem" in support) problem ??= support.problem;
    else if (!best || support.strength > best.strength) {
      best = { challenge, strength: support.strength };
    }
  }
  if (best) return new DigestSession(best.challenge);
  if (challenges.length === 0 || challenges.some((c) => c.scheme === "basic")) return "basic";
  if (problem) return { problem };
  const schemes = challenges.map((c) => c.scheme[0]!.toUpperCase() + c.scheme.slice(1));
  return {
    problem: `expected a Basic or Digest challenge for a user name and password, got ${
      schemes.join(", ")
    }${schemes.includes("Bearer") ? " (give a token instead)" : ""}`,
  };
}

type Chosen = DigestSession | "basic" | { problem: string };

function authorized(request: Request, authorization: string): Request {
  const headers = new Headers(request.headers);
  headers.set("authorization", authorization);
  return new Request(request, { headers });
}

function discard(response: Response): void {
  response.body?.cancel().catch(() => {});
}
