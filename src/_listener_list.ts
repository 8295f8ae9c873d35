// The listeners of one pattern, in subscription order: the first is held directly, and a Set
// takes over from the second on (removal stays O(1) however many there are). Most patterns
// have one listener, and an empty Set alone costs about a hundred bytes. Knows nothing of what
// it holds.

/** An insertion-ordered collection that is small while it holds one item. */
export class ListenerList<T> {
  #one: T | undefined = undefined;
  #many: Set<T> | undefined = undefined;

  /** How many items it holds. */
  get size(): number {
    if (this.#many !== undefined) return this.#many.size;
    return this.#one === undefined ? 0 : 1;
  }

  /** Appends an item (not already held). */
  add(item: T): void {
    if (this.#many !== undefined) this.#many.add(item);
    else if (this.#one === undefined) this.#one = item;
    else {
      this.#many = new Set([this.#one, item]);
      this.#one = undefined;
    }
  }

  /** Removes an item if held. */
  delete(item: T): void {
    if (this.#many !== undefined) this.#many.delete(item);
    else if (this.#one === item) this.#one = undefined;
  }

  /** Appends every item, in order, to `out`. */
  appendTo(out: T[]): T[] {
    if (this.#many !== undefined) { for (const item of this.#many) out.push(item); }
    else if (this.#one !== undefined) out.push(this.#one);
    return out;
  }

  /** The first item, in order, for which `test` is true. */
  find(test: (item: T) => boolean): T | undefined {
    if (this.#many === undefined) {
      return this.#one !== undefined && test(this.#one) ? this.#one : undefined;
    }
    for (const item of this.#many) if (test(item)) return item;
    return undefined;
  }

  /** Removes every item. */
  clear(): void {
    this.#one = undefined;
    this.#many = undefined;
  }
}
