/**
 * The options of the emitter and of its methods, the handlers of its failure path, its
 * statistics, and the argument lists a typed event map gives `emit()` and `emitSync()`.
 *
 * @module
 */

import type { SoireeEvent } from "./event.ts";
import type { ListenerInfo } from "./listener.ts";
import type { Pool } from "./pool.ts";
import type { PoolOptions } from "./pool_options.ts";
import type { Codec } from "./durable/codec.ts";
import type { DurableStats } from "./durable/durable_options.ts";
import type { Transport } from "./durable/transport.ts";
import type { Tracer } from "./tracing.ts";

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
 * How an `emit()` runs its listeners.
 *
 * - `"sequential"` (the default, as in the Go original): one after another in the emission's
 *   order (priority, then subscription order), each awaited before the next starts. A listener
 *   sees what the ones before it did to the event, and `abort()` stops every one after it.
 * - `"concurrent"`: the listeners of one priority level start together, each with its own
 *   copy of the event (same topic, ID and properties map; its own payload, abort flag and
 *   signal); the next level starts when they have all settled or been given up on, and sees
 *   the payload of the last listener (in order) of the level that replaced it. `abort()` by
 *   any of them stops the levels after the current one. One slow workload class then no
 *   longer holds up the other listeners of its level.
 *
 * @example A slow listener does not hold up the fast one beside it
 * ```ts
 * import { Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree({ dispatch: "concurrent" });
 * const order: string[] = [];
 * soiree.on("user.created", async () => {
 *   await new Promise((resolve) => setTimeout(resolve, 20));
 *   order.push("email sent");
 * });
 * soiree.on("user.created", () => void order.push("analytics"));
 * await soiree.emit("user.created");
 * assert.deepEqual(order, ["analytics", "email sent"]);
 * ```
 */
export type DispatchMode = "sequential" | "concurrent";

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
   * Maps each failure (a listener's, or an emission refused by a closed emitter, a full pool
   * or an aborted signal) to what `emit()` or `emitSync()` reports. Passing one takes over
   * logging too: the default both reports and logs.
   *
   * @default {wraps a listener's failure in a `ListenerError` naming topic, pattern and listener ID, reports it, and logs it once with `console.error` (cause and stack included)}
   */
  errorHandler?: ErrorHandler;
  /**
   * Receives what the failure path itself cannot deliver: an error handler that throws, a
   * failure that arrives after `emitSync()` returned, a throw from the ID generator while
   * making an event ID; and what concerns no single event of a durable listener: a transport
   * call that failed in its loop (the first of a streak; the loop backs off and retries), a
   * stored event that no longer decodes.
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
   * How `emit()` runs the listeners of one emission: `"sequential"`, one after another in
   * order, each awaited before the next starts; or `"concurrent"`, the listeners of each
   * priority level started together, the next level once they have all settled. See
   * {@linkcode DispatchMode}. `emitSync()` always runs them in order without awaiting.
   *
   * @default {"sequential"}
   */
  dispatch?: DispatchMode;
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
  /**
   * Where `publish()` stores events for durable listeners: `memoryTransport()` for tests and
   * one process, `sqliteTransport()` from `@x/soiree/sqlite` to survive restarts and share the
   * work between processes on one machine. Emitters may share one, as processes share a store:
   * `close()` closes it once no other open emitter uses it (and the transport closes only what
   * it opened itself, never a database handle you passed it).
   *
   * @default {none: publish() and durable listeners throw a TypeError naming the choices}
   */
  transport?: Transport;
  /**
   * Encodes published payloads for the store and decodes them for durable listeners.
   *
   * @default {jsonCodec}
   */
  codec?: Codec;
  /**
   * The CloudEvents `source` of the events `publish()` stores (each is stored as a CloudEvents
   * 1.0 JSON document; see `CloudEvent`): a URI-reference naming this service, such as
   * `"/shop/orders"` or `"https://shop.example.com"`. `source` and the event ID identify an
   * event for other systems.
   *
   * @default {"soiree"}
   */
  source?: string;
  /**
   * Traces durable delivery with OpenTelemetry: an object shaped like `@opentelemetry/api`'s
   * `Tracer` (`trace.getTracer(name)`), used without importing the API. `publish()` starts a
   * `publish <topic>` span (PRODUCER, child of the caller's active span) and writes its
   * context into the stored event (`traceparent`, `tracestate`); each delivery runs in a
   * `process <durable name>` span (CONSUMER) whose parent is that publish span, in whichever
   * process it runs. Spans carry the OpenTelemetry messaging attributes and end with status
   * ERROR and the exception recorded when the operation fails. See the README's "Tracing".
   *
   * @default {none: no spans, and nothing on any path costs more}
   */
  tracer?: Tracer;
  /**
   * Also traces in-process emissions (needs `tracer`): each `emit()` and `emitSync()` that has
   * listeners runs in an INTERNAL span `emit <topic>`, ended when the emission is over, with
   * status ERROR (the first error's message, up to 8 errors recorded) when it reports errors.
   * Off by default: emissions are the hot path, often far more numerous than publishes. Spans
   * that listeners start are not its children (that takes the OpenTelemetry context API, which
   * Soiree does not import).
   *
   * @default {false}
   */
  traceEmit?: boolean;
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
   * How this emission runs the listeners of one emission: `"sequential"`, one after another in
   * order, each awaited before the next starts; or `"concurrent"`, the listeners of each
   * priority level started together, the next level once they have all settled. See
   * {@linkcode DispatchMode}. `emitSync()` always runs them in order without awaiting.
   *
   * @default {the emitter's `dispatch` option}
   */
  dispatch?: DispatchMode;
  /**
   * Cancels the emission: a listener running then sees `event.signal` abort and is reported
   * as failed with the reason; the listeners after it do not run.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds the whole emission may take, counted from `emit()`, time waiting for a
   * pool included; then it is cancelled as by `signal`, with a `TimeoutError`. A positive number, or `Infinity` for none (0 and negatives are a `RangeError`).
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
  /**
   * Stop waiting when it aborts: in-flight emissions are cancelled with its reason, and what
   * closing the durable side still has to do gets 1,000 ms more.
   */
  signal?: AbortSignal;
  /**
   * Stop waiting after this many milliseconds, as `signal` with a `TimeoutError`. A positive
   * number, or `Infinity` for none (0 and negatives are a `RangeError`).
   */
  timeout?: number;
}

/**
 * Options of {@linkcode Soiree.prototype.waitFor}.
 *
 * @typeParam P The payload type.
 * @typeParam T The topic type.
 * @typeParam V The event `filter` sees: by default one event type with payload `P` and topic
 * `T`; `waitFor()` on a typed emitter passes `PatternEvent`, one event type per
 * matched topic, so checking `event.topic` in the filter narrows `event.payload`.
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
export interface WaitForOptions<P = unknown, T extends string = string, V = SoireeEvent<P, T>> {
  /** Rejects with its reason when it aborts. */
  signal?: AbortSignal;
  /** Rejects with a `TimeoutError` after this many milliseconds. A positive number, or `Infinity` for none (0 and negatives are a `RangeError`). */
  timeout?: number;
  /** Only an event for which this returns `true` resolves the wait. */
  filter?: (event: V) => boolean;
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
  /** Listeners subscribed now (in-process ones; durable ones are in `durable.listeners`). */
  listeners: number;
  /** Durable delivery: publishes, deliveries and their outcomes in this process. */
  durable: DurableStats;
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
