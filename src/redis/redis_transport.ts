/**
 * The Redis transport: durable delivery on Redis Streams (Redis 6.2 and up), through the user's
 * own client.
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
} from "../durable/transport.ts";
import { matchTopic } from "../topic.ts";
import { checkClock, checkSpan, REAL_CLOCK } from "../durable/_clock.ts";
import { Waiters } from "../durable/_waiters.ts";
import { checkPattern, describeValue } from "../_topic.ts";
import type { RedisConnection } from "./adapters.ts";
import { receiveBroadcasts, sendBroadcast } from "./_broadcast.ts";
import {
  compareIds,
  fields,
  int,
  isReplyError,
  list,
  newestId,
  pairs,
  Scripts,
  text,
} from "./_reply.ts";
import * as lua from "./_scripts.ts";
import { inspectQueue } from "./_inspect.ts";
import { ConsumerSweeper } from "./_consumers.ts";

/**
 * Options of {@linkcode redisTransport}.
 *
 * @example Both connections, a key prefix and a faster poll
 * ```ts
 * import { type RedisConnection, redisTransport, type RedisTransportOptions } from "@x/soiree/redis";
 *
 * const client: RedisConnection = { command: async () => null }; // fromNodeRedis(client) in use
 * const options: RedisTransportOptions = { client, prefix: "billing", pollInterval: 100 };
 * const transport = redisTransport(options);
 * await transport.close(); // sends nothing: the client stays yours
 * ```
 */
export interface RedisTransportOptions {
  /** The connection every command goes through: `fromNodeRedis(client)` or `fromIoredis(client)`. */
  client: RedisConnection;
  /**
   * A second connection, used only for blocking reads (`XREAD … BLOCK`) that wake idle
   * consumers as soon as an event is appended: `client.duplicate()`, connected. Without it, idle
   * consumers look for new events every `pollInterval`. It is never closed either.
   *
   * @default {none: consumers poll}
   */
  blocking?: RedisConnection;
  /**
   * The prefix of the transport's keys: `{<prefix>}:events` and so on, in one cluster hash
   * slot. Two prefixes keep two independent stores on one server. 1 to 64 of `A-Z a-z 0-9 _ - .`.
   *
   * @default {"soiree"}
   */
  prefix?: string;
  /**
   * How often (ms) an idle consumer looks again for what no new event announces: a lease given
   * back or a retry made due by another process (and, without `blocking`, new events).
   * Publishes, retries and redrives through this transport object wake its consumers at once.
   *
   * @default {500}
   */
  pollInterval?: number;
  /**
   * The time leases, retry delays, idempotency windows and dead-letter times are measured on,
   * and the timers `wait()` uses for what comes due. By default they are measured on the Redis
   * server's clock (`TIME`), so processes whose clocks disagree still agree on them; tests pass
   * a clock they move by hand.
   *
   * @default {the server's clock, with the global setTimeout for timers}
   */
  clock?: Clock;
}

/** The largest delay `setTimeout` keeps (about 24.8 days). */
const MAX_TIMER = 2_147_483_647;
/** How long (ms) one blocking read waits; `close()` unblocks it early. */
const BLOCK = 2_000;
/** How long (ms) `close()` waits for its housekeeping commands. */
const CLOSE_WAIT = 1_000;
/** Settlements between two trims of the stream. */
const TRIM_EVERY = 100;
/** Rounds of reading past events the name's pattern does not match, in one `receive()`. */
const READ_ROUNDS = 8;

