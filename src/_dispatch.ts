// The dispatch of one emitter: the synchronous loop of emitSync(), how one listener is invoked
// (on its workload-class pool, under its timeout), and the watch over promises emitSync() does
// not await. Owns the emission, delivery and abort counters and the event IDs. The
// asynchronous emission (_emission.ts) builds on it; failures go to _failure.ts; which
// listeners run comes from _registry.ts. It never accepts or refuses work: _lifecycle.ts does.

import { eventInternals, type SoireeEvent } from "./event.ts";
import type { Pool } from "./pool.ts";
import { monotonicUlid } from "./ulid.ts";
import type { EventHost } from "./_event_host.ts";
import type { FailurePath } from "./_failure.ts";
import type { Lifecycle } from "./_lifecycle.ts";
import {
  CLAIMED,
  describeListener,
  DISPATCH,
  ONCE,
  type Registration,
  type Registry,
  SKIP,
  SPECIAL,
} from "./_registry.ts";
import { type CancelTimer, startTimer, timeoutError } from "./_timer.ts";
import { assertTopic, describeValue } from "./_topic.ts";
import { EmitterClosedError } from "./errors.ts";

/** What an emission returns when nothing failed: shared, so frozen. */
export const NO_ERRORS: readonly Error[] = Object.freeze([]);

/** The spans of `emit()` emissions, when they are traced (see `_emit_spans.ts`). */
export interface EmissionSpans {
  /** Starts the span of an emission of `topic`, ended when `emission` settles. */
  wrap(topic: string, emission: Promise<readonly Error[]>): Promise<readonly Error[]>;
}

/** One emitter's dispatch. It is also the host of `emitSync()` events: never cancelled. */
export class Dispatcher implements EventHost {
  /** `emit` and `emitSync` calls on an open emitter with a valid topic. */
  emitted = 0;
  /** Listener invocations. */
  delivered = 0;
  /** Emissions stopped early by `abort()`, a signal or a timeout. */
  aborted = 0;
  readonly cancelled = false;
  readonly cancelReason: unknown = undefined;
  readonly registry: Registry;
  readonly failure: FailurePath;
  readonly lifecycle: Lifecycle;
  /** The emitter pool: each `emit()` is one task on it. */
  readonly pool: Pool | undefined;
  readonly #idGenerator: (() => string) | undefined;
  /** Set only when emissions are traced. */
  emitSpans: EmissionSpans | undefined = undefined;

  constructor(
    registry: Registry,
    failure: FailurePath,
    lifecycle: Lifecycle,
    pool: Pool | undefined,
    idGenerator: (() => string) | undefined,
  ) {
    this.registry = registry;
    this.failure = failure;
    this.lifecycle = lifecycle;
    this.pool = pool;
    this.#idGenerator = idGenerator;
  }

  /** An event ID: from the user's generator (a throw or bad ID panics, then a ULID) or a ULID. */
  eventId(): string {
    const generate = this.#idGenerator;
    if (generate === undefined) return monotonicUlid();
    try {
      const id = generate();
      if (typeof id === "string" && id.length > 0) return id;
      throw new TypeError(
        `The ID generator must return a non-empty string: received ${describeValue(id)}`,
      );
    } catch (error) {
      this.failure.panic(error);
      return monotonicUlid();
    }
  }

  /**
   * Runs the listeners of a topic now, in order (`emitSync()`), until the end or an abort.
   *
   * @throws {TypeError} When the topic is invalid (checked on a cache miss, before counting).
   */
  emitSync(topic: string, payload: unknown): readonly Error[] {
    const registry = this.registry;
    // A run of emits to one topic skips the Map; a miss goes through the cache.
    const list = topic === registry.lastTopic ? registry.lastList : registry.lookup(topic, "emit");
    this.emitted++;
    const length = list.length;
    if (length === 0) return NO_ERRORS;
    const event = eventInternals.create(topic, payload, this);
    let errors: Error[] | undefined;
    let i = 0;
    let skipped = 0;
    let aborted = false;
    // The try wraps the loop, not each call: a throw resumes the loop after the thrower.
    while (i < length && !aborted) {
      try {
        for (; i < length; i++) {
          const registration = list[i];
          const state = registration.state;
          if ((state & DISPATCH) === 0) {
            const result = registration.fn(event);
            if (result !== undefined && result !== null) {
              errors = this.#syncResult(errors, event, registration, result);
            }
          } else if ((state & SKIP) !== 0) {
            skipped++;
            continue;
          } else {
            errors = this.#invokeSync(errors, event, registration, state);
          }
          if (event.aborted) {
            aborted = true;
            i++;
            break;
          }
        }
      } catch (error) {
        errors = this.failure.fail(errors, event, list[i], error);
        i++;
        aborted = event.aborted;
      }
    }
    if (aborted) this.aborted++;
    // Counted once, not per listener: the loop is the hot path.
    this.delivered += i - skipped;
    return errors ?? NO_ERRORS;
  }

