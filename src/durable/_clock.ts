// The clock a transport measures leases, delays and windows on: real time by default, the
// check every transport runs on a clock it is given, and the check of a lease or delay it is
// handed. Owns no state.

import type { Clock } from "./transport.ts";
import { describeValue } from "../_topic.ts";

/** Real time: `Date.now()` and the global timers. */
export const REAL_CLOCK: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (handle: never) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

/**
 * The `clock` option of a transport: real time when absent.
 *
 * @throws {TypeError} When one of its three methods is not a function.
 */
export function checkClock(clock: Clock | undefined, action: string): Clock {
  if (clock === undefined) return REAL_CLOCK;
  for (const method of ["now", "setTimeout", "clearTimeout"] as const) {
    if (typeof clock?.[method] !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'clock.${method}' must be a function: received ${
          describeValue(clock?.[method])
        }`,
      );
    }
  }
  return clock;
}

/**
 * Checks a lease or a retry delay handed to a transport: a finite number of ms, from 0 up (NaN
 * would be stored as NULL or never expire).
 *
 * @throws {RangeError} Otherwise.
 */
export function checkSpan(value: number, name: string, action: string): void {
  if (typeof value !== "number" || !(value >= 0) || value === Infinity) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be a finite number of milliseconds from 0 up: received ${
        describeValue(value)
      }`,
    );
  }
}
