/**
 * The event handed to a durable listener: one delivery of a published event.
 *
 * @module
 */

import { SoireeEvent } from "../event.ts";

/**
 * One delivery of a published event to one durable listener. It is a {@linkcode SoireeEvent}
 * (so error handlers take it as they are), plus what at-least-once delivery needs: which
 * attempt this is, a key that stays the same across attempts, and when it was published.
 *
 * There is one listener per delivery, so `abort()` stops nothing else: it only sets `aborted`.
 * `signal` aborts when the listener's `timeout` passes, when the lease was lost (another
 * process may be running the same delivery now), and when `close()` gives up waiting.
 *
 * @typeParam P The payload type.
 * @typeParam T The topic type.
 *
 * @example Hand the idempotency key to the side effect
 * ```ts
 * import { memoryTransport, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const sent = new Map<string, string>(); // a mail provider that deduplicates by key
 * const soiree = new Soiree({ transport: memoryTransport() });
 * const done = Promise.withResolvers<void>();
 * soiree.on("user.created", (event) => {
 *   sent.set(event.idempotencyKey, `welcome ${event.payload}`);
 *   assert.equal(event.attempt, 1);
 *   done.resolve();
 * }, { durable: "welcome-email" });
 * const { id } = await soiree.publish("user.created", "ada@example.com");
 * await done.promise;
 * assert.deepEqual([...sent.keys()], [`${id}/welcome-email`]);
 * await soiree.close();
 * ```
 */
export class DurableEvent<P = unknown, T extends string = string> extends SoireeEvent<P, T> {
  /** 1-based: the first delivery is attempt 1, and each retry or crash redelivery adds one. */
  readonly attempt: number;
  /** The durable name of the listener this delivery is for. */
  readonly listener: string;
  /** When `publish()` was called. */
  readonly publishedAt: Date;
  readonly #id: string;
  readonly #signal: AbortSignal;
  readonly #complete: ((tx: unknown) => Promise<void>) | undefined;

  /**
   * Creates a delivery's event. Soiree creates them; constructing one is useful in tests of
   * durable listeners.
   *
   * @param topic The published topic.
   * @param payload The decoded payload.
   * @param delivery `id` (the published event's ID), `listener` (the durable name),
   * `attempt` (1-based), `publishedAt` (ms since the Unix epoch), `signal`, and `complete`
   * (what {@linkcode DurableEvent.complete} runs; absent, it rejects).
   */
  constructor(
    topic: T,
    payload: P,
    delivery: {
      id: string;
      listener: string;
      attempt: number;
      publishedAt: number;
      signal?: AbortSignal;
      complete?: (tx: unknown) => Promise<void>;
    },
  ) {
    super(topic, payload);
    this.#id = delivery.id;
    this.listener = delivery.listener;
    this.attempt = delivery.attempt;
    this.publishedAt = new Date(delivery.publishedAt);
    this.#signal = delivery.signal ?? new AbortController().signal;
    this.#complete = delivery.complete;
  }

  /**
   * Acks this delivery inside your own transaction `tx`, so that your side effect and the ack
   * commit or roll back together (effectively once, for work in the same database). Call it
   * once, while the listener runs, before you commit `tx`; Soiree then acks nothing itself when
   * the listener returns, and counts the delivery as acked. If `tx` rolls back, nothing was
   * acked: the lease ends and the delivery comes again (attempt + 1). While `tx` stays open it
   * holds the delivery's row, so do not leave it open. Only on a transport whose
   * `features.transactions` is true (`@x/soiree/postgres`, where `tx` is a client inside
   * `BEGIN` with `query(text, params)`).
   *
   * @param tx A transaction of the transport's engine.
   * @returns Resolves once the ack ran inside `tx`.
   * @throws {TypeError} (rejects) When the transport cannot ack inside a transaction, when
   * `complete()` was already called, or when the listener has already returned.
   * @throws {Error} (rejects) When the lease was lost (roll `tx` back), or with the engine's
   * error.
   *
   * @example Without a transactional transport it rejects
   * ```ts
   * import { DurableEvent } from "@x/soiree";
   * import assert from "node:assert/strict";
   *
   * const event = new DurableEvent("user.created", {}, {
   *   id: "01JD0000000000000000000000",
   *   listener: "welcome-credit",
   *   attempt: 1,
   *   publishedAt: 0,
   * });
   * await assert.rejects(event.complete({}), TypeError);
   * ```
   */
  complete(tx: unknown): Promise<void> {
    if (this.#complete === undefined) {
      return Promise.reject(
        new TypeError(
          `Cannot complete event ${this.#id} for "${this.listener}" inside a transaction as its transport does not support transactions: use postgresTransport() from @x/soiree/postgres`,
        ),
      );
    }
    return this.#complete(tx);
  }

  /** The published event's ID (a ULID): the same in every attempt and every listener. */
  override get id(): string {
    return this.#id;
  }

  /**
   * `<id>/<listener>`: the same across the attempts of this delivery and different for each
   * durable listener. Hand it to the side effect so that a repeated attempt repeats nothing:
   * an email provider's idempotency key, an object's key in storage, a unique column.
   */
  get idempotencyKey(): string {
    return `${this.#id}/${this.listener}`;
  }

  /**
   * Aborts when this attempt should stop: its `timeout` passed, its lease was lost, or
   * `close()` gave up waiting for it. The reason says which.
   */
  override get signal(): AbortSignal {
    return this.#signal;
  }
}
