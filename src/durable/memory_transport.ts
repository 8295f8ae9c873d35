/**
 * The in-memory transport: the reference implementation of the `Transport` contract, for
 * tests and for a single process that wants retries, dead letters and workload classes
 * without a store. Not durable: what it holds is gone when the process ends.
 *
 * @module
 */

import type {
  Clock,
  Delivery,
  DurableSubscription,
  OutgoingMessage,
  PublishReceipt,
  QueueState,
  StoredDeadLetter,
  StoredMessage,
  Transport,
  TransportFeatures,
} from "./transport.ts";
import { matchTopic } from "../topic.ts";
import { describeValue } from "../_topic.ts";
import { onAbort } from "./_abort.ts";
import { checkClock } from "./_clock.ts";

/**
 * Options of {@linkcode memoryTransport}.
 *
 * @example Move time by hand
 * ```ts
 * import { type MemoryTransportOptions, memoryTransport } from "@x/soiree";
 *
 * let now = 0;
 * const options: MemoryTransportOptions = {
 *   clock: { now: () => now, setTimeout, clearTimeout },
 * };
 * const transport = memoryTransport(options);
 * now += 60_000; // leases and retry delays are measured on this clock
 * await transport.close();
 * ```
 */
export interface MemoryTransportOptions {
  /**
   * The time leases, retry delays and idempotency windows are measured on, and the timers
   * `wait()` uses for what comes due.
   *
   * @default {real time: Date.now and the global setTimeout}
   */
  clock?: Clock;
}

const READY = 0;
const LEASED = 1;
const DEAD = 2;

/** One (event, durable name) pair. */
interface Entry {
  readonly message: StoredMessage;
  state: typeof READY | typeof LEASED | typeof DEAD;
  attempt: number;
  /** READY: when it is due. LEASED: when the lease ends. DEAD: when it was parked. */
  at: number;
  token: number;
  error: string;
  /** The ordering key, if any. */
  readonly key: string | undefined;
  /** Publish order: the lowest of a key's live entries is the only one of the key that runs. */
  readonly seq: number;
}

/** A durable name: its pattern, its deliveries by event ID, and the waits of its consumers. */
interface Queue {
  pattern: string;
  readonly entries: Map<string, Entry>;
  readonly waiters: Set<() => void>;
}

/**
 * Makes an in-memory transport: the `Transport` contract kept in this process's memory, with
 * leases, attempts, retry delays, dead letters and idempotency windows measured on an
 * injectable clock. Use it in tests, and in one process that wants durable listeners'
 * retries and dead letters without a store; it is not durable (a crash loses everything) and
 * not shared between processes. For that, use `sqliteTransport()` from `@x/soiree/sqlite`.
 *
 * @param options The clock.
 * @returns The transport; `close()` empties it.
 * @throws {TypeError} When `options` or its clock is malformed.
 *
 * @example Retries and dead letters in one process
 * ```ts
 * import { memoryTransport, PermanentError, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree({ transport: memoryTransport() });
 * const failed = Promise.withResolvers<void>();
 * soiree.on("card.charge", () => {
 *   failed.resolve();
 *   throw new PermanentError("card declined");
 * }, { durable: "charge" });
 * await soiree.publish("card.charge", { cents: 500 });
 * await failed.promise;
 * await soiree.close();
 * ```
 */
export function memoryTransport(options?: MemoryTransportOptions): Transport {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(
      `Cannot make the memory transport as 'options' must be an object: received ${
        describeValue(options)
      }`,
    );
  }
  const clock = checkClock(options?.clock, "make the memory transport");
  return new MemoryTransport(clock);
}

