/**
 * How a server's graceful shutdown finds and ends the endless streams this
 * module makes. A multipart stream never finishes by itself, so waiting for
 * responses to finish would wait forever; each stream registers an `end`
 * function under its body, and `serve()` calls it on close. `serve()` in
 * turn gives each stream a `cut` function that closes its connection.
 *
 * @module
 */

/** Ends one stream cleanly and reports when it has ended. */
export interface StreamControl {
  /** Ends the stream: the body closes normally, as if the source ended. */
  end(): void;
  /** Settles once the stream has ended (closed, cancelled or errored). */
  readonly done: Promise<void>;
  /**
   * Set by the server that sends the stream: closes its connection at once.
   * A viewer dropped for stalling is cut this way, since a write to a socket
   * that nobody reads may never finish.
   */
  cut?: () => void;
}

const controls = new WeakMap<ReadableStream<Uint8Array>, StreamControl>();

/**
 * Registers how to end a response body.
 *
 * @param body The response body.
 * @param control Its end function and done promise.
 */
export function registerStream(body: ReadableStream<Uint8Array>, control: StreamControl): void {
  controls.set(body, control);
}

/**
 * The control registered for a response body, if it is one of ours.
 *
 * @param body A response body.
 * @returns The control, or undefined for other bodies.
 */
export function streamControl(
  body: ReadableStream<Uint8Array> | null | undefined,
): StreamControl | undefined {
  return body ? controls.get(body) : undefined;
}