/**
 * Makes a durable transport on Redis Streams (Redis 6.2 and up; tested on 7.0) through your own
 * client, which Soiree never imports, connects or closes. Pass it as `new Soiree({ transport })`.
 *
 * How it maps: every event is appended to one stream (`{prefix}:events`, with its topic, data
 * and ID as fields); each durable name is a consumer group on it, created at the stream's end
 * when the name registers (so it gets the events published from then on). A consumer reads new
 * entries with `XREADGROUP`, filters them with the name's pattern (`matchTopic()`) and acks
 * those it does not match at once. Each entry a name takes gets a lease in a sorted set per
 * name; once the lease ends (a crashed process) or a retry delay passes, the next `receive()`
 * takes it over with `XCLAIM`, which counts a delivery, so attempts come from the stream's own
 * delivery count. Lease renewals use `XCLAIM … JUSTID`, which counts nothing. Dead letters go to
 * a stream per name (`{prefix}:dead:<name>`). A publish with an idempotency key checks and sets
 * the key and appends the event in one Lua script. Acked entries are trimmed, never past an
 * entry some name still has pending or has not read yet; idempotency keys expire with their
 * window. `inspect()` (the queue gauges of `soiree.metrics()`) reads one name's counts in one
 * script; its `ready` includes the entries the name has not read yet whatever their topic, as
 * the pattern filters them when they are read.
 *
 * Consumer names: each transport object reads as `soiree:<uuid>` in every group, and `close()`
 * removes that name where it holds nothing. Names left by processes that died are removed by
 * any transport on the prefix, in every group, once they hold no pending entry and have been
 * idle for an hour: when it registers a name, and at most every 10 minutes while it settles
 * deliveries. A name that still holds entries is never removed: once its leases end the
 * entries are claimed elsewhere, and it goes an hour later.
 *
 * Broadcasts (`Soiree.broadcast()`, at most once) go over Pub/Sub on `{prefix}:broadcast`; each
 * emitter receives them on a connection of its own, which the client connection's `subscribe()`
 * opens (`fromNodeRedis()` and `fromIoredis()` make one with the client's `duplicate()`). A
 * connection without `subscribe()` gives a transport without broadcasts.
 *
 * Limits: a durable name nobody runs any more keeps every later event (remove its group with
 * `XGROUP DESTROY {prefix}:events <name>`); a name registered again with another pattern filters
 * what it has not read yet with the new one; set `maxmemory-policy noeviction` (the transport
 * warns once otherwise), or Redis may evict events.
 *
 * @param options The connections, key prefix, poll interval (ms) and clock.
 * @returns The transport; its `name` is `"redis"`. It sends nothing until first used.
 * @throws {TypeError} When `options`, `client` or `blocking` is malformed, the clock lacks a
 * method or the prefix is malformed.
 * @throws {RangeError} When `pollInterval` is not a positive integer up to 2^31 - 1.
 *
 * @example With node-redis (or ioredis through `fromIoredis`)
 * ```ts ignore
 * import { createClient } from "redis";
 * import { Soiree } from "@x/soiree";
 * import { fromNodeRedis, redisTransport } from "@x/soiree/redis";
 *
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * const blocking = await client.duplicate().connect();
 * const soiree = new Soiree({
 *   transport: redisTransport({ client: fromNodeRedis(client), blocking: fromNodeRedis(blocking) }),
 * });
 * soiree.on("user.created", (event) => console.log(event.payload), { durable: "welcome-email" });
 * await soiree.publish("user.created", { email: "ada@example.com" });
 * ```
 *
 * @example Making one without a server: it sends nothing until used
 * ```ts
 * import { redisTransport } from "@x/soiree/redis";
 * import assert from "node:assert/strict";
 *
 * const sent: unknown[] = [];
 * const transport = redisTransport({ client: { command: async (args) => void sent.push(args) } });
 * assert.equal(transport.name, "redis");
 * await transport.close();
 * assert.deepEqual(sent, []);
 * ```
 */
