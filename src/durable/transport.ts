/**
 * The contract between the emitter and a durable engine: what `publish()` stores and what a
 * durable listener's consumer loop asks of the store. The memory transport is its reference
 * implementation; `@x/soiree/sqlite` (and later Redis and PostgreSQL) implement it on an engine
 * the user already runs. Every transport passes the same conformance suite
 * (`tests/conformance/`).
 *
 * The unit of delivery is one (event, durable name) pair, as in pg-boss and River: publishing
 * stores the event and one delivery for each durable name whose pattern matches its topic; each
 * delivery has its own attempts, lease and outcome.
 *
 * @module
 */

/**
 * A source of time, injectable so that tests can move time forward instead of sleeping. All
 * values are milliseconds; `now()` is milliseconds since the Unix epoch, as `Date.now()`.
 *
 * @example A clock that tests move by hand
 * ```ts
 * import type { Clock } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * let now = 0;
 * const clock: Clock = { now: () => now, setTimeout, clearTimeout };
 * now += 1_000;
 * assert.equal(clock.now(), 1_000);
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds of this clock; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer `setTimeout` started. */
  clearTimeout(handle: never): void;
}

/**
 * A durable listener's identity in the store: its name (the logical subscriber across every
 * process and restart) and the pattern it listens to.
 *
 * @example
 * ```ts
 * import { memoryTransport, type DurableSubscription } from "@x/soiree";
 *
 * const subscription: DurableSubscription = { name: "welcome-email", pattern: "user.created" };
 * await memoryTransport().subscribe(subscription);
 * ```
 */
export interface DurableSubscription {
  /** The durable name: 1 to 64 of `A-Z a-z 0-9 _ -`. */
  readonly name: string;
  /** The topic or pattern (`*`, `**`) whose events it receives. */
  readonly pattern: string;
}

/**
 * An event as stored: what a delivery hands back to the consumer.
 *
 * @example
 * ```ts
 * import type { StoredMessage } from "@x/soiree";
 *
 * const message: StoredMessage = {
 *   id: "01JD0000000000000000000000",
 *   topic: "user.created",
 *   data: '{"specversion":"1.0","id":"01JD0000000000000000000000","source":"soiree",' +
 *     '"type":"user.created","time":"2026-12-01T00:00:00.000Z",' +
 *     '"datacontenttype":"application/json","data":{"email":"ada@example.com"}}',
 *   publishedAt: Date.UTC(2026, 11, 1),
 * };
 * void message;
 * ```
 */
export interface StoredMessage {
  /** The event's ID: a ULID from the emitter's ID generator. */
  readonly id: string;
  /** The topic it was published to (never a pattern). */
  readonly topic: string;
  /**
   * The event as a CloudEvents 1.0 JSON document (structured mode; see `CloudEvent`): its
   * attributes, the trace context and the payload as the emitter's codec encoded it, in `data`.
   * Soiree writes it at `publish()` and reads it at delivery; a transport stores it as opaque
   * text and hands it back unchanged.
   */
  readonly data: string;
  /** When `publish()` was called, in milliseconds since the Unix epoch. */
  readonly publishedAt: number;
}

/**
 * What `publish()` hands the transport to store.
 *
 * @example
 * ```ts
 * import { memoryTransport, type OutgoingMessage } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const transport = memoryTransport();
 * const message: OutgoingMessage = {
 *   id: "01JD0000000000000000000000",
 *   topic: "user.created",
 *   data: "{}",
 *   publishedAt: Date.now(),
 *   idempotencyKey: undefined,
 *   dedupeWindow: 86_400_000,
 * };
 * assert.deepEqual(await transport.publish(message), { id: message.id, duplicate: false });
 * ```
 */
export interface OutgoingMessage extends StoredMessage {
  /**
   * The producer's idempotency key: while a message with the same key was stored less than
   * `dedupeWindow` ago, storing this one must store nothing and answer that message's ID with
   * `duplicate: true`. `undefined`: no deduplication.
   */
  readonly idempotencyKey: string | undefined;
  /** How long (ms) an idempotency key is remembered. */
  readonly dedupeWindow: number;
  /**
   * The ordering key (`publish(…, { key })`): the deliveries of one key to one durable name
   * start in publish order, one at a time. `undefined` (or absent): no ordering. Only a transport
   * whose `features.orderingKeys` is true is handed one.
   */
  readonly key?: string | undefined;
}

/**
 * What a transport supports beyond the contract every transport keeps, read by `publish()` and
 * the consumers: `publish(…, { tx })` and `publish(…, { key })` are refused with a `TypeError`
 * (before anything is stored) on a transport that does not declare them. Absent means `false`.
 *
 * @example The memory transport orders by key, but has no transactions
 * ```ts
 * import { memoryTransport, type TransportFeatures } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const features: TransportFeatures | undefined = memoryTransport().features;
 * assert.equal(features?.orderingKeys, true);
 * assert.equal(features?.transactions ?? false, false);
 * ```
 */
