// The emitter's lifecycle: accepting, draining and closing. Owns the closed flag, the
// accepted emissions still in flight (a count and a list), the promises emitSync() left
// running, the hooks that run once the drain is over and the waiters for idle, and the deadline
// of a close (its signal or timeout, then a grace for what runs after the drain). It never runs a
// listener: it cancels in-flight work through the InFlight interface, and leaves dropping
// listeners and closing pools to the caller's `afterDrain`.

import { EmitterAlreadyClosedError, EmitterClosedError } from "./errors.ts";
import { type CancelTimer, startTimer, timeoutError } from "./_timer.ts";

/**
 * How long (ms) `close()` still waits for what runs after the drain (the durable side handing
 * leases back and closing its transport) once its signal or timeout has fired.
 */
export const CLOSE_GRACE = 1_000;

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
   * cancelling what is left), runs the close hooks, then calls `afterDrain`. The signal and the
   * timeout cover `afterDrain` too: once either has fired, it gets CLOSE_GRACE ms more to finish
   * (a store that does not answer must not hold `close()`), then `close()` rejects and a failure
   * of `afterDrain` after that goes to `onLateFailure`.
   *
   * @returns A promise that rejects with `EmitterAlreadyClosedError` when already closed, and
   * with the reason when it gave up.
   */
  close(
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    afterDrain: (gaveUp: { reason: unknown } | undefined) => Promise<void> | undefined,
    onLateFailure: (error: unknown) => void,
  ): Promise<void> {
    if (this.closed) return Promise.reject(new EmitterAlreadyClosedError());
    this.closed = true;
    return (this.closing = this.#close(signal, timeout, afterDrain, onLateFailure));
  }

  async #close(
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    afterDrain: (gaveUp: { reason: unknown } | undefined) => Promise<void> | undefined,
    onLateFailure: (error: unknown) => void,
  ): Promise<void> {
    // A listener of an emitSync() may be the caller: let that emission finish first.
    await undefined;
    // Why the close gave up waiting (its signal aborted or its timeout passed), once it has.
    let fired: { reason: unknown } | undefined;
    let fire!: (reason: unknown) => void;
    const firing = new Promise<void>((resolve) => {
      fire = (reason) => {
        fired ??= { reason };
        resolve();
      };
    });
    let timer: CancelTimer | undefined;
    const onAbort = (): void => fire(signal!.reason);
    if (signal !== undefined) {
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
    if (timeout !== undefined) {
      timer = startTimer(timeout, () => fire(timeoutError("Closing the emitter", timeout)));
    }
    let graceTimer: CancelTimer | undefined;
    try {
      const gaveUp = await this.#drain(firing, () => fired!);
      for (const hook of [...this.closeHooks]) hook();
      this.closeHooks.clear();
      const after = afterDrain(gaveUp);
      if (after !== undefined) {
        // null once it finished, its failure otherwise.
        const outcome: Promise<{ error: unknown } | null> = after.then(
          () => null,
          (error: unknown) => ({ error }),
        );
        const grace = firing.then(() =>
          new Promise<undefined>((resolve) => {
            graceTimer = startTimer(CLOSE_GRACE, () => resolve(undefined));
          })
        );
        const result = await Promise.race([outcome, grace]);
        if (result === undefined) {
          // Not finished in time (a store that does not answer): a later failure still counts.
          void outcome.then((late) => late === null ? undefined : onLateFailure(late.error));
          throw (gaveUp ?? fired!).reason;
        }
        if (result !== null) throw result.error;
      }
      if (gaveUp !== undefined) throw gaveUp.reason;
    } finally {
      timer?.();
      graceTimer?.();
      if (signal !== undefined) signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Waits until nothing accepted is in flight, or until the close fires (`firing` resolves;
   * `reason()` then says why), cancelling what is left.
   *
   * @returns Why the close gave up, or `undefined` when everything finished.
   */
  async #drain(
    firing: Promise<void>,
    reason: () => { reason: unknown },
  ): Promise<{ reason: unknown } | undefined> {
    if (this.inFlight === 0 && this.late === 0) return undefined;
    await Promise.race([new Promise<void>((resolve) => this.#idleWaiters.push(resolve)), firing]);
    // Finished, unless the close fired first (or while the last ones finished).
    if (this.inFlight === 0 && this.late === 0) return undefined;
    const gaveUp = reason();
    for (let item = this.#head; item !== undefined;) {
      const next: InFlight | undefined = item.next;
      item.cancel(gaveUp.reason);
      item = next;
    }
    this.late = 0;
    return gaveUp;
  }
}
