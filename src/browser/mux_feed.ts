/**
 * Views of one server sharing one multiplexed request: a browser opens at
 * most six connections to a host over HTTP/1.1, so a page of eight cameras,
 * each on its own request, would leave two black. Views that name the same
 * multiplexed URL (with the same headers and fps) join one coordinator, which
 * asks for `?streams=` the names its views show right now and hands each
 * view the frames of its stream. A view that leaves (removed, hidden, off
 * screen) changes the set, and the request is made again without it; the
 * last one to leave aborts it.
 *
 * @module
 */
import { MjpegDemuxStream, type MuxFrame } from "../wire/mod.ts";
import { checkResponse, Connection } from "./connection.ts";
import type { Feed, FeedListener, FeedRequest } from "./feed.ts";

/** One view's membership. */
interface Member {
  name: string;
  stallTimeout: number;
  listener: FeedListener;
}

/** The shared request of the views of one multiplexed URL. */
class MuxCoordinator {
  readonly #request: FeedRequest;
  readonly #members = new Set<Member>();
  readonly #connection: Connection<MuxFrame>;
  readonly #onEmpty: () => void;
  #names = "";
  #pending = false;

  constructor(request: FeedRequest, onEmpty: () => void) {
    this.#request = request;
    this.#onEmpty = onEmpty;
    this.#connection = new Connection<MuxFrame>({
      target: () => {
        const url = new URL(this.#request.url);
        url.searchParams.set("streams", this.#names);
        return { url: url.href, headers: this.#request.headers };
      },
      stallTimeout: () => Math.min(...[...this.#members].map((m) => m.stallTimeout)),
      decoder(response) {
        checkResponse(response, true);
        return new MjpegDemuxStream({ contentType: response.headers.get("content-type") });
      },
      frame: (frame) => {
        for (const member of this.#members) {
          if (member.name === frame.stream) member.listener.frame(frame);
        }
      },
      connecting: () => this.#tell((l) => l.connecting()),
      stall: (timeout) => this.#tell((l) => l.stall(timeout)),
      reconnect: (detail) => this.#tell((l) => l.reconnect(detail)),
      error: (error) => this.#tell((l) => l.error(error)),
    });
  }

  join(member: Member): void {
    this.#members.add(member);
    this.#changed();
  }

  leave(member: Member): void {
    if (!this.#members.delete(member)) return;
    if (this.#members.size === 0) {
      this.#connection.stop();
      this.#names = "";
      this.#onEmpty();
      return;
    }
    this.#changed();
  }

  #tell(say: (listener: FeedListener) => void): void {
    for (const member of this.#members) say(member.listener);
  }

  /** Asks again for the new set of names, once per task however many views came or went. */
  #changed(): void {
    if (this.#pending) return;
    this.#pending = true;
    setTimeout(() => {
      this.#pending = false;
      if (this.#members.size === 0) return;
      const names = [...new Set([...this.#members].map((m) => m.name))].sort().join(",");
      if (names === this.#names && this.#connection.running) return;
      this.#names = names;
      this.#connection.restart();
    }, 0);
  }
}

const coordinators = new Map<string, MuxCoordinator>();

/**
 * Joins the shared request of a multiplexed URL for one stream.
 *
 * @param request The multiplexed stream's URL (without `streams=`), headers, stall timeout.
 * @param name The stream this view shows.
 * @param listener Gets this stream's frames and the shared request's news.
 * @returns The view's membership; closing it leaves.
 */
export function joinMux(request: FeedRequest, name: string, listener: FeedListener): Feed {
  const key = `${request.url}\n${[...request.headers].join("\n")}`;
  let coordinator = coordinators.get(key);
  if (!coordinator) {
    const created = new MuxCoordinator(request, () => {
      if (coordinators.get(key) === created) coordinators.delete(key);
    });
    coordinators.set(key, created);
    coordinator = created;
  }
  const member: Member = { name, stallTimeout: request.stallTimeout, listener };
  coordinator.join(member);
  const joined = coordinator;
  return { close: () => joined.leave(member) };
}
