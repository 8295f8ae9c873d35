// A bounded FIFO buffer read through `next()` promises: the queue behind an events()
// iterator. Owns the buffered values and the readers waiting for one; it knows nothing of
// emitters, subscriptions or signals, so it can be tested alone.

/** A bounded buffer with async readers. */
export class BoundedBuffer<T> {
  readonly capacity: number;
  #values: (T | undefined)[] = [];
  #head = 0;
  /** Pending `next()` calls, oldest first; only while the buffer is empty. */
  #readers: {
    resolve: (result: IteratorResult<T, undefined>) => void;
    reject: (error: unknown) => void;
  }[] = [];
  #ended = false;
  #failure: { reason: unknown } | undefined = undefined;

  /** @param capacity How many values may wait for a reader: a positive integer or `Infinity`. */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Values waiting for a reader. */
  get size(): number {
    return this.#values.length - this.#head;
  }

  /** Whether `end()`, `fail()` or `clear()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Hands the value to the oldest waiting reader, or buffers it.
   *
   * @returns `false` when the buffer is full: the value was not taken.
   */
  push(value: T): boolean {
    const reader = this.#readers.shift();
    if (reader !== undefined) {
      reader.resolve({ done: false, value });
      return true;
    }
    if (this.size >= this.capacity) return false;
    this.#values.push(value);
    return true;
  }

  /**
   * The oldest buffered value; else the failure (once); else done when ended; else a promise
   * that waits for the next value.
   */
  next(): Promise<IteratorResult<T, undefined>> {
    const values = this.#values;
    if (this.#head < values.length) {
      const value = values[this.#head] as T;
      // Drop the reference, and compact now and then, so consumed values can be freed.
      values[this.#head++] = undefined;
      if (this.#head === values.length) values.length = this.#head = 0;
      else if (this.#head >= 1024 && this.#head * 2 >= values.length) {
        values.splice(0, this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#failure !== undefined) {
      const { reason } = this.#failure;
      this.#failure = undefined;
      return Promise.reject(reason);
    }
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => void this.#readers.push({ resolve, reject }));
  }

  /** Ends quietly: waiting readers get `done`; what is buffered can still be read. */
  end(): void {
    this.#ended = true;
    this.#finishReaders();
  }

  /**
   * Ends with a failure: the buffer is dropped and waiting readers reject with the reason;
   * with none waiting, the next `next()` rejects with it (once).
   */
  fail(reason: unknown): void {
    this.#ended = true;
    this.#values.length = this.#head = 0;
    const readers = this.#readers.splice(0);
    if (readers.length === 0) this.#failure = { reason };
    for (const reader of readers) reader.reject(reason);
  }

  /** Ends and drops everything, a pending failure included: waiting readers get `done`. */
  clear(): void {
    this.#ended = true;
    this.#values.length = this.#head = 0;
    this.#failure = undefined;
    this.#finishReaders();
  }

  #finishReaders(): void {
    for (const reader of this.#readers.splice(0)) reader.resolve({ done: true, value: undefined });
  }
}
