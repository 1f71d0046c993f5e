/**
 * Decodes an HTTP/1.1 chunked body incrementally, handing out subarrays of
 * the input (no copies) — a Node server streaming with Hono sends MJPEG this
 * way.
 *
 * @module
 */

const enum State {
  Size,
  Data,
  DataEnd,
  Trailer,
  Done,
}

const MAX_LINE = 4096;

/** An incremental `Transfer-Encoding: chunked` decoder. */
export class ChunkedDecoder {
  #state = State.Size;
  #line = "";
  #remaining = 0;
  #leftover = 0;

  /** True once the last (zero-size) chunk and the trailer were read. */
  get finished(): boolean {
    return this.#state === State.Done;
  }

  /**
   * Bytes of the last input that came after the end of the body: none on a
   * connection that is to carry another response.
   */
  get leftover(): number {
    return this.#leftover;
  }

  /**
   * Decodes more of the body.
   *
   * @param input Bytes from the socket.
   * @param emit Receives each piece of payload; valid only during the call.
   * @returns An error message if the input is not chunked encoding, else undefined.
   */
  push(input: Uint8Array, emit: (piece: Uint8Array) => void): string | undefined {
    let i = 0;
    while (i < input.length && this.#state !== State.Done) {
      if (this.#state === State.Data) {
        const n = Math.min(this.#remaining, input.length - i);
        emit(input.subarray(i, i + n));
        i += n;
        this.#remaining -= n;
        if (this.#remaining === 0) this.#state = State.DataEnd;
        continue;
      }
      // Size, DataEnd and Trailer read CRLF-terminated lines.
      const byte = input[i++]!;
      if (byte !== 10) {
        if (byte !== 13) this.#line += String.fromCharCode(byte);
        if (this.#line.length > MAX_LINE) {
          return `expected a chunk size line, got ${MAX_LINE} bytes without one`;
        }
        continue;
      }
      const line = this.#line;
      this.#line = "";
      if (this.#state === State.DataEnd) {
        if (line !== "") {
          return `expected CRLF after a chunk, got ${JSON.stringify(line.slice(0, 20))}`;
        }
        this.#state = State.Size;
      } else if (this.#state === State.Size) {
        const size = /^([0-9a-fA-F]{1,12})\s*(?:;.*)?$/.exec(line);
        if (!size) {
          return `expected a hexadecimal chunk size, got ${JSON.stringify(line.slice(0, 20))}`;
        }
        this.#remaining = parseInt(size[1]!, 16);
        this.#state = this.#remaining === 0 ? State.Trailer : State.Data;
      } else if (line === "") {
        this.#state = State.Done; // end of the trailer
      }
    }
    this.#leftover = input.length - i;
    return undefined;
  }
}