export interface TransportFeatures {
  /**
   * `publish(message, tx)` stores through the caller's transaction, and `Delivery.complete(tx)`
   * acks inside one (the transactional outbox).
   */
  readonly transactions?: boolean;
  /** Ordering keys: `OutgoingMessage.key` is honoured. */
  readonly orderingKeys?: boolean;
}

/**
 * What `publish()` resolves with once the event is stored.
 *
 * @example
 * ```ts
 * import { memoryTransport, type PublishReceipt, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree({ transport: memoryTransport() });
 * const first: PublishReceipt = await soiree.publish("a", 1, { idempotencyKey: "k" });
 * const again = await soiree.publish("a", 1, { idempotencyKey: "k" });
 * assert.deepEqual(again, { id: first.id, duplicate: true });
 * await soiree.close();
 * ```
 */
export interface PublishReceipt {
  /** The stored event's ID; for a duplicate, the ID of the event stored first. */
  readonly id: string;
  /** Whether an event with the same idempotency key was already stored, so nothing new was. */
  readonly duplicate: boolean;
}

/**
 * One (event, durable name) pair, leased to this process by `Transport.receive()`. Each
 * settling method applies only while this process still holds the lease: it resolves `false`,
 * changing nothing, when the lease expired and the delivery may belong to another process now.
 * Each rejects when the store cannot be reached.
 *
 * @example Settle a delivery by hand
 * ```ts
 * import { memoryTransport } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const transport = memoryTransport();
 * await transport.subscribe({ name: "audit", pattern: "user.*" });
 * await transport.publish({
 *   id: "01JD0000000000000000000000",
 *   topic: "user.created",
 *   data: "1",
 *   publishedAt: Date.now(),
 *   idempotencyKey: undefined,
 *   dedupeWindow: 1,
 * });
 * const [delivery] = await transport.receive("audit", 10, 30_000);
 * assert.equal(delivery.attempt, 1);
 * assert.equal(await delivery.ack(), true);
 * assert.deepEqual(await transport.receive("audit", 10, 30_000), []);
 * ```
 */
export interface Delivery {
  /** The event. */
  readonly message: StoredMessage;
  /** 1-based, counted by the store: a delivery received again after a crash counts one more. */
  readonly attempt: number;
  /**
   * Renews the lease for `lease` ms from now (a heartbeat); does not count an attempt.
   *
   * @returns `false` when the lease was already lost.
   */
  extend(lease: number): Promise<boolean>;
  /** Done: the delivery is never handed out again. */
  ack(): Promise<boolean>;
  /**
   * Failed this attempt: hand it out again after `delay` ms, recording `error`.
   *
   * @param delay Milliseconds before it may be received again (0: at once).
   * @param error What failed, as text, kept until the next outcome.
   */
  retry(delay: number, error: string): Promise<boolean>;
  /** Parks it as a dead letter with `error`: listed by `deadLetters()` until redriven. */
  deadLetter(error: string): Promise<boolean>;
  /**
   * Gives the lease back: the delivery may be received at once, here or elsewhere.
   *
   * @param started Whether the listener started: if not, the attempt is not counted.
   */
  release(started: boolean): Promise<boolean>;
  /**
   * Optional, with `features.transactions`: acks the delivery inside the caller's transaction
   * `tx` (a transaction of the transport's engine), so the ack commits or rolls back with the
   * caller's own writes. Resolves once the ack ran inside `tx`: the delivery is done once `tx`
   * commits; if it rolls back, the lease ends and the delivery comes again.
   *
   * @returns `false` when the lease was already lost (nothing was written through `tx`).
   */
  complete?(tx: unknown): Promise<boolean>;
}

/**
 * A parked delivery, as the store keeps it.
 *
 * @example
 * ```ts
 * import type { StoredDeadLetter } from "@x/soiree";
 *
 * const parked: StoredDeadLetter = {
 *   message: { id: "01JD0000000000000000000000", topic: "a", data: "1", publishedAt: 0 },
 *   attempts: 5,
 *   error: "Error: SMTP 554",
 *   deadAt: 1,
 * };
 * void parked;
 * ```
 */
export interface StoredDeadLetter {
  /** The event. */
  readonly message: StoredMessage;
  /** Attempts made, the last one included. */
  readonly attempts: number;
  /** The last error, as text. */
  readonly error: string;
  /** When it was parked, in milliseconds since the Unix epoch. */
  readonly deadAt: number;
}

/**
 * A durable store for `publish()` and durable listeners. Soiree calls it; users pick one
 * (`memoryTransport()`, `sqliteTransport()` from `@x/soiree/sqlite`) and pass it as
 * `new Soiree({ transport })`. An implementation must keep these promises, which the
 * conformance suite checks:
 *
 * - Nothing whose `publish()` resolved is lost (for a transport that calls itself durable):
 *   each matching delivery is handed out until it is acked or dead-lettered.
 * - `receive()` never returns more than `max` deliveries and never hands one delivery to two
 *   holders of a live lease; an expired lease makes it receivable again with `attempt + 1`.
 * - Attempts are counted by the store, so a crash counts.
 * - An idempotency key seen within its window stores nothing and answers `duplicate: true`.
 * - `close()` releases what the transport opened, never a handle or client the user passed.
 *
 * Methods reject when the store cannot be reached; Soiree backs off and retries in its
 * consumer loops, and rejects `publish()` with a `PublishError` whose `cause` is the error.
 *
 * @example The memory transport is one
 * ```ts
 * import { memoryTransport, type Transport } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const transport: Transport = memoryTransport();
 * assert.equal(transport.name, "memory");
 * await transport.close();
 * ```
 */