  /**
   * Reports an emission refused before any listener ran (closed emitter, aborted signal)
   * through the failure path.
   *
   * @returns What the error handler made of it: `[reason]` with the default one.
   */
  refuse(topic: string, payload: unknown, reason: unknown): readonly Error[] {
    const event = eventInternals.create(topic, payload, this);
    return this.failure.fail(undefined, event, undefined, reason) ?? NO_ERRORS;
  }

  /** An emission on a closed emitter, once the topic is checked: a failure like any other. */
  refuseClosed(topic: string, payload: unknown): readonly Error[] {
    assertTopic(topic, "emit");
    const reason = new EmitterClosedError(
      `Cannot emit ${describeValue(topic)} as the emitter is closed`,
    );
    return this.refuse(topic, payload, reason);
  }

  /**
   * Consumes a `once` listener for this dispatch: removes it now, or, when its call must wait
   * for a slot of its class pool, claims it until the call starts (see `invoke()`).
   */
  consumeOnce(registration: Registration): void {
    if (registration.pool === undefined) this.registry.remove(registration);
    else registration.state |= CLAIMED;
  }

  /**
   * Calls a listener that has its own pool or a timeout: on its pool, the call is a task there,
   * never made if the listener was removed while it waited. A claimed `once` listener is
   * removed when its call starts, and released if its call is given up on before that.
   */
  invoke(event: SoireeEvent, registration: Registration): unknown {
    const pool = registration.pool;
    if (pool === undefined) return registration.fn(event);
    const signal = event.signal;
    if ((registration.state & ONCE) === 0) {
      return pool.submit(() => registration.active ? registration.fn(event) : undefined, {
        signal,
      });
    }
    let started = false;
    const call = pool.submit(() => {
      started = true;
      return this.registry.remove(registration) ? registration.fn(event) : undefined;
    }, { signal });
    call.catch(() => {
      if (!started) registration.state &= ~CLAIMED;
    });
    return call;
  }

  /** `emitSync()` for a listener that is `once`, or has its own pool or a timeout. */
  #invokeSync(
    errors: Error[] | undefined,
    event: SoireeEvent,
    registration: Registration,
    state: number,
  ): Error[] | undefined {
    if ((state & ONCE) !== 0) this.consumeOnce(registration);
    // Its own signal, so that its timeout aborts only its invocation.
    eventInternals.resetSignal(event);
    let result: unknown;
    try {
      result = (state & SPECIAL) !== 0 ? this.invoke(event, registration) : registration.fn(event);
    } catch (error) {
      errors = this.failure.fail(errors, event, registration, error);
    }
    if (result !== undefined && result !== null) {
      errors = this.#syncResult(errors, event, registration, result);
    }
    eventInternals.resetSignal(event);
    return errors;
  }

  /** What `emitSync()` does with a listener's result: an `Error` fails, a promise is watched. */
  #syncResult(
    errors: Error[] | undefined,
    event: SoireeEvent,
    registration: Registration,
    result: unknown,
  ): Error[] | undefined {
    if (result instanceof Error) return this.failure.fail(errors, event, registration, result);
    if (result instanceof Promise) this.#settleLate(event, registration, result);
    else if (typeof (result as PromiseLike<unknown>).then === "function") {
      this.#settleLate(event, registration, Promise.resolve(result as PromiseLike<unknown>));
    }
    return errors;
  }

  /** Watches a promise that `emitSync()` returned without awaiting. */
  #settleLate(event: SoireeEvent, registration: Registration, promise: Promise<unknown>): void {
    const lifecycle = this.lifecycle;
    lifecycle.late++;
    const ctl = eventInternals.controller(event);
    let settled = false;
    let timer: CancelTimer | undefined;
    const settle = (failed: boolean, error: unknown): void => {
      if (settled) return;
      settled = true;
      timer?.();
      if (lifecycle.late > 0) lifecycle.late--;
      if (failed) {
        // Not logged here: the panic handler gets it, and the default one logs it.
        const reported = this.failure.fail(undefined, event, registration, error, true);
        if (reported !== undefined) this.failure.panic(reported[0]);
      }
      lifecycle.checkIdle();
    };
    promise.then(
      (value) => settle(value instanceof Error, value),
      (error: unknown) => settle(true, error),
    );
    const ms = registration.timeout;
    if (ms > 0) {
      timer = startTimer(ms, () => {
        const error = timeoutError(describeListener(registration, event.topic), ms);
        ctl?.abort(error);
        settle(true, error);
      });
    }
  }
}
