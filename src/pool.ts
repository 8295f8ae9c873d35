/**
 * A semaphore pool: runs at most `concurrency` tasks at a time, queues the rest in FIFO order,
 * and reports live figures for monitoring.
 *
 * @module
 */

import { PoolClosedError, QueueFullError } from "./errors.ts";
import { describeObject, quote } from "./_describe.ts";
import { type CancelTimer, startTimer } from "./_timer.ts";

/**
 * Options for {@linkcode Pool}.
 *
 * @example Bound a workload class
 * ```ts
 * import { Pool, type PoolOptions } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const options: PoolOptions = { concurrency: 2, capacity: 100, whenFull: "reject", name: "uploads" };
 * const pool = new Pool(options);
 * assert.equal(pool.concurrency, 2);
 * await pool.close();
 * ```
 */
export interface PoolOptions {
  /**
   * How many tasks may run at the same time: a positive integer. It can be changed later with
   * {@linkcode Pool.prototype.resize}.
   *
   * @default {16}
   */
  concurrency?: number;
  /**
   * How many tasks may wait in the queue for a slot: a non-negative integer, or `Infinity`. With
   * `0` a task runs only when a slot is free, and otherwise follows `whenFull`.
   *
   * @default {Infinity}
   */
  capacity?: number;
  /**
   * What a submission that finds the queue full does:
   *
   * - `"wait"`: it waits for room in the queue, in FIFO order with the other submissions that
   *   wait, and is counted in {@linkcode PoolStats.blocked}.
   * - `"reject"`: its promise rejects at once with {@linkcode QueueFullError}, and it is counted
   *   in {@linkcode PoolStats.dropped}.
   *
   * @default {"wait"}
   */
  whenFull?: "wait" | "reject";
  /**
   * The pool's name, used in error messages and by `toString()`.
   *
   * @default {"pool"}
   */
  name?: string;
}

/**
 * Options for {@linkcode Pool.prototype.submit} and {@linkcode Pool.prototype.trySubmit}.
 *
 * @example Withdraw a queued task
 * ```ts
 * import { Pool, type PoolSubmitOptions } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const pool = new Pool({ concurrency: 1 });
 * let release = () => {};
 * const running = pool.submit(() => new Promise<void>((resolve) => (release = resolve)));
 * const options: PoolSubmitOptions = { signal: AbortSignal.abort(new Error("not needed")) };
 * await assert.rejects(pool.submit(() => 1, options), /not needed/);
 * release();
 * await running;
 * ```
 */
