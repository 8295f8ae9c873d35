// Callers waiting for a pool to reach a state: empty (`onEmpty()`), idle (`onIdle()` and
// `close()`), and the race `close()` runs between idle and its signal or timeout. `Pool`
// decides when a state is reached and calls `wakeAll()`; this module only holds the waiters
// and must not import `pool.ts`.

import { closeTimeoutError } from "./_pool_checks.ts";
import { type CancelTimer, startTimer } from "./_timer.ts";

/** Callers waiting for one state of a pool, woken all at once in the order they came. */
export class Waiters {
  /** How many callers wait: read on every task's completion, so a plain field. */
  size = 0;
  #list: (() => void)[] = [];

  /** Resolves at the next {@linkcode Waiters.wakeAll}. */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#list.push(resolve);
      this.size++;
    });
  }

  /** Wakes every waiter, in the order they came; those that come meanwhile wait for the next. */
  wakeAll(): void {
    const list = this.#list;
    this.#list = [];
    this.size = 0;
    for (const wake of list) wake();
  }

  /**
   * Resolves at the next {@linkcode Waiters.wakeAll}, unless `signal` aborts or `timeout` ms
   * pass first: then it stops waiting, calls `giveUp(reason)` and rejects with the reason
   * (`signal.reason`, or a `TimeoutError` that names the pool).
   */
  waitOrGiveUp(
    name: string,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    giveUp: (reason: unknown) => void,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let cancelTimer: CancelTimer | undefined;
      const finish = (): void => {
        cancelTimer?.();
        signal?.removeEventListener("abort", onAbort);
        const index = this.#list.indexOf(done);
        if (index !== -1) {
          this.#list.splice(index, 1);
          this.size--;
        }
      };
      const done = (): void => {
        finish();
        resolve();
      };
      const stop = (reason: unknown): void => {
        finish();
        giveUp(reason);
        reject(reason);
      };
      const onAbort = (): void => stop(signal?.reason);
      this.#list.push(done);
      this.size++;
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeout !== undefined) {
        cancelTimer = startTimer(timeout, () => stop(closeTimeoutError(name, timeout)));
      }
    });
  }
}
