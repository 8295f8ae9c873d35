/**
 * The emitter: the public `Soiree` class. It checks arguments and hands off to its parts: the
 * registry (who listens to what), the dispatch (running listeners), the consumers that wait
 * for events, and the lifecycle (accepting, draining, closing). See the README's
 * "Architecture".
 *
 * @module
 */

import type { SoireeEvent } from "./event.ts";
import type { CheckedPattern, DurablePatternEvent, EventMap, PatternEvent } from "./event_map.ts";
import type { ListenerOptions, Subscription } from "./listener.ts";
import type {
  CloseOptions,
  EmitArgs,
  EmitOptions,
  EmitSyncArgs,
  EventsOptions,
  SoireeOptions,
  SoireeStats,
  WaitForOptions,
} from "./options.ts";
import { ListenerNotFoundError } from "./errors.ts";
import type { Pool } from "./pool.ts";
import { assertOptionsObject } from "./_checks.ts";
import { definePrintout, emitterPrintout } from "./_describe.ts";
import type { Dispatcher } from "./_dispatch.ts";
import { emitAsync } from "./_emission.ts";
import type { FailurePath } from "./_failure.ts";
import { emitterAccess } from "./_internal.ts";
import type { Lifecycle } from "./_lifecycle.ts";
import type { Registry } from "./_registry.ts";
import {
  readEmitOptions,
  readEventsOptions,
  readListenerOptions,
  readWaitOptions,
} from "./_options.ts";
import { assertTopic, checkPattern, describeValue, EXACT } from "./_topic.ts";
import { events, waitFor, type WaitHost } from "./_waiting.ts";
import { renderMetrics } from "./_metrics.ts";
import { assembleParts, closeEmitter, type EmitterParts, readStats } from "./_parts.ts";
import type {
  DeadLetter,
  DeadLetterOptions,
  DurableListenerOptions,
  PublishArgs,
  PublishOptions,
} from "./durable/durable_options.ts";
import type { PublishReceipt } from "./durable/transport.ts";
import { checkDurableName, checkLimit, type Durability } from "./durable/_durability.ts";

/**
 * An in-process event emitter with dot-separated topics, `*` and `**` patterns, listener
 * priorities, abort, error and panic handlers, and optional bounded concurrency on pools.
 *
 * Listeners of one emission run one after another in one order: higher priority first, then
 * subscription order, across every pattern that matches. `emit()` runs them after it returns
 * and awaits async ones; `emitSync()` runs them before it returns. Both report failures as
 * a list of errors instead of throwing.
 *
 * @typeParam E An event map from topic to payload type, checked at compile time.
 *
 * @example Patterns, priorities and errors
 * ```ts
 * import { Priority, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * const calls: string[] = [];
 * soiree.on("user.created", (event) => void calls.push(`created ${event.payload}`));
 * soiree.on("user.*", (event) => void calls.push(`audit ${event.topic}`), {
 *   priority: Priority.High,
 * });
 * soiree.on("invoice.**", () => {
 *   throw new Error("ledger offline");
 * });
 *
 * assert.deepEqual(await soiree.emit("user.created", "Matty Ice"), []);
 * assert.deepEqual(calls, ["audit user.created", "created Matty Ice"]);
 *
 * const errors = soiree.emitSync("invoice.paid.late");
 * assert.equal(errors.length, 1);
 * assert.match(errors[0].message, /ledger offline/);
 * await soiree.close();
 * ```
 */
export class Soiree<E extends object = EventMap> implements AsyncDisposable {
  readonly #registry: Registry;
  readonly #failure: FailurePath;
  readonly #lifecycle: Lifecycle;
  readonly #dispatcher: Dispatcher;
  readonly #pool: Pool | undefined;
  readonly #parts: EmitterParts;
  readonly #waitHost: WaitHost;
  readonly #durability: Durability;
  readonly #eventId = (): string => this.#dispatcher.eventId();
  /** `dispatch: "concurrent"` is the emitter's default. */
  readonly #concurrent: boolean;

