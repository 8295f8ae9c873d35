/**
 * The options and results of durable delivery: a durable listener's options and retry policy,
 * `publish()`'s options, what `deadLetters()` lists and the durable figures of `stats()`.
 *
 * @module
 */

import type { Pool } from "../pool.ts";
import type { PoolOptions } from "../pool_options.ts";

/**
 * How a durable listener's failed attempts are retried: exponential backoff with full jitter
 * (a random delay between 0 and `min(cap, base × 2^(attempt − 1))` ms, as in the AWS
 * Architecture Blog's "Exponential Backoff And Jitter"), up to `attempts` attempts in all;
 * then the delivery is dead-lettered. Attempts are counted by the store, so a process killed
 * mid-attempt spends one. A listener that throws (or rejects with, or returns) a
 * `PermanentError` is dead-lettered at once.
 *
 * @example Three quick attempts
 * ```ts
 * import { memoryTransport, type RetryOptions, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const retry: RetryOptions = { attempts: 3, base: 1, cap: 5 };
 * const soiree = new Soiree({ transport: memoryTransport(), errorHandler: () => {} });
 * const attempts: number[] = [];
 * const dead = Promise.withResolvers<void>();
 * soiree.on("sms.send", (event) => {
 *   attempts.push(event.attempt);
 *   if (event.attempt === 3) setTimeout(dead.resolve, 20);
 *   throw new Error("gateway down");
 * }, { durable: "sms", retry });
 * await soiree.publish("sms.send", "hello");
 * await dead.promise;
 * assert.deepEqual(attempts, [1, 2, 3]);
 * assert.equal((await soiree.deadLetters("sms")).length, 1);
 * await soiree.close();
 * ```
 */
export interface RetryOptions {
  /**
   * Attempts in all, the first included: a positive integer.
   *
   * @default {5}
   */
  attempts?: number;
  /**
   * The first retry's delay bound, in milliseconds (positive).
   *
   * @default {1_000}
   */
  base?: number;
  /**
   * The largest delay, in milliseconds (at least `base`).
   *
   * @default {300_000 (5 minutes)}
   */
  cap?: number;
  /**
   * Replaces the backoff: the milliseconds to wait before the next attempt, given the attempt
   * that just failed (1-based) and its error. A non-negative finite number; anything else (or
   * a throw) falls back to the backoff and goes to the panic handler.
   *
   * @default {exponential backoff with full jitter}
   */
  delay?: (attempt: number, error: unknown) => number;
}

/**
 * Options of a durable listener: `on(pattern, listener, { durable: name, … })`. Its events
 * come from `publish()` through the transport, in every process that shares it, never from
 * `emit()`.
 *
 * @example A workload class for emails
 * ```ts
 * import { type DurableListenerOptions, memoryTransport, Pool, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const emails = new Pool({ concurrency: 5, name: "emails" });
 * const options: DurableListenerOptions = {
 *   durable: "welcome-email",
 *   pool: emails,
 *   timeout: 30_000,
 *   retry: { attempts: 5 },
 * };
 * const soiree = new Soiree({ transport: memoryTransport() });
 * const subscription = soiree.on("user.created", () => {}, options);
 * assert.equal(subscription.pattern, "user.created");
 * await soiree.close();
 * await emails.close();
 * ```
 */
export interface DurableListenerOptions {
  /**
   * The durable name: 1 to 64 of `A-Z a-z 0-9 _ -`. It is the listener's identity in the store
   * across processes and restarts: every process that registers it shares its deliveries (each
   * handled by one process at a time), and events published after it was first registered are
   * kept for it while no process runs it. One listener per name in a process.
   */
  durable: string;
  /**
   * Orders this listener's claims on a pool it shares with other durable listeners: higher
   * first; equal priorities take turns. Any finite number.
   *
   * @default {Priority.Normal}
   */
  priority?: number;
  /** Stops this listener (as `off()`) when it aborts. */
  signal?: AbortSignal;
  /**
   * The workload class: the listener fetches at most as many deliveries as the pool has free
   * slots, and runs each as a task there, so the backlog stays in the store. Pool options make a
   * pool of the listener's own (concurrency 1 unless they say otherwise), closed with it.
   *
   * @default {a pool of its own with concurrency 1}
   */
  pool?: Pool | PoolOptions;
  /**
   * Milliseconds an attempt may take: then its `event.signal` aborts with a `TimeoutError` and
   * the attempt counts as failed (retried or dead-lettered). The slot is held until the
   * listener returns. A positive number, or `Infinity` for none.
   *
   * @default {no timeout}
   */
  timeout?: number;
  /**
   * Milliseconds a delivery stays leased to this process without a renewal. While the listener
   * runs, the lease is renewed every third of it; a process that dies stops renewing, and the
   * delivery goes to another process once the lease ends.
   *
   * @default {the timeout plus 5_000, or 30_000 without a timeout}
   */
  lease?: number;
  /**
   * How failed attempts are retried.
   *
   * @default {5 attempts, backoff from 1 s capped at 5 min}
   */
  retry?: RetryOptions;
}

/**
 * Options of `publish()`.
 *
 * @example Publish once per order, however often the caller retries
 * ```ts
 * import { memoryTransport, type PublishOptions, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree({ transport: memoryTransport() });
 * const options: PublishOptions = { idempotencyKey: "order-8812-paid" };
 * const first = await soiree.publish("order.paid", { id: 8812 }, options);
 * const second = await soiree.publish("order.paid", { id: 8812 }, options);
 * assert.deepEqual(second, { id: first.id, duplicate: true });
 * await soiree.close();
 * ```
 */
