/**
 * A semaphore pool: runs at most `concurrency` tasks at a time, queues the rest in FIFO order,
 * and reports live figures for monitoring.
 *
 * @module
 */

import type {
  PoolCloseOptions,
  PoolMapOptions,
  PoolOptions,
  PoolStats,
  PoolSubmitOptions,
} from "./pool_options.ts";
import { definePrintout, quote } from "./_describe.ts";
import {
  checkCloseOptions,
  checkConcurrency,
  checkPoolOptions,
  checkTask,
  closedError,
  fullError,
  idleSuspendError,
} from "./_pool_checks.ts";
import { connectPool, type PoolJob, type QueuedJob } from "./_pool_jobs.ts";
import { mapOnPool } from "./_pool_map.ts";
import { type Entry, type Job, TaskEntry, TaskList } from "./_task_queue.ts";
import { Waiters } from "./_pool_waiters.ts";

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
    connectPool({
      suspend: (pool) => pool instanceof Pool ? pool.#suspend() : undefined,
      submitJob: (pool, job, signal) => (pool as Pool).#submitJob(job, signal),
      withdrawJob: (pool, ticket, reason) => (pool as Pool).#withdraw(ticket as Entry, reason),
      jobDone: (pool) => (pool as Pool).#onFulfilled(undefined),
    });
  }

  #name: string;
  #concurrency: number;
  #capacity: number;
  #rejectWhenFull: boolean;
  #closed = false;
  #closing: Promise<void> | undefined = undefined;
  #running = 0;
  #suspended = 0;
  #queue = new TaskList((entry, reason) => this.#withdraw(entry, reason));
  #resumers: (() => void)[] = [];
  #submitted = 0;
  #successful = 0;
  #failed = 0;
  #dropped = 0;
  #blocked = 0;
  #idle = new Waiters();
  #empty = new Waiters();

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
    const { concurrency, capacity, whenFull, name } = checkPoolOptions(options);
    this.#concurrency = concurrency;
    this.#capacity = capacity;
    this.#rejectWhenFull = whenFull === "reject";
    this.#name = name;
  }

  /** The pool's name, from the `name` option (`pool-<n>` when none was given). */
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
    return this.#queue.size + this.#suspended;
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
    if (this.#closed) return Promise.reject(closedError(this.#name));
    this.#submitted++;
    if (this.#hasFreeSlot()) return this.#run(task) as Promise<Awaited<T>>;
    if (this.#isFull()) {
      if (this.#rejectWhenFull) {
        this.#dropped++;
        return Promise.reject(fullError(this.#name, this.#capacity));
      }
      this.#blocked++;
    }
    return this.#queue.pushTask(task, signal) as Promise<Awaited<T>>;
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
    if (this.#closed) return Promise.reject(closedError(this.#name));
    if (this.#hasFreeSlot()) {
      this.#submitted++;
      return this.#run(task) as Promise<Awaited<T>>;
    }
    if (this.#isFull()) return undefined;
    this.#submitted++;
    return this.#queue.pushTask(task, signal) as Promise<Awaited<T>>;
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
    return mapOnPool(this, iterable, fn, options);
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
   *   started: 2,
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
      started: this.#submitted - this.#dropped - this.#queue.size,
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
    return this.#idle.wait();
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
    return this.#empty.wait();
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
   * @throws {TypeError} If `signal` is not an `AbortSignal`.
   * @throws {RangeError} If `timeout` is not a positive number of milliseconds or `Infinity`.
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
    const timeout = checkCloseOptions(signal, options?.timeout);
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    if (this.#running === 0 && this.waiting === 0) return this.#closing = Promise.resolve();
    if (signal?.aborted) {
      this.#giveUp(signal.reason);
      return this.#closing = Promise.reject(signal.reason);
    }
    return this.#closing = this.#idle.waitOrGiveUp(
      this.#name,
      signal,
      timeout,
      (reason) => this.#giveUp(reason),
    );
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
      this.#resumers.length === 0;
  }

  #isFull(): boolean {
    return this.#queue.size >= this.#capacity;
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
    if (this.#closed) return void job.refuse(closedError(this.#name));
    this.#submitted++;
    if (this.#hasFreeSlot()) {
      this.#running++;
      return void job.start();
    }
    if (this.#isFull()) {
      if (this.#rejectWhenFull) {
        this.#dropped++;
        return void job.refuse(fullError(this.#name, this.#capacity));
      }
      this.#blocked++;
    }
    return this.#queue.pushJob(job, signal);
  }

  /** Starts queued tasks while slots are free, resumers first, then wakes who waits. */
  #next(): void {
    while (this.#running < this.#concurrency) {
      if (this.#resumers.length > 0) {
        this.#suspended--;
        this.#running++;
        this.#resumers.shift()!();
        continue;
      }
      const entry = this.#queue.shift();
      if (entry === undefined) break;
      if (entry instanceof TaskEntry) entry.resolve(this.#run(entry.task));
      else {
        this.#running++;
        (entry as Job).start();
      }
    }
    if (this.#idle.size > 0 || this.#empty.size > 0) this.#notify();
  }

  #notify(): void {
    if (this.waiting > 0) return;
    if (this.#empty.size > 0) this.#empty.wakeAll();
    if (this.#running === 0 && this.#idle.size > 0) this.#idle.wakeAll();
  }

  /** Withdraws a queued task (its signal aborted, or the emitter gave it up) and goes on. */
  #withdraw(entry: Entry, reason: unknown): void {
    this.#drop(entry, reason);
    this.#next();
  }

  /** Takes a task out of the queue unstarted, counts it as dropped and rejects it. */
  #drop(entry: Entry, reason: unknown): void {
    if (!this.#queue.has(entry)) return;
    this.#queue.remove(entry);
    this.#dropped++;
    entry.refuse(reason);
  }

  #giveUp(reason: unknown): void {
    for (let entry = this.#queue.head; entry !== undefined; entry = this.#queue.head) {
      this.#drop(entry, reason);
    }
    this.#next();
  }

  #suspend(): () => Promise<void> {
    if (this.#running === 0) throw idleSuspendError(this.#name);
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
      if (this.#empty.size > 0) this.#notify();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#resumers.push(resolve);
    });
  }
}

definePrintout(Pool, ["name", "concurrency", "running", "waiting", "isClosed"]);
