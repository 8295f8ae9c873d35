/**
 * The error classes that callers are meant to catch. Bad arguments are reported with the
 * built-in `TypeError` and `RangeError`; timeouts with a `DOMException` named `TimeoutError`,
 * as `AbortSignal.timeout()` does.
 *
 * @module
 */

import { describeObject } from "./_describe.ts";
import { describeValue } from "./_topic.ts";

/**
 * Raised when an emitter that is closed (or closing) is asked to emit or subscribe.
 *
 * `emit()` resolves to `[EmitterClosedError]`, `emitSync()` returns it, and `on()` throws it.
 *
 * @example Catch a subscription on a closed emitter
 * ```ts
 * import { EmitterClosedError, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * await soiree.close();
 * assert.throws(() => soiree.on("user.created", () => {}), EmitterClosedError);
 * ```
 */
export class EmitterClosedError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was refused.
   * @param options Standard error options (`cause`).
   */
  constructor(message = "Cannot use the emitter as it is closed", options?: ErrorOptions) {
    super(message, options);
    this.name = "EmitterClosedError";
  }
}

/**
 * Raised by a second call to `close()`. It extends {@linkcode EmitterClosedError}, so code
 * that catches the one catches the other.
 *
 * @example Close twice
 * ```ts
 * import { EmitterAlreadyClosedError, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * await soiree.close();
 * await assert.rejects(soiree.close(), EmitterAlreadyClosedError);
 * ```
 */
export class EmitterAlreadyClosedError extends EmitterClosedError {
  /**
   * Creates the error.
   *
   * @param message What was refused.
   * @param options Standard error options (`cause`).
   */
  constructor(
    message = "Cannot close the emitter as it is already closed",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "EmitterAlreadyClosedError";
  }
}

/**
 * Raised by `off(pattern, id)` when no listener with that ID is subscribed to that pattern.
 *
 * @example Remove a listener twice
 * ```ts
 * import { ListenerNotFoundError, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * const { id } = soiree.on("user.created", () => {});
 * soiree.off("user.created", id);
 * assert.throws(() => soiree.off("user.created", id), ListenerNotFoundError);
 * ```
 */
export class ListenerNotFoundError extends Error {
  /** The pattern that was asked for. */
  readonly pattern: string;
  /** The listener ID that was asked for. */
  readonly id: string;

  /**
   * Creates the error.
   *
   * @param pattern The pattern that was asked for.
   * @param id The listener ID that was asked for.
   * @param message Why nothing was removed.
   */
  constructor(pattern: string, id: string, message?: string) {
    super(
      message ??
        `Cannot remove the listener as none with ID ${describeValue(id)} is subscribed to ${
          describeValue(pattern)
        }`,
    );
    this.name = "ListenerNotFoundError";
    this.pattern = pattern;
    this.id = id;
  }
}

/**
 * What the default error handler reports for a failed listener: the original error as
 * `cause`, with the topic, pattern and listener ID that produced it.
 *
 * @example Find out which listener failed
 * ```ts
 * import { ListenerError, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * const boom = new Error("boom");
 * const { id } = soiree.on("user.*", () => {
 *   throw boom;
 * });
 * const [error] = soiree.emitSync("user.created");
 * assert.ok(error instanceof ListenerError);
 * assert.equal(error.cause, boom);
 * assert.equal(error.topic, "user.created");
 * assert.equal(error.pattern, "user.*");
 * assert.equal(error.listenerId, id);
 * ```
 */
export class ListenerError extends Error {
  /** The emitted topic. */
  readonly topic: string;
  /** The pattern the failed listener subscribed to. */
  readonly pattern: string;
  /** The ID of the failed listener. */
  readonly listenerId: string;

  /**
   * Creates the error.
   *
   * @param topic The emitted topic.
   * @param pattern The pattern the failed listener subscribed to.
   * @param listenerId The ID of the failed listener.
   * @param cause What the listener threw, rejected with or returned.
   */
  constructor(topic: string, pattern: string, listenerId: string, cause: unknown) {
    super(
      `Listener ${listenerId} of ${describeValue(pattern)} failed on ${describeValue(topic)}: ${
        describe(cause)
      }`,
      { cause },
    );
    this.name = "ListenerError";
    this.topic = topic;
    this.pattern = pattern;
    this.listenerId = listenerId;
  }
}

