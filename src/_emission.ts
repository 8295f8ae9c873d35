// The asynchronous emission of emit(): a state machine that runs its listeners one after
// another, awaits async ones, enforces listener timeouts and the emission's signal and
// deadline, takes a slot of the emitter pool and lends it while a listener waits on its
// workload-class pool. Owns one emission's state; counters, failures and IDs belong to the
// Dispatcher it is handed, acceptance and shutdown to the Lifecycle.

import { type Dispatcher, NO_ERRORS } from "./_dispatch.ts";
import { eventInternals, type SoireeEvent } from "./event.ts";
import type { EventHost } from "./_event_host.ts";
import type { InFlight } from "./_lifecycle.ts";
import { jobDone, submitJob, suspendSlot, withdrawJob } from "./_pool_jobs.ts";
import { describeListener, ONCE, type Registration, SKIP, SPECIAL } from "./_registry.ts";
import { startTimer, timeoutError } from "./_timer.ts";
import { EmissionState, type Level, type LevelCall } from "./_emission_state.ts";
import { describeValue } from "./_topic.ts";

/**
 * Accepts an `emit()` whose arguments are checked: counts it, and runs its listeners after
 * this returns (on the emitter pool, if any): one after another, or, when `concurrent`, the
 * listeners of each priority level together.
 *
 * @returns A promise that never rejects: the errors the emission produced.
 * @throws {TypeError} When the topic is invalid (checked on a cache miss, before counting).
 */
export function emitAsync(
  dispatcher: Dispatcher,
  topic: string,
  payload: unknown,
  signal: AbortSignal | undefined,
  timeout: number | undefined,
  concurrent: boolean,
): Promise<readonly Error[]> {
  const registry = dispatcher.registry;
  const list = topic === registry.lastTopic ? registry.lastList : registry.lookup(topic, "emit");
  dispatcher.emitted++;
  if (signal?.aborted) {
    dispatcher.aborted++;
    return Promise.resolve(dispatcher.refuse(topic, payload, signal.reason));
  }
  if (list.length === 0) return Promise.resolve(NO_ERRORS);
  const emission = new Emission(dispatcher, topic, payload, list);
  if (concurrent) emission.concurrent = true;
  dispatcher.lifecycle.link(emission);
  const promise = new Promise<readonly Error[]>(captureResolve);
  emission.resolve = capturedResolve;
  if (signal !== undefined) {
    emission.userSignal = signal;
    const onAbort = (): void => emission.cancel(signal.reason);
    emission.onAbort = onAbort;
    signal.addEventListener("abort", onAbort, { once: true });
  }
  if (timeout !== undefined) {
    emission.deadline = startTimer(
      timeout,
      () => emission.cancel(timeoutError(`Emission of ${describeValue(topic)}`, timeout)),
    );
  }
  const pool = dispatcher.pool;
  if (pool === undefined) queueMicrotask(() => emission.run());
  // Cancelled while queued (signal, timeout, close): cancel() gives its place back.
  else submitJob(pool, emission);
  const spans = dispatcher.emitSpans;
  return spans === undefined ? promise : spans.wrap(topic, promise);
}

let capturedResolve: (errors: readonly Error[]) => void;

/** A shared promise executor, so that an emission's promise costs no closure. */
function captureResolve(resolve: (errors: readonly Error[]) => void): void {
  capturedResolve = resolve;
}

/** The state of one `emit()`: its event, where it is in the dispatch list, its result. */
class Emission extends EmissionState implements EventHost, InFlight {
  readonly dispatcher: Dispatcher;
  readonly list: readonly Registration[];
  index = 0;
  /** The listener whose promise the emission is waiting for, and that promise. */
  pending: Registration | undefined = undefined;
  pendingPromise: Promise<unknown> | undefined = undefined;
  resolve: ((errors: readonly Error[]) => void) | undefined = undefined;
  /** Settles the wait for the pending listener; made once per emission, on its first wait. */
  onValue: ((value: unknown) => void) | undefined = undefined;
  onError: ((error: unknown) => void) | undefined = undefined;
  prev: InFlight | undefined = undefined;
  next: InFlight | undefined = undefined;
  #topic: string;
  #payload: unknown;
  #event: SoireeEvent | undefined = undefined;

  constructor(
    dispatcher: Dispatcher,
    topic: string,
    payload: unknown,
    list: readonly Registration[],
  ) {
    super();
    this.dispatcher = dispatcher;
    this.list = list;
    this.#topic = topic;
    this.#payload = payload;
  }

