/**
 * The options and the stats snapshot of {@linkcode Pool}: what a pool, a submission, a
 * mapping and a close accept, and what `stats()` reports.
 *
 * @module
 */

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
   * The pool's name, used in error messages, by `toString()` and as the `pool` label of
   * `Soiree.metrics()`. A pool made without one is named `pool-1`, `pool-2`, … in the order
   * unnamed pools are created in the process (the same on every run of the same program).
   *
   * @default {"pool-<n>"}
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
   * `DOMException` named `"TimeoutError"`: a positive number, or `Infinity` for no limit (0 and negatives are a `RangeError`).
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
  /**
   * Tasks that got a slot, since the pool was created: `completed`, `running`, and those
   * suspended by their emitter (counted in `waiting`). Queued tasks start later or are dropped.
   */
  started: number;
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
