// The waits of a transport's consumers in this process, per durable name: what `wait()` parks
// on until a local wake-up (a publish, retry or redrive through the same transport object), its
// signal, or a timer on the transport's clock. A wait is parked before the transport reads when
// the next delivery comes due, so a wake-up during that read is not missed.

import type { Clock } from "./transport.ts";
import { onAbort } from "./_abort.ts";

/** One parked wait: `woken` once woken; `sleep()` then resolves at once. */
export class Parked {
  woken = false;
  #leave: (() => void) | undefined;
  #settle: (() => void) | undefined = undefined;

  constructor(leave: () => void) {
    this.#leave = leave;
  }

  /** Ends the wait: a sleep under way resolves, a later one resolves at once. */
  wake(): void {
    this.woken = true;
    this.#settle?.();
  }

  /** Stops waiting without sleeping (the read failed, or the transport closed). */
  leave(): void {
    this.#leave?.();
    this.#leave = undefined;
  }

  /** Resolves after `delay` ms on `clock`, when woken, or when `signal` aborts; then leaves. */
  sleep(signal: AbortSignal, clock: Clock, delay: number): Promise<void> {
    if (this.woken || delay <= 0 || signal.aborted) {
      this.leave();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const forget = onAbort(signal, () => this.wake());
      const timer = clock.setTimeout(() => this.wake(), delay);
      this.#settle = () => {
        this.#settle = undefined;
        forget();
        clock.clearTimeout(timer as never);
        this.leave();
        resolve();
      };
    });
  }
}

/** The parked waits of every durable name. */
export class Waiters {
  readonly #byName = new Map<string, Set<Parked>>();

  /** How many durable names have a wait parked. */
  get size(): number {
    return this.#byName.size;
  }

  /** Parks a wait for `name`. */
  park(name: string): Parked {
    let waits = this.#byName.get(name);
    if (waits === undefined) this.#byName.set(name, waits = new Set());
    const own = waits;
    const parked = new Parked(() => {
      own.delete(parked);
      if (own.size === 0 && this.#byName.get(name) === own) this.#byName.delete(name);
    });
    own.add(parked);
    return parked;
  }

  /** Wakes every wait of `name`. */
  wake(name: string): void {
    const waits = this.#byName.get(name);
    if (waits !== undefined) { for (const parked of [...waits]) parked.wake(); }
  }

  /** Wakes every wait (new events, or the transport closing). */
  wakeAll(): void {
    for (const name of [...this.#byName.keys()]) this.wake(name);
  }
}