export interface PublishOptions {
  /**
   * A producer key (a non-empty string of at most 256 characters): publishing again with the
   * same key within `dedupeWindow` stores nothing and resolves with the first event's ID and
   * `duplicate: true`.
   *
   * @default {none: every publish stores an event}
   */
  idempotencyKey?: string;
  /**
   * Milliseconds the idempotency key is remembered.
   *
   * @default {86_400_000 (24 hours)}
   */
  dedupeWindow?: number;
  /**
   * An ordering key (a non-empty string of at most 256 characters): the deliveries of events
   * published with the same key start, for each durable name, in publish order and one at a
   * time (the next starts once the previous one is acked or dead-lettered; a retry keeps its
   * place at the head). Events of other keys, or without a key, are never held up by it. Only
   * on a transport whose `features.orderingKeys` is true (memory, SQLite, PostgreSQL): elsewhere
   * `publish()` throws a `TypeError`.
   *
   * @default {none: no ordering}
   */
  key?: string;
  /**
   * A transaction of the transport's engine to store the event through (the transactional
   * outbox): for `@x/soiree/postgres`, a client inside `BEGIN` with `query(text, params)`.
   * `publish()` resolves once the event is written inside it; it is delivered if and only if
   * that transaction commits. Only on a transport whose `features.transactions` is true
   * (PostgreSQL): elsewhere `publish()` throws a `TypeError`.
   *
   * @default {none: the transport stores the event on its own}
   */
  tx?: unknown;
}

/**
 * Options of `deadLetters()` and `redrive()`.
 *
 * @example
 * ```ts
 * import { type DeadLetterOptions, memoryTransport, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree({ transport: memoryTransport() });
 * const options: DeadLetterOptions = { limit: 10 };
 * assert.deepEqual(await soiree.deadLetters("welcome-email", options), []);
 * await soiree.close();
 * ```
 */
export interface DeadLetterOptions {
  /**
   * At most this many, oldest first: a positive integer.
   *
   * @default {100}
   */
  limit?: number;
}

/**
 * A delivery parked after its last attempt or a `PermanentError`.
 *
 * @typeParam P The payload type.
 *
 * @example List what the welcome emails gave up on
 * ```ts
 * import { type DeadLetter, memoryTransport, PermanentError, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree({ transport: memoryTransport(), errorHandler: () => {} });
 * const failed = Promise.withResolvers<void>();
 * soiree.on("user.created", () => {
 *   setTimeout(failed.resolve, 10);
 *   throw new PermanentError("mailbox does not exist");
 * }, { durable: "welcome-email" });
 * await soiree.publish("user.created", "nobody@example.com");
 * await failed.promise;
 * const [letter]: readonly DeadLetter[] = await soiree.deadLetters("welcome-email");
 * assert.equal(letter.payload, "nobody@example.com");
 * assert.equal(letter.attempts, 1);
 * assert.match(letter.error, /mailbox does not exist/);
 * await soiree.close();
 * ```
 */
export interface DeadLetter<P = unknown> {
  /** The published event's ID. */
  readonly id: string;
  /** Its topic. */
  readonly topic: string;
  /** Its payload, decoded; `undefined` when the stored data no longer decodes. */
  readonly payload: P;
  /** The event as stored: its CloudEvents JSON document, the codec's text in `data`. */
  readonly data: string;
  /** Attempts made. */
  readonly attempts: number;
  /** The last error, as text (its name, message and causes). */
  readonly error: string;
  /** When it was published. */
  readonly publishedAt: Date;
  /** When it was parked. */
  readonly deadAt: Date;
}

/**
 * The durable figures of `stats()`, counted by this process since it started.
 *
 * @example
 * ```ts
 * import { type DurableStats, memoryTransport, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree({ transport: memoryTransport() });
 * await soiree.publish("a", 1);
 * const stats: DurableStats = soiree.stats().durable;
 * assert.equal(stats.published, 1);
 * await soiree.close();
 * ```
 */
export interface DurableStats {
  /** Durable listeners registered now. */
  listeners: number;
  /** Events `publish()` stored. */
  published: number;
  /** `publish()` calls answered `duplicate: true`. */
  duplicates: number;
  /** Deliveries received from the transport. */
  received: number;
  /** Deliveries acked (the listener succeeded). */
  acked: number;
  /** Failed attempts scheduled for another attempt. */
  retried: number;
  /** Deliveries parked as dead letters. */
  deadLettered: number;
  /** Deliveries given back unfinished (at `close()`, or fetched after it began). */
  released: number;
  /** Deliveries whose lease was lost before they were settled. */
  leasesLost: number;
  /**
   * Failed transport calls in consumer loops and settlements (each retried), and failures of
   * the side that receives broadcasts.
   */
  transportErrors: number;
  /** Events `broadcast()` handed to the transport. */
  broadcastsSent: number;
  /** Broadcasts received (from every process, this one included) and emitted here. */
  broadcastsReceived: number;
}

/**
 * The arguments after the topic of `publish()` for topic `K` of event map `E`.
 *
 * @example A payload is optional only where the map allows undefined
 * ```ts
 * import type { PublishArgs } from "@x/soiree";
 *
 * type Events = { "user.created": { email: string }; "system.tick": undefined };
 * const tick: PublishArgs<Events, "system.tick"> = [];
 * const created: PublishArgs<Events, "user.created"> = [{ email: "a@b.c" }, { idempotencyKey: "k" }];
 * // @ts-expect-error the payload of user.created is required
 * const missing: PublishArgs<Events, "user.created"> = [];
 * void tick, created, missing;
 * ```
 */
export type PublishArgs<E, K extends keyof E> = undefined extends E[K]
  ? [payload?: E[K], options?: PublishOptions]
  : [payload: E[K], options?: PublishOptions];