export interface PoolSubmitOptions {
  /**
   * Withdraws the task if it aborts before the task starts: the task is taken out of the queue,
   * counted in {@linkcode PoolStats.dropped}, and its promise rejects with `signal.reason`. A
   * task that has started is not affected: pass the signal into the task to stop it.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Options for {@linkcode Pool.prototype.map}.
 *
 * @example Stop a mapping
 * ```ts
 * import { Pool, type PoolMapOptions } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const pool = new Pool({ concurrency: 2 });
 * const options: PoolMapOptions = { signal: AbortSignal.abort(new Error("stop")) };
 * await assert.rejects(async () => {
 *   for await (const _ of pool.map([1, 2, 3], (n) => n, options)) break;
 * }, /stop/);
 * ```
 */
export interface PoolMapOptions {
  /**
   * Stops the mapping when it aborts: no new item starts, the items still queued are withdrawn,
   * the iterable is closed, and the iterator throws `signal.reason` at its next step. Items that
   * are running go on to the end and hold their slots until then; their results are discarded.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Options for {@linkcode Pool.prototype.close}.
 *
 * @example Give up on a stuck task
 * ```ts
 * import { Pool, type PoolCloseOptions } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const pool = new Pool({ concurrency: 1 });
 * void pool.submit(() => new Promise(() => {})); // never settles
 * const options: PoolCloseOptions = { timeout: 1 };
 * await assert.rejects(pool.close(options), { name: "TimeoutError" });
 * ```
 */
export interface PoolCloseOptions {
  /**
   * Makes `close()` stop waiting when it aborts: the tasks still queued or blocked are rejected
   * with `signal.reason` (and counted as dropped), then `close()` rejects with it.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Milliseconds after which `close()` stops waiting, as if `signal` had aborted with a
   * `DOMException` named `"TimeoutError"`: a non-negative finite number.
   *
   * @default {undefined}
   */
  timeout?: number;
}

/**
 * A snapshot of a pool's counters, from {@linkcode Pool.prototype.stats}.
 *
 * At every moment `submitted === completed + running + waiting + dropped`, and
 * `completed === successful + failed`.
 *
 * @example Read the counters
 * ```ts
 * import { Pool, type PoolStats } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const pool = new Pool({ concurrency: 1 });
 * await pool.submit(() => "done");
 * const stats: PoolStats = pool.stats();
 * assert.equal(stats.successful, 1);
 * assert.equal(stats.submitted, stats.completed + stats.running + stats.waiting + stats.dropped);
 * ```
 */
export interface PoolStats {
  /**
   * Tasks the pool accepted: every `submit()` and each item of `map()`, and every `trySubmit()`
   * that returned a promise. Calls refused at the door are not counted: a pool that is closed, a
   * signal already aborted, or a `trySubmit()` that returned `undefined`.
   */
  submitted: number;
  /** Tasks holding a slot now. */
  running: number;
  /**
   * Tasks accepted but not holding a slot now: queued, blocked for room in the queue, or
   * suspended by their emitter.
   */
  waiting: number;
  /**
   * Submissions that found the queue full and had to wait for room (`whenFull: "wait"`), since
   * the pool was created. Each is also counted in `waiting` while it waits.
   */
  blocked: number;
  /** Tasks that returned or resolved. */
  successful: number;
  /** Tasks that threw or rejected. */
  failed: number;
  /** Tasks that finished: `successful + failed`. */
  completed: number;
  /**
   * Accepted tasks that will never run: rejected with `QueueFullError` (`whenFull: "reject"`),
   * withdrawn by their signal before they started, or rejected when `close()` gave up.
   */
  dropped: number;
}

const DEFAULT_CONCURRENCY = 16;
const MAPPING_ERROR_MESSAGE = "Cannot complete the mapping as an error was thrown from an item";

let suspend: (pool: Pool) => () => Promise<void>;
let submitJobImpl: (
  pool: Pool,
  job: PoolJob,
  signal: AbortSignal | undefined,
) => QueuedJob | undefined;
let withdrawJobImpl: (pool: Pool, ticket: QueuedJob, reason: unknown) => void;
let jobDoneImpl: (pool: Pool) => void;

/**
 * A job waiting in a pool's queue, as `submitJob()` returns it: opaque.
 *
 * @internal
 */
export interface QueuedJob {
  readonly list: unknown;
}

/**
 * A task without a promise, for the emitter: the pool calls `start()` once it holds a slot
 * (the job must then call {@linkcode jobDone} exactly once), or `refuse()` with the reason it
 * never will (closed pool, full queue with `whenFull: "reject"`, signal, `close()` giving up).
 *
 * @internal
 */
export interface PoolJob {
  /** Runs the job; it holds a slot until it calls `jobDone()`. */
  start(): void;
  /** Tells the job it will never start. */
  refuse(reason: unknown): void;
}

/**
 * A bounded-concurrency pool of async tasks: at most `concurrency` run at a time, the others
 * wait in a FIFO queue of `capacity` places, and a submission that finds the queue full waits
 * for room or is rejected (`whenFull`).
 *
 * A task that throws or rejects rejects its own promise and frees its slot; the pool goes on.
 * A task starts synchronously inside `submit()` when a slot is free, so a synchronous throw
 * becomes a rejection of the returned promise, never an exception. Every promise the pool hands
 * out settles, unless a task itself never settles.
 *
 * @example Run at most two tasks at a time
 * ```ts
 * import { Pool } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const pool = new Pool({ concurrency: 2 });
 * let active = 0;
 * let peak = 0;
 * const results = await Promise.all([1, 2, 3, 4, 5].map((n) =>
 *   pool.submit(async () => {
 *     peak = Math.max(peak, ++active);
 *     await Promise.resolve();
 *     active--;
 *     return n * 10;
 *   })
 * ));
 * assert.deepEqual(results, [10, 20, 30, 40, 50]);
 * assert.equal(peak, 2);
 * await pool.close();
 * ```
 */
export class Pool implements AsyncDisposable {
  static {
    suspend = (pool) => pool.#suspend();
    submitJobImpl = (pool, job, signal) => pool.#submitJob(job, signal);
    withdrawJobImpl = (pool, ticket, reason) => {
      pool.#drop(ticket as Entry, reason);
      pool.#next();
    };
    jobDoneImpl = (pool) => pool.#onFulfilled(undefined);
  }

  #name: string;
  #concurrency: number;
  #capacity: number;
  #rejectWhenFull: boolean;
  #closed = false;
  #closing: Promise<void> | undefined = undefined;
  #running = 0;
  #suspended = 0;
  #queue = new TaskList();
  #blockedList = new TaskList();
  #resumers: (() => void)[] = [];
  #submitted = 0;
  #successful = 0;
  #failed = 0;
  #dropped = 0;
  #blocked = 0;
  #idleWaiters: (() => void)[] = [];
  #emptyWaiters: (() => void)[] = [];