  /**
   * The event the next listener sees, made when first needed (a queued emission holds only its
   * topic and payload). Replaced by a fork when a listener is given up on, so that listener's
   * later `abort()` and writes no longer reach the emission.
   */
  get event(): SoireeEvent {
    return (this.#event ??= eventInternals.create(this.#topic, this.#payload, this));
  }

  set event(event: SoireeEvent) {
    this.#event = event;
  }

  eventId(): string {
    return this.dispatcher.eventId();
  }

  /** The emitter pool gave this emission a slot. */
  start(): void {
    this.onPool = true;
    if (this.done) return this.#releaseSlot();
    this.busy = true;
    // Never call a listener before emit() returns, even if the pool starts it at once.
    queueMicrotask(() => this.run());
  }

  /** The emitter pool refused this emission (full queue, closed pool) or its signal withdrew it. */
  refuse(reason: unknown): void {
    if (this.done) return;
    this.errors = this.dispatcher.failure.fail(this.errors, this.event, undefined, reason);
    this.#finish();
  }

  /** Runs listeners from `index` on, until the end or an async listener. */
  run(): void {
    if (this.done) return;
    if (this.concurrent) return this.#runLevels();
    const { list, event, dispatcher } = this;
    this.busy = true;
    while (this.index < list.length) {
      if (event.aborted || this.cancelled) break;
      const registration = list[this.index++];
      const state = registration.state;
      if ((state & SKIP) !== 0) continue;
      if ((state & ONCE) !== 0) dispatcher.consumeOnce(registration);
      dispatcher.delivered++;
      eventInternals.resetSignal(event);
      let result: unknown;
      try {
        if ((state & SPECIAL) !== 0) {
          // Lend the emitter slot while waiting on the class, unless a listener given up on
          // still runs on it: then it is not this emission's to lend.
          if (registration.pool !== undefined && this.onPool && this.abandoned === 0) {
            this.resume = suspendSlot(dispatcher.pool!);
          }
          result = dispatcher.invoke(event, registration);
        } else result = registration.fn(event);
      } catch (error) {
        this.errors = dispatcher.failure.fail(this.errors, event, registration, error);
        continue;
      }
      if (result === undefined || result === null) continue;
      if (result instanceof Error) {
        this.errors = dispatcher.failure.fail(this.errors, event, registration, result);
        continue;
      }
      let promise: Promise<unknown>;
      if (result instanceof Promise && result.constructor === Promise) promise = result;
      else if (typeof (result as PromiseLike<unknown>).then === "function") {
        // A foreign thenable (or Promise subclass) may call back twice: adopt it once.
        promise = Promise.resolve(result as PromiseLike<unknown>);
      } else continue;
      // Cancelled while the listener ran: do not wait for what it returned.
      if (this.cancelled) {
        this.#hold(registration, promise);
        break;
      }
      return this.#wait(registration, promise);
    }
    this.busy = false;
    if (event.aborted && !this.cancelled) dispatcher.aborted++;
    this.#finish();
  }

  /** Cancels the emission: the listener it waits for fails with the reason; no more run. */
  cancel(reason: unknown): void {
    if (this.done || this.cancelled) return;
    const { dispatcher } = this;
    // On a pool, neither finished nor refused nor started: it waits in the pool's queue.
    const queued = dispatcher.pool !== undefined && !this.onPool;
    this.cancelled = true;
    this.cancelReason = reason;
    dispatcher.aborted++;
    const aborts: (AbortController | undefined)[] = [];
    const { level, pending } = this;
    if (level !== undefined) {
      // Every call of the level still running fails with the reason.
      this.level = undefined;
      for (const call of level.calls) {
        if (call.done) continue;
        this.#dropCall(call);
        this.errors = dispatcher.failure.fail(this.errors, call.event, call.registration, reason);
        aborts.push(eventInternals.controller(call.event));
      }
    } else if (pending !== undefined) {
      aborts.push(eventInternals.controller(this.event));
      this.#abandon();
      this.errors = dispatcher.failure.fail(this.errors, this.event, pending, reason);
    } else {
      aborts.push(eventInternals.controller(this.event));
      this.errors = dispatcher.failure.fail(this.errors, this.event, undefined, reason);
    }
    // A busy emission (running listeners right now) sees `cancelled` at its next step.
    if (!this.busy || this.resuming) this.#finish();
    // Abort handlers run user code: the emission's state is settled first.
    for (const ctl of aborts) ctl?.abort(reason);
    if (queued) withdrawJob(dispatcher.pool!, this, reason);
  }

  /**
   * Concurrent dispatch: starts the listeners of each priority level together and goes on to
   * the next level once they have all settled (or been given up on). `abort()` by one of them
   * stops the levels after it.
   */
  #runLevels(): void {
    const { list, dispatcher } = this;
    const { failure } = dispatcher;
    this.busy = true;
    while (this.index < list.length && !this.cancelled) {
      const base = this.event;
      if (base.aborted) break;
      const priority = list[this.index].priority;
      const level: Level = { calls: [], base, waiting: 0, plain: 0 };
      this.level = level;
      while (this.index < list.length && list[this.index].priority === priority) {
        if (this.cancelled) break;
        const registration = list[this.index++];
        const state = registration.state;
        if ((state & SKIP) !== 0) continue;
        if ((state & ONCE) !== 0) dispatcher.consumeOnce(registration);
        dispatcher.delivered++;
        const event = eventInternals.fork(base, false);
        const call: LevelCall = {
          registration,
          event,
          promise: undefined,
          done: true,
          givenUp: false,
          timer: undefined,
        };
        level.calls.push(call);
        let result: unknown;
        try {
          result = (state & SPECIAL) !== 0
            ? dispatcher.invoke(event, registration)
            : registration.fn(event);
        } catch (error) {
          this.errors = failure.fail(this.errors, event, registration, error);
          continue;
        }
        if (result === undefined || result === null) continue;
        if (result instanceof Error) {
          this.errors = failure.fail(this.errors, event, registration, result);
          continue;
        }
        if (typeof (result as PromiseLike<unknown>).then !== "function") continue;
        // Adopt a foreign thenable once: it may call back twice.
        const promise = Promise.resolve(result as PromiseLike<unknown>);
        if (this.cancelled) {
          this.#hold(registration, promise);
          break;
        }
        call.promise = promise;
        call.done = false;
        level.waiting++;
        if (registration.pool === undefined) level.plain++;
        this.#watchCall(call, promise);
      }
      if (this.cancelled) break;
      if (level.waiting > 0) {
        // Lend the emitter slot while only class listeners run, as sequential dispatch does.
        if (level.plain === 0 && this.onPool && this.abandoned === 0) {
          this.resume = suspendSlot(dispatcher.pool!);
        }
        this.busy = false;
        return;
      }
      this.#endLevel(level);
    }
    this.level = undefined;
    this.busy = false;
    if (this.event.aborted && !this.cancelled) dispatcher.aborted++;
    this.#finish();
  }

