/**
 * The FIFO of appends waiting for their group commit (issue #5). A plain array with a moving head:
 * the oldest is shed in O(1) when the bound is reached (Array.shift would move every element, and
 * the bound may be a million records), and a batch takes its records from the front at once.
 */
export class RecordQueue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) {
      return undefined;
    }
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // let it be collected
    this.#head++;
    this.#compact();
    return item;
  }

  /** Drops the consumed prefix once it is most of the array: amortised O(1) per item. */
  #compact(): void {
    if (this.#head >= 1_024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Removes and returns the `count` oldest items (fewer if there are fewer), oldest first. */
  take(count: number): T[] {
    if (count >= this.length) {
      return this.takeAll();
    }
    const taken = this.#items.slice(this.#head, this.#head + count) as T[];
    this.#items.fill(undefined, this.#head, this.#head + count);
    this.#head += count;
    this.#compact();
    return taken;
  }

  /** Removes and returns every item, oldest first. */
  takeAll(): T[] {
    const all = (this.#head === 0 ? this.#items : this.#items.slice(this.#head)) as T[];
    this.#items = [];
    this.#head = 0;
    return all;
  }

  /** Puts items back in front of the queue (a failed batch's records, which are older than the rest). */
  unshiftAll(front: readonly T[]): void {
    this.#items = [...front, ...this.#items.slice(this.#head)];
    this.#head = 0;
  }
}