export interface Transport {
  /** A short name for logs and metrics (`"memory"`, `"sqlite"`). */
  readonly name: string;
  /** What the transport supports beyond the contract; absent: none of it. */
  readonly features?: TransportFeatures;
  /**
   * Stores a durable name and its pattern, idempotently; events published from now on are
   * kept for it even while no process runs it. Registering a name again with another pattern
   * replaces the pattern for events published afterwards.
   */
  subscribe(subscription: DurableSubscription): Promise<void>;
  /**
   * Stores the event and one delivery per subscription whose pattern matches its topic, at
   * once (all or nothing), and resolves only once they are stored.
   *
   * With `tx` (only on a transport whose `features.transactions` is true), it writes through the
   * caller's transaction instead, and resolves once the writes ran inside it: they are delivered
   * if and only if that transaction commits. Its consumers must not count on it having committed
   * when they are woken (a wake-up after the commit, or polling, finds it).
   */
  publish(message: OutgoingMessage, tx?: unknown): Promise<PublishReceipt>;
  /**
   * Leases up to `max` deliveries of `name` that are due: ready ones and those whose lease
   * expired, oldest first. Each counts one attempt. Resolves `[]` when none is due.
   *
   * @param name The durable name.
   * @param max At most this many (a positive integer).
   * @param lease Milliseconds the lease lasts unless extended.
   */
  receive(name: string, max: number, lease: number): Promise<readonly Delivery[]>;
  /**
   * Resolves when `receive(name)` may find something: a local publish or redrive, a retry or
   * lease coming due, or at the latest after the transport's poll interval. Resolves at once
   * when `signal` aborts.
   */
  wait(name: string, signal: AbortSignal): Promise<void>;
  /** Up to `limit` dead letters of `name`, oldest first. */
  deadLetters(name: string, limit: number): Promise<readonly StoredDeadLetter[]>;
  /**
   * Makes up to `limit` dead letters of `name` (oldest first) ready again, with their
   * attempts reset to 0.
   *
   * @returns How many were put back.
   */
  redrive(name: string, limit: number): Promise<number>;
  /**
   * Optional: counts the deliveries of `name` by state, as the store holds them now (every
   * process's, not this one's), for `Soiree.metrics()` to read at scrape time
   * (`soiree_queue_messages`, `soiree_delivery_lag_seconds`). A transport without it has no
   * such gauges. It should cost one or two reads on an index.
   */
  inspect?(name: string): Promise<QueueState>;
  /**
   * Optional, with `onBroadcast()`: sends a message to every process sharing the transport
   * (this one included) at most once, without storing it: a process that is not listening at
   * that moment misses it. Resolves once the store accepted it. Soiree's `broadcast()` refuses
   * with a `TypeError` when the transport has no such method.
   */
  broadcast?(message: StoredMessage): Promise<void>;
  /**
   * Optional, with `broadcast()`: starts receiving the broadcasts of every process sharing the
   * transport, this one's included. `handler` is called once per message received;
   * `onError` with each failure of the receiving side (a connection lost, a message that does
   * not parse), which the transport keeps recovering from on its own.
   *
   * `signal` aborts when the emitter closes before receiving has started: the transport should
   * then release what it opened for it and reject, without waiting for a server that is down.
   *
   * @returns A promise that resolves once receiving has started (a broadcast sent after that
   * reaches `handler`), with a function that stops it.
   */
  onBroadcast?(
    handler: (message: StoredMessage) => void,
    onError: (error: unknown) => void,
    signal?: AbortSignal,
  ): Promise<() => Promise<void>>;
  /** Releases what the transport opened itself. Soiree calls it from `close()`. */
  close(): Promise<void>;
}

/**
 * The deliveries of one durable name by state, from `Transport.inspect()`. Each delivery is in
 * exactly one of the four counts.
 *
 * @example
 * ```ts
 * import { memoryTransport, type QueueState } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const transport = memoryTransport();
 * await transport.subscribe({ name: "audit", pattern: "user.*" });
 * const state: QueueState = await transport.inspect!("audit");
 * assert.deepEqual(state, { ready: 0, delayed: 0, inFlight: 0, dead: 0, lag: 0 });
 * await transport.close();
 * ```
 */
export interface QueueState {
  /** Due now, waiting for a consumer. */
  readonly ready: number;
  /** Waiting for a retry delay to end (due later). */
  readonly delayed: number;
  /** Leased to a consumer (an ended lease not yet taken again included). */
  readonly inFlight: number;
  /** Dead letters. */
  readonly dead: number;
  /**
   * Milliseconds since the oldest ready delivery came due, on the transport's clock (how long
   * the next one in line has waited); 0 when none is ready.
   */
  readonly lag: number;
}