export function redisTransport(options: RedisTransportOptions): Transport {
  const action = "make the Redis transport";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: received ${describeValue(options)}`,
    );
  }
  for (const key of ["client", "blocking"] as const) {
    const connection = options[key];
    if (key === "blocking" && connection === undefined) continue;
    if (typeof connection?.command !== "function") {
      throw new TypeError(
        `Cannot ${action} as '${key}' must be a connection with a command() method (fromNodeRedis(client) or fromIoredis(client)): received ${
          describeValue(connection)
        }`,
      );
    }
  }
  const prefix = options.prefix ?? "soiree";
  if (typeof prefix !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) {
    throw new TypeError(
      `Cannot ${action} as 'prefix' must be 1 to 64 of A-Z a-z 0-9 _ - .: received ${
        describeValue(prefix)
      }`,
    );
  }
  const poll = options.pollInterval ?? 500;
  if (typeof poll !== "number") {
    throw new TypeError(
      `Cannot ${action} as 'pollInterval' must be a number of milliseconds: received ${
        describeValue(poll)
      }`,
    );
  }
  if (!Number.isInteger(poll) || poll < 1 || poll > MAX_TIMER) {
    throw new RangeError(
      `Cannot ${action} as 'pollInterval' must be a positive integer of milliseconds up to ${MAX_TIMER}: received ${
        describeValue(poll)
      }`,
    );
  }
  const clock = options.clock === undefined ? undefined : checkClock(options.clock, action);
  return new RedisTransport(options.client, options.blocking, `{${prefix}}`, poll, clock);
}

/** A claimed entry, as the claim script returns it. */
interface Claimed {
  readonly entry: string;
  readonly count: number;
  readonly fields: Record<string, string>;
}

class RedisTransport implements Transport {
  readonly name = "redis";
  readonly #client: RedisConnection;
  readonly #blocking: RedisConnection | undefined;
  readonly #scripts: Scripts;
  readonly #sweeper: ConsumerSweeper;
  readonly #prefix: string;
  readonly #stream: string;
  readonly #poll: number;
  /** The clock given; `undefined`: the server's. */
  readonly #clock: Clock | undefined;
  /** This transport's consumer name in every group. */
  readonly #consumer = `soiree:${crypto.randomUUID()}`;
  /** The names registered through this transport, to register again after a server restart. */
  readonly #subscriptions = new Map<string, string>();
  /** The waits of each durable name's consumers in this process. */
  readonly #waiters = new Waiters();
  /** The newest stream ID this transport has seen, and the newest each name had read. */
  #tip = "0-0";
  readonly #seen = new Map<string, string>();
  #watching = false;
  #blockingId: string | undefined;
  #settled = 0;
  #trimming = false;
  #warned = false;
  #closed = false;
  /** Present when the connection can subscribe (`RedisConnection.subscribe()`). */
  readonly broadcast?: (message: StoredMessage) => Promise<void>;
  readonly onBroadcast?: Transport["onBroadcast"];

  constructor(
    client: RedisConnection,
    blocking: RedisConnection | undefined,
    prefix: string,
    poll: number,
    clock: Clock | undefined,
  ) {
    this.#client = client;
    this.#blocking = blocking;
    this.#scripts = new Scripts(client);
    this.#prefix = prefix;
    this.#stream = `${prefix}:events`;
    this.#sweeper = new ConsumerSweeper(this.#scripts, this.#stream);
    this.#poll = poll;
    this.#clock = clock;
    if (typeof client.subscribe !== "function") return;
    const channel = `${prefix}:broadcast`;
    this.broadcast = async (message) => {
      this.#checkOpen("broadcast");
      await sendBroadcast(client, channel, message);
    };
    this.onBroadcast = async (handler, onError, signal) => {
      this.#checkOpen("receive broadcasts");
      return await receiveBroadcasts(client, channel, handler, onError, signal);
    };
  }

  async subscribe(subscription: DurableSubscription): Promise<void> {
    this.#checkOpen("subscribe");
    checkPattern(subscription.pattern, "subscribe");
    await this.#warnOnEviction();
    await this.#register(subscription.name, subscription.pattern);
    this.#subscriptions.set(subscription.name, subscription.pattern);
    this.#sweeper.sweep(false);
  }

  async publish(message: OutgoingMessage): Promise<PublishReceipt> {
    this.#checkOpen("publish");
    const keys = [this.#stream];
    if (message.idempotencyKey !== undefined) {
      keys.push(`${this.#prefix}:key:${message.idempotencyKey}`);
    }
    const reply = list(
      await this.#scripts.run(lua.PUBLISH, keys, [
        this.#now(),
        message.id,
        message.topic,
        message.data,
        String(message.publishedAt),
        String(Math.max(1, Math.ceil(message.dedupeWindow))),
      ]),
    );
    if (int(reply[0]) === 1) return { id: text(reply[1]), duplicate: true };
    // Known here before any wait of this process's consumers: none misses it.
    this.#sawTip(text(reply[2]));
    this.#waiters.wakeAll();
    return { id: message.id, duplicate: false };
  }

  async receive(name: string, max: number, lease: number): Promise<readonly Delivery[]> {
    this.#checkOpen("receive");
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot receive as 'max' must be a positive integer: received ${describeValue(max)}`,
      );
    }
    checkSpan(lease, "lease", "receive");
    const deliveries: Delivery[] = [];
    for (let round = 0; round < READ_ROUNDS && deliveries.length < max; round++) {
      const want = max - deliveries.length;
      const reply = list(await this.#claim(name, want, lease));
      const pattern = reply[1] === null || reply[1] === false || reply[1] === undefined
        ? undefined
        : text(reply[1]);
      const newest = text(reply[4]);
      this.#sawTip(newest);
      this.#seen.set(name, newest);
      if (pattern === undefined) {
        // Unknown here: never registered, or the server lost it (a restart without persistence).
        const known = this.#subscriptions.get(name);
        if (known === undefined || round > 0) break;
        await this.#register(name, known);
        continue;
      }
      const drop: string[] = [];
      for (const item of list(reply[2])) {
        const [entry, count, raw] = list(item);
        const claimed = { entry: text(entry), count: int(count), fields: fields(raw) };
        const to = claimed.fields.to;
        if (to === undefined ? matchTopic(pattern, claimed.fields.topic ?? "") : to === name) {
          deliveries.push(this.#delivery(name, claimed));
        } else drop.push(claimed.entry);
      }
      if (drop.length > 0) {
        await this.#scripts.run(lua.DROP, [this.#stream, this.#due(name)], [name, ...drop]);
        this.#count(drop.length);
      }
      // Go on only while the entries read were all for other names and more may follow.
      if (drop.length === 0 || int(reply[3]) < want) break;
    }
    return deliveries;
  }

  wait(name: string, signal: AbortSignal): Promise<void> {
    if (this.#closed || signal.aborted) return Promise.resolve();
    const seen = this.#seen.get(name);
    if (seen !== undefined && compareIds(this.#tip, seen) > 0) return Promise.resolve();
    // Parked before the next due time is read, so that a wake-up during it is not missed.
    const parked = this.#waiters.park(name);
    return this.#nextDue(name).then((delay) => {
      if (this.#closed) return parked.leave();
      const slept = parked.sleep(signal, this.#clock ?? REAL_CLOCK, Math.min(delay, this.#poll));
      this.#watch();
      return slept;
    }, (error) => {
      parked.leave();
      throw error;
    });
  }

  async deadLetters(name: string, limit: number): Promise<readonly StoredDeadLetter[]> {
    this.#checkOpen("list dead letters");
    const reply = await this.#client.command([
      "XRANGE",
      this.#dead(name),
      "-",
      "+",
      "COUNT",
      String(limit),
    ]);
    return list(reply).map((item) => {
      const found = fields(list(item)[1]);
      return {
        message: toMessage(found),
        attempts: Number(found.attempts),
        error: found.error ?? "",
        deadAt: Number(found.deadAt),
      };
    });
  }

  async redrive(name: string, limit: number): Promise<number> {
    this.#checkOpen("redrive dead letters");
    const [count, last] = list(
      await this.#scripts.run(lua.REDRIVE, [this.#stream, this.#dead(name)], [
        name,
        String(limit),
        this.#now(),
      ]),
    );
    if (int(count) === 0) return 0;
    this.#sawTip(text(last));
    this.#waiters.wakeAll();
    return int(count);
  }

  inspect(name: string): Promise<QueueState> {
    this.#checkOpen("inspect");
    const keys = [this.#stream, this.#due(name), this.#dead(name)] as const;
    return inspectQueue(this.#scripts, keys, this.#now(), name);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiters.wakeAll();
    const unblock = this.#watching && this.#blockingId !== undefined
      ? this.#client.command(["CLIENT", "UNBLOCK", this.#blockingId])
      : undefined;
    const names = [...new Set([...this.#subscriptions.keys(), ...this.#seen.keys()])];
    const forget = names.length > 0
      ? this.#scripts.run(lua.FORGET_CONSUMER, [this.#stream], [this.#consumer, ...names])
      : undefined;
    // Best effort, and bounded: the server may be gone (a client may queue commands until it
    // comes back), and the client is the user's to close.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([unblock, forget]),
      new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT))),
    ]);
    clearTimeout(timer);
  }

  #checkOpen(action: string): void {
    if (this.#closed) throw new Error(`Cannot ${action} as the Redis transport is closed`);
  }

  /** The time argument of the scripts: "" for the server's clock. */
  #now(): string {
    return this.#clock === undefined ? "" : String(this.#clock.now());
  }

  #due(name: string): string {
    return `${this.#prefix}:due:${name}`;
  }

  #dead(name: string): string {
    return `${this.#prefix}:dead:${name}`;
  }

  async #register(name: string, pattern: string): Promise<void> {
    await this.#scripts.run(lua.SUBSCRIBE, [this.#stream, `${this.#prefix}:names`], [
      name,
      pattern,
    ]);
  }

  async #claim(name: string, max: number, lease: number): Promise<unknown> {
    const keys = [this.#stream, this.#due(name), `${this.#prefix}:names`];
    const args = [this.#now(), name, this.#consumer, String(lease), String(max)];
    try {
      return await this.#scripts.run(lua.CLAIM, keys, args);
    } catch (error) {
      // The group is gone (the server restarted without it): make it again, once.
      const pattern = this.#subscriptions.get(name);
      if (!isReplyError(error, "NOGROUP") || pattern === undefined) throw error;
      await this.#register(name, pattern);
      return await this.#scripts.run(lua.CLAIM, keys, args);
    }
  }

  /** Milliseconds until the name's next lease ends or retry is due (`Infinity`: none). */
  async #nextDue(name: string): Promise<number> {
    const reply = list(await this.#scripts.run(lua.NEXT_DUE, [this.#due(name)], [this.#now()]));
    const at = reply[1];
    if (at === null || at === false || at === undefined) return Infinity;
    return Number(text(at)) - Number(text(reply[0]));
  }

  /** Warns once when Redis may evict keys, events included. */
  async #warnOnEviction(): Promise<void> {
    if (this.#warned) return;
    this.#warned = true;
    let policy: unknown;
    try {
      policy = pairs(await this.#client.command(["CONFIG", "GET", "maxmemory-policy"]))[0]?.[1];
    } catch {
      return; // CONFIG is often disabled on managed servers: nothing to check.
    }
    if (policy !== undefined && text(policy) !== "noeviction") {
      console.warn(
        `Soiree's Redis transport: maxmemory-policy is "${
          text(policy)
        }", so Redis may evict stored events and leases under memory pressure; set it to "noeviction"`,
      );
    }
  }

  #sawTip(id: string): void {
    if (compareIds(id, this.#tip) > 0) this.#tip = id;
  }

  /**
   * Keeps one blocking read (`XREAD BLOCK`) on the blocking connection while consumers wait: any
   * new entry wakes them all. One read serves every name, as all events share one stream.
   */
  #watch(): void {
    const blocking = this.#blocking;
    if (blocking === undefined || this.#watching || this.#closed) return;
    this.#watching = true;
    void (async () => {
      try {
        this.#blockingId ??= text(await blocking.command(["CLIENT", "ID"]));
        while (!this.#closed && this.#waiters.size > 0) {
          const reply = await blocking.command([
            ...["XREAD", "COUNT", "1", "BLOCK", String(BLOCK)],
            ...["STREAMS", this.#stream, this.#tip],
          ]);
          const newest = newestId(reply);
          if (newest !== undefined) {
            this.#sawTip(newest);
            this.#waiters.wakeAll();
          }
        }
      } catch {
        // The connection failed or was closed: the waits end on their poll timers instead, and
        // the next wait starts a new read (on a connection that may have a new ID).
        this.#blockingId = undefined;
      } finally {
        this.#watching = false;
      }
    })();
  }

  /** Counts settlements, and trims the stream every {@linkcode TRIM_EVERY} of them. */
  #count(settled: number): void {
    this.#settled += settled;
    if (this.#settled < TRIM_EVERY || this.#trimming || this.#closed) return;
    this.#settled = 0;
    this.#trimming = true;
    this.#scripts.run(lua.TRIM, [this.#stream], []).catch(() => {
      // Trimming is housekeeping: the next round tries again.
    }).finally(() => (this.#trimming = false));
    this.#sweeper.sweep(true);
  }

  /** A leased entry: its settling methods apply while this consumer holds it at its count. */
  #delivery(name: string, claimed: Claimed): Delivery {
    const message = toMessage(claimed.fields);
    const keys = [this.#stream, this.#due(name)];
    const base = [name, this.#consumer, claimed.entry, String(claimed.count)];
    let done = false;
    const settle = async (
      action: string,
      script: string,
      extra: readonly string[],
      final: boolean,
      moreKeys: readonly string[] = [],
    ): Promise<boolean> => {
      this.#checkOpen(action);
      if (done) return false;
      const applied = int(
        await this.#scripts.run(script, [...keys, ...moreKeys], [this.#now(), ...base, ...extra]),
      ) === 1;
      if (applied && final) {
        done = true;
        this.#count(1);
      }
      return applied;
    };
    return {
      message,
      attempt: claimed.count,
      extend: async (lease) => {
        checkSpan(lease, "lease", "extend a lease");
        return settle("extend a lease", lua.EXTEND, [String(lease)], false);
      },
      ack: () => settle("acknowledge", lua.ACK, [], true),
      retry: async (delay, _error) => {
        checkSpan(delay, "delay", "retry");
        const applied = await settle("retry", lua.RETRY, [String(delay), "0"], true);
        if (applied) this.#waiters.wake(name);
        return applied;
      },
      deadLetter: (error) =>
        settle(
          "dead-letter",
          lua.DEAD_LETTER,
          [
            message.id,
            message.topic,
            message.data,
            String(message.publishedAt),
            error,
          ],
          true,
          [this.#dead(name)],
        ),
      release: async (started) => {
        const applied = await settle("release", lua.RETRY, ["0", started ? "0" : "1"], true);
        if (applied) this.#waiters.wake(name);
        return applied;
      },
    };
  }
}

/** The event of a stream entry's fields. */
function toMessage(found: Record<string, string>): StoredMessage {
  return {
    id: found.id ?? "",
    topic: found.topic ?? "",
    data: found.data ?? "",
    publishedAt: Number(found.at),
  };
}
