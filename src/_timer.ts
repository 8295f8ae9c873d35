// Timers that honour delays above setTimeout's limit (2^31 - 1 ms), which setTimeout would
// cut to 1 ms, and the TimeoutError they end with. Owns no state of its own.

const MAX_DELAY = 2_147_483_647;

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
