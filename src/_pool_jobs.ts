// The emitter's view of a pool: jobs that carry no promise, and a running task's slot lent
// while it waits elsewhere. Only `Pool` can reach its private state, so its static block
// hands this module one hook per operation through `connectPool()`. This module must not
// import `pool.ts` (not even its types): pools are typed `object` here, and `pool.ts` imports
// this module, never the other way round.

import { received } from "./_pool_checks.ts";

/**
 * A job waiting in a pool's queue, as `submitJob()` returns it: opaque.
 *
 * @internal
 */
export interface QueuedJob {
  readonly queueNext: unknown;
}

/**
 * A task without a promise, for the emitter (an emission is a `Job` from `_task_queue.ts`, its
 * own queue entry; any other job gets one): the pool calls `start()` once it holds a slot
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
 * What `Pool`'s static block hands over: each hook reaches the private state of the pool it is
 * given, which must be a `Pool` (only `suspend` checks).
 *
 * @internal
 */
export interface PoolHooks {
  /** Suspends the running task's slot; `undefined` if `pool` is not a `Pool`. */
  suspend: (pool: unknown) => (() => Promise<void>) | undefined;
  /** Submits a job. */
  submitJob: (pool: object, job: PoolJob, signal: AbortSignal | undefined) => QueuedJob | undefined;
  /** Withdraws a queued job. */
  withdrawJob: (pool: object, ticket: QueuedJob, reason: unknown) => void;
  /** Frees the slot of a started job. */
  jobDone: (pool: object) => void;
}

let suspend: PoolHooks["suspend"];
let submitJobImpl: PoolHooks["submitJob"];
let withdrawJobImpl: PoolHooks["withdrawJob"];
let jobDoneImpl: PoolHooks["jobDone"];

/**
 * Installs the hooks; called once, by `Pool`'s static block.
 *
 * @internal
 */
export function connectPool(hooks: PoolHooks): void {
  suspend = hooks.suspend;
  submitJobImpl = hooks.submitJob;
  withdrawJobImpl = hooks.withdrawJob;
  jobDoneImpl = hooks.jobDone;
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
 * @throws {TypeError} If `pool` is not a `Pool`.
 * @throws {Error} If no task of the pool is running.
 *
 * @example Let another task run while waiting elsewhere
 * ```ts
 * import { Pool } from "@x/soiree";
 * import { suspendSlot } from "./_pool_jobs.ts";
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
export function suspendSlot(pool: object): () => Promise<void> {
  const resume = suspend(pool);
  if (resume === undefined) {
    throw new TypeError(
      `Cannot suspend a slot as 'pool' must be a Pool: received ${received(pool)}`,
    );
  }
  return resume;
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
  pool: object,
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
export function withdrawJob(pool: object, ticket: QueuedJob, reason: unknown): void {
  withdrawJobImpl(pool, ticket, reason);
}

/**
 * Frees the slot of a job that `start()` ran, counting it as successful.
 *
 * @internal
 * @param pool The pool the job ran on.
 */
export function jobDone(pool: object): void {
  jobDoneImpl(pool);
}
