// `Pool.prototype.map()`: pulls the items of a sync or async iterable, runs each as a task on
// the pool and yields the results in input order, pulling no faster than the pool and the
// consumer keep up. It goes through the pool's public surface only (`MapPool`), so it must not
// reach into `Pool`'s private state or import `pool.ts`.

import type { PoolMapOptions, PoolSubmitOptions } from "./pool_options.ts";
import { checkSignal, closedError, received } from "./_pool_checks.ts";

const MAPPING_ERROR_MESSAGE = "Cannot complete the mapping as an error was thrown from an item";

// The states of a MapItem.
const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;
const WITHDRAWN = 3;

/** What a mapping uses of its pool: a `Pool`, seen through its public members. */
export interface MapPool {
  readonly name: string;
  readonly concurrency: number;
  readonly isClosed: boolean;
  submit<T>(task: () => T | PromiseLike<T>, options?: PoolSubmitOptions): Promise<Awaited<T>>;
}

/**
 * Checks the arguments of `pool.map()` and returns its iterator; see `Pool.prototype.map` for
 * the behaviour.
 */
export function mapOnPool<T, R>(
  pool: MapPool,
  iterable: Iterable<T> | AsyncIterable<T>,
  fn: (item: T) => R | PromiseLike<R>,
  options: PoolMapOptions | undefined,
): AsyncIterableIterator<Awaited<R>> {
  const source = iterable as Partial<Iterable<T> & AsyncIterable<T>> | null | undefined;
  const isAsync = typeof source?.[Symbol.asyncIterator] === "function";
  if (!isAsync && typeof source?.[Symbol.iterator] !== "function") {
    throw new TypeError(
      `Cannot map the iterable as 'iterable' must be iterable or async iterable: received ${
        received(iterable)
      }`,
    );
  }
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot map the iterable as 'fn' must be a function: received ${received(fn)}`,
    );
  }
  const signal = options?.signal;
  checkSignal("map the iterable", signal);
  return map(pool, iterable, isAsync, fn, signal);
}

/** The mapping's iterator: yields the results in input order, then throws what failed. */
async function* map<T, R>(
  pool: MapPool,
  iterable: Iterable<T> | AsyncIterable<T>,
  isAsync: boolean,
  fn: (item: T) => R | PromiseLike<R>,
  signal: AbortSignal | undefined,
): AsyncGenerator<Awaited<R>, void, undefined> {
  signal?.throwIfAborted();
  if (pool.isClosed) throw closedError(pool.name);
  const mapping = new Mapping(pool, iterable, isAsync, fn);
  const onAbort = (): void => mapping.stop();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    mapping.pump();
    while (true) {
      signal?.throwIfAborted();
      const head = mapping.peek();
      if (head !== undefined && head.state === FULFILLED) {
        mapping.shift();
        mapping.pump();
        yield head.value as Awaited<R>;
        continue;
      }
      if (head === undefined ? mapping.sourceDone : head.state !== PENDING) {
        if (head === undefined && !mapping.hasSourceError) return;
        if (mapping.inFlight === 0) throw mapping.error();
      }
      await mapping.changed();
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    mapping.stop();
  }
}

/** One item of a mapping, in input order. */
class MapItem {
  state: number = PENDING;
  value: unknown = undefined;
  started = false;
}

/** The state of one `Pool.map()` call: what is in flight, what is ready, why it stopped. */
class Mapping<T, R> {
  readonly pool: MapPool;
  readonly fn: (item: T) => R | PromiseLike<R>;
  readonly iterator: Iterator<T> | AsyncIterator<T>;
  readonly isAsync: boolean;
  readonly controller: AbortController = new AbortController();
  readonly submitOptions: PoolSubmitOptions = { signal: this.controller.signal };
  items: (MapItem | undefined)[] = [];
  head = 0;
  inFlight = 0;
  pulling = false;
  sourceDone = false;
  stopped = false;
  hasSourceError = false;
  sourceError: unknown = undefined;
  wake: (() => void) | undefined = undefined;

  constructor(
    pool: MapPool,
    iterable: Iterable<T> | AsyncIterable<T>,
    isAsync: boolean,
    fn: (item: T) => R | PromiseLike<R>,
  ) {
    this.pool = pool;
    this.fn = fn;
    this.isAsync = isAsync;
    this.iterator = isAsync
      ? (iterable as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (iterable as Iterable<T>)[Symbol.iterator]();
  }

  peek(): MapItem | undefined {
    return this.items[this.head];
  }

  shift(): void {
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Resolves at the next change: an item settles, the source moves, or the mapping stops. */
  changed(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Pulls and submits items while fewer than `concurrency` are in flight and as many ready. */
  pump(): void {
    while (
      !this.stopped && !this.sourceDone && !this.pulling &&
      this.inFlight < this.pool.concurrency &&
      this.items.length - this.head - this.inFlight < this.pool.concurrency
    ) {
      if (this.isAsync) {
        this.pulling = true;
        let next: Promise<IteratorResult<T>>;
        try {
          next = Promise.resolve(this.iterator.next());
        } catch (error) {
          this.sourceFailed(error);
          return;
        }
        next.then(this.#onPulled, (error) => this.sourceFailed(error));
        return;
      }
      let result: IteratorResult<T>;
      try {
        result = (this.iterator as Iterator<T>).next();
        if (!this.#accept(result)) return;
      } catch (error) {
        this.sourceFailed(error);
        return;
      }
    }
  }

  #onPulled = (result: IteratorResult<T>): void => {
    this.pulling = false;
    if (this.stopped) {
      if (!this.hasSourceError && !result?.done) this.closeIterator();
      return;
    }
    try {
      if (!this.#accept(result)) return;
    } catch (error) {
      this.sourceFailed(error);
      return;
    }
    this.pump();
  };

  /** Takes one result of the source; returns whether the source goes on. */
  #accept(result: IteratorResult<T>): boolean {
    if (typeof result !== "object" || result === null) {
      throw new TypeError(`Iterator result ${received(result)} is not an object`);
    }
    if (result.done) {
      this.sourceDone = true;
      this.notify();
      return false;
    }
    this.launch(result.value);
    return true;
  }

  launch(value: T): void {
    const item = new MapItem();
    const fn = this.fn;
    this.items.push(item);
    this.inFlight++;
    this.pool.submit(async () => {
      item.started = true;
      try {
        return await fn(value);
      } catch (error) {
        // Stop before the pool hands this slot to the next queued item of the mapping.
        this.stop();
        throw error;
      }
    }, this.submitOptions).then(
      (result) => this.settle(item, FULFILLED, result),
      (error) => this.settle(item, REJECTED, error),
    );
  }

  settle(item: MapItem, state: number, value: unknown): void {
    this.inFlight--;
    if (state === REJECTED && !item.started && this.stopped) {
      item.state = WITHDRAWN;
    } else {
      item.state = state;
      item.value = value;
    }
    if (item.state === REJECTED) this.stop();
    else this.pump();
    this.notify();
  }

  sourceFailed(error: unknown): void {
    this.pulling = false;
    this.sourceDone = true;
    this.hasSourceError = true;
    this.sourceError = error;
    this.stop();
  }

  /** Starts no new item, withdraws the queued ones and closes the source. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.controller.abort();
    if (!this.sourceDone) {
      this.sourceDone = true;
      if (!this.pulling) this.closeIterator();
    }
    this.notify();
  }

  closeIterator(): void {
    try {
      const result = this.iterator.return?.();
      if (this.isAsync) Promise.resolve(result).catch(() => {});
    } catch {
      // The mapping is over: an error from closing the source has nowhere to go.
    }
  }

  /** What the mapping throws: the errors of the failed items and of the source. */
  error(): unknown {
    const errors: unknown[] = [];
    for (let index = this.head; index < this.items.length; index++) {
      const item = this.items[index]!;
      if (item.state === REJECTED) errors.push(item.value);
    }
    if (this.hasSourceError) {
      if (errors.length === 0) return this.sourceError;
      errors.push(this.sourceError);
    }
    return new AggregateError(errors, MAPPING_ERROR_MESSAGE);
  }
}