  /**
   * Creates a pool.
   *
   * @param options How many tasks run at once, how many wait, and what happens when the queue
   * is full.
   * @throws {TypeError} If `options` is not an object, or an option has the wrong type.
   * @throws {RangeError} If `concurrency` is not a positive integer, or `capacity` is not a
   * non-negative integer or `Infinity`.
   *
   * @example Reject work beyond what the queue holds
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 4, capacity: 100, whenFull: "reject", name: "mail" });
   * assert.equal(pool.concurrency, 4);
   * assert.equal(pool.capacity, 100);
   * assert.equal(pool.name, "mail");
   * ```
   */
  constructor(options?: PoolOptions) {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new TypeError(
        `Cannot create the pool as 'options' must be an object: received ${received(options)}`,
      );
    }
    const {
      concurrency = DEFAULT_CONCURRENCY,
      capacity = Infinity,
      whenFull = "wait",
      name = "pool",
    } = options ?? {};
    checkConcurrency("create the pool", concurrency);
    if (typeof capacity !== "number") {
      throw new TypeError(
        `Cannot create the pool as 'capacity' must be a number: received ${received(capacity)}`,
      );
    }
    if (capacity !== Infinity && !(Number.isInteger(capacity) && capacity >= 0)) {
      throw new RangeError(
        `Cannot create the pool as 'capacity' must be a non-negative integer or Infinity: received ${
          received(capacity)
        }`,
      );
    }
    if (whenFull !== "wait" && whenFull !== "reject") {
      throw new TypeError(
        `Cannot create the pool as 'whenFull' must be "wait" or "reject": received ${
          received(whenFull)
        }`,
      );
    }
    if (typeof name !== "string") {
      throw new TypeError(
        `Cannot create the pool as 'name' must be a string: received ${received(name)}`,
      );
    }
    this.#concurrency = concurrency;
    this.#capacity = capacity;
    this.#rejectWhenFull = whenFull === "reject";
    this.#name = name;
  }

  /** The pool's name, from the `name` option. */
  get name(): string {
    return this.#name;
  }

  /**
   * How many tasks may run at the same time. Set it with {@linkcode Pool.prototype.resize}.
   *
   * @example Read the bound
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Pool().concurrency, 16);
   * ```
   */
  get concurrency(): number {
    return this.#concurrency;
  }

