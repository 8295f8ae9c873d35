// Durations: the one rule every duration option follows, timers that honour delays above
// setTimeout's limit (2^31 - 1 ms, which setTimeout would cut to 1 ms), and the TimeoutError
// they end with. Owns no state of its own.

import { describeValue } from "./_topic.ts";

const MAX_DELAY = 2_147_483_647;

/**
 * Checks a duration option (`timeout` of `on`, `emit`, `waitFor`, `close`, `Pool.close`): a
 * positive number of milliseconds, or `Infinity` for no limit. `undefined` passes.
 *
 * @returns The limit in milliseconds, or `undefined` for none (absent or `Infinity`).
 * @throws {TypeError} When it is not a number, naming the option and what arrived.
 * @throws {RangeError} When it is a number that is not positive (0 included) or NaN.
 */
export function checkDuration(value: unknown, name: string, action: string): number | undefined {
  if (value === undefined || value === Infinity) return undefined;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a number of milliseconds: received ${
        describeValue(value)
      }`,
    );
  }
  if (!(value > 0)) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be a positive number of milliseconds, or Infinity for no limit: received ${
        describeValue(value)
      }`,
    );
  }
  return value;
}

/** Cancels a timer started by {@linkcode startTimer}. */
export type CancelTimer = () => void;

/** Calls `fn` once after `ms` milliseconds, however large; returns the way to cancel it. */
export function startTimer(ms: number, fn: () => void): CancelTimer {
  let remaining = ms;
  let handle: ReturnType<typeof setTimeout>;
  const arm = (): void => {
    const step = Math.min(remaining, MAX_DELAY);
    remaining -= step;
    handle = setTimeout(remaining > 0 ? arm : fn, step);
  };
  arm();
  return () => clearTimeout(handle);
}

/** The `TimeoutError` a timer rejects or aborts with, as `AbortSignal.timeout()` makes it. */
export function timeoutError(what: string, ms: number): DOMException {
  return new DOMException(`${what} timed out after ${ms} ms`, "TimeoutError");
}