  static {
    emitterAccess.internals = (soiree) => {
      const owner = soiree as Soiree;
      return { ...owner.#registry.sizes(), inFlightLinked: owner.#lifecycle.linked() };
    };
  }

  /**
   * Creates an emitter.
   *
   * @param options Handlers, ID generator, leak threshold and pool.
   * @throws {TypeError} When a handler or the generator is not a function.
   * @throws {RangeError} When `maxListeners` is not a non-negative integer.
   */
  constructor(options: SoireeOptions = {}) {
    const parts = assembleParts(
      options,
      (pattern, listener, priority) => this.on(pattern, listener, { priority }),
    );
    this.#parts = parts;
    ({ registry: this.#registry, failure: this.#failure, lifecycle: this.#lifecycle } = parts);
    ({ dispatcher: this.#dispatcher, pool: this.#pool, durability: this.#durability } = parts);
    ({ waitHost: this.#waitHost, concurrent: this.#concurrent } = parts);
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.#lifecycle.closed;
  }

  /**
   * Subscribes a durable listener: it receives the events `publish()` stores (never the ones
   * `emit()` dispatches), at least once, in whichever process that registered the same durable
   * name takes the delivery. Failed attempts are retried with backoff and then dead-lettered.
   * See the README's "Durable delivery".
   *
   * @typeParam P The pattern, checked as for an in-process listener; the event is a
   * `DurableEvent` per matched topic.
   * @param pattern A topic or pattern.
   * @param listener Called with one delivery's event; fails by throwing, rejecting or
   * returning an `Error` (a `PermanentError` dead-letters at once).
   * @param options `durable` (the name); `pool`, `priority`, `timeout`, `lease`, `retry`, `signal`.
   * @returns The subscription; `off()` stops this process fetching for the name (what is
   * stored for it stays, for other processes and later runs).
   * @throws {TypeError} When the emitter has no transport, the name is invalid or already
   * registered in this process, or an option has the wrong type (`once` included).
   * @throws {RangeError} When a number option is out of range.
   * @throws {EmitterClosedError} When the emitter is closed.
   *
   * @example
   * ```ts
   * import { memoryTransport, Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * await using soiree = new Soiree({ transport: memoryTransport() });
   * const got = Promise.withResolvers<string>();
   * soiree.on("user.created", (event) => got.resolve(event.idempotencyKey), { durable: "mail" });
   * const { id } = await soiree.publish("user.created", { email: "ada@example.com" });
   * assert.equal(await got.promise, `${id}/mail`);
   * ```
   */
  on<const P extends string>(
    pattern: CheckedPattern<E, P>,
    listener: (event: DurablePatternEvent<E, P>) => unknown,
    options: DurableListenerOptions,
  ): Subscription;
  /**
   * Subscribes a listener to a topic or pattern.
   *
   * `*` matches exactly one segment and `**` any number of segments (at least one at the end
   * of a pattern): see the README's "Topics and patterns". A listener added while an emission
   * is running is not invoked by that emission.
   *
   * @typeParam P The pattern. With an event map, a pattern that matches none of its topics
   * does not compile, and the listener's event is a union with one event type per matched topic
   * (see `PatternEvent`), so checking `event.topic` narrows `event.payload`.
   * @param pattern A topic or pattern.
   * @param listener Called with the event.
   * @param options Priority, once, signal, pool and timeout; with `durable: name`, a durable
   * listener instead (see the other overload).
   * @returns The subscription: its `id` and `off()`, and `Symbol.dispose` for `using`.
   * @throws {TypeError} When the pattern is invalid or the listener is not a function.
   * @throws {RangeError} When the priority is not a finite number or the timeout is invalid.
   * @throws {EmitterClosedError} When the emitter is closed.
   *
   * @example Unsubscribe with the handle
   * ```ts
   * import { Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const soiree = new Soiree();
   * let calls = 0;
   * const subscription = soiree.on("job.*.completed", () => void calls++);
   * soiree.emitSync("job.42.completed");
   * subscription.off();
   * soiree.emitSync("job.43.completed");
   * assert.equal(calls, 1);
   * ```
   */
  on<const P extends string>(
    pattern: CheckedPattern<E, P>,
    listener: (event: PatternEvent<E, P>) => unknown,
    options?: ListenerOptions,
  ): Subscription;
  on(
    pattern: string,
    listener: (event: never) => unknown,
    options?: ListenerOptions | DurableListenerOptions,
  ): Subscription {
    const action = "subscribe";
    const kind = checkPattern(pattern, action);
    if (typeof listener !== "function") {
      throw new TypeError(
        `Cannot subscribe as 'listener' must be a function: received ${describeValue(listener)}`,
      );
    }
    assertOptionsObject(options, action);
    if (options !== undefined && "durable" in options && options.durable !== undefined) {
      this.#lifecycle.assertOpen(`subscribe to ${describeValue(pattern)}`);
      return this.#durability.add(pattern, this.#eventId, listener as never, options);
    }
    const checked = readListenerOptions(
      options as ListenerOptions | undefined,
      this.#lifecycle,
      pattern,
    );
    return this.#registry.add(pattern, kind, listener as (event: SoireeEvent) => unknown, checked);
  }

  /**
   * Unsubscribes the listener with this ID from this pattern. `subscription.off()` does the
   * same without the pattern.
   *
   * @typeParam P The pattern; with an event map, checked as `on()` checks it (one that matches
   * none of its topics does not compile).
   * @param pattern The pattern the listener subscribed to, exactly as given to `on()`.
   * @param id The listener's ID.
   * @throws {TypeError} When the pattern is invalid.
   * @throws {ListenerNotFoundError} When no such listener is subscribed to that pattern.
   *
   * @example Go-style unsubscribe
   * ```ts
   * import { Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const soiree = new Soiree();
   * const { id } = soiree.on("user.*", () => {});
   * soiree.off("user.*", id);
   * assert.equal(soiree.listenerCount(), 0);
   * ```
   */
  off<const P extends string>(pattern: CheckedPattern<E, P>, id: string): void {
    const kind = checkPattern(pattern, "unsubscribe");
    if (typeof id !== "string") {
      throw new TypeError(
        `Cannot unsubscribe as 'id' must be a string: received ${describeValue(id)}`,
      );
    }
    const registration = this.#registry.find(pattern, kind, id);
    if (registration === undefined) throw new ListenerNotFoundError(pattern, id);
    this.#registry.remove(registration);
  }

  /**
   * Counts listeners: all of them with no argument; for a topic, the listeners an emission
   * of it would reach, through every matching pattern; for a wildcard pattern, the listeners
   * subscribed to exactly that pattern.
   *
   * @typeParam P The topic or pattern; with an event map, one that matches none of its topics
   * does not compile.
   * @param topicOrPattern A topic or pattern.
   * @returns The count.
   * @throws {TypeError} When the argument is not a valid topic or pattern.
   *
   * @example
   * ```ts
   * import { Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const soiree = new Soiree();
   * soiree.on("user.created", () => {});
   * soiree.on("user.*", () => {});
   * assert.equal(soiree.listenerCount(), 2);
   * assert.equal(soiree.listenerCount("user.created"), 2);
   * assert.equal(soiree.listenerCount("user.*"), 1);
   * ```
   */
  listenerCount<const P extends string>(topicOrPattern?: CheckedPattern<E, P>): number {
    if (topicOrPattern === undefined) return this.#registry.count;
    const action = "count listeners";
    if (checkPattern(topicOrPattern, action) === EXACT) {
      return this.#registry.lookup(topicOrPattern, action).length;
    }
    return this.#registry.patternCount(topicOrPattern);
  }

  /**
   * Emits an event and runs its listeners after this call returns, one after another,
   * awaiting async ones (or, with `dispatch: "concurrent"`, each priority level's together).
   * With a pool, the emission is one task on it; a listener that awaits another `emit()` (or a
   * `waitFor()` for it) of the same emitter then waits for a slot while holding one, so with
   * every slot held that way none can finish, and this cannot be detected: fire nested
   * emissions and forget them, or give them their own emitter.
   *
   * @param topic The topic (no wildcards).
   * @param args The payload, then options (`signal`, `timeout`, `dispatch`).
   * @returns A promise that never rejects: it resolves to the errors the emission produced
   * (after the error handler), `[]` when none, or `[EmitterClosedError]` when closed.
   * @throws {TypeError} When the topic is invalid (before anything is emitted).
   *
   * @example
   * ```ts
   * import { Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const soiree = new Soiree();
   * const order: string[] = [];
   * soiree.on("mail.send", async (event) => {
   *   await Promise.resolve();
   *   order.push(`sent ${event.payload}`);
   * });
   * const done = soiree.emit("mail.send", "welcome");
   * order.push("emit returned");
   * assert.deepEqual(await done, []);
   * assert.deepEqual(order, ["emit returned", "sent welcome"]);
   * ```
   */
  emit<K extends keyof E & string>(topic: K, ...args: EmitArgs<E, K>): Promise<readonly Error[]>;
  emit(topic: string, payload?: unknown, options?: EmitOptions): Promise<readonly Error[]> {
    if (this.#lifecycle.closed) {
      return Promise.resolve(this.#dispatcher.refuseClosed(topic, payload));
    }
    if (options === undefined) {
      return emitAsync(this.#dispatcher, topic, payload, undefined, undefined, this.#concurrent);
    }
    const { signal, timeout, concurrent } = readEmitOptions(options, this.#concurrent);
    return emitAsync(this.#dispatcher, topic, payload, signal, timeout, concurrent);
  }

  /**
   * Emits an event and runs its listeners before returning. A listener that returns a
   * promise is not awaited; if it rejects later, the error goes through the error handler
   * and then to the panic handler, never to an unhandled rejection.
   *
   * @param topic The topic (no wildcards).
   * @param args The payload.
   * @returns The errors the listeners produced (after the error handler), `[]` when none,
   * or `[EmitterClosedError]` when closed.
   * @throws {TypeError} When the topic is invalid.
   *
   * @example
   * ```ts
   * import { Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const soiree = new Soiree({ errorHandler: (_event, error) => error as Error });
   * soiree.on("cache.flush", () => new Error("cache busy"));
   * const errors = soiree.emitSync("cache.flush");
   * assert.equal(errors[0].message, "cache busy");
   * ```
   */
  emitSync<K extends keyof E & string>(topic: K, ...args: EmitSyncArgs<E, K>): readonly Error[];
  emitSync(topic: string, payload?: unknown): readonly Error[] {
    if (this.#lifecycle.closed) return this.#dispatcher.refuseClosed(topic, payload);
    return this.#dispatcher.emitSync(topic, payload);
  }

  /**
   * Stores an event for the durable listeners of every process sharing the transport (never
   * in-process listeners: see `emit()`): one delivery per matching durable name, handled at
   * least once. The payload is encoded (codec, JSON by default) before anything is stored.
   *
   * @param topic The topic (no wildcards).
   * @param args The payload, then options (`idempotencyKey`, `dedupeWindow`).
   * @returns A promise that resolves once the event is stored, with `{ id, duplicate }`
   * (`duplicate: true` and the first event's ID when the idempotency key was seen within its
   * window: nothing new is stored). It rejects with a `PublishError` (`cause`: the transport's
   * error) when the event could not be stored, with `EmitterClosedError` when closed.
   * @throws {TypeError} When the topic is invalid or a pattern, the payload cannot be encoded,
   * an option is invalid, or the emitter has no transport (the message names the choices).
   * @throws {RangeError} When `dedupeWindow` is not a positive number.
   *
   * @example
   * ```ts
   * import { memoryTransport, Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const soiree = new Soiree({ transport: memoryTransport() });
   * soiree.on("order.paid", () => {}, { durable: "invoice" });
   * const receipt = await soiree.publish("order.paid", { id: 8812 });
   * assert.equal(receipt.duplicate, false);
   * assert.throws(() => soiree.publish("order.*", {}), TypeError);
   * await soiree.close();
   * ```
   */
  publish<K extends keyof E & string>(
    topic: K,
    ...args: PublishArgs<E, K>
  ): Promise<PublishReceipt>;
  publish(topic: string, payload?: unknown, options?: PublishOptions): Promise<PublishReceipt> {
    const action = "publish";
    assertTopic(topic, action);
    assertOptionsObject(options, action);
    return this.#durability.publish(topic, payload, options, this.#eventId);
  }

  /**
   * Sends an event to the in-process listeners of every process sharing the transport, this
   * one included: each runs it as an `emit()` of the topic and the decoded payload (patterns
   * match as for `emit()`; durable listeners never see it). At most once and not stored: a
   * process that is not running misses it. Listener failures there go to that emitter's error
   * handler, then its panic handler (nobody awaits them). Receiving starts when the emitter is
   * made (on Redis, one Pub/Sub connection of its own); see the README's "Broadcast".
   *
   * @param topic The topic (no wildcards).
   * @param args The payload, encoded with the codec (JSON by default).
   * @returns A promise that resolves once the transport accepted it; it rejects with an `Error`
   * whose `cause` is the transport's error, or an `EmitterClosedError` when closed.
   * @throws {TypeError} When the topic is invalid, the payload cannot be encoded, or the
   * transport cannot broadcast (none, or SQLite: the message names the ones that can).
   *
   * @example
   * ```ts
   * import { memoryTransport, Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const transport = memoryTransport(); // one per process; Redis reaches every process
   * await using a = new Soiree({ transport });
   * await using b = new Soiree({ transport });
   * const got = Promise.withResolvers<unknown>();
   * b.on("cache.user.*", (event) => got.resolve(event.payload));
   * await a.broadcast("cache.user.invalidate", { id: 42 });
   * assert.deepEqual(await got.promise, { id: 42 });
   * ```
   */
  broadcast<K extends keyof E & string>(topic: K, ...args: EmitSyncArgs<E, K>): Promise<void>;
  broadcast(topic: string, payload?: unknown): Promise<void> {
    assertTopic(topic, "broadcast");
    return this.#durability.broadcast(topic, payload, this.#eventId);
  }

  /**
   * Lists the dead letters of a durable name, oldest first: deliveries parked after their last
   * attempt or a `PermanentError`, with the payload, attempts, last error and times. Works in
   * any process that shares the transport, whether or not it runs that listener.
   *
   * @param name The durable name.
   * @param options `limit` (default 100).
   * @returns A promise of the dead letters; it rejects with the transport's error.
   * @throws {TypeError} When the name or options are invalid or there is no transport.
   * @throws {RangeError} When `limit` is not a positive integer.
   *
   * @example
   * ```ts
   * import { memoryTransport, Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * await using soiree = new Soiree({ transport: memoryTransport() });
   * assert.deepEqual(await soiree.deadLetters("welcome-email", { limit: 10 }), []);
   * ```
   */
  deadLetters(name: string, options?: DeadLetterOptions): Promise<DeadLetter[]> {
    const action = "list dead letters";
    checkDurableName(name, action);
    return this.#durability.deadLetters(name, checkLimit(options, action));
  }

  /**
   * Puts dead letters of a durable name back to be delivered again, oldest first, each with a
   * fresh set of attempts (as pg-boss's and BullMQ's retry of failed jobs).
   *
   * @param name The durable name.
   * @param options `limit` (default 100).
   * @returns A promise of how many were put back; it rejects with the transport's error.
   * @throws {TypeError} When the name or options are invalid or there is no transport.
   * @throws {RangeError} When `limit` is not a positive integer.
   *
   * @example
   * ```ts
   * import { memoryTransport, Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * await using soiree = new Soiree({ transport: memoryTransport() });
   * assert.equal(await soiree.redrive("welcome-email", { limit: 10 }), 0);
   * ```
   */
  redrive(name: string, options?: DeadLetterOptions): Promise<number> {
    const action = "redrive dead letters";
    checkDurableName(name, action);
    return this.#durability.redrive(name, checkLimit(options, action));
  }

  /**
   * Resolves with the next event that matches the pattern (and the filter).
   *
   * @typeParam P The pattern. With an event map, one that matches none of its topics does not
   * compile, and the event (in `filter` and the result) is a union with one event type per
   * matched topic, so checking `event.topic` narrows `event.payload`.
   * @param pattern A topic or pattern.
   * @param options `signal`, `timeout`, `filter` and `priority`.
   * @returns The event.
   * @throws {TypeError} When the pattern or an option is invalid.
   *
   * The event is a snapshot as it was at this consumer's turn in the emission (topic,
   * payload, ID, properties): listeners after it may change theirs, not this one.
   *
   * Rejects with the signal's reason, a `TimeoutError`, what `filter` threw, or an
   * `EmitterClosedError` when the emitter closes and no emission accepted before `close()`
   * matched: it never stays pending after `close()`.
   *
   * On an emitter with a pool, do not await `waitFor()` inside one of its own listeners for an
   * event emitted with `emit()`: the emission it waits for needs a slot of the pool the
   * waiting listener holds, and with every slot held that way nothing can go on. Register the
   * wait before emitting, outside the listener.
   *
   * @example
   * ```ts
   * import { Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const soiree = new Soiree();
   * const paid = soiree.waitFor("invoice.*", { filter: (event) => event.payload === 2 });
   * soiree.emitSync("invoice.paid", 1);
   * soiree.emitSync("invoice.paid", 2);
   * assert.equal((await paid).payload, 2);
   * ```
   */
  waitFor<const P extends string>(
    pattern: CheckedPattern<E, P>,
    options?: WaitForOptions<unknown, string, PatternEvent<E, P>>,
  ): Promise<PatternEvent<E, P>> {
    checkPattern(pattern, "wait for an event");
    const checked = readWaitOptions(options as WaitForOptions<never, string, never> | undefined);
    return waitFor(this.#waitHost, pattern, checked) as Promise<PatternEvent<E, P>>;
  }

  /**
   * An async iterator of the events that match the pattern, buffered up to `bufferSize`. It
   * subscribes at once, so events emitted before the first `next()` are kept. Each event is a
   * snapshot as it was at the iterator's turn in its emission. When the buffer is full, the
   * emission reports the failure (a `ListenerError` whose `cause` is a `QueueFullError`, with
   * the default error handler) instead of dropping the event silently.
   *
   * Ending the loop (`break`, `return`, a throw) unsubscribes, and so does losing the last
   * reference to an iterator (when it is garbage-collected). `close()` ends it quietly once
   * the emissions accepted before it are delivered and the buffer is read; aborting `signal`
   * is the consumer's own cancellation, so the loop throws its reason (as std's `abortable()`).
   *
   * @typeParam P The pattern. With an event map, one that matches none of its topics does not
   * compile, and each event is a union with one event type per matched topic.
   * @param pattern A topic or pattern.
   * @param options `signal`, `bufferSize` and `priority`.
   * @returns The iterator.
   * @throws {TypeError} When the pattern or an option is invalid.
   * @throws {RangeError} When `bufferSize` is not a positive integer or `Infinity`.
   *
   * @example
   * ```ts
   * import { Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const soiree = new Soiree();
   * const seen: unknown[] = [];
   * const loop = (async () => {
   *   for await (const event of soiree.events("tick.*")) {
   *     seen.push(event.payload);
   *     if (seen.length === 2) break;
   *   }
   * })();
   * soiree.emitSync("tick.a", 1);
   * soiree.emitSync("tick.b", 2);
   * await loop;
   * assert.deepEqual(seen, [1, 2]);
   * assert.equal(soiree.listenerCount(), 0);
   * ```
   */
  events<const P extends string>(
    pattern: CheckedPattern<E, P>,
    options?: EventsOptions,
  ): AsyncIterableIterator<PatternEvent<E, P>> {
    checkPattern(pattern, "iterate events");
    const checked = readEventsOptions(options);
    return events(this.#waitHost, pattern, checked) as AsyncIterableIterator<PatternEvent<E, P>>;
  }

  /**
   * Live figures: emissions, listener invocations, failures, aborts, in-flight emissions and
   * listeners. Cheap to read.
   *
   * @returns A new object with the figures.
   *
   * @example
   * ```ts
   * import { Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const soiree = new Soiree();
   * soiree.on("a", () => {});
   * soiree.emitSync("a");
   * assert.equal(soiree.stats().delivered, 1);
   * ```
   */
  stats(): SoireeStats {
    return readStats(this.#parts);
  }

  /**
   * Renders the emitter's figures as Prometheus text (format 0.0.4, `METRICS_CONTENT_TYPE`):
   * emissions, failures, each pool once (label `pool`), and with a transport, publishes,
   * deliveries by outcome, attempt durations and each durable listener's queue, read from the
   * store now. Unused, it costs nothing. The README's "Metrics" lists every name.
   *
   * @returns A promise of the text; it never rejects (a failed read of the store leaves that
   * listener's queue out). On a closed emitter: the final counters.
   *
   * @example
   * ```ts
   * import { Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * await using soiree = new Soiree({ pool: { concurrency: 4, name: "emit" } });
   * soiree.on("a", () => {});
   * soiree.emitSync("a");
   * const text = await soiree.metrics();
   * assert.match(text, /^soiree_events_emitted_total 1$/m);
   * assert.match(text, /^soiree_pool_concurrency\{pool="emit"\} 4$/m);
   * ```
   */
  metrics(): Promise<string> {
    const pools = [this.#pool, ...this.#registry.pools()];
    return renderMetrics(this.stats(), pools, this.#durability.scrape());
  }

  /**
   * Closes the emitter: new emissions are refused at once (`EmitterClosedError`, through the
   * error handler), every emission already accepted runs to its end and reaches every
   * listener it matched (`waitFor()` and `events()` consumers included); then pending
   * `waitFor()` calls reject, `events()` iterators end once their buffer is read, and every
   * listener is dropped. An emitter's own pool is closed too; a pool it was handed is not.
   *
   * With `signal` or `timeout`, it stops waiting when they fire: in-flight emissions are
   * cancelled (their listeners see `event.signal` abort, their promises resolve with the
   * reason) and `close()` rejects with the reason. The durable side then gets 1 s (1,000 ms)
   * more to give leases back and close its transport; a store that does not answer in that
   * time does not hold `close()` (its later failures go to the panic handler).
   *
   * Do not await `close()` inside a listener of an `emit()`: it waits for that emission.
   *
   * @param options `signal` and `timeout`.
   * @returns A promise that resolves once every accepted emission has finished.
   * @throws {EmitterAlreadyClosedError} (as a rejection) when already closed.
   *
   * @example
   * ```ts
   * import { EmitterClosedError, Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const soiree = new Soiree();
   * let done = false;
   * soiree.on("job.run", async () => {
   *   await new Promise((resolve) => setTimeout(resolve, 5));
   *   done = true;
   * });
   * const accepted = soiree.emit("job.run");
   * await soiree.close();
   * assert.equal(done, true);
   * assert.deepEqual(await accepted, []);
   * assert.ok((await soiree.emit("job.run"))[0] instanceof EmitterClosedError);
   * ```
   */
  close(options?: CloseOptions): Promise<void> {
    return closeEmitter(this.#parts, options);
  }

  /**
   * Closes the emitter as `close()` does; calling it again (or after `close()`) waits for
   * the same close instead of failing.
   *
   * @returns A promise that resolves when the emitter is closed.
   *
   * @example
   * ```ts
   * import { Soiree } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * {
   *   await using soiree = new Soiree();
   *   soiree.on("a", () => {});
   *   assert.equal(soiree.isClosed, false);
   * }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#lifecycle.closing ?? this.close();
  }
}

definePrintout(Soiree, emitterPrintout);
