/**
 * The emitter: subscriptions, the per-topic dispatch cache and the dispatch loop.
 *
 * @module
 */

// Evaluated for its side effect too: it fills in `eventAccess`.
import "./event.ts";
import type { SoireeEvent } from "./event.ts";
import type { EventMap, PatternPayload, PatternTopic } from "./event_map.ts";
import {
  EmitterAlreadyClosedError,
  EmitterClosedError,
  ListenerError,
  ListenerNotFoundError,
  QueueFullError,
} from "./errors.ts";
import {
  jobDone,
  Pool,
  type PoolJob,
  type PoolOptions,
  type QueuedJob,
  submitJob,
  suspendSlot,
  withdrawJob,
} from "./pool.ts";
import { Priority } from "./priority.ts";
import { monotonicUlid } from "./ulid.ts";
import { assertTopic, checkPattern, describeValue, EXACT } from "./_topic.ts";
import { PatternTrie } from "./_trie.ts";
import { type CancelTimer, startTimer } from "./_timer.ts";
import { emitterAccess, eventAccess, type EventHost } from "./_internal.ts";

/**
 * A listener. It fails by throwing, by rejecting, or by returning (or resolving to) an
 * `Error`; anything else it returns is ignored.
 *
 * @typeParam P The payload type.
 * @typeParam T The topic type.
 *
 * @example A listener that fails by returning an Error
 * ```ts
 * import { type Listener, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const check: Listener<number> = (event) =>
 *   event.payload < 0 ? new Error("negative amount") : undefined;
 * const soiree = new Soiree<{ "payment.received": number }>();
 * soiree.on("payment.received", check);
 * assert.equal(soiree.emitSync("payment.received", -5).length, 1);
 * ```
 */
export type Listener<P = unknown, T extends string = string> = (
  event: SoireeEvent<P, T>,
) => unknown;

/**
 * Which listener failed: handed to the error handler.
 *
 * @example Name the failed listener in a log line
 * ```ts
 * import { type ListenerInfo, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const failed: string[] = [];
 * const soiree = new Soiree({
 *   errorHandler: (_event, _error, listener?: ListenerInfo) => {
 *     failed.push(listener?.pattern ?? "(no listener)");
 *   },
 * });
 * soiree.on("job.*", () => {
 *   throw new Error("boom");
 * });
 * soiree.emitSync("job.run");
 * assert.deepEqual(failed, ["job.*"]);
 * ```
 */
export interface ListenerInfo {
  /** The listener's ID. */
  readonly id: string;
  /** The pattern it subscribed to. */
  readonly pattern: string;
}

/**
 * Maps each failure to what the emission reports: return an `Error` to report it, or
 * nothing to swallow it. `listener` is `undefined` when no listener was involved (the
 * emission was refused by a full pool, or its signal aborted before it started).
 *
 * @example Swallow one kind of error
 * ```ts
 * import { type ErrorHandler, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * class Retryable extends Error {}
 * const errorHandler: ErrorHandler = (_event, error) =>
 *   error instanceof Retryable ? undefined : (error as Error);
 * const soiree = new Soiree({ errorHandler });
 * soiree.on("a", () => new Retryable("later"));
 * assert.deepEqual(soiree.emitSync("a"), []);
 * ```
 */
export type ErrorHandler = (
  event: SoireeEvent,
  error: unknown,
  listener: ListenerInfo | undefined,
) => Error | undefined | void;

/**
 * Receives what the failure path cannot deliver; must not throw.
 *
 * @example Collect what the failure path could not deliver
 * ```ts
 * import { type PanicHandler, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const panics: unknown[] = [];
 * const panicHandler: PanicHandler = (value) => void panics.push(value);
 * const soiree = new Soiree({ panicHandler });
 * soiree.on("a", () => Promise.reject(new Error("late")));
 * soiree.emitSync("a"); // not awaited: the rejection arrives later
 * await soiree.close();
 * assert.equal(panics.length, 1);
 * ```
 */
export type PanicHandler = (value: unknown) => void;

/**
 * Options of {@linkcode Soiree}.
 *
 * @example Counter IDs and no leak warning
 * ```ts
 * import { Soiree, type SoireeOptions } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * let next = 0;
 * const options: SoireeOptions = { idGenerator: () => `listener-${next++}`, maxListeners: 0 };
 * const soiree = new Soiree(options);
 * assert.equal(soiree.on("a", () => {}).id, "listener-0");
 * ```
 */
export interface SoireeOptions {
  /**
   * Maps each listener failure to what `emit()` reports.
   *
   * @default {wraps the error in a `ListenerError` naming topic, pattern and listener}
   */
  errorHandler?: ErrorHandler;
  /**
   * Receives what the failure path itself cannot deliver: an error handler that throws, a
   * failure that arrives after `emitSync()` returned, a throw from the ID generator while
   * making an event ID.
   *
   * @default {logs with `console.error`}
   */
  panicHandler?: PanicHandler;
  /**
   * Makes listener and event IDs. It must return a non-empty string never returned before.
   *
   * @default {monotonicUlid}
   */
  idGenerator?: () => string;
  /**
   * Warn (once per pattern, with `console.warn`) when one pattern has more listeners than
   * this: a likely leak. `0` turns the warning off.
   *
   * @default {100}
   */
  maxListeners?: number;
  /**
   * Runs each `emit()` as one task on a pool, bounding how many emissions run at once. A
   * `Pool` is shared (`close()` waits for this emitter's emissions but does not close it);
   * pool options make a pool of the emitter's own, closed by `close()`.
   *
   * @default {no pool: emissions are not bounded}
   */
  pool?: Pool | PoolOptions;
}

/**
 * Options of {@linkcode Soiree.prototype.on}.
 *
 * @example Run once, first
 * ```ts
 * import { type ListenerOptions, Priority, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * const calls: string[] = [];
 * soiree.on("boot", () => void calls.push("normal"));
 * const options: ListenerOptions = { once: true, priority: Priority.Highest };
 * soiree.on("boot", () => void calls.push("first, once"), options);
 * soiree.emitSync("boot");
 * soiree.emitSync("boot");
 * assert.deepEqual(calls, ["first, once", "normal", "normal"]);
 * ```
 */
export interface ListenerOptions {
  /**
   * Higher runs first; any finite number.
   *
   * @default {Priority.Normal}
   */
  priority?: number;
  /**
   * Invoke the listener at most once: the emission that starts it unsubscribes it first, so
   * overlapping emissions cannot call it twice (and a later `off()` finds it already gone, even
   * while that one call still waits for a slot on its class pool).
   *
   * @default {false}
   */
  once?: boolean;
  /** Unsubscribes the listener when it aborts. */
  signal?: AbortSignal;
  /**
   * Runs the listener's invocations as tasks on this pool (a workload class), bounded
   * separately from other listeners. The emission waits for it as for any listener.
   */
  pool?: Pool;
  /**
   * Milliseconds an invocation may take; then its `event.signal` aborts with a
   * `TimeoutError`, it is reported as failed and the emission moves on.
   *
   * @default {no timeout}
   */
  timeout?: number;
}