class MemoryTransport implements Transport {
  readonly name = "memory";
  readonly features: TransportFeatures = Object.freeze({ orderingKeys: true });
  readonly #clock: Clock;
  readonly #queues = new Map<string, Queue>();
  /** Idempotency key → the first event's ID and when the key is forgotten. */
  readonly #keys = new Map<string, { id: string; until: number }>();
  #nextToken = 1;
  #nextSeq = 1;
  #closed = false;
  /** The receivers of `broadcast()`: one per emitter sharing this transport. */
  readonly #receivers = new Set<(message: StoredMessage) => void>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async subscribe(subscription: DurableSubscription): Promise<void> {
    this.#checkOpen();
    const queue = this.#queues.get(subscription.name);
    if (queue === undefined) {
      this.#queues.set(subscription.name, {
        pattern: subscription.pattern,
        entries: new Map(),
        waiters: new Set(),
      });
    } else queue.pattern = subscription.pattern;
    return;
  }

  async publish(message: OutgoingMessage): Promise<PublishReceipt> {
    this.#checkOpen();
    const now = this.#clock.now();
    const key = message.idempotencyKey;
    if (key !== undefined) {
      const seen = this.#keys.get(key);
      if (seen !== undefined && seen.until > now) {
        return { id: seen.id, duplicate: true };
      }
      this.#keys.set(key, { id: message.id, until: now + message.dedupeWindow });
      this.#forgetExpiredKeys(now);
    }
    const stored: StoredMessage = {
      id: message.id,
      topic: message.topic,
      data: message.data,
      publishedAt: message.publishedAt,
    };
    const seq = this.#nextSeq++;
    for (const queue of this.#queues.values()) {
      if (!matchTopic(queue.pattern, message.topic)) continue;
      queue.entries.set(message.id, {
        message: stored,
        state: READY,
        attempt: 0,
        at: now,
        token: 0,
        error: "",
        key: message.key,
        seq,
      });
      wake(queue);
    }
    return { id: message.id, duplicate: false };
  }

  async receive(name: string, max: number, lease: number): Promise<readonly Delivery[]> {
    this.#checkOpen();
    const queue = this.#queues.get(name);
    const deliveries: Delivery[] = [];
    if (queue === undefined) return deliveries;
    const now = this.#clock.now();
    const heads = keyHeads(queue);
    for (const entry of queue.entries.values()) {
      if (deliveries.length >= max) break;
      if (entry.state === DEAD || entry.at > now || !runs(entry, heads)) continue;
      entry.state = LEASED;
      entry.attempt++;
      entry.at = now + lease;
      entry.token = this.#nextToken++;
      deliveries.push(this.#delivery(queue, entry));
    }
    return deliveries;
  }

  wait(name: string, signal: AbortSignal): Promise<void> {
    const queue = this.#queues.get(name);
    if (this.#closed || queue === undefined || signal.aborted) return Promise.resolve();
    const clock = this.#clock;
    const now = clock.now();
    let due = Infinity;
    const heads = keyHeads(queue);
    for (const entry of queue.entries.values()) {
      if (entry.state !== DEAD && entry.at < due && runs(entry, heads)) due = entry.at;
    }
    if (due <= now) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: unknown;
      const done = (): void => {
        queue.waiters.delete(done);
        forget();
        if (timer !== undefined) clock.clearTimeout(timer as never);
        resolve();
      };
      queue.waiters.add(done);
      const forget = onAbort(signal, done);
      if (due !== Infinity) timer = clock.setTimeout(done, due - now);
    });
  }

  async deadLetters(name: string, limit: number): Promise<readonly StoredDeadLetter[]> {
    this.#checkOpen();
    const dead: StoredDeadLetter[] = [];
    for (const entry of this.#queues.get(name)?.entries.values() ?? []) {
      if (entry.state !== DEAD) continue;
      dead.push({
        message: entry.message,
        attempts: entry.attempt,
        error: entry.error,
        deadAt: entry.at,
      });
    }
    dead.sort((a, b) => a.deadAt - b.deadAt);
    return dead.slice(0, limit);
  }

  async redrive(name: string, limit: number): Promise<number> {
    this.#checkOpen();
    const queue = this.#queues.get(name);
    if (queue === undefined) return 0;
    const dead = [...queue.entries.values()].filter((entry) => entry.state === DEAD)
      .sort((a, b) => a.at - b.at).slice(0, limit);
    const now = this.#clock.now();
    for (const entry of dead) {
      queue.entries.delete(entry.message.id);
      queue.entries.set(entry.message.id, entry);
      entry.state = READY;
      entry.attempt = 0;
      entry.at = now;
      entry.error = "";
    }
    if (dead.length > 0) wake(queue);
    return dead.length;
  }

  async broadcast(message: StoredMessage): Promise<void> {
    this.#checkOpen();
    // As over a network: each receiver gets it after this resolves, never inside the call.
    for (const receive of this.#receivers) queueMicrotask(() => receive(message));
  }

  async onBroadcast(
    handler: (message: StoredMessage) => void,
    _onError: (error: unknown) => void,
  ): Promise<() => Promise<void>> {
    this.#checkOpen();
    const receive = (message: StoredMessage): void => handler(message);
    this.#receivers.add(receive);
    return async () => void this.#receivers.delete(receive);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#receivers.clear();
    for (const queue of this.#queues.values()) wake(queue);
    this.#queues.clear();
    this.#keys.clear();
    return Promise.resolve();
  }

  async inspect(name: string): Promise<QueueState> {
    this.#checkOpen();
    const now = this.#clock.now();
    let [ready, delayed, inFlight, dead] = [0, 0, 0, 0];
    let oldest: number | undefined;
    for (const entry of this.#queues.get(name)?.entries.values() ?? []) {
      if (entry.state === LEASED) inFlight++;
      else if (entry.state === DEAD) dead++;
      else if (entry.at > now) delayed++;
      else {
        ready++;
        if (oldest === undefined || entry.at < oldest) oldest = entry.at;
      }
    }
    return { ready, delayed, inFlight, dead, lag: oldest === undefined ? 0 : now - oldest };
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error("Cannot use the memory transport as it is closed");
  }

  #forgetExpiredKeys(now: number): void {
    // Keys are inserted in time order, so the expired ones are at the front.
    for (const [key, seen] of this.#keys) {
      if (seen.until > now) break;
      this.#keys.delete(key);
    }
  }

  #delivery(queue: Queue, entry: Entry): Delivery {
    const token = entry.token;
    const clock = this.#clock;
    const holds = (): boolean =>
      entry.token === token && queue.entries.get(entry.message.id) === entry;
    const settle = (apply: () => void): Promise<boolean> => {
      if (!holds()) return Promise.resolve(false);
      apply();
      return Promise.resolve(true);
    };
    return {
      message: entry.message,
      attempt: entry.attempt,
      extend: (lease) => settle(() => void (entry.at = clock.now() + lease)),
      ack: () =>
        settle(() => {
          queue.entries.delete(entry.message.id);
          // The next delivery of its key may run now.
          if (entry.key !== undefined) wake(queue);
        }),
      retry: (delay, error) =>
        settle(() => {
          entry.token = 0;
          entry.state = READY;
          entry.at = clock.now() + delay;
          entry.error = error;
          // Back of the line: behind what was published while it ran.
          queue.entries.delete(entry.message.id);
          queue.entries.set(entry.message.id, entry);
          wake(queue);
        }),
      deadLetter: (error) =>
        settle(() => {
          entry.token = 0;
          entry.state = DEAD;
          entry.at = clock.now();
          entry.error = error;
          if (entry.key !== undefined) wake(queue);
        }),
      release: (started) =>
        settle(() => {
          entry.token = 0;
          entry.state = READY;
          entry.at = clock.now();
          if (!started) entry.attempt--;
          wake(queue);
        }),
    };
  }
}

/** For each ordering key of `queue`, the publish order of its first live (not dead) entry. */
function keyHeads(queue: Queue): Map<string, number> {
  const heads = new Map<string, number>();
  for (const entry of queue.entries.values()) {
    if (entry.key === undefined || entry.state === DEAD) continue;
    const head = heads.get(entry.key);
    if (head === undefined || entry.seq < head) heads.set(entry.key, entry.seq);
  }
  return heads;
}

/** Whether `entry` may run: it has no key, or it is its key's first live entry. */
function runs(entry: Entry, heads: Map<string, number>): boolean {
  return entry.key === undefined || heads.get(entry.key) === entry.seq;
}

function wake(queue: Queue): void {
  for (const waiter of [...queue.waiters]) waiter();
}
