// A durable listener's retry policy: checking the `retry` option once at `on()`, and the delay
// before the next attempt (exponential backoff with full jitter, or the user's function). Also
// how an error becomes the text a dead letter keeps. Owns no state.

import { describeValue } from "../_topic.ts";

/** A checked `retry` option, defaults applied. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly base: number;
  readonly cap: number;
  readonly delay: ((attempt: number, error: unknown) => number) | undefined;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  attempts: 5,
  base: 1_000,
  cap: 300_000,
  delay: undefined,
});

/**
 * Checks the `retry` option of a durable listener.
 *
 * @throws {TypeError} When it is not an object, a field has the wrong type.
 * @throws {RangeError} When `attempts` is not a positive integer, `base` or `cap` is not a
 * positive finite number, or `cap` is below `base`.
 */
export function checkRetry(value: unknown, action: string): RetryPolicy {
  if (value === undefined) return DEFAULT_RETRY;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Cannot ${action} as 'retry' must be an object: received ${describeValue(value)}`,
    );
  }
  const { attempts = 5, base = 1_000, cap = 300_000, delay } = value as Record<string, unknown>;
  const number = (name: string, field: unknown, integer: boolean): number => {
    if (typeof field !== "number") {
      throw new TypeError(
        `Cannot ${action} as 'retry.${name}' must be a number: received ${describeValue(field)}`,
      );
    }
    if (integer ? !Number.isSafeInteger(field) || field < 1 : !(field > 0 && field < Infinity)) {
      throw new RangeError(
        `Cannot ${action} as 'retry.${name}' must be ${
          integer ? "a positive integer" : "a positive finite number of milliseconds"
        }: received ${describeValue(field)}`,
      );
    }
    return field;
  };
  const policy = {
    attempts: number("attempts", attempts, true),
    base: number("base", base, false),
    cap: number("cap", cap, false),
    delay: delay as RetryPolicy["delay"],
  };
  if (policy.cap < policy.base) {
    throw new RangeError(
      `Cannot ${action} as 'retry.cap' must be at least 'retry.base' (${policy.base} ms): received ${policy.cap}`,
    );
  }
  if (delay !== undefined && typeof delay !== "function") {
    throw new TypeError(
      `Cannot ${action} as 'retry.delay' must be a function: received ${describeValue(delay)}`,
    );
  }
  return Object.freeze(policy);
}

/** Full jitter: a random delay between 0 and `min(cap, base × 2^(attempt − 1))`. */
export function backoff(policy: RetryPolicy, attempt: number, random: () => number): number {
  const bound = Math.min(policy.cap, policy.base * 2 ** Math.min(attempt - 1, 1_000));
  return Math.floor(random() * bound);
}

/**
 * The delay before the next attempt: the user's function when it gives a non-negative finite
 * number, else the backoff; `invalid` receives what the function threw or gave instead.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  error: unknown,
  invalid: (reason: unknown) => void,
): number {
  if (policy.delay !== undefined) {
    try {
      const ms = policy.delay(attempt, error);
      if (typeof ms === "number" && ms >= 0 && ms < Infinity) return ms;
      invalid(
        new RangeError(
          `Cannot use 'retry.delay' as it must return a non-negative finite number of milliseconds: received ${
            describeValue(ms)
          }`,
        ),
      );
    } catch (thrown) {
      invalid(thrown);
    }
  }
  return backoff(policy, attempt, Math.random);
}

/** An error as a dead letter keeps it: `name: message`, then each cause on its own line. */
export function describeError(error: unknown): string {
  const lines: string[] = [];
  const seen = new Set<unknown>();
  for (let current = error; current !== undefined && !seen.has(current) && lines.length < 8;) {
    seen.add(current);
    if (current instanceof Error) {
      lines.push(`${current.name}: ${current.message}`);
      current = current.cause;
    } else {
      lines.push(typeof current === "string" ? current : describeValue(current));
      break;
    }
  }
  return (lines.length === 0 ? "undefined" : lines.join("\ncaused by ")).slice(0, 4_096);
}