/**
 * Options of {@linkcode Soiree.prototype.emit}.
 *
 * @example Bound an emission in time
 * ```ts
 * import { type EmitOptions, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * soiree.on("report.build", () => new Promise(() => {})); // never settles
 * const options: EmitOptions = { timeout: 1 };
 * const [error] = await soiree.emit("report.build", undefined, options);
 * assert.equal((error.cause as DOMException).name, "TimeoutError");
 * ```
 */
export interface EmitOptions {
  /**
   * Cancels the emission: a listener running then sees `event.signal` abort and is reported
   * as failed with the reason; the listeners after it do not run.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds the whole emission may take, counted from `emit()`, time waiting for a
   * pool included; then it is cancelled as by `signal`, with a `TimeoutError`.
   *
   * @default {no timeout}
   */
  timeout?: number;
}

/**
 * Options of {@linkcode Soiree.prototype.close}.
 *
 * @example Close within a deadline
 * ```ts
 * import { type CloseOptions, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * soiree.on("stuck", () => new Promise(() => {}));
 * const emission = soiree.emit("stuck");
 * await Promise.resolve();
 * const options: CloseOptions = { timeout: 1 };
 * await assert.rejects(soiree.close(options), { name: "TimeoutError" });
 * assert.equal((await emission).length, 1);
 * ```
 */
export interface CloseOptions {
  /** Stop waiting when it aborts: in-flight emissions are cancelled with its reason. */
  signal?: AbortSignal;
  /** Stop waiting after this many milliseconds, as `signal` with a `TimeoutError`. */
  timeout?: number;
}

/**
 * Options of {@linkcode Soiree.prototype.waitFor}.
 *
 * @example Wait for a matching event, with a deadline
 * ```ts
 * import { Soiree, type WaitForOptions } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * const options: WaitForOptions = { timeout: 1_000, filter: (event) => event.payload === "ok" };
 * const ready = soiree.waitFor("health.*", options);
 * soiree.emitSync("health.db", "down");
 * soiree.emitSync("health.db", "ok");
 * assert.equal((await ready).payload, "ok");
 * ```
 */
export interface WaitForOptions<P = unknown, T extends string = string> {
  /** Rejects with its reason when it aborts. */
  signal?: AbortSignal;
  /** Rejects with a `TimeoutError` after this many milliseconds. */
  timeout?: number;
  /** Only an event for which this returns `true` resolves the wait. */
  filter?: (event: SoireeEvent<P, T>) => boolean;
  /**
   * The priority of the waiting listener.
   *
   * @default {Priority.Normal}
   */
  priority?: number;
}

/**
 * Options of {@linkcode Soiree.prototype.events}.
 *
 * @example A small buffer
 * ```ts
 * import { type EventsOptions, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * const options: EventsOptions = { bufferSize: 1 };
 * const iterator = soiree.events("tick", options);
 * soiree.emitSync("tick", 1);
 * assert.equal(soiree.emitSync("tick", 2).length, 1); // the buffer was full
 * assert.equal((await iterator.next()).value?.payload, 1);
 * await iterator.return?.();
 * ```
 */
export interface EventsOptions {
  /** Ends the iteration (the next `next()` rejects with its reason) when it aborts. */
  signal?: AbortSignal;
  /**
   * How many events may wait for the consumer. When it is full, a new event is not
   * buffered: the iterator's listener fails with a `QueueFullError`, which the emission
   * reports, so nothing is dropped silently.
   *
   * @default {1024}
   */
  bufferSize?: number;
  /**
   * The priority of the iterator's listener.
   *
   * @default {Priority.Normal}
   */
  priority?: number;
}

/**
 * A subscription: its ID, and the way to end it.
 *
 * @example End a subscription with using
 * ```ts
 * import { Soiree, type Subscription } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * {
 *   using subscription: Subscription = soiree.on("a", () => {});
 *   assert.equal(subscription.active, true);
 * }
 * assert.equal(soiree.listenerCount(), 0);
 * ```
 */
export interface Subscription extends Disposable {
  /** The listener's ID, from the ID generator. */
  readonly id: string;
  /** The pattern subscribed to. */
  readonly pattern: string;
  /** Whether the listener is still subscribed. */
  readonly active: boolean;
  /**
   * Unsubscribes the listener. Safe to call more than once.
   *
   * @returns `true` if this call removed it, `false` if it was already gone.
   */
  off(): boolean;
}

/**
 * Live figures of an emitter; see {@linkcode Soiree.prototype.stats}.
 *
 * @example Watch deliveries
 * ```ts
 * import { Soiree, type SoireeStats } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * soiree.on("a", () => {});
 * soiree.on("a", () => {});
 * soiree.emitSync("a");
 * const stats: SoireeStats = soiree.stats();
 * assert.equal(stats.delivered, 2);
 * ```
 */
export interface SoireeStats {
  /**
   * `emit` and `emitSync` calls on an open emitter with a valid topic, including those a full
   * pool then refused or a signal cancelled at once.
   */
  emitted: number;
  /** Listener invocations. */
  delivered: number;
  /** Failures handed to the error handler (listeners, refused or cancelled emissions). */
  failed: number;
  /** Emissions stopped early by `abort()`, a signal or a timeout. */
  aborted: number;
  /** `emit()` emissions accepted and not yet finished. */
  inFlight: number;
  /** Listeners subscribed now. */
  listeners: number;
}

/**
 * The arguments after the topic of `emit()` for topic `K` of event map `E`.
 *
 * @example A payload is optional only where the map allows undefined
 * ```ts
 * import type { EmitArgs } from "@x/soiree";
 *
 * type Events = { "user.created": { name: string }; "system.tick": undefined };
 * const tick: EmitArgs<Events, "system.tick"> = [];
 * const created: EmitArgs<Events, "user.created"> = [{ name: "Ada" }, { timeout: 100 }];
 * // @ts-expect-error the payload of user.created is required
 * const missing: EmitArgs<Events, "user.created"> = [];
 * void tick, created, missing;
 * ```
 */
export type EmitArgs<E, K extends keyof E> = undefined extends E[K]
  ? [payload?: E[K], options?: EmitOptions]
  : [payload: E[K], options?: EmitOptions];

/**
 * The arguments after the topic of `emitSync()` for topic `K` of event map `E`.
 *
 * @example The payload argument of emitSync()
 * ```ts
 * import type { EmitSyncArgs } from "@x/soiree";
 *
 * type Events = { "user.created": { name: string } };
 * const args: EmitSyncArgs<Events, "user.created"> = [{ name: "Ada" }];
 * void args;
 * ```
 */
export type EmitSyncArgs<E, K extends keyof E> = undefined extends E[K] ? [payload?: E[K]]
  : [payload: E[K]];

