// A fake clock for transports: time moves only when a test calls `advance()`, which fires the
// timers that came due, in order. Implements the `Clock` contract.

import type { Clock } from "../mod.ts";

/** A clock a test moves by hand. */
export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing each timer that comes due, earliest first. */
  advance(ms: number): void;
  /** Timers armed and not yet fired or cleared. */
  readonly pending: number;
}

/** Makes a {@linkcode FakeClock} starting at `start` ms since the epoch. */
export function fakeClock(start = Date.UTC(2026, 11, 1)): FakeClock {
  let now = start;
  let serial = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn: () => void, ms: number): unknown {
      const handle = ++serial;
      timers.set(handle, { at: now + Math.max(0, ms), fn });
      return handle;
    },
    clearTimeout(handle: never): void {
      timers.delete(handle as number);
    },
    advance(ms: number): void {
      const end = now + ms;
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry;
        }
        if (next === undefined) break;
        timers.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].fn();
      }
      now = end;
    },
    get pending() {
      return timers.size;
    },
  };
}
