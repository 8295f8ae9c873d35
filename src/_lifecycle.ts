// The emitter's lifecycle: accepting, draining and closing. Owns the closed flag, the
// accepted emissions still in flight (a count and a list), the promises emitSync() left
// running, the hooks that run once the drain is over and the waiters for idle. It never runs a listener:
// it cancels in-flight work through the InFlight interface, and leaves dropping listeners
// and closing pools to the caller's `afterDrain`.

import { EmitterAlreadyClosedError, EmitterClosedError } from "./errors.ts";
import { type CancelTimer, startTimer, timeoutError } from "./_timer.ts";

/** An accepted emission, as the lifecycle sees it: linked in a list, and cancellable. */
export interface InFlight {
  prev: InFlight | undefined;
  next: InFlight | undefined;
  /** Cancels it with the reason; it unlinks itself when it finishes. */
  cancel(reason: unknown): void;
}

/** One emitter's lifecycle. */
export class Lifecycle {
  /** Whether `close()` has been called: nothing new is accepted. */
  closed = false;
  /** The close under way, for `Symbol.asyncDispose`. */
  closing: Promise<void> | undefined = undefined;
  /** Accepted `emit()` emissions not yet finished. */
  inFlight = 0;
  /** Promises returned to `emitSync()` that have not settled yet. */
  late = 0;
  /**
   * Run once when `close()` has drained (or given up on) the accepted emissions, before the
   * listeners are dropped: consumers such as `waitFor()` and `events()` detach here, so an
   * emission accepted before `close()` still reaches them.
   */
  readonly closeHooks: Set<() => void> = new Set();
  #head: InFlight | undefined = undefined;
  #idleWaiters: (() => void)[] = [];

  /** Throws an `EmitterClosedError` saying what was refused once `close()` was called. */
  assertOpen(what: string): void {
    if (this.closed) throw new EmitterClosedError(`Cannot ${what} as the emitter is closed`);
  }

  /** Counts and links an accepted emission. */
  link(item: InFlight): void {
    this.inFlight++;
    const head = this.#head;
    if (head !== undefined) head.prev = item;
    item.next = head;
    this.#head = item;
  }

  /** Unlinks a finished emission; call `checkIdle()` once its promise is settled. */
  unlink(item: InFlight): void {
    const { prev, next } = item;
    if (prev !== undefined) prev.next = next;
    else this.#head = next;
    if (next !== undefined) next.prev = prev;
    item.prev = item.next = undefined;
    this.inFlight--;
  }

  /** How many emissions are linked, for leak tests. */
  linked(): number {
    let count = 0;
    for (let item = this.#head; item !== undefined; item = item.next) count++;
    return count;
  }

  /** Wakes `close()` when nothing is in flight any more. */
  checkIdle(): void {
    if (this.inFlight > 0 || this.late > 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Stops accepting, waits for every accepted emission (or gives up on `signal` or `timeout`,
   * cancelling what is left), runs the close hooks, then calls `afterDrain`.
   *
   * @returns A promise that rejects with `EmitterAlreadyClosedError` when already closed, and
   * with the reason when it gave up.
   */
  close(
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    afterDrain: (gaveUp: { reason: unknown } | undefined) => Promise<void> | undefined,
  ): Promise<void> {
    if (this.closed) return Promise.reject(new EmitterAlreadyClosedError());
    this.closed = true;
    return (this.closing = this.#drain(signal, timeout, afterDrain));
  }

  async #drain(
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    afterDrain: (gaveUp: { reason: unknown } | undefined) => Promise<void> | undefined,
  ): Promise<void> {
    // A listener of an emitSync() may be the caller: let that emission finish first.
    await undefined;
    let gaveUp: { reason: unknown } | undefined;
    if (this.inFlight > 0 || this.late > 0) {
      let timer: CancelTimer | undefined;
      let onAbort: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        this.#idleWaiters.push(resolve);
        const giveUp = (reason: unknown): void => {
          gaveUp ??= { reason };
          resolve();
        };
        if (signal !== undefined) {
          if (signal.aborted) giveUp(signal.reason);
          onAbort = () => giveUp(signal.reason);
          signal.addEventListener("abort", onAbort, { once: true });
        }
        if (timeout !== undefined) {
          timer = startTimer(timeout, () => giveUp(timeoutError("Closing the emitter", timeout)));
        }
      });
      timer?.();
      if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
      if (gaveUp !== undefined) {
        for (let item = this.#head; item !== undefined;) {
          const next: InFlight | undefined = item.next;
          item.cancel(gaveUp.reason);
          item = next;
        }
        this.late = 0;
      }
    }
    for (const hook of [...this.closeHooks]) hook();
    this.closeHooks.clear();
    const after = afterDrain(gaveUp);
    if (after !== undefined) await after;
    if (gaveUp !== undefined) throw gaveUp.reason;
  }
}