/** At most this many topics keep a cached dispatch list; the oldest goes first. */
const CACHE_LIMIT = 4096;
const EMPTY: readonly Registration[] = Object.freeze([]);
/** What `emitSync()` returns when nothing failed: shared, so frozen. */
const NO_ERRORS: readonly Error[] = Object.freeze([]);

/** `Registration.state` bits. 0 is the common case: subscribed, plain, not once. */
const REMOVED = 1;
const ONCE = 2;
/** Has its own pool or a timeout: takes the general invocation path. */
const SPECIAL = 4;

/** A subscribed listener: the handle `on()` returns and the dispatch list entry. */
class Registration implements Subscription {
  /** REMOVED | ONCE | SPECIAL bits: one load and compare on the hot path. */
  state: number;
  readonly fn: (event: SoireeEvent) => unknown;
  readonly priority: number;
  readonly seq: number;
  readonly pool: Pool | undefined;
  readonly timeout: number;
  readonly entry: PatternEntry;
  cleanup: (() => void) | undefined = undefined;
  /** Whether `id` is in the emitter's ID map yet (default IDs go in when first read). */
  indexed: boolean;
  readonly #id: string;
  readonly #owner: Soiree<EventMap>;

  constructor(
    owner: Soiree<EventMap>,
    id: string,
    indexed: boolean,
    entry: PatternEntry,
    fn: (event: SoireeEvent) => unknown,
    seq: number,
    priority: number,
    once: boolean,
    pool: Pool | undefined,
    timeout: number,
  ) {
    this.#owner = owner;
    this.#id = id;
    this.indexed = indexed;
    this.entry = entry;
    this.fn = fn;
    this.seq = seq;
    this.priority = priority;
    this.pool = pool;
    this.timeout = timeout;
    this.state = (once ? ONCE : 0) | (pool !== undefined || timeout > 0 ? SPECIAL : 0);
  }

  get id(): string {
    if (!this.indexed) indexId(this.#owner, this);
    return this.#id;
  }

  /** The ID without indexing it. */
  get rawId(): string {
    return this.#id;
  }

  get pattern(): string {
    return this.entry.pattern;
  }

  get active(): boolean {
    return (this.state & REMOVED) === 0;
  }

  off(): boolean {
    return this.active ? unregister(this.#owner, this) : false;
  }

  [Symbol.dispose](): void {
    this.off();
  }
}

/** The listeners of one pattern, in subscription order. */
interface PatternEntry {
  readonly pattern: string;
  readonly segments: readonly string[] | undefined;
  /** A set: insertion ordered, and removal is O(1) however many listeners there are. */
  readonly list: Set<Registration>;
  warned: boolean;
}

/** The state of one `emit()`: its event, where it is in the dispatch list, its result. */
class Emission implements EventHost, PoolJob {
  readonly owner: Soiree<EventMap>;
  readonly event: SoireeEvent;
  readonly list: readonly Registration[];
  index = 0;
  errors: Error[] | undefined = undefined;
  done = false;
  /** Set when the emission was cancelled (signal, timeout, close giving up). */
  cancelled = false;
  cancelReason: unknown = undefined;
  /** The listener whose promise the emission is waiting for, and that promise. */
  pending: Registration | undefined = undefined;
  pendingPromise: Promise<unknown> | undefined = undefined;
  /** Listeners given up on (timeout, cancel) that still run on this emission's pool slot. */
  abandoned = 0;
  /** Bumped whenever a wait ends, so a late settlement of an old wait is ignored. */
  token = 0;
  timer: CancelTimer | undefined = undefined;
  deadline: CancelTimer | undefined = undefined;
  userSignal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  resolve: ((errors: readonly Error[]) => void) | undefined = undefined;
  /** Settles the wait for the pending listener; made once per emission, on its first wait. */
  onValue: ((value: unknown) => void) | undefined = undefined;
  onError: ((error: unknown) => void) | undefined = undefined;
  /** Set while the emitter pool slot is lent out during a pooled listener. */
  resume: (() => Promise<void>) | undefined = undefined;
  /** Holds a slot of the emitter's pool. */
  onPool = false;
  /** Waiting for `resume()` to give the emitter pool slot back. */
  resuming = false;
  /** Its place in the emitter pool's queue, to give back if it is cancelled there. */
  ticket: QueuedJob | undefined = undefined;
  /** Running listeners right now, or getting its pool slot back: it will finish itself. */
  busy = false;
  prev: Emission | undefined = undefined;
  next: Emission | undefined = undefined;

  constructor(
    owner: Soiree<EventMap>,
    topic: string,
    payload: unknown,
    list: readonly Registration[],
  ) {
    this.owner = owner;
    this.list = list;
    this.event = eventAccess.create(topic, payload, this);
  }

  eventId(): string {
    return makeEventId(this.owner);
  }

  start(): void {
    startEmission(this);
  }

  refuse(reason: unknown): void {
    refuseEmission(this, reason);
  }
}

function timeoutError(what: string, ms: number): DOMException {
  return new DOMException(`${what} timed out after ${ms} ms`, "TimeoutError");
}

function assertDuration(value: unknown, name: string, action: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be a finite number of milliseconds from 0 up: received ${
        describeValue(value)
      }`,
    );
  }
}

function assertSignal(value: unknown, action: string): void {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot ${action} as 'signal' must be an AbortSignal: received ${describeValue(value)}`,
    );
  }
}

function assertPriority(value: unknown, action: string): number {
  if (value === undefined) return Priority.Normal;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot ${action} as 'priority' must be a finite number: received ${describeValue(value)}`,
    );
  }
  return value;
}

function assertOptionsObject(value: unknown, action: string): void {
  if (value !== undefined && (value === null || typeof value !== "object")) {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: received ${describeValue(value)}`,
    );
  }
}

function defaultErrorHandler(
  event: SoireeEvent,
  error: unknown,
  listener: ListenerInfo | undefined,
): Error {
  if (listener !== undefined) {
    return new ListenerError(event.topic, listener.pattern, listener.id, error);
  }
  return error instanceof Error ? error : new Error(String(error), { cause: error });
}

function defaultPanicHandler(value: unknown): void {
  console.error("Soiree panic:", value);
}

