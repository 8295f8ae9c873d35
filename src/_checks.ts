// Argument checks of the emitter's public methods: each throws a TypeError or RangeError that
// names the option, what was expected and what arrived, before any side effect. Pure: no state.

import { describeValue } from "./_topic.ts";
import { Priority } from "./priority.ts";

/** Throws unless `value` is `undefined` or an `AbortSignal`. */
export function assertSignal(value: unknown, action: string): void {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot ${action} as 'signal' must be an AbortSignal: received ${describeValue(value)}`,
    );
  }
}

/** The priority option, `Priority.Normal` when absent; throws unless it is a finite number. */
export function assertPriority(value: unknown, action: string): number {
  if (value === undefined) return Priority.Normal;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot ${action} as 'priority' must be a finite number: received ${describeValue(value)}`,
    );
  }
  return value;
}

/** Throws unless `value` is `undefined` or an object. */
export function assertOptionsObject(value: unknown, action: string): void {
  if (value !== undefined && (value === null || typeof value !== "object")) {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: received ${describeValue(value)}`,
    );
  }
}

/**
 * The dispatch mode option: `true` for `"concurrent"`, `false` for `"sequential"`, `fallback`
 * when absent.
 *
 * @throws {TypeError} When it is anything else.
 */
export function checkDispatch(value: unknown, fallback: boolean, action: string): boolean {
  if (value === undefined) return fallback;
  if (value === "concurrent") return true;
  if (value === "sequential") return false;
  throw new TypeError(
    `Cannot ${action} as 'dispatch' must be "sequential" or "concurrent": received ${
      describeValue(value)
    }`,
  );
}

/** Throws unless `value` is an integer from 0 up (the emitter's `maxListeners`). */
export function assertMaxListeners(value: unknown, action: string): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot ${action} as 'maxListeners' must be an integer from 0 up: received ${
        describeValue(value)
      }`,
    );
  }
}

/** Throws unless `value` is a positive integer or `Infinity` (an `events()` buffer size). */
export function assertBufferSize(value: unknown, action: string): asserts value is number {
  if (
    typeof value !== "number" || !(value === Infinity || (Number.isInteger(value) && value > 0))
  ) {
    throw new RangeError(
      `Cannot ${action} as 'bufferSize' must be a positive integer or Infinity: received ${
        describeValue(value)
      }`,
    );
  }
}

/** Throws unless `value` is `undefined` or an object (a `Pool`, or pool options). */
export function assertPoolOption(value: unknown, action: string): void {
  if (value !== undefined && (value === null || typeof value !== "object")) {
    throw new TypeError(
      `Cannot ${action} as 'pool' must be a Pool or pool options: received ${describeValue(value)}`,
    );
  }
}

/** Throws unless `value` is `undefined` or a function. */
export function assertFunction(value: unknown, name: string, action: string): void {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a function: received ${describeValue(value)}`,
    );
  }
}
