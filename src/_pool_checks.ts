// The pool's argument checks, the names of unnamed pools, and the errors it builds (a refused submission, a close that
// timed out, a suspend with nothing running), so that `Pool`, `map()` and `close()` word them
// alike. Checks only throw; nothing here touches a pool's state or imports `pool.ts`.

import { PoolClosedError, QueueFullError } from "./errors.ts";
import type { PoolOptions } from "./pool_options.ts";
import { describeObject, quote } from "./_describe.ts";
import { checkDuration } from "./_timer.ts";

const DEFAULT_CONCURRENCY = 16;
/** Pools made without a name so far in this process: the next is `pool-${unnamed + 1}`. */
let unnamed = 0;

/** Checks the options of a new pool and fills in the defaults. */
export function checkPoolOptions(options: PoolOptions | undefined): Required<PoolOptions> {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(
      `Cannot create the pool as 'options' must be an object: received ${received(options)}`,
    );
  }
  const {
    concurrency = DEFAULT_CONCURRENCY,
    capacity = Infinity,
    whenFull = "wait",
    name,
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
  if (name !== undefined && typeof name !== "string") {
    throw new TypeError(
      `Cannot create the pool as 'name' must be a string: received ${received(name)}`,
    );
  }
  return { concurrency, capacity, whenFull, name: name ?? `pool-${++unnamed}` };
}

/** Checks a concurrency bound: a positive integer. `action` says what failed ("resize the pool"). */
export function checkConcurrency(
  action: string,
  concurrency: unknown,
): asserts concurrency is number {
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

/** Checks the arguments of `submit()` and `trySubmit()`. */
export function checkTask(task: unknown, signal: unknown): void {
  if (typeof task !== "function") {
    throw new TypeError(
      `Cannot submit the task as 'task' must be a function: received ${received(task)}`,
    );
  }
  if (signal !== undefined) checkSignal("submit the task", signal);
}

/** Checks an optional `signal`. `action` says what failed ("close the pool"). */
export function checkSignal(action: string, signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot ${action} as 'signal' must be an AbortSignal: received ${received(signal)}`,
    );
  }
}

/**
 * Checks the options of `close()`.
 *
 * @returns The timeout in milliseconds, or `undefined` for none.
 */
export function checkCloseOptions(signal: unknown, timeout: unknown): number | undefined {
  checkSignal("close the pool", signal);
  return checkDuration(timeout, "timeout", "close the pool");
}

/** The error a submission to a closed pool rejects with. */
export function closedError(name: string): PoolClosedError {
  return new PoolClosedError(`Cannot submit the task as ${quote(name)} is closed`);
}

/** The error a submission rejects with when the queue is full and `whenFull` is `"reject"`. */
export function fullError(name: string, capacity: number): QueueFullError {
  return new QueueFullError(
    `Cannot submit the task as the queue of ${quote(name)} is full: ${capacity} waiting`,
  );
}

/** The reason `close({ timeout })` gives up with. */
export function closeTimeoutError(name: string, timeout: number): DOMException {
  return new DOMException(
    `Cannot finish closing ${quote(name)} as its tasks did not complete within ${timeout} ms`,
    "TimeoutError",
  );
}

/** The error `suspendSlot()` throws when none of the pool's tasks is running. */
export function idleSuspendError(name: string): Error {
  return new Error(`Cannot suspend a slot of ${quote(name)} as none of its tasks is running`);
}

/** Describes a value for an error message: `0 (number)`, `"drop" (string)`, `null`. */
export function received(value: unknown): string {
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