// Friend access to the emitter's private state from the helpers above.
let unregister: (owner: Soiree<EventMap>, registration: Registration) => boolean;
let indexId: (owner: Soiree<EventMap>, registration: Registration) => void;
let makeEventId: (owner: Soiree<EventMap>) => string;
let startEmission: (emission: Emission) => void;
let refuseEmission: (emission: Emission, reason: unknown) => void;

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
  #exact = new Map<string, PatternEntry>();
  #trie = new PatternTrie<PatternEntry>();
  /** Listeners by ID; a default (ULID) ID goes in when first read, as only then can it be used. */
  #byId = new Map<string, Registration>();
  #count = 0;
  #cache = new Map<string, readonly Registration[]>();
  #seq = 0;
  #errorHandler: ErrorHandler;
  #panicHandler: PanicHandler;
  #idGenerator: () => string;
  #customIds: boolean;
  #maxListeners: number;
  #pool: Pool | undefined;
  #ownsPool: boolean;
  #closed = false;
  #closing: Promise<void> | undefined = undefined;
  #closeHooks = new Set<() => void>();
  #idleWaiters: (() => void)[] = [];
  #head: Emission | undefined = undefined;
  #late = 0;
  #emitted = 0;
  #delivered = 0;
  #failed = 0;
  #aborted = 0;
  #inFlight = 0;
  /** The host of `emitSync()` events: never cancelled; IDs from the generator. */
  #syncHost: EventHost = {
    cancelled: false,
    cancelReason: undefined,
    eventId: () => this.#eventId(),
  };

  static {
    unregister = (owner, registration) => owner.#unregister(registration);
    indexId = (owner, registration) => {
      if (registration.active) owner.#byId.set(registration.rawId, registration);
      registration.indexed = true;
    };
    makeEventId = (owner) => owner.#eventId();
    startEmission = (emission) => emission.owner.#start(emission);
    refuseEmission = (emission, reason) => emission.owner.#refuse(emission, reason);
    emitterAccess.internals = (soiree) => {
      const owner = soiree as Soiree<EventMap>;
      let inFlightLinked = 0;
      for (let emission = owner.#head; emission !== undefined; emission = emission.next) {
        inFlightLinked++;
      }
      return {
        trieNodes: owner.#trie.nodeCount,
        wildcardPatterns: owner.#trie.size,
        exactPatterns: owner.#exact.size,
        cacheSize: owner.#cache.size,
        listeners: owner.#count,
        indexedIds: owner.#byId.size,
        inFlightLinked,
      };
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
    assertOptionsObject(options, "create the emitter");
    const { errorHandler, panicHandler, idGenerator, maxListeners = 100, pool } = options;
    for (
      const [name, value] of [["errorHandler", errorHandler], [
        "panicHandler",
        panicHandler,
      ], ["idGenerator", idGenerator]] as const
    ) {
      if (value !== undefined && typeof value !== "function") {
        throw new TypeError(
          `Cannot create the emitter as '${name}' must be a function: received ${
            describeValue(value)
          }`,
        );
      }
    }
    if (typeof maxListeners !== "number" || !Number.isInteger(maxListeners) || maxListeners < 0) {
      throw new RangeError(
        `Cannot create the emitter as 'maxListeners' must be an integer from 0 up: received ${
          describeValue(maxListeners)
        }`,
      );
    }
    if (pool !== undefined && (pool === null || typeof pool !== "object")) {
      throw new TypeError(
        `Cannot create the emitter as 'pool' must be a Pool or pool options: received ${
          describeValue(pool)
        }`,
      );
    }
    this.#errorHandler = errorHandler ?? defaultErrorHandler;
    this.#panicHandler = panicHandler ?? defaultPanicHandler;
    this.#idGenerator = idGenerator ?? monotonicUlid;
    this.#customIds = idGenerator !== undefined;
    this.#maxListeners = maxListeners;
    this.#ownsPool = pool !== undefined && !(pool instanceof Pool);
    this.#pool = pool === undefined ? undefined : pool instanceof Pool ? pool : new Pool(pool);
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Subscribes a listener to a topic or pattern.
   *
   * `*` matches exactly one segment and `**` any number of segments (at least one at the end
   * of a pattern): see the README's "Topics and patterns". A listener added while an emission
   * is running is not invoked by that emission.
   *
   * @typeParam P The pattern; with an event map, it types `event.payload` as the union of
   * the payloads of the topics it matches.
   * @param pattern A topic or pattern.
   * @param listener Called with the event.
   * @param options Priority, once, signal, pool and timeout.
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
    pattern: P,
    listener: Listener<PatternPayload<E, P>, PatternTopic<E, P>>,
    options?: ListenerOptions,
  ): Subscription {
    const action = "subscribe";
    const kind = checkPattern(pattern, action);
    if (typeof listener !== "function") {
      throw new TypeError(
        `Cannot subscribe as 'listener' must be a function: received ${describeValue(listener)}`,
      );
    }
    assertOptionsObject(options, action);
    const priority = assertPriority(options?.priority, action);
    const signal = options?.signal;
    assertSignal(signal, action);
    const pool = options?.pool;
    if (pool !== undefined && !(pool instanceof Pool)) {
      throw new TypeError(
        `Cannot subscribe as 'pool' must be a Pool: received ${describeValue(pool)}`,
      );
    }
    const timeout = options?.timeout;
    assertDuration(timeout, "timeout", action);
    if (this.#closed) {
      throw new EmitterClosedError(
        `Cannot subscribe to ${describeValue(pattern)} as the emitter is closed`,
      );
    }
    const id = this.#customIds ? this.#newId() : monotonicUlid();
    let entry = kind === EXACT ? this.#exact.get(pattern) : this.#trie.get(pattern.split("."));
    if (entry === undefined) {
      const segments = kind === EXACT ? undefined : pattern.split(".");
      entry = { pattern, segments, list: new Set(), warned: false };
      if (segments === undefined) this.#exact.set(pattern, entry);
      else this.#trie.set(segments, entry);
    }
    const registration = new Registration(
      this as unknown as Soiree<EventMap>,
      id,
      this.#customIds,
      entry,
      listener as (event: SoireeEvent) => unknown,
      this.#seq++,
      priority,
      options?.once === true,
      pool,
      timeout ?? 0,
    );
    if (signal?.aborted) {
      // Subscribed and unsubscribed at once: nothing to store.
      this.#dropEntryIfEmpty(entry);
      registration.state |= REMOVED;
      return registration;
    }
    entry.list.add(registration);
    this.#count++;
    if (registration.indexed) this.#byId.set(id, registration);
    this.#invalidate(entry);
    if (signal !== undefined) {
      const onAbort = (): void => void registration.off();
      signal.addEventListener("abort", onAbort, { once: true });
      registration.cleanup = () => signal.removeEventListener("abort", onAbort);
    }
    const max = this.#maxListeners;
    if (max > 0 && !entry.warned && entry.list.size > max) {
      entry.warned = true;
      console.warn(
        `Soiree: ${entry.list.size} listeners are subscribed to ${
          describeValue(pattern)
        }, more than maxListeners (${max}): a likely leak. Raise maxListeners or set it to 0 to silence this.`,
      );
    }
    return registration;
  }

  /**
   * Unsubscribes the listener with this ID from this pattern. `subscription.off()` does the
   * same without the pattern.
   *
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
  off(pattern: string, id: string): void {
    checkPattern(pattern, "unsubscribe");
    if (typeof id !== "string") {
      throw new TypeError(
        `Cannot unsubscribe as 'id' must be a string: received ${describeValue(id)}`,
      );
    }
    const registration = this.#byId.get(id);
    if (registration === undefined || registration.pattern !== pattern) {
      throw new ListenerNotFoundError(pattern, id);
    }
    this.#unregister(registration);
  }

  /**
   * Counts listeners: all of them with no argument; for a topic, the listeners an emission
   * of it would reach, through every matching pattern; for a wildcard pattern, the listeners
   * subscribed to exactly that pattern.
   *
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
  listenerCount(topicOrPattern?: string): number {
    if (topicOrPattern === undefined) return this.#count;
    const action = "count listeners";
    if (checkPattern(topicOrPattern, action) === EXACT) {
      return this.#lookup(topicOrPattern, action).length;
    }
    return this.#trie.get(topicOrPattern.split("."))?.list.size ?? 0;
  }

  /**
   * Emits an event and runs its listeners after this call returns, one after another,
   * awaiting async ones. With a pool, the emission is one task on it; a listener that awaits
   * another `emit()` of the same emitter then waits for a slot while holding one, so with
   * every slot held that way none can finish: fire nested emissions and forget them, or give
   * them their own emitter.
   *
   * @param topic The topic (no wildcards).
   * @param args The payload, then options (`signal`, `timeout`).
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
    if (this.#closed) {
      assertTopic(topic, "emit");
      return Promise.resolve([
        new EmitterClosedError(`Cannot emit ${describeValue(topic)} as the emitter is closed`),
      ]);
    }
    let signal: AbortSignal | undefined;
    let timeout: number | undefined;
    if (options !== undefined) {
      assertOptionsObject(options, "emit");
      signal = options.signal;
      timeout = options.timeout;
      assertSignal(signal, "emit");
      assertDuration(timeout, "timeout", "emit");
    }
    let list = this.#cache.get(topic);
    if (list === undefined) list = this.#lookup(topic, "emit");
    this.#emitted++;
    if (signal?.aborted) {
      this.#aborted++;
      const event = eventAccess.create(topic, payload, this.#syncHost);
      return Promise.resolve(this.#fail([], event, undefined, signal.reason)!);
    }
    if (list.length === 0) return Promise.resolve(NO_ERRORS);
    const emission = new Emission(this as unknown as Soiree<EventMap>, topic, payload, list);
    this.#inFlight++;
    const head = this.#head;
    if (head !== undefined) head.prev = emission;
    emission.next = head;
    this.#head = emission;
    const promise = new Promise<readonly Error[]>((resolve) => (emission.resolve = resolve));
    if (signal !== undefined) {
      emission.userSignal = signal;
      const onAbort = (): void => this.#cancel(emission, signal.reason);
      emission.onAbort = onAbort;
      signal.addEventListener("abort", onAbort, { once: true });
    }
    if (timeout !== undefined) {
      emission.deadline = startTimer(
        timeout,
        () => this.#cancel(emission, timeoutError(`Emission of ${describeValue(topic)}`, timeout)),
      );
    }
    const pool = this.#pool;
    if (pool === undefined) queueMicrotask(() => this.#run(emission));
    // Cancelled while queued (signal, timeout, close): #cancel gives its place back.
    else emission.ticket = submitJob(pool, emission);
    return promise;
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
    if (this.#closed) {
      assertTopic(topic, "emit");
      return [
        new EmitterClosedError(`Cannot emit ${describeValue(topic)} as the emitter is closed`),
      ];
    }
    let list = this.#cache.get(topic);
    if (list === undefined) list = this.#lookup(topic, "emit");
    this.#emitted++;
    const length = list.length;
    if (length === 0) return NO_ERRORS;
    const event = eventAccess.create(topic, payload, this.#syncHost);
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
          if (state === 0) {
            const result = registration.fn(event);
            if (result !== undefined && result !== null) {
              errors = this.#syncResult(errors, event, registration, result);
            }
          } else if ((state & REMOVED) !== 0) {
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
        errors = this.#fail(errors, event, list[i], error);
        i++;
        aborted = event.aborted;
      }
    }
    if (aborted) this.#aborted++;
    // Counted once, not per listener: the loop is the hot path.
    this.#delivered += i - skipped;
    return errors ?? NO_ERRORS;
  }

  /**
   * Resolves with the next event that matches the pattern (and the filter).
   *
   * @param pattern A topic or pattern.
   * @param options `signal`, `timeout`, `filter` and `priority`.
   * @returns The event.
   * @throws {TypeError} When the pattern or an option is invalid.
   *
   * Rejects with the signal's reason, a `TimeoutError`, what `filter` threw, or an
   * `EmitterClosedError` when the emitter closes first: it never stays pending after
   * `close()`.
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
    pattern: P,
    options?: WaitForOptions<PatternPayload<E, P>, PatternTopic<E, P>>,
  ): Promise<SoireeEvent<PatternPayload<E, P>, PatternTopic<E, P>>> {
    const action = "wait for an event";
    checkPattern(pattern, action);
    assertOptionsObject(options, action);
    const signal = options?.signal;
    const timeout = options?.timeout;
    const filter = options?.filter;
    assertSignal(signal, action);
    assertDuration(timeout, "timeout", action);
    if (filter !== undefined && typeof filter !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'filter' must be a function: received ${describeValue(filter)}`,
      );
    }
    const priority = assertPriority(options?.priority, action);
    type Event = SoireeEvent<PatternPayload<E, P>, PatternTopic<E, P>>;
    return new Promise<Event>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (this.#closed) {
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
        this.#closeHooks.delete(onClose);
      };
      const onAbort = (): void => {
        settle();
        reject(signal!.reason);
      };
      const onClose = (): void => {
        settle();
        reject(
          new EmitterClosedError(
            `Cannot wait for ${describeValue(pattern)} as the emitter closed`,
          ),
        );
      };
      const subscription = this.on(pattern, (event) => {
        try {
          if (filter !== undefined && !filter(event as Event)) return;
        } catch (error) {
          settle();
          reject(error);
          return;
        }
        settle();
        resolve(event as Event);
      }, { priority });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#closeHooks.add(onClose);
      if (timeout !== undefined) {
        timer = startTimer(timeout, () => {
          settle();
          reject(timeoutError(`Waiting for ${describeValue(pattern)}`, timeout));
        });
      }
    });
  }

  /**
   * An async iterator of the events that match the pattern, buffered up to `bufferSize`.
   * Ending the loop (`break`, `return`, a throw) unsubscribes; `close()` ends it once the
   * buffer is drained; the signal makes the next `next()` reject with its reason.
   *
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
    pattern: P,
    options?: EventsOptions,
  ): AsyncIterableIterator<SoireeEvent<PatternPayload<E, P>, PatternTopic<E, P>>> {
    const action = "iterate events";
    checkPattern(pattern, action);
    assertOptionsObject(options, action);
    const signal = options?.signal;
    assertSignal(signal, action);
    const bufferSize = options?.bufferSize ?? 1024;
    if (
      typeof bufferSize !== "number" ||
      !(bufferSize === Infinity || (Number.isInteger(bufferSize) && bufferSize > 0))
    ) {
      throw new RangeError(
        `Cannot ${action} as 'bufferSize' must be a positive integer or Infinity: received ${
          describeValue(bufferSize)
        }`,
      );
    }
    const priority = assertPriority(options?.priority, action);
    type Event = SoireeEvent<PatternPayload<E, P>, PatternTopic<E, P>>;
    type Result = IteratorResult<Event, undefined>;
    const buffer: Event[] = [];
    let head = 0;
    /** Pending `next()` calls, oldest first; only while the buffer is empty. */
    const readers: { resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
    let ended = false;
    let failure: { reason: unknown } | undefined;
    const stop = (): void => {
      subscription?.off();
      signal?.removeEventListener("abort", onAbort);
      this.#closeHooks.delete(onClose);
    };
    const finishReaders = (): void => {
      for (const reader of readers.splice(0)) reader.resolve({ done: true, value: undefined });
    };
    const onClose = (): void => {
      ended = true;
      stop();
      finishReaders();
    };
    const onAbort = (): void => {
      ended = true;
      buffer.length = head = 0;
      stop();
      if (readers.length === 0) failure = { reason: signal!.reason };
      for (const reader of readers.splice(0)) reader.reject(signal!.reason);
    };
    let subscription: Subscription | undefined;
    if (signal?.aborted) {
      ended = true;
      failure = { reason: signal.reason };
    } else if (this.#closed) {
      ended = true;
    } else {
      subscription = this.on(pattern, (event) => {
        const reader = readers.shift();
        if (reader !== undefined) return reader.resolve({ done: false, value: event as Event });
        if (buffer.length - head >= bufferSize) {
          return new QueueFullError(
            `Cannot buffer the event for the events() iterator of ${
              describeValue(pattern)
            } as its buffer of ${bufferSize} is full`,
          );
        }
        buffer.push(event as Event);
      }, { priority });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#closeHooks.add(onClose);
    }
    const iterator: AsyncIterableIterator<Event> = {
      next: (): Promise<Result> => {
        if (head < buffer.length) {
          const value = buffer[head];
          // Drop the reference, and compact now and then, so consumed events can be freed.
          (buffer as (Event | undefined)[])[head++] = undefined;
          if (head === buffer.length) buffer.length = head = 0;
          else if (head >= 1024 && head * 2 >= buffer.length) {
            buffer.splice(0, head);
            head = 0;
          }
          return Promise.resolve({ done: false, value });
        }
        if (failure !== undefined) {
          const { reason } = failure;
          failure = undefined;
          return Promise.reject(reason);
        }
        if (ended) return Promise.resolve({ done: true, value: undefined });
        return new Promise<Result>((resolve, reject) => void readers.push({ resolve, reject }));
      },
      return: (): Promise<Result> => {
        ended = true;
        buffer.length = head = 0;
        failure = undefined;
        stop();
        finishReaders();
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
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
    return {
      emitted: this.#emitted,
      delivered: this.#delivered,
      failed: this.#failed,
      aborted: this.#aborted,
      inFlight: this.#inFlight,
      listeners: this.#count,
    };
  }

  /**
   * Closes the emitter: new emissions are refused at once (`EmitterClosedError`), every
   * emission already accepted runs to its end, pending `waitFor()` calls reject, `events()`
   * iterators end, and then every listener is dropped. An emitter's own pool is closed too;
   * a pool it was handed is not.
   *
   * With `signal` or `timeout`, it stops waiting when they fire: in-flight emissions are
   * cancelled (their listeners see `event.signal` abort, their promises resolve with the
   * reason) and `close()` rejects with the reason.
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
    try {
      assertOptionsObject(options, "close the emitter");
      assertSignal(options?.signal, "close the emitter");
      assertDuration(options?.timeout, "timeout", "close the emitter");
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(new EmitterAlreadyClosedError());
    this.#closed = true;
    for (const hook of [...this.#closeHooks]) hook();
    return (this.#closing = this.#shutdown(options?.signal, options?.timeout));
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
    return this.#closing ?? this.close();
  }

  async #shutdown(signal: AbortSignal | undefined, timeout: number | undefined): Promise<void> {
    // A listener of an emitSync() may be the caller: let that emission finish first.
    await undefined;
    let gaveUp: { reason: unknown } | undefined;
    if (this.#inFlight > 0 || this.#late > 0) {
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
        for (let emission = this.#head; emission !== undefined;) {
          const next: Emission | undefined = emission.next;
          this.#cancel(emission, gaveUp.reason);
          emission = next;
        }
        this.#late = 0;
      }
    }
    this.#dropAll();
    if (this.#ownsPool) {
      await this.#pool!.close(gaveUp === undefined ? undefined : { timeout: 0 }).catch(
        () => {},
      );
    }
    if (gaveUp !== undefined) throw gaveUp.reason;
  }

  #newId(): string {
    let id: unknown;
    try {
      id = this.#idGenerator();
    } catch (error) {
      throw new Error("Cannot subscribe as the ID generator threw", { cause: error });
    }
    if (typeof id !== "string" || id.length === 0) {
      throw new TypeError(
        `Cannot subscribe as the ID generator must return a non-empty string: received ${
          describeValue(id)
        }`,
      );
    }
    if (this.#byId.has(id)) {
      throw new Error(
        `Cannot subscribe as the ID generator returned an ID already in use: received ${
          describeValue(id)
        }`,
      );
    }
    return id;
  }

  #eventId(): string {
    if (!this.#customIds) return monotonicUlid();
    try {
      const id = this.#idGenerator();
      if (typeof id === "string" && id.length > 0) return id;
      throw new TypeError(
        `The ID generator must return a non-empty string: received ${describeValue(id)}`,
      );
    } catch (error) {
      this.#panic(error);
      return monotonicUlid();
    }
  }

  /** The dispatch list of a topic (validated here, on a cache miss), cached. */
  #lookup(topic: string, action: string): readonly Registration[] {
    const cached = this.#cache.get(topic);
    if (cached !== undefined) return cached;
    assertTopic(topic, action);
    const exact = this.#exact.get(topic)?.list;
    let list: Registration[] | readonly Registration[];
    if (this.#trie.size === 0) {
      list = exact === undefined ? EMPTY : [...exact];
    } else {
      const entries = this.#trie.match(topic.split("."), []);
      if (exact === undefined && entries.length === 0) list = EMPTY;
      else if (entries.length === 0) list = [...exact!];
      else {
        const merged: Registration[] = exact === undefined ? [] : [...exact];
        for (const entry of entries) {
          for (const registration of entry.list) merged.push(registration);
        }
        list = merged;
      }
    }
    if (list.length > 1) (list as Registration[]).sort(byPriorityThenSeq);
    if (this.#cache.size >= CACHE_LIMIT) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    this.#cache.set(topic, list);
    return list;
  }

  #invalidate(entry: PatternEntry): void {
    if (entry.segments === undefined && this.#count > 0) this.#cache.delete(entry.pattern);
    else this.#cache.clear();
  }

  #dropEntryIfEmpty(entry: PatternEntry): void {
    if (entry.list.size > 0) return;
    if (entry.segments === undefined) {
      if (this.#exact.get(entry.pattern) === entry) this.#exact.delete(entry.pattern);
    } else if (this.#trie.get(entry.segments) === entry) {
      this.#trie.delete(entry.segments);
    }
  }

  #unregister(registration: Registration): boolean {
    if ((registration.state & REMOVED) !== 0) return false;
    registration.state |= REMOVED;
    registration.cleanup?.();
    registration.cleanup = undefined;
    const { entry } = registration;
    entry.list.delete(registration);
    this.#count--;
    if (registration.indexed) this.#byId.delete(registration.rawId);
    this.#dropEntryIfEmpty(entry);
    this.#invalidate(entry);
    return true;
  }

  /** Drops every listener at once (close): linear, not one removal at a time. */
  #dropAll(): void {
    for (const entry of [...this.#exact.values(), ...this.#trie.values()]) {
      for (const registration of entry.list) {
        registration.state |= REMOVED;
        registration.cleanup?.();
        registration.cleanup = undefined;
      }
      entry.list.clear();
    }
    this.#exact.clear();
    this.#trie = new PatternTrie<PatternEntry>();
    this.#byId.clear();
    this.#cache.clear();
    this.#count = 0;
  }

  /** The emitter pool gave this emission a slot. */
  #start(emission: Emission): void {
    emission.onPool = true;
    emission.ticket = undefined;
    if (emission.done) return this.#releaseSlot(emission);
    emission.busy = true;
    // Never call a listener before emit() returns, even if the pool starts it at once.
    queueMicrotask(() => this.#run(emission));
  }

  /** The emitter pool refused this emission (full queue, closed pool) or its signal withdrew it. */
  #refuse(emission: Emission, reason: unknown): void {
    if (emission.done) return;
    emission.errors = this.#fail(emission.errors, emission.event, undefined, reason);
    this.#finish(emission);
  }

  #releaseSlot(emission: Emission): void {
    if (!emission.onPool) return;
    emission.onPool = false;
    jobDone(this.#pool!);
  }

  /** Runs listeners from `emission.index` on, until the end or an async listener. */
  #run(emission: Emission): void {
    if (emission.done) return;
    const { list, event } = emission;
    emission.busy = true;
    while (emission.index < list.length) {
      if (event.aborted || emission.cancelled) break;
      const registration = list[emission.index++];
      const state = registration.state;
      if ((state & REMOVED) !== 0) continue;
      if ((state & ONCE) !== 0) this.#unregister(registration);
      this.#delivered++;
      eventAccess.resetSignal(event);
      let result: unknown;
      try {
        result = (state & SPECIAL) !== 0
          ? this.#invoke(event, registration, emission)
          : registration.fn(event);
      } catch (error) {
        emission.errors = this.#fail(emission.errors, event, registration, error);
        continue;
      }
      if (result === undefined || result === null) continue;
      if (result instanceof Error) {
        emission.errors = this.#fail(emission.errors, event, registration, result);
        continue;
      }
      let promise: Promise<unknown>;
      if (result instanceof Promise && result.constructor === Promise) promise = result;
      else if (typeof (result as PromiseLike<unknown>).then === "function") {
        // A foreign thenable (or Promise subclass) may call back twice: adopt it once.
        promise = Promise.resolve(result as PromiseLike<unknown>);
      } else continue;
      // Cancelled while the listener ran: do not wait for what it returned.
      if (emission.cancelled) {
        this.#hold(emission, registration, promise);
        break;
      }
      return this.#wait(emission, registration, promise);
    }
    emission.busy = false;
    if (event.aborted && !emission.cancelled) this.#aborted++;
    this.#finish(emission);
  }

  /** `emitSync()` for a listener that is `once`, or has its own pool or a timeout. */
  #invokeSync(
    errors: Error[] | undefined,
    event: SoireeEvent,
    registration: Registration,
    state: number,
  ): Error[] | undefined {
    if ((state & ONCE) !== 0) this.#unregister(registration);
    // Its own signal, so that its timeout aborts only its invocation.
    eventAccess.resetSignal(event);
    let result: unknown;
    try {
      result = (state & SPECIAL) !== 0
        ? this.#invoke(event, registration, undefined)
        : registration.fn(event);
    } catch (error) {
      errors = this.#fail(errors, event, registration, error);
    }
    if (result !== undefined && result !== null) {
      errors = this.#syncResult(errors, event, registration, result);
    }
    eventAccess.resetSignal(event);
    return errors;
  }

  /** What `emitSync()` does with a listener's result: an `Error` fails, a promise is watched. */
  #syncResult(
    errors: Error[] | undefined,
    event: SoireeEvent,
    registration: Registration,
    result: unknown,
  ): Error[] | undefined {
    if (result instanceof Error) return this.#fail(errors, event, registration, result);
    if (result instanceof Promise) this.#settleLate(event, registration, result);
    else if (typeof (result as PromiseLike<unknown>).then === "function") {
      this.#settleLate(event, registration, Promise.resolve(result as PromiseLike<unknown>));
    }
    return errors;
  }

  /** Invokes a listener that has its own pool or a timeout. */
  #invoke(event: SoireeEvent, registration: Registration, emission: Emission | undefined): unknown {
    const pool = registration.pool;
    if (pool === undefined) return registration.fn(event);
    const signal = event.signal;
    // Lend the emitter slot while waiting on the class, unless a listener given up on still
    // runs on it: then it is not this emission's to lend.
    if (emission?.onPool && emission.abandoned === 0) emission.resume = suspendSlot(this.#pool!);
    // Removed while its call waited for a slot: never called (a once listener was removed by
    // this very dispatch, so its call goes ahead).
    const once = (registration.state & ONCE) !== 0;
    return pool.submit(
      () => once || registration.active ? registration.fn(event) : undefined,
      { signal },
    );
  }

  #wait(emission: Emission, registration: Registration, promise: Promise<unknown>): void {
    emission.pending = registration;
    emission.pendingPromise = promise;
    emission.busy = false;
    const ms = registration.timeout;
    if (ms === 0 && emission.userSignal === undefined && emission.deadline === undefined) {
      // Nothing but close() can stop this wait early, and that finishes the emission, so one
      // pair of callbacks per emission serves all its waits: a late call finds it done.
      if (emission.onValue === undefined) {
        emission.onValue = (value) => {
          const pending = emission.pending;
          if (emission.done || pending === undefined) return;
          this.#endWait(emission);
          if (value instanceof Error) {
            emission.errors = this.#fail(emission.errors, emission.event, pending, value);
          }
          this.#continue(emission);
        };
        emission.onError = (error) => {
          const pending = emission.pending;
          if (emission.done || pending === undefined) return;
          this.#endWait(emission);
          emission.errors = this.#fail(emission.errors, emission.event, pending, error);
          this.#continue(emission);
        };
      }
      promise.then(emission.onValue, emission.onError);
      return;
    }
    // This wait may be given up on while the emission goes on: its callbacks check a token.
    const token = ++emission.token;
    promise.then((value) => {
      if (emission.token !== token) return;
      this.#endWait(emission);
      if (value instanceof Error) {
        emission.errors = this.#fail(emission.errors, emission.event, registration, value);
      }
      this.#continue(emission);
    }, (error: unknown) => {
      if (emission.token !== token) return;
      this.#endWait(emission);
      emission.errors = this.#fail(emission.errors, emission.event, registration, error);
      this.#continue(emission);
    });
    if (ms > 0) {
      emission.timer = startTimer(ms, () => {
        if (emission.token !== token || emission.done) return;
        const error = timeoutError(`Listener ${registration.id}`, ms);
        const ctl = eventAccess.controller(emission.event);
        this.#abandon(emission);
        emission.errors = this.#fail(emission.errors, emission.event, registration, error);
        // Abort handlers run user code (which may cancel the emission): state is settled first.
        ctl?.abort(error);
        if (!emission.done) this.#continue(emission);
      });
    }
  }

  /**
   * Stops waiting for the pending listener. If it runs on the emission's own pool slot, the
   * slot stays held until it really returns, so the pool's bound is never exceeded.
   */
  #abandon(emission: Emission): void {
    const { pending, pendingPromise } = emission;
    this.#endWait(emission);
    if (pending !== undefined) this.#hold(emission, pending, pendingPromise!);
  }

  /**
   * Keeps the emitter pool slot held for a listener call the emission no longer waits for,
   * until that call really returns. A listener on a class pool holds that pool's slot instead.
   */
  #hold(emission: Emission, registration: Registration, promise: Promise<unknown>): void {
    if (!emission.onPool || registration.pool !== undefined) return;
    emission.abandoned++;
    const settled = (): void => {
      if (--emission.abandoned === 0 && emission.done && !emission.resuming) {
        this.#releaseSlot(emission);
      }
    };
    promise.then(settled, settled);
  }

  #endWait(emission: Emission): void {
    emission.token++;
    emission.pending = undefined;
    emission.pendingPromise = undefined;
    if (emission.timer !== undefined) {
      emission.timer();
      emission.timer = undefined;
    }
  }

  #continue(emission: Emission): void {
    if (emission.resume === undefined) return this.#run(emission);
    this.#reclaim(emission);
    // Cancelled: settle now rather than after the slot comes back, which may be never.
    if (emission.cancelled) this.#finish(emission);
  }

  /** Takes back the emitter pool slot lent during a class listener, then carries on. */
  #reclaim(emission: Emission): void {
    const resume = emission.resume!;
    emission.resume = undefined;
    emission.resuming = true;
    resume().then(() => {
      emission.resuming = false;
      if (!emission.done) return this.#run(emission);
      if (emission.abandoned === 0) this.#releaseSlot(emission);
    });
  }

  /** Watches a promise that `emitSync()` returned without awaiting. */
  #settleLate(event: SoireeEvent, registration: Registration, promise: Promise<unknown>): void {
    this.#late++;
    const ctl = eventAccess.controller(event);
    let settled = false;
    let timer: CancelTimer | undefined;
    const settle = (failed: boolean, error: unknown): void => {
      if (settled) return;
      settled = true;
      timer?.();
      if (this.#late > 0) this.#late--;
      if (failed) {
        const reported = this.#fail(undefined, event, registration, error);
        if (reported !== undefined) this.#panic(reported[0]);
      }
      this.#checkIdle();
    };
    promise.then(
      (value) => settle(value instanceof Error, value),
      (error: unknown) => settle(true, error),
    );
    const ms = registration.timeout;
    if (ms > 0) {
      timer = startTimer(ms, () => {
        const error = timeoutError(`Listener ${registration.id}`, ms);
        ctl?.abort(error);
        settle(true, error);
      });
    }
  }

  /**
   * Passes a failure through the error handler (a throwing handler goes to the panic one and
   * the default report is kept) and appends what it returns to `errors`.
   */
  #fail(
    errors: Error[] | undefined,
    event: SoireeEvent,
    registration: Registration | undefined,
    error: unknown,
  ): Error[] | undefined {
    this.#failed++;
    const info = registration === undefined
      ? undefined
      : { id: registration.id, pattern: registration.pattern };
    let reported: Error | undefined;
    try {
      reported = this.#errorHandler(event, error, info) ?? undefined;
    } catch (thrown) {
      this.#panic(thrown);
      try {
        reported = defaultErrorHandler(event, error, info);
      } catch {
        reported = new Error("A listener failed and its error could not be described", {
          cause: error,
        });
      }
    }
    if (reported === undefined) return errors;
    if (errors === undefined) return [reported];
    errors.push(reported);
    return errors;
  }

  #panic(value: unknown): void {
    try {
      this.#panicHandler(value);
    } catch (thrown) {
      console.error("Soiree: the panic handler threw", thrown, "while handling", value);
    }
  }

  /** Cancels an emission: the listener it waits for fails with the reason; no more run. */
  #cancel(emission: Emission, reason: unknown): void {
    if (emission.done || emission.cancelled) return;
    emission.cancelled = true;
    emission.cancelReason = reason;
    this.#aborted++;
    const ctl = eventAccess.controller(emission.event);
    const pending = emission.pending;
    if (pending !== undefined) {
      this.#abandon(emission);
      emission.errors = this.#fail(emission.errors, emission.event, pending, reason);
    } else {
      emission.errors = this.#fail(emission.errors, emission.event, undefined, reason);
    }
    // A busy emission (running listeners right now) sees `cancelled` at its next step.
    if (!emission.busy || emission.resuming) this.#finish(emission);
    // Abort handlers run user code: the emission's state is settled first.
    ctl?.abort(reason);
    if (emission.ticket !== undefined) withdrawJob(this.#pool!, emission.ticket, reason);
  }

  #finish(emission: Emission): void {
    if (emission.done) return;
    emission.done = true;
    emission.deadline?.();
    if (emission.onAbort !== undefined) {
      emission.userSignal!.removeEventListener("abort", emission.onAbort);
    }
    const { prev, next } = emission;
    if (prev !== undefined) prev.next = next;
    else this.#head = next;
    if (next !== undefined) next.prev = prev;
    emission.prev = emission.next = undefined;
    this.#inFlight--;
    // A slot lent to a class listener that never came back: take it back, then release it.
    if (emission.resume !== undefined) this.#reclaim(emission);
    else if (emission.abandoned === 0 && !emission.resuming) this.#releaseSlot(emission);
    emission.resolve!(emission.errors ?? NO_ERRORS);
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#inFlight > 0 || this.#late > 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function byPriorityThenSeq(a: Registration, b: Registration): number {
  return b.priority - a.priority || a.seq - b.seq;
}