/**
 * Raised when a task (or an emission) is submitted to a pool whose queue is full and whose
 * `whenFull` policy is `"reject"`.
 *
 * @example Reject when the queue is full
 * ```ts
 * import { Pool, QueueFullError } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const pool = new Pool({ concurrency: 1, capacity: 0, whenFull: "reject" });
 * let release = () => {};
 * const first = pool.submit(() => new Promise<void>((resolve) => (release = resolve)));
 * await assert.rejects(pool.submit(() => {}), QueueFullError);
 * release();
 * await first;
 * ```
 */
export class QueueFullError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was refused.
   * @param options Standard error options (`cause`).
   */
  constructor(message = "Cannot submit the task as the queue is full", options?: ErrorOptions) {
    super(message, options);
    this.name = "QueueFullError";
  }
}

/**
 * Raised when a task is submitted to a pool that is closed (or closing).
 *
 * @example Submit to a closed pool
 * ```ts
 * import { Pool, PoolClosedError } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const pool = new Pool({ concurrency: 2 });
 * await pool.close();
 * await assert.rejects(pool.submit(() => 1), PoolClosedError);
 * ```
 */
export class PoolClosedError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was refused.
   * @param options Standard error options (`cause`).
   */
  constructor(message = "Cannot submit the task as the pool is closed", options?: ErrorOptions) {
    super(message, options);
    this.name = "PoolClosedError";
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) return describeObject(value);
  return describeValue(value);
}

/**
 * Thrown (or rejected with, or returned) by a durable listener to say that retrying cannot
 * help: the delivery is dead-lettered at once instead of being retried. River's `JobCancel`
 * and BullMQ's `UnrecoverableError` play the same part.
 *
 * @example Dead-letter an address that does not exist
 * ```ts
 * import { memoryTransport, PermanentError, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree({ transport: memoryTransport(), errorHandler: () => {} });
 * const failed = Promise.withResolvers<void>();
 * soiree.on("email.send", () => {
 *   setTimeout(failed.resolve, 10);
 *   throw new PermanentError("550 no such user");
 * }, { durable: "mailer" });
 * await soiree.publish("email.send", "nobody@example.com");
 * await failed.promise;
 * assert.equal(soiree.stats().durable.deadLettered, 1);
 * await soiree.close();
 * ```
 */
export class PermanentError extends Error {
  /**
   * Creates the error.
   *
   * @param message Why retrying cannot help.
   * @param options Standard error options (`cause`).
   */
  constructor(message = "The delivery cannot succeed", options?: ErrorOptions) {
    super(message, options);
    this.name = "PermanentError";
  }
}

/**
 * What `publish()` rejects with when the transport could not store the event: `cause` is the
 * transport's error (a read-only or locked database file, a lost connection). Nothing was
 * stored, so publishing again is safe (and with an idempotency key, stores it once).
 *
 * @example
 * ```ts
 * import { memoryTransport, PublishError, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const transport = memoryTransport();
 * const soiree = new Soiree({ transport });
 * await transport.close(); // the store is gone
 * const error = await soiree.publish("a", 1).catch((error) => error);
 * assert.ok(error instanceof PublishError);
 * assert.match(String(error.cause), /closed/);
 * ```
 */
export class PublishError extends Error {
  /** The topic that was not stored. */
  readonly topic: string;

  /**
   * Creates the error.
   *
   * @param topic The topic that was not stored.
   * @param transport The transport's name.
   * @param cause The transport's error.
   */
  constructor(topic: string, transport: string, cause: unknown) {
    super(
      `Cannot publish ${describeValue(topic)} as the ${transport} transport failed to store it`,
      { cause },
    );
    this.name = "PublishError";
    this.topic = topic;
  }
}