  /** How many tasks may wait in the queue, from the `capacity` option. */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * How many tasks hold a slot now.
   *
   * @example Watch a task run
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 1 });
   * let release = () => {};
   * const first = pool.submit(() => new Promise<void>((resolve) => (release = resolve)));
   * const second = pool.submit(() => "done");
   * assert.equal(pool.running, 1);
   * assert.equal(pool.waiting, 1);
   * release();
   * await Promise.all([first, second]);
   * assert.equal(pool.running, 0);
   * ```
   */
  get running(): number {
    return this.#running;
  }

  /**
   * How many accepted tasks do not hold a slot now: queued, blocked waiting for room in the
   * queue, or suspended by their emitter.
   */
  get waiting(): number {
    return this.#queue.size + this.#blockedList.size + this.#suspended;
  }

  /** Whether `close()` was called. A closed pool refuses new tasks. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Runs `task` when a slot is free, and settles with its result.
   *
   * The task starts at once, inside this call, when a slot is free and nothing waits before
   * it; otherwise it joins the queue, in FIFO order. When the queue is full, `whenFull` decides:
   * the task waits for room, or the promise rejects with {@linkcode QueueFullError}.
   *
   * @typeParam T What the task returns (or the promise it returns resolves to).
   * @param task The work to run. It may be sync or async.
   * @param options A `signal` that withdraws the task if it aborts before the task starts.
   * @returns A promise for the task's result. It rejects with what the task threw or rejected
   * with; with {@linkcode PoolClosedError} if the pool is closed (not counted); with
   * `signal.reason` if the signal was already aborted (not counted) or aborts before the task
   * starts (counted as dropped); with {@linkcode QueueFullError} when the queue is full and
   * `whenFull` is `"reject"` (counted as dropped); or with the reason `close()` gave up with.
   * @throws {TypeError} If `task` is not a function or `signal` is not an `AbortSignal`.
   *
   * @example Withdraw a task that has not started
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 1 });
   * let release = () => {};
   * const first = pool.submit(() => new Promise<void>((resolve) => (release = resolve)));
   * const controller = new AbortController();
   * const second = pool.submit(() => "never", { signal: controller.signal });
   * controller.abort(new Error("no longer needed"));
   * await assert.rejects(second, { message: "no longer needed" });
   * release();
   * await first;
   * assert.equal(pool.stats().dropped, 1);
   * ```
   */
  submit<T>(task: () => T | PromiseLike<T>, options?: PoolSubmitOptions): Promise<Awaited<T>> {
    const signal = options?.signal;
    checkTask(task, signal);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#closed) return Promise.reject(this.#closedError());
    this.#submitted++;
    if (this.#hasFreeSlot()) return this.#run(task) as Promise<Awaited<T>>;
    if (this.#isFull()) {
      if (this.#rejectWhenFull) {
        this.#dropped++;
        return Promise.reject(this.#fullError());
      }
      this.#blocked++;
      return this.#enqueue(this.#blockedList, task, signal) as Promise<Awaited<T>>;
    }
    return this.#enqueue(this.#queue, task, signal) as Promise<Awaited<T>>;
  }

  /**
   * Runs `task` like {@linkcode Pool.prototype.submit}, but only if it can start or join the
   * queue without waiting for room; otherwise returns `undefined` and counts nothing, so the
   * caller still holds the task.
   *
   * A closed pool or an aborted signal is not a lack of room: they return a rejected promise,
   * as `submit()` does.
   *
   * @typeParam T What the task returns (or the promise it returns resolves to).
   * @param task The work to run. It may be sync or async.
   * @param options A `signal` that withdraws the task if it aborts before the task starts.
   * @returns A promise for the task's result, or `undefined` if the queue is full.
   * @throws {TypeError} If `task` is not a function or `signal` is not an `AbortSignal`.
   *
   * @example Shed load instead of waiting
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 1, capacity: 0 });
   * let release = () => {};
   * const first = pool.trySubmit(() => new Promise<void>((resolve) => (release = resolve)));
   * assert.ok(first !== undefined);
   * assert.equal(pool.trySubmit(() => "later"), undefined);
   * release();
   * await first;
   * ```
   */
  trySubmit<T>(
    task: () => T | PromiseLike<T>,
    options?: PoolSubmitOptions,
  ): Promise<Awaited<T>> | undefined {
    const signal = options?.signal;
    checkTask(task, signal);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#hasFreeSlot()) {
      this.#submitted++;
      return this.#run(task) as Promise<Awaited<T>>;
    }
    if (this.#isFull()) return undefined;
    this.#submitted++;
    return this.#enqueue(this.#queue, task, signal) as Promise<Awaited<T>>;
  }

  /**
   * Maps each item of `iterable` through `fn`, running the calls as tasks on this pool, and
   * yields the results in input order.
   *
   * The items share the pool's bound with all its other tasks. The mapping pulls from the
   * iterable only while fewer than `concurrency` of its items are submitted and unfinished and
   * fewer than `concurrency` finished results wait to be yielded: a huge iterable never floods
   * the queue, and a slow consumer (or a slow item, whose result holds back those after it)
   * pauses the pulling instead of filling memory.
   *
   * After the first failure no new item starts and the items still queued are withdrawn;
   * running items go on to the end. The iterator then yields the results that come before
   * the first failed item, and throws an `AggregateError` whose `errors` are those of every
   * failed item, in input order. An error thrown by the iterable itself also stops the mapping
   * and is rethrown as it is, or, if an item failed too, is the last of the `errors`.
   *
   * Leaving a `for await` loop early stops the mapping the same way, closes the iterable and
   * leaves no unhandled rejection behind.
   *
   * @typeParam T The type of the items.
   * @typeParam R What `fn` returns (or the promise it returns resolves to).
   * @param iterable The items, sync or async.
   * @param fn The work to run for each item.
   * @param options A `signal` that stops the mapping.
   * @returns An async iterator of the results, in input order.
   * @throws {TypeError} If `iterable` is not iterable, `fn` is not a function, or `signal` is
   * not an `AbortSignal`.
   *
   * @example Fetch pages two at a time, in order
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 2 });
   * const pages: string[] = [];
   * for await (const page of pool.map([1, 2, 3], async (n) => `page ${n}`)) {
   *   pages.push(page);
   * }
   * assert.deepEqual(pages, ["page 1", "page 2", "page 3"]);
   * ```
   *
   * @example Collect the errors of failed items
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 2 });
   * const seen: number[] = [];
   * await assert.rejects(async () => {
   *   for await (const n of pool.map([1, 2, 3], (n) => {
   *     if (n === 2) throw new Error("two");
   *     return n;
   *   })) {
   *     seen.push(n);
   *   }
   * }, AggregateError);
   * assert.deepEqual(seen, [1]);
   * ```
   */
  map<T, R>(
    iterable: Iterable<T> | AsyncIterable<T>,
    fn: (item: T) => R | PromiseLike<R>,
    options?: PoolMapOptions,
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
    return this.#map(iterable, isAsync, fn, signal);
  }

  /**
   * Takes a snapshot of the pool's counters. See {@linkcode PoolStats} for what each means.
   *
   * @returns A new plain object; it does not change as the pool works.
   *
   * @example Check the counters add up
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 2 });
   * await Promise.allSettled([
   *   pool.submit(() => "ok"),
   *   pool.submit(() => Promise.reject(new Error("boom"))),
   * ]);
   * const stats = pool.stats();
   * assert.deepEqual(stats, {
   *   submitted: 2,
   *   running: 0,
   *   waiting: 0,
   *   blocked: 0,
   *   successful: 1,
   *   failed: 1,
   *   completed: 2,
   *   dropped: 0,
   * });
   * assert.equal(
   *   stats.submitted,
   *   stats.completed + stats.running + stats.waiting + stats.dropped,
   * );
   * ```
   */
  stats(): PoolStats {
    return {
      submitted: this.#submitted,
      running: this.#running,
      waiting: this.waiting,
      blocked: this.#blocked,
      successful: this.#successful,
      failed: this.#failed,
      completed: this.#successful + this.#failed,
      dropped: this.#dropped,
    };
  }

  /**
   * Waits until no task runs or waits. A task that never settles keeps it waiting.
   *
   * @returns A promise that resolves when the pool is idle, at once if it is idle now.
   *
   * @example Wait for fire-and-forget work
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 2 });
   * const done: number[] = [];
   * for (const n of [1, 2, 3]) pool.submit(async () => done.push(n));
   * await pool.onIdle();
   * assert.deepEqual(done, [1, 2, 3]);
   * ```
   */
  onIdle(): Promise<void> {
    if (this.#running === 0 && this.waiting === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#idleWaiters.push(resolve);
    });
  }

  /**
   * Waits until no task waits (queued, blocked or suspended); tasks may still be running.
   *
   * @returns A promise that resolves when nothing waits, at once if nothing waits now.
   *
   * @example Wait for the queue to drain
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 1 });
   * let release = () => {};
   * const first = pool.submit(() => new Promise<void>((resolve) => (release = resolve)));
   * const second = pool.submit(() => new Promise<void>((resolve) => (release = resolve)));
   * const empty = pool.onEmpty();
   * release();
   * await empty;
   * assert.equal(pool.waiting, 0);
   * assert.equal(pool.running, 1);
   * release();
   * await Promise.all([first, second]);
   * ```
   */
  onEmpty(): Promise<void> {
    if (this.waiting === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#emptyWaiters.push(resolve);
    });
  }

  /**
   * Changes how many tasks may run at the same time. Growing starts queued tasks at once, inside
   * this call; shrinking lets the running tasks finish and starts no new one until fewer than
   * `concurrency` run.
   *
   * @param concurrency The new bound: a positive integer.
   * @throws {TypeError} If `concurrency` is not a number.
   * @throws {RangeError} If `concurrency` is not a positive integer.
   *
   * @example Let more tasks run
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 1 });
   * const gates: (() => void)[] = [];
   * const tasks = [1, 2, 3].map(() =>
   *   pool.submit(() => new Promise<void>((resolve) => gates.push(resolve)))
   * );
   * assert.equal(pool.running, 1);
   * pool.resize(3);
   * assert.equal(pool.running, 3);
   * for (const open of gates) open();
   * await Promise.all(tasks);
   * ```
   */
  resize(concurrency: number): void {
    checkConcurrency("resize the pool", concurrency);
    this.#concurrency = concurrency;
    this.#next();
  }

  /**
   * Closes the pool gracefully: new submissions reject with {@linkcode PoolClosedError} at once,
   * while the tasks already accepted (queued, blocked, running or suspended) go on to the end.
   *
   * With a `signal` or a `timeout`, `close()` can stop waiting: when it fires, every task still
   * queued or blocked is rejected with the reason (a `DOMException` named `"TimeoutError"` for
   * the timeout, `signal.reason` for the signal) and counted as dropped, then `close()` rejects
   * with the same reason, so the caller knows it gave up. Running and suspended tasks cannot be
   * interrupted: they keep their slots until they return, so the bound is never exceeded. If the
   * pool is idle, `close()` resolves even when the signal has already aborted.
   *
   * Later calls return the first call's promise (after checking their own options).
   *
   * @param options A `signal` or a `timeout` (ms) after which `close()` stops waiting.
   * @returns A promise that resolves when the last accepted task has finished.
   * @throws {TypeError} If `signal` is not an `AbortSignal` or `timeout` is not a number.
   * @throws {RangeError} If `timeout` is negative or not finite.
   *
   * @example Let queued work finish
   * ```ts
   * import { Pool, PoolClosedError } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 1 });
   * const done: number[] = [];
   * for (const n of [1, 2, 3]) pool.submit(async () => done.push(n));
   * const closed = pool.close();
   * await assert.rejects(pool.submit(() => 4), PoolClosedError);
   * await closed;
   * assert.deepEqual(done, [1, 2, 3]);
   * ```
   *
   * @example Give up on a task that never ends
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ concurrency: 1 });
   * pool.submit(() => new Promise(() => {}));
   * const queued = pool.submit(() => "never runs");
   * await assert.rejects(pool.close({ timeout: 10 }), { name: "TimeoutError" });
   * await assert.rejects(queued, { name: "TimeoutError" });
   * ```
   */
  close(options?: PoolCloseOptions): Promise<void> {
    const signal = options?.signal;
    const timeout = options?.timeout;
    checkSignal("close the pool", signal);
    if (timeout !== undefined) {
      if (typeof timeout !== "number") {
        throw new TypeError(
          `Cannot close the pool as 'timeout' must be a number: received ${received(timeout)}`,
        );
      }
      if (!(timeout >= 0 && timeout < Infinity)) {
        throw new RangeError(
          `Cannot close the pool as 'timeout' must be a non-negative finite number: received ${
            received(timeout)
          }`,
        );
      }
    }
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    if (this.#running === 0 && this.waiting === 0) return this.#closing = Promise.resolve();
    if (signal?.aborted) {
      this.#giveUp(signal.reason);
      return this.#closing = Promise.reject(signal.reason);
    }
    return this.#closing = new Promise<void>((resolve, reject) => {
      let cancelTimer: CancelTimer | undefined;
      const finish = (): void => {
        cancelTimer?.();
        signal?.removeEventListener("abort", onAbort);
        const index = this.#idleWaiters.indexOf(done);
        if (index !== -1) this.#idleWaiters.splice(index, 1);
      };
      const done = (): void => {
        finish();
        resolve();
      };
      const giveUp = (reason: unknown): void => {
        finish();
        this.#giveUp(reason);
        reject(reason);
      };
      const onAbort = (): void => giveUp(signal?.reason);
      this.#idleWaiters.push(done);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeout !== undefined) {
        cancelTimer = startTimer(timeout, () =>
          giveUp(
            new DOMException(
              `Cannot finish closing ${
                quote(this.#name)
              } as its tasks did not complete within ${timeout} ms`,
              "TimeoutError",
            ),
          ));
      }
    });
  }

  /**
   * Closes the pool with {@linkcode Pool.prototype.close}, for `await using`.
   *
   * @returns The promise `close()` returns.
   *
   * @example Close the pool at the end of a scope
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * let pool: Pool;
   * {
   *   await using scoped = new Pool({ concurrency: 2 });
   *   pool = scoped;
   *   scoped.submit(() => "work");
   * }
   * assert.equal(pool.isClosed, true);
   * assert.equal(pool.stats().completed, 1);
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Describes the pool with its name and live figures.
   *
   * @returns For example `Pool "pool" (running 2/16, waiting 5)`.
   *
   * @example Log a pool
   * ```ts
   * import { Pool } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * assert.equal(String(new Pool({ name: "mail" })), 'Pool "mail" (running 0/16, waiting 0)');
   * ```
   */
  toString(): string {
    return `Pool ${
      quote(this.#name)
    } (running ${this.#running}/${this.#concurrency}, waiting ${this.waiting})`;
  }

  #hasFreeSlot(): boolean {
    return this.#running < this.#concurrency && this.#queue.size === 0 &&
      this.#blockedList.size === 0 && this.#resumers.length === 0;
  }

  #isFull(): boolean {
    return this.#queue.size >= this.#capacity || this.#blockedList.size > 0;
  }

  #closedError(): PoolClosedError {
    return new PoolClosedError(`Cannot submit the task as ${quote(this.#name)} is closed`);
  }

  #fullError(): QueueFullError {
    return new QueueFullError(
      `Cannot submit the task as the queue of ${
        quote(this.#name)
      } is full: ${this.#capacity} waiting`,
    );
  }

  #run(task: () => unknown): Promise<unknown> {
    this.#running++;
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(task());
    } catch (error) {
      result = Promise.reject(error);
    }
    return result.then(this.#onFulfilled, this.#onRejected);
  }

  #onFulfilled = (value: unknown): unknown => {
    this.#running--;
    this.#successful++;
    this.#next();
    return value;
  };

  #onRejected = (error: unknown): never => {
    this.#running--;
    this.#failed++;
    this.#next();
    throw error;
  };

  #submitJob(job: PoolJob, signal: AbortSignal | undefined): QueuedJob | undefined {
    if (signal?.aborted) return void job.refuse(signal.reason);
    if (this.#closed) return void job.refuse(this.#closedError());
    this.#submitted++;
    if (this.#hasFreeSlot()) {
      this.#running++;
      return void job.start();
    }
    let list = this.#queue;
    if (this.#isFull()) {
      if (this.#rejectWhenFull) {
        this.#dropped++;
        return void job.refuse(this.#fullError());
      }
      this.#blocked++;
      list = this.#blockedList;
    }
    const entry = new Entry(undefined, undefined, undefined);
    entry.job = job;
    this.#watch(entry, signal);
    list.push(entry);
    return entry;
  }

  #enqueue(list: TaskList, task: () => unknown, signal: AbortSignal | undefined): Promise<unknown> {
    const promise = new Promise(capture);
    const entry = new Entry(task, capturedResolve, capturedReject);
    this.#watch(entry, signal);
    list.push(entry);
    return promise;
  }

  #watch(entry: Entry, signal: AbortSignal | undefined): void {
    if (signal !== undefined) {
      entry.signal = signal;
      entry.onAbort = () => {
        this.#drop(entry, signal.reason);
        this.#next();
      };
      signal.addEventListener("abort", entry.onAbort, { once: true });
    }
  }

  /** Starts queued tasks while slots are free, resumers first, then refills the queue. */
  #next(): void {
    while (this.#running < this.#concurrency) {
      if (this.#resumers.length > 0) {
        this.#suspended--;
        this.#running++;
        this.#resumers.shift()!();
        continue;
      }
      const entry = this.#queue.shift() ?? this.#blockedList.shift();
      if (entry === undefined) break;
      entry.signal?.removeEventListener("abort", entry.onAbort!);
      if (entry.job !== undefined) {
        this.#running++;
        entry.job.start();
      } else {
        entry.resolve!(this.#run(entry.task!));
      }
    }
    while (this.#blockedList.size > 0 && this.#queue.size < this.#capacity) {
      this.#queue.push(this.#blockedList.shift()!);
    }
    if (this.#idleWaiters.length > 0 || this.#emptyWaiters.length > 0) this.#notify();
  }

  #notify(): void {
    if (this.waiting > 0) return;
    if (this.#emptyWaiters.length > 0) {
      const waiters = this.#emptyWaiters;
      this.#emptyWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.#running === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Takes a task out of its list unstarted, counts it as dropped and rejects it. */
  #drop(entry: Entry, reason: unknown): void {
    if (entry.list === undefined) return;
    entry.list.remove(entry);
    entry.signal?.removeEventListener("abort", entry.onAbort!);
    this.#dropped++;
    if (entry.job !== undefined) entry.job.refuse(reason);
    else entry.reject!(reason);
  }

  #giveUp(reason: unknown): void {
    for (const list of [this.#queue, this.#blockedList]) {
      for (let entry = list.head; entry !== undefined; entry = list.head) this.#drop(entry, reason);
    }
    this.#next();
  }

  #suspend(): () => Promise<void> {
    if (this.#running === 0) {
      throw new Error(
        `Cannot suspend a slot of ${quote(this.#name)} as none of its tasks is running`,
      );
    }
    this.#running--;
    this.#suspended++;
    this.#next();
    let resumed: Promise<void> | undefined;
    return () => resumed ??= this.#resume();
  }

  #resume(): Promise<void> {
    if (this.#running < this.#concurrency && this.#resumers.length === 0) {
      this.#suspended--;
      this.#running++;
      if (this.#emptyWaiters.length > 0) this.#notify();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#resumers.push(resolve);
    });
  }

  async *#map<T, R>(
    iterable: Iterable<T> | AsyncIterable<T>,
    isAsync: boolean,
    fn: (item: T) => R | PromiseLike<R>,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<Awaited<R>, void, undefined> {
    signal?.throwIfAborted();
    if (this.#closed) throw this.#closedError();
    const mapping = new Mapping(this, iterable, isAsync, fn);
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
}

/**
 * Gives the running task's slot back to the pool and returns `resume()`, which takes a slot
 * again ahead of every queued task.
 *
 * @internal For the emitter: an emission that waits on another pool calls this so that it does
 * not sit on this pool's slot. While suspended, the task counts as waiting, not running, and
 * `close()` still waits for it. `resume()` ignores the queue's capacity and the pool's closed
 * state (the task was already accepted); it may be called more than once and returns the same
 * promise. The task must call and await `resume()` before it returns, exactly as it would
 * release a lock, or the pool's counts go wrong.
 *
 * @param pool The pool whose running task is calling.
 * @returns `resume()`, which resolves once the task holds a slot again.
 * @throws {TypeError} If `pool` is not a {@linkcode Pool}.
 * @throws {Error} If no task of the pool is running.
 *
 * @example Let another task run while waiting elsewhere
 * ```ts
 * import { Pool } from "@x/soiree";
 * import { suspendSlot } from "./pool.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new Pool({ concurrency: 1 });
 * const order: string[] = [];
 * let release = () => {};
 * const outer = pool.submit(async () => {
 *   const resume = suspendSlot(pool);
 *   await new Promise<void>((resolve) => (release = resolve));
 *   await resume();
 *   order.push("outer");
 * });
 * await pool.submit(() => order.push("inner"));
 * release();
 * await outer;
 * assert.deepEqual(order, ["inner", "outer"]);
 * ```
 */
export function suspendSlot(pool: Pool): () => Promise<void> {
  if (!(pool instanceof Pool)) {
    throw new TypeError(
      `Cannot suspend a slot as 'pool' must be a Pool: received ${received(pool)}`,
    );
  }
  return suspend(pool);
}

/**
 * Submits a job: like `submit()`, counted the same way, but with no promise and no closure.
 *
 * @internal For the emitter: each queued emission is its own job.
 * @param pool The pool.
 * @param job What to start, or to refuse.
 * @param signal Withdraws the job if it aborts before it starts.
 */
export function submitJob(
  pool: Pool,
  job: PoolJob,
  signal?: AbortSignal,
): QueuedJob | undefined {
  return submitJobImpl(pool, job, signal);
}

/**
 * Takes a job out of the queue before it starts, counting it as dropped and refusing it with
 * `reason`; does nothing once it has started or left.
 *
 * @internal For the emitter: an emission cancelled while queued gives its place back.
 * @param pool The pool the job was submitted to.
 * @param ticket What `submitJob()` returned.
 * @param reason Handed to the job's `refuse()`.
 */
export function withdrawJob(pool: Pool, ticket: QueuedJob, reason: unknown): void {
  withdrawJobImpl(pool, ticket, reason);
}

/**
 * Frees the slot of a job that `start()` ran, counting it as successful.
 *
 * @internal
 * @param pool The pool the job ran on.
 */
export function jobDone(pool: Pool): void {
  jobDoneImpl(pool);
}

/** A task that waits in the queue, or for room in it: a node of a {@linkcode TaskList}. */
class Entry {
  task: (() => unknown) | undefined;
  resolve: ((value: unknown) => void) | undefined;
  reject: ((reason: unknown) => void) | undefined;
  /** Set instead of the three above for a job. */
  job: PoolJob | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  list: TaskList | undefined = undefined;
  prev: Entry | undefined = undefined;
  next: Entry | undefined = undefined;

  constructor(
    task: (() => unknown) | undefined,
    resolve: ((value: unknown) => void) | undefined,
    reject: ((reason: unknown) => void) | undefined,
  ) {
    this.task = task;
    this.resolve = resolve;
    this.reject = reject;
  }
}

/** A FIFO doubly linked list of entries, so a withdrawn task leaves in O(1). */
class TaskList {
  head: Entry | undefined = undefined;
  tail: Entry | undefined = undefined;
  size = 0;

  push(entry: Entry): void {
    entry.list = this;
    entry.prev = this.tail;
    if (this.tail === undefined) this.head = entry;
    else this.tail.next = entry;
    this.tail = entry;
    this.size++;
  }

  shift(): Entry | undefined {
    const entry = this.head;
    if (entry !== undefined) this.remove(entry);
    return entry;
  }

  remove(entry: Entry): void {
    const { prev, next } = entry;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    entry.list = entry.prev = entry.next = undefined;
    this.size--;
  }
}

let capturedResolve: (value: unknown) => void;
let capturedReject: (reason: unknown) => void;

/** A shared promise executor, so that queueing a task allocates no closure for it. */
function capture(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;
const WITHDRAWN = 3;

/** One item of a mapping, in input order. */
class MapItem {
  state: number = PENDING;
  value: unknown = undefined;
  started = false;
}

/** The state of one `Pool.map()` call: what is in flight, what is ready, why it stopped. */
class Mapping<T, R> {
  readonly pool: Pool;
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
    pool: Pool,
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

function checkConcurrency(action: string, concurrency: unknown): asserts concurrency is number {
  if (typeof concurrency !== "number") {
    throw new TypeError(
      `Cannot ${action} as 'concurrency' must be a number: received ${received(concurrency)}`,
    );
  }
  if (!(Number.isInteger(concurrency) && concurrency > 0)) {
    throw new RangeError(
      `Cannot ${action} as 'concurrency' must be a positive integer: received ${
        received(concurrency)
      }`,
    );
  }
}

function checkTask(task: unknown, signal: unknown): void {
  if (typeof task !== "function") {
    throw new TypeError(
      `Cannot submit the task as 'task' must be a function: received ${received(task)}`,
    );
  }
  if (signal !== undefined) checkSignal("submit the task", signal);
}

function checkSignal(action: string, signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot ${action} as 'signal' must be an AbortSignal: received ${received(signal)}`,
    );
  }
}

/** Describes a value for an error message: `0 (number)`, `"drop" (string)`, `null`. */
function received(value: unknown): string {
  switch (typeof value) {
    case "string":
      return `${quote(value)} (string)`;
    case "number":
      return `${Object.is(value, -0) ? "-0" : value} (number)`;
    case "bigint":
      return `${value}n (bigint)`;
    case "boolean":
    case "symbol":
      return `${String(value)} (${typeof value})`;
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    default: {
      if (value === null) return "null";
      return describeObject(value as object);
    }
  }
}
