// One abort listener per signal for every wait on it: a consumer's loop waits on the same
// signal thousands of times, and adding and removing a DOM event listener each time costs more
// than the wait itself. Owns the per-signal callback sets (a WeakMap: a signal that is no
// longer referenced takes its set with it). Also the pauses of the retry loops, which end early
// when their signal aborts.

import { startTimer } from "../_timer.ts";

const callbacks = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` once when `signal` aborts (at once if it already has, on a microtask); returns the
 * way to forget it. Cheap to call again and again on one signal.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    queueMicrotask(fn);
    return () => {};
  }
  let set = callbacks.get(signal);
  if (set === undefined) {
    const own = new Set<() => void>();
    callbacks.set(signal, set = own);
    signal.addEventListener("abort", () => {
      callbacks.delete(signal);
      for (const callback of own) callback();
    }, { once: true });
  }
  const waiting = set;
  waiting.add(fn);
  return () => void waiting.delete(fn);
}

/** Waits `ms`, or less if `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const cancel = startTimer(ms, done);
    function done(): void {
      cancel();
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
