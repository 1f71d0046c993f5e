/**
 * A FIFO queue with O(1) push and shift (Array#shift is O(n)), used for the
 * filled buffers and for pending dequeue calls.
 *
 * @module
 */

/** A growable ring buffer queue. */
export class Deque<T> {
  #items: (T | undefined)[] = new Array(16);
  #head = 0;
  #size = 0;

  /** How many items are queued. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds an item at the back.
   *
   * @param item The item.
   */
  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) % this.#items.length] = item;
    this.#size++;
  }

  /**
   * Removes the item at the front.
   *
   * @returns The item, or undefined when empty.
   */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }

  /**
   * Removes one item wherever it is (e.g. a dequeue call whose signal aborted).
   *
   * @param item The item to remove.
   * @returns Whether it was found.
   */
  remove(item: T): boolean {
    let found = false;
    for (let i = this.#size; i > 0; i--) {
      const x = this.shift() as T;
      if (!found && x === item) found = true;
      else this.push(x);
    }
    return found;
  }

  #grow(): void {
    const items: (T | undefined)[] = new Array(this.#items.length * 2);
    for (let i = 0; i < this.#size; i++) {
      items[i] = this.#items[(this.#head + i) % this.#items.length];
    }
    this.#items = items;
    this.#head = 0;
  }
}
