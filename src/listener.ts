/**
 * What a listener is and what subscribing gives back: the listener function, its options,
 * the subscription handle, and how a failed listener is named to the error handler.
 *
 * @module
 */

import type { SoireeEvent } from "./event.ts";
import type { Pool } from "./pool.ts";
import type { PoolOptions } from "./pool_options.ts";

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
   * Invoke the listener at most once: the emission that reaches it unsubscribes it first, so
   * overlapping emissions cannot call it twice. On a class pool it is claimed instead while its
   * call waits for a slot (other emissions skip it) and unsubscribed when the call starts; a
   * call given up on before it started (timeout, cancelled emission) releases it for the next
   * emission, and `off()` in between means the call never runs.
   *
   * @default {false}
   */
  once?: boolean;
  /** Unsubscribes the listener when it aborts. */
  signal?: AbortSignal;
  /**
   * Runs the listener's invocations as tasks on this pool (a workload class), bounded
   * separately from other listeners. The emission waits for it as for any listener. Pool
   * options (as for `new Soiree({ pool })`) make a pool of this listener's own, closed when
   * the listener is removed; share a `Pool` to bound several listeners together.
   *
   * @default {no pool: the listener runs on the emission's own turn}
   */
  pool?: Pool | PoolOptions;
  /**
   * Milliseconds an invocation may take; then its `event.signal` aborts with a
   * `TimeoutError`, it is reported as failed and the emission moves on. A positive number, or `Infinity` for none (0 and negatives are a `RangeError`).
   *
   * @default {no timeout}
   */
  timeout?: number;
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
