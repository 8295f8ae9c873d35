// Consumers that wait for events: waitFor() resolves with the next match, events() iterates
// matches through a BoundedBuffer. Owns each consumer's subscription and its teardown on
// signal, timeout, return and close. Options arrive checked; it never dispatches.

import { eventInternals, type SoireeEvent } from "./event.ts";
import type { Subscription } from "./listener.ts";
import { EmitterClosedError, QueueFullError } from "./errors.ts";
import { BoundedBuffer } from "./_bounded_buffer.ts";
import type { Lifecycle } from "./_lifecycle.ts";
import { type CancelTimer, startTimer, timeoutError } from "./_timer.ts";
import { describeValue } from "./_topic.ts";

/** What a consumer needs of its emitter. */
export interface WaitHost {
  readonly lifecycle: Lifecycle;
  /** Subscribes a listener as `on()` does. */
  subscribe(
    pattern: string,
    listener: (event: SoireeEvent) => unknown,
    priority: number,
  ): Subscription;
}

/** Checked options of `waitFor()`. */
export interface WaitOptions {
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly filter: ((event: SoireeEvent) => boolean) | undefined;
  readonly priority: number;
}

/** Checked options of `events()`. */
export interface IterateOptions {
  readonly signal: AbortSignal | undefined;
  readonly bufferSize: number;
  readonly priority: number;
}

/** Resolves with the next event that matches (and passes the filter). */
export function waitFor(
  host: WaitHost,
  pattern: string,
  options: WaitOptions,
): Promise<SoireeEvent> {
  const { signal, timeout, filter, priority } = options;
  const { lifecycle } = host;
  return new Promise<SoireeEvent>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    if (lifecycle.closed) {
      return reject(
        new EmitterClosedError(
          `Cannot wait for ${describeValue(pattern)} as the emitter is closed`,
        ),
      );
    }
    let timer: CancelTimer | undefined;
    const settle = (): void => {
      subscription.off();
      timer?.();
      signal?.removeEventListener("abort", onAbort);
      lifecycle.closeHooks.delete(onClose);
    };
    const onAbort = (): void => {
      settle();
      reject(signal!.reason);
    };
    const onClose = (): void => {
      settle();
      reject(
        new EmitterClosedError(`Cannot wait for ${describeValue(pattern)} as the emitter closed`),
      );
    };
    const subscription = host.subscribe(pattern, (event) => {
      // The event as it is at this consumer's turn: later listeners may still change it.
      const snapshot = eventInternals.snapshot(event);
      try {
        if (filter !== undefined && !filter(snapshot)) return;
      } catch (error) {
        settle();
        reject(error);
        return;
      }
      settle();
      resolve(snapshot);
    }, priority);
    signal?.addEventListener("abort", onAbort, { once: true });
    lifecycle.closeHooks.add(onClose);
    if (timeout !== undefined) {
      timer = startTimer(timeout, () => {
        settle();
        reject(timeoutError(`Waiting for ${describeValue(pattern)}`, timeout));
      });
    }
  });
}

/**
 * Unsubscribes an `events()` iterator that nobody can reach any more: created, then dropped
 * without `return()`. The held value is its `stop`, which must not reference the iterator.
 */
const unreachable = new FinalizationRegistry<() => void>((stop) => stop());

/** The iterator `events()` returns: reads the buffer; `return()` ends it. */
class EventIterator implements AsyncIterableIterator<SoireeEvent> {
  readonly #buffer: BoundedBuffer<SoireeEvent>;
  readonly #stop: () => void;

  constructor(buffer: BoundedBuffer<SoireeEvent>, stop: () => void) {
    this.#buffer = buffer;
    this.#stop = stop;
  }

  next(): Promise<IteratorResult<SoireeEvent, undefined>> {
    return this.#buffer.next();
  }

  return(): Promise<IteratorResult<SoireeEvent, undefined>> {
    unreachable.unregister(this);
    this.#stop();
    this.#buffer.clear();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<SoireeEvent> {
    return this;
  }
}

/**
 * An async iterator of the events that match, buffered up to `bufferSize`. It subscribes at
 * once, so nothing emitted before the first `next()` is lost; if it becomes unreachable
 * without `return()`, it unsubscribes when it is garbage-collected.
 */
export function events(
  host: WaitHost,
  pattern: string,
  options: IterateOptions,
): AsyncIterableIterator<SoireeEvent> {
  const { signal, bufferSize, priority } = options;
  const { lifecycle } = host;
  const buffer = new BoundedBuffer<SoireeEvent>(bufferSize);
  let subscription: Subscription | undefined;
  const stop = (): void => {
    subscription?.off();
    signal?.removeEventListener("abort", onAbort);
    lifecycle.closeHooks.delete(onClose);
  };
  const onClose = (): void => {
    stop();
    buffer.end();
  };
  const onAbort = (): void => {
    stop();
    buffer.fail(signal!.reason);
  };
  if (signal?.aborted) buffer.fail(signal.reason);
  else if (lifecycle.closed) buffer.end();
  else {
    subscription = host.subscribe(pattern, (event) => {
      if (buffer.push(eventInternals.snapshot(event))) return;
      return new QueueFullError(
        `Cannot buffer the event for the events() iterator of ${
          describeValue(pattern)
        } as its buffer of ${bufferSize} is full`,
      );
    }, priority);
    signal?.addEventListener("abort", onAbort, { once: true });
    lifecycle.closeHooks.add(onClose);
  }
  // No closure above may capture the iterator, or it could never be collected.
  const iterator = new EventIterator(buffer, stop);
  if (subscription !== undefined) unreachable.register(iterator, stop, iterator);
  return iterator;
}