  /** Waits for one call of a level, under its listener's timeout. */
  #watchCall(call: LevelCall, promise: Promise<unknown>): void {
    const { registration } = call;
    const failure = this.dispatcher.failure;
    promise.then((value) => {
      if (call.done || this.done) return;
      if (value instanceof Error) {
        this.errors = failure.fail(this.errors, call.event, registration, value);
      }
      this.#callDone(call);
    }, (error: unknown) => {
      if (call.done || this.done) return;
      this.errors = failure.fail(this.errors, call.event, registration, error);
      this.#callDone(call);
    });
    const ms = registration.timeout;
    if (ms === 0) return;
    call.timer = startTimer(ms, () => {
      call.timer = undefined;
      if (call.done || this.done) return;
      const error = timeoutError(describeListener(registration, call.event.topic), ms);
      const ctl = eventInternals.controller(call.event);
      call.givenUp = true;
      this.#dropCall(call);
      this.errors = failure.fail(this.errors, call.event, registration, error);
      // Abort handlers run user code (which may cancel the emission): state is settled first.
      ctl?.abort(error);
      if (!this.done) this.#callDone(call);
    });
  }

  /** Gives up on a call (timeout, cancel); if it runs on the emitter slot, it keeps it. */
  #dropCall(call: LevelCall): void {
    call.done = true;
    call.timer?.();
    call.timer = undefined;
    this.#hold(call.registration, call.promise!);
  }

  /** A call of the level settled or was given up on; the last one moves the emission on. */
  #callDone(call: LevelCall): void {
    call.done = true;
    call.timer?.();
    call.timer = undefined;
    const level = this.level;
    if (level === undefined || --level.waiting > 0) return;
    this.#endLevel(level);
    this.#continue();
  }

  /**
   * Carries what the level's listeners did to the next level: `abort()` by any of them, and the
   * payload of the last one (in order) that replaced it. What listeners given up on do is not
   * kept, and then the next level gets a copy of the properties they may still write to.
   */
  #endLevel(level: Level): void {
    this.level = undefined;
    const { base } = level;
    const before = base.payload;
    let givenUp = false;
    for (const call of level.calls) {
      if (call.givenUp) {
        givenUp = true;
        continue;
      }
      if (call.event.aborted) base.abort();
      if (call.event.payload !== before) base.payload = call.event.payload;
    }
    if (givenUp) this.event = eventInternals.fork(base, true);
  }

  #releaseSlot(): void {
    if (!this.onPool) return;
    this.onPool = false;
    jobDone(this.dispatcher.pool!);
  }

  #wait(registration: Registration, promise: Promise<unknown>): void {
    this.pending = registration;
    this.pendingPromise = promise;
    this.busy = false;
    const ms = registration.timeout;
    if (ms === 0 && this.userSignal === undefined && this.deadline === undefined) {
      // Nothing but close() can stop this wait early, and that finishes the emission, so one
      // pair of callbacks per emission serves all its waits: a late call finds it done.
      if (this.onValue === undefined) {
        this.onValue = (value) => {
          const pending = this.pending;
          if (this.done || pending === undefined) return;
          this.#endWait();
          if (value instanceof Error) {
            this.errors = this.dispatcher.failure.fail(this.errors, this.event, pending, value);
          }
          this.#continue();
        };
        this.onError = (error) => {
          const pending = this.pending;
          if (this.done || pending === undefined) return;
          this.#endWait();
          this.errors = this.dispatcher.failure.fail(this.errors, this.event, pending, error);
          this.#continue();
        };
      }
      promise.then(this.onValue, this.onError);
      return;
    }
    // This wait may be given up on while the emission goes on: its callbacks check a token.
    const token = ++this.token;
    const failure = this.dispatcher.failure;
    promise.then((value) => {
      if (this.token !== token) return;
      this.#endWait();
      if (value instanceof Error) {
        this.errors = failure.fail(this.errors, this.event, registration, value);
      }
      this.#continue();
    }, (error: unknown) => {
      if (this.token !== token) return;
      this.#endWait();
      this.errors = failure.fail(this.errors, this.event, registration, error);
      this.#continue();
    });
    if (ms > 0) {
      this.timer = startTimer(ms, () => {
        if (this.token !== token || this.done) return;
        const given = this.event;
        const error = timeoutError(describeListener(registration, given.topic), ms);
        const ctl = eventInternals.controller(given);
        this.#abandon();
        this.errors = failure.fail(this.errors, given, registration, error);
        // The listener keeps running on the old event; the ones after it get a fork.
        this.event = eventInternals.fork(given, true);
        // Abort handlers run user code (which may cancel the emission): state is settled first.
        ctl?.abort(error);
        if (!this.done) this.#continue();
      });
    }
  }

  /**
   * Stops waiting for the pending listener. If it runs on the emission's own pool slot, the
   * slot stays held until it really returns, so the pool's bound is never exceeded.
   */
  #abandon(): void {
    const { pending, pendingPromise } = this;
    this.#endWait();
    if (pending !== undefined) this.#hold(pending, pendingPromise!);
  }

  /**
   * Keeps the emitter pool slot held for a listener call the emission no longer waits for,
   * until that call really returns. A listener on a class pool holds that pool's slot instead.
   */
  #hold(registration: Registration, promise: Promise<unknown>): void {
    if (!this.onPool || registration.pool !== undefined) return;
    this.abandoned++;
    const settled = (): void => {
      if (--this.abandoned === 0 && this.done && !this.resuming) this.#releaseSlot();
    };
    promise.then(settled, settled);
  }

  #endWait(): void {
    this.pending = undefined;
    this.pendingPromise = undefined;
    // Without a rare part, no wait had a token or a timer.
    const rare = this.rare;
    if (rare === undefined) return;
    rare.token++;
    const timer = rare.timer;
    if (timer !== undefined) {
      rare.timer = undefined;
      timer();
    }
  }

  #continue(): void {
    if (this.resume === undefined) return this.run();
    this.#reclaim();
    // Cancelled: settle now rather than after the slot comes back, which may be never.
    if (this.cancelled) this.#finish();
  }

  /** Takes back the emitter pool slot lent during a class listener, then carries on. */
  #reclaim(): void {
    const resume = this.resume!;
    this.resume = undefined;
    this.resuming = true;
    resume().then(() => {
      this.resuming = false;
      if (!this.done) return this.run();
      if (this.abandoned === 0) this.#releaseSlot();
    });
  }

  #finish(): void {
    if (this.done) return;
    this.done = true;
    this.deadline?.();
    if (this.onAbort !== undefined) this.userSignal!.removeEventListener("abort", this.onAbort);
    const { lifecycle } = this.dispatcher;
    lifecycle.unlink(this);
    // A slot lent to a class listener that never came back: take it back, then release it.
    if (this.resume !== undefined) this.#reclaim();
    else if (this.abandoned === 0 && !this.resuming) this.#releaseSlot();
    this.resolve!(this.errors ?? NO_ERRORS);
    lifecycle.checkIdle();
  }
}
