/**
 * The PostgreSQL transport: durable delivery in the database the application already uses,
 * through the user's own client, with the transactional outbox (`publish(…, { tx })` and
 * `event.complete(tx)`) and ordering keys.
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
} from "../durable/transport.ts";
import { checkClock, checkSpan } from "../durable/_clock.ts";
import { Waiters } from "../durable/_waiters.ts";
import { checkPattern, describeValue } from "../_topic.ts";
import { type Queryable, setupSql } from "./_schema.ts";
import { type Statements, statements } from "./_statements.ts";
import { patternRegex } from "./_pattern.ts";
import { canListen, channelName, type ListenSession } from "./_listen.ts";
import { listen } from "./_broadcast.ts";

/**
 * A PostgreSQL client as the transport uses it: `query(text, params)` resolving with `{ rows }`,
 * one statement per call with positional `$1…` parameters. A `pg` `Pool` or `Client` fits as it
 * is; {@linkcode fromPostgresJs} and {@linkcode fromPGlite} adapt the others. Soiree never ends
 * or closes it.
 *
 * `listen`, when present, holds a LISTEN session of its own for NOTIFY wake-ups (the adapters
 * provide it). On a `pg` `Pool` the transport instead borrows one client with `pool.connect()`
 * for its session and releases it on `close()`; on a `pg` `Client` there is none (a client in
 * use by queries cannot also wait for notifications), so consumers only poll.
 *
 * @example A pg Pool fits as it is; any object with query() does
 * ```ts
 * import pg from "pg";
 * import type { PostgresClient } from "@x/soiree/postgres";
 * import assert from "node:assert/strict";
 *
 * const pool: PostgresClient = new pg.Pool(); // connects on its first query
 * const stub: PostgresClient = { query: async () => ({ rows: [{ one: 1 }] }) };
 * assert.deepEqual((await stub.query("SELECT 1 AS one")).rows, [{ one: 1 }]);
 * void pool;
 * ```
 */
export interface PostgresClient {
  /** Runs one statement with `$1…` parameters. */
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  /**
   * Optional: LISTENs on `channel` in a session of its own, calling `onNotify` with each
   * notification's payload; resolves with the way to stop (UNLISTEN and give the session back).
   */
  listen?(
    channel: string,
    onNotify: (payload: string | undefined) => void,
  ): Promise<() => Promise<void>>;
}

/**
 * A transaction handed to `publish(…, { tx })` and `event.complete(tx)`: a client inside
 * `BEGIN` (a `pg` `PoolClient` or `Client`, an adapted `postgres` or PGlite transaction).
 *
 * @example A pg PoolClient inside BEGIN is one
 * ```ts
 * import type pg from "pg";
 * import type { PostgresTransaction } from "@x/soiree/postgres";
 *
 * async function begin(pool: pg.Pool): Promise<PostgresTransaction & pg.PoolClient> {
 *   const tx = await pool.connect();
 *   await tx.query("BEGIN");
 *   return tx;
 * }
 * void begin;
 * ```
 */
export type PostgresTransaction = Pick<PostgresClient, "query">;

/**
 * Options of {@linkcode postgresTransport}.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import type { PostgresTransportOptions } from "@x/soiree/postgres";
 *
 * const options: PostgresTransportOptions = {
 *   client: new pg.Pool(),
 *   schema: "events",
 *   pollInterval: 500,
 *   listen: false, // behind PgBouncer in transaction mode
 * };
 * void options;
 * ```
 */
export interface PostgresTransportOptions {
  /** The client the transport runs its statements on (a `pg` `Pool` is the usual one). */
  client: PostgresClient;
  /**
   * The schema that holds the tables (`meta`, `subscriptions`, `events`, `deliveries`,
   * `idempotency_keys`): 1 to 63 of lower case letters, digits and `_`, not starting with a
   * digit. Created unless it exists. Two schemas keep two independent stores in one database.
   *
   * @default {"soiree"}
   */
  schema?: string;
  /**
   * Whether to LISTEN for NOTIFY wake-ups, so idle consumers start at once on work another
   * process wrote (every publish sends a NOTIFY with its commit, whatever this says). Polling
   * stays the correctness path either way. Turn it off behind a transaction-mode pooler
   * (PgBouncer `pool_mode = transaction`), which cannot hold a session: then consumers find new
   * work within `pollInterval`. On a `pg` `Pool` the session is one client borrowed with
   * `pool.connect()` for the transport's life; on a `pg` `Client` there is none. It also decides
   * broadcasts: with a session the transport has `broadcast()` (NOTIFY on
   * `soireebroadcast_<schema>`, received on the same session; a message must be under 8,000
   * bytes), without one `Soiree.broadcast()` throws a `TypeError`.
   *
   * @default {true where the client can hold a session (a pg Pool, the adapters)}
   */
  listen?: boolean;
  /**
   * How often (ms) an idle consumer looks again for work another process wrote.
   *
   * @default {1_000}
   */
  pollInterval?: number;
  /**
   * How long (ms) an event stays stored once every delivery of it was acked, before a cleanup
   * pass deletes it. Expired idempotency keys are deleted by the same pass.
   *
   * @default {3_600_000 (1 hour)}
   */
  retention?: number;
  /**
   * How often (ms) this transport runs a cleanup pass (each deletes at most 1,000 rows per
   * table).
   *
   * @default {60_000}
   */
  cleanupInterval?: number;
  /**
   * The time that leases, retry delays, idempotency windows and dead-letter times are measured
   * on, and the timers `wait()` uses: tests pass a clock they move by hand.
   *
   * @default {real time: Date.now and the global setTimeout}
   */
  clock?: Clock;
}

/** The largest delay `setTimeout` keeps (about 24.8 days). */
const MAX_TIMER = 2_147_483_647;

/**
 * Opens a durable transport on PostgreSQL. Its tables live in `schema` (created or upgraded on
 * open, under an advisory lock, so that processes starting together do not race); every
 * process on the database shares the work: deliveries are claimed with `FOR UPDATE SKIP
 * LOCKED` and a lease, attempts are counted in the table, and NOTIFY wakes idle consumers.
 *
 * Beyond the contract it supports (`features`):
 * - `publish(topic, payload, { tx })`: the event and its deliveries are inserted through your
 *   transaction, and exist if and only if it commits (the transactional outbox);
 * - `event.complete(tx)`: the delivery is acked inside the listener's own transaction;
 * - `publish(…, { key })`: ordering keys.
 *
 * Acked deliveries are deleted at once; an event is deleted `retention` ms after its last
 * delivery was acked, and an idempotency key once its window ends (a pass every
 * `cleanupInterval` ms). Dead letters stay until redriven.
 *
 * @param options The client, and the schema, LISTEN switch, poll interval (ms), retention (ms),
 * cleanup interval (ms) and clock.
 * @returns The transport, once its tables are ready; its `name` is `"postgres"`.
 * @throws {TypeError} When `options` or the client is malformed, or the schema name is, or
 * `listen: true` is asked of a client that cannot hold a session (a pg `Client`).
 * @throws {RangeError} When an interval or the retention is out of range.
 * @throws {Error} The client's error when the tables cannot be set up, or when they were made
 * by a newer Soiree (the promise rejects with it).
 *
 * @example The outbox: the row and its event commit together (runs where DATABASE_URL is set)
 * ```ts
 * import pg from "pg";
 * import process from "node:process";
 * import assert from "node:assert/strict";
 * import { Soiree } from "@x/soiree";
 * import { postgresTransport } from "@x/soiree/postgres";
 *
 * const url = process.env.DATABASE_URL;
 * if (url !== undefined) {
 *   const db = new pg.Pool({ connectionString: url });
 *   const schema = `doc_${crypto.randomUUID().slice(0, 8)}`;
 *   const soiree = new Soiree({ transport: await postgresTransport({ client: db, schema }) });
 *   const welcomed = Promise.withResolvers<unknown>();
 *   soiree.on("user.created", (event) => welcomed.resolve(event.payload), {
 *     durable: "welcome-email",
 *   });
 *
 *   const tx = await db.connect();
 *   await tx.query("BEGIN");
 *   // … INSERT INTO users … through tx, then:
 *   await soiree.publish("user.created", { id: 1 }, { tx }); // exists if and only if this commits
 *   await tx.query("COMMIT");
 *   tx.release();
 *
 *   assert.deepEqual(await welcomed.promise, { id: 1 });
 *   await soiree.close(); // never ends the pool: it is yours
 *   await db.query(`DROP SCHEMA ${schema} CASCADE`);
 *   await db.end();
 * }
 * ```
 */
export async function postgresTransport(options: PostgresTransportOptions): Promise<Transport> {
  const action = "open the PostgreSQL transport";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object with a client: received ${
        describeValue(options)
      }`,
    );
  }
  const client = options.client;
  if (typeof client !== "object" || client === null || typeof client.query !== "function") {
    throw new TypeError(
      `Cannot ${action} as 'client' must have query(text, params), as a pg Pool or Client does (fromPostgresJs() and fromPGlite() adapt the others): received ${
        describeValue(client)
      }`,
    );
  }
  const schema = options.schema ?? "soiree";
  if (typeof schema !== "string" || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new TypeError(
      `Cannot ${action} as 'schema' must be 1 to 63 of a-z, 0-9 and _, not starting with a digit: received ${
        describeValue(schema)
      }`,
    );
  }
  const listen = options.listen;
  if (listen !== undefined && typeof listen !== "boolean") {
    throw new TypeError(
      `Cannot ${action} as 'listen' must be a boolean: received ${describeValue(listen)}`,
    );
  }
  if (listen === true && !canListen(client)) {
    throw new TypeError(
      `Cannot ${action} as 'listen: true' needs a client that can hold a session (a pg Pool, fromPostgresJs(sql), fromPGlite(db)): this one has no listen() and is not a pg Pool (a pg Client cannot)`,
    );
  }
  const clock = checkClock(options.clock, action);
  const pollInterval = checkMilliseconds(options.pollInterval, 1_000, "pollInterval");
  const retention = checkMilliseconds(options.retention, 3_600_000, "retention", 0);
  const cleanupInterval = checkMilliseconds(options.cleanupInterval, 60_000, "cleanupInterval");
  await client.query(setupSql(schema));
  const transport = new PostgresTransport(client, schema, clock, {
    pollInterval,
    retention,
    cleanupInterval,
    listen: listen ?? canListen(client),
  });
  await transport.listening;
  return transport;
}

/** Checks an integer option in ms from `min` up, at most `setTimeout`'s limit. */
function checkMilliseconds(value: unknown, fallback: number, name: string, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot open the PostgreSQL transport as '${name}' must be a number of milliseconds: received ${
        describeValue(value)
      }`,
    );
  }
  if (!Number.isInteger(value) || value < min || value > MAX_TIMER) {
    throw new RangeError(
      `Cannot open the PostgreSQL transport as '${name}' must be an integer from ${min} up to ${MAX_TIMER} ms: received ${
        describeValue(value)
      }`,
    );
  }
  return value;
}

/** A claimed or dead delivery joined with its event, as PostgreSQL returns it. */
interface DeliveryRow {
  event_id: string;
  attempt: unknown;
  seq?: unknown;
  due_at?: unknown;
  topic: string;
  data: string;
  published_at: unknown;
  error?: string | null;
  dead_at?: unknown;
}

/** A bigint column: pg answers a string, PGlite a number or a bigint. */
function num(value: unknown): number {
  return Number(value);
}

class PostgresTransport implements Transport {
  readonly name = "postgres";
  readonly features: TransportFeatures = Object.freeze({ transactions: true, orderingKeys: true });
  readonly listening: Promise<void>;
  readonly #client: Queryable;
  readonly #sql: Statements;
  readonly #clock: Clock;
  readonly #pollInterval: number;
  readonly #retention: number;
  readonly #channel: string;
  readonly #session: ListenSession | undefined;
  /**
   * Sends a message to every process listening on this schema (see `Transport.broadcast`): only
   * with a LISTEN session, as receiving needs one.
   */
  readonly broadcast?: (message: StoredMessage) => Promise<void>;
  /** Receives the broadcasts of this schema (see `Transport.onBroadcast`). */
  readonly onBroadcast?: (
    handler: (message: StoredMessage) => void,
    onError: (error: unknown) => void,
    signal?: AbortSignal,
  ) => Promise<() => Promise<void>>;
  /** The waits of each durable name's consumers in this process. */
  readonly #waiters = new Waiters();
  #cleanupTimer: ReturnType<typeof setTimeout> | undefined;
  /** Publishes waiting for the next batch (see `#publishBatched()`). */
  #publishes: { message: OutgoingMessage; done: () => void; fail: (e: unknown) => void }[] = [];
  /** Acks waiting for the next batch (see `#ack()`). */
  #acks: {
    id: string;
    name: string;
    token: string;
    done: (applied: boolean) => void;
    fail: (e: unknown) => void;
  }[] = [];
  #closed = false;
  /** Whether this transport made sure the deliveries have planner statistics. */
  #analyzed = false;

  constructor(
    client: PostgresClient,
    schema: string,
    clock: Clock,
    options: { pollInterval: number; retention: number; cleanupInterval: number; listen: boolean },
  ) {
    this.#client = client;
    this.#sql = statements(schema);
    this.#clock = clock;
    this.#pollInterval = options.pollInterval;
    this.#retention = options.retention;
    this.#channel = channelName(schema);
    if (options.listen) {
      const session = listen(
        client,
        schema,
        (payload) => this.#notified(payload),
        (action) => this.#checkOpen(action),
      );
      this.#session = session.session;
      this.broadcast = session.broadcast;
      this.onBroadcast = session.onBroadcast;
    }
    this.listening = this.#session?.ready ?? Promise.resolve();
    const cleanup = (): void => {
      this.#cleanupTimer = setTimeout(() => {
        this.cleanup().catch(() => {}).finally(() => this.#closed || cleanup());
      }, options.cleanupInterval);
      // A timer of housekeeping never keeps a process alive: Node and Bun have unref(), Deno
      // has Deno.unrefTimer().
      const timer = this.#cleanupTimer as unknown;
      if (typeof timer === "number") {
        (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(timer);
      } else (timer as { unref?: () => void }).unref?.();
    };
    cleanup();
  }

  async subscribe(subscription: DurableSubscription): Promise<void> {
    this.#checkOpen("subscribe");
    checkPattern(subscription.pattern, "subscribe");
    const { name, pattern } = subscription;
    await this.#client.query(this.#sql.subscribe, [name, pattern, patternRegex(pattern)]);
  }

  async publish(message: OutgoingMessage, tx?: unknown): Promise<PublishReceipt> {
    this.#checkOpen("publish");
    if (tx === undefined && message.idempotencyKey === undefined) {
      await this.#publishBatched(message);
      return { id: message.id, duplicate: false };
    }
    const via = tx === undefined ? this.#client : tx as Queryable;
    if (typeof via?.query !== "function") {
      throw new TypeError(
        `Cannot publish with the PostgreSQL transport as 'tx' must be a client inside BEGIN with query(text, params): received ${
          describeValue(tx)
        }`,
      );
    }
    const now = this.#clock.now();
    const { rows } = await via.query(this.#sql.publish, [
      message.id,
      message.topic,
      message.data,
      message.publishedAt,
      message.idempotencyKey ?? null,
      message.dedupeWindow,
      now,
      message.key ?? null,
      this.#channel,
    ]);
    const found = rows[0] as { first: string | null; names: string[] | null };
    if (found.first !== null && found.first !== undefined && found.first !== message.id) {
      return { id: found.first, duplicate: true };
    }
    // Inside a transaction, nothing is visible before the commit: the NOTIFY sent with it, or
    // polling, wakes the consumers then.
    if (tx === undefined) { for (const name of found.names ?? []) this.#waiters.wake(name); }
    return { id: message.id, duplicate: false };
  }

  async receive(name: string, max: number, lease: number): Promise<readonly Delivery[]> {
    this.#checkOpen("receive");
    checkSpan(lease, "lease", "receive");
    const now = this.#clock.now();
    const token = crypto.randomUUID();
    const { rows } = await this.#client.query(this.#sql.claim, [
      name,
      now,
      max,
      now + lease,
      token,
    ]);
    if (rows.length === max && !this.#analyzed) {
      // A backlog: make sure the planner has statistics (see Statements.analyze).
      this.#analyzed = true;
      this.#client.query(this.#sql.analyze).catch(() => {});
    }
    return (rows as DeliveryRow[])
      .sort((a, b) => num(a.due_at) - num(b.due_at) || num(a.seq) - num(b.seq))
      .map((found) => this.#delivery(name, token, found));
  }

  wait(name: string, signal: AbortSignal): Promise<void> {
    if (this.#closed || signal.aborted) return Promise.resolve();
    return this.#waitFor(name, signal);
  }

  async #waitFor(name: string, signal: AbortSignal): Promise<void> {
    const clock = this.#clock;
    let delay = this.#pollInterval;
    // Parked before the read, so that a wake-up during it is not missed.
    const parked = this.#waiters.park(name);
    try {
      const { rows } = await this.#client.query(this.#sql.nextDue, [name]);
      const at = (rows[0] as { at?: unknown } | undefined)?.at;
      if (at !== null && at !== undefined) delay = Math.min(delay, num(at) - clock.now());
    } catch (error) {
      parked.leave();
      throw error;
    }
    if (this.#closed) return parked.leave();
    return parked.sleep(signal, clock, delay);
  }

  async deadLetters(name: string, limit: number): Promise<readonly StoredDeadLetter[]> {
    this.#checkOpen("list dead letters");
    const { rows } = await this.#client.query(this.#sql.deadLetters, [name, limit]);
    return (rows as DeliveryRow[]).map((dead) => ({
      message: toMessage(dead),
      attempts: num(dead.attempt),
      error: dead.error ?? "",
      deadAt: num(dead.dead_at),
    }));
  }

  async redrive(name: string, limit: number): Promise<number> {
    this.#checkOpen("redrive dead letters");
    const { rows } = await this.#client.query(this.#sql.redrive, [this.#clock.now(), name, limit]);
    if (rows.length > 0) this.#waiters.wake(name);
    return rows.length;
  }

  async inspect(name: string): Promise<QueueState> {
    this.#checkOpen("inspect");
    const now = this.#clock.now();
    const { rows } = await this.#client.query(this.#sql.inspect, [now, name]);
    const found = rows[0] as Record<string, unknown>;
    const oldest = found.oldest;
    return {
      ready: num(found.ready),
      delayed: num(found.delayed),
      inFlight: num(found.in_flight),
      dead: num(found.dead),
      lag: oldest === null || oldest === undefined ? 0 : now - num(oldest),
    };
  }

  /**
   * One cleanup pass: deletes expired idempotency keys and the events older than the retention
   * that no delivery refers to any more (at most 1,000 of each). Runs every `cleanupInterval`.
   */
  async cleanup(): Promise<{ keys: number; events: number }> {
    this.#checkOpen("clean up");
    const now = this.#clock.now();
    const { rows } = await this.#client.query(this.#sql.cleanup, [now, now - this.#retention]);
    const found = rows[0] as { keys: unknown; events: unknown };
    return { keys: num(found.keys), events: num(found.events) };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#cleanupTimer);
    this.#waiters.wakeAll();
    await this.#session?.close();
  }

  #checkOpen(action: string): void {
    if (this.#closed) throw new Error(`Cannot ${action} as the PostgreSQL transport is closed`);
  }

  /**
   * Stores the publishes without a transaction or an idempotency key asked for in one turn of
   * the event loop in one statement (one round trip, one commit), in the order they were asked
   * for; they succeed or fail together.
   */
  #publishBatched(message: OutgoingMessage): Promise<void> {
    return new Promise((done, fail) => {
      this.#publishes.push({ message, done, fail });
      if (this.#publishes.length === 1) lingerThen(LINGER, () => this.#flushPublishes());
    });
  }

  async #flushPublishes(): Promise<void> {
    const batch = this.#publishes;
    this.#publishes = [];
    try {
      const messages = batch.map((publish) => publish.message);
      const { rows } = await this.#client.query(this.#sql.publishMany, [
        messages.map((message) => message.id),
        messages.map((message) => message.topic),
        messages.map((message) => message.data),
        messages.map((message) => message.publishedAt),
        messages.map((message) => message.key ?? null),
        this.#clock.now(),
        this.#channel,
      ]);
      for (const publish of batch) publish.done();
      for (const name of (rows[0] as { names: string[] | null }).names ?? []) {
        this.#waiters.wake(name);
      }
    } catch (error) {
      for (const publish of batch) publish.fail(error);
    }
  }

  /**
   * Acks in batches: the acks asked for in one turn of the event loop (the runs of one claim
   * finish together) go in one statement, so one round trip and one commit serve them all.
   */
  #ack(id: string, name: string, token: string): Promise<boolean> {
    return new Promise((done, fail) => {
      this.#acks.push({ id, name, token, done, fail });
      if (this.#acks.length === 1) lingerThen(LINGER, () => this.#flushAcks());
    });
  }

  async #flushAcks(): Promise<void> {
    const batch = this.#acks;
    this.#acks = [];
    try {
      const { rows } = await this.#client.query(this.#sql.ackMany, [
        batch.map((ack) => ack.id),
        batch.map((ack) => ack.name),
        batch.map((ack) => ack.token),
      ]);
      const applied = new Set(
        (rows as { event_id: string; name: string }[]).map((row) => `${row.name}\n${row.event_id}`),
      );
      for (const ack of batch) ack.done(applied.has(`${ack.name}\n${ack.id}`));
    } catch (error) {
      for (const ack of batch) ack.fail(error);
    }
  }

  /** A NOTIFY arrived: its payload lists the durable names with news, or `*` for all. */
  #notified(payload: string): void {
    if (payload === "*" || payload === "") {
      this.#waiters.wakeAll();
    } else for (const name of payload.split(",")) this.#waiters.wake(name);
  }

  /** A claimed delivery: its settling methods apply while `token` is still its lease token. */
  #delivery(name: string, token: string, found: DeliveryRow): Delivery {
    const sql = this.#sql;
    const clock = this.#clock;
    const id = found.event_id;
    const held = async (
      action: string,
      statement: string,
      extra: unknown[] = [],
      via: Queryable = this.#client,
    ): Promise<boolean> => {
      this.#checkOpen(action);
      const { rows } = await via.query(statement, [id, name, token, ...extra]);
      return rows.length > 0;
    };
    return {
      message: toMessage(found),
      attempt: num(found.attempt),
      extend: async (lease) => {
        checkSpan(lease, "lease", "extend a lease");
        return held("extend a lease", sql.extend, [clock.now() + lease]);
      },
      ack: async () => {
        this.#checkOpen("acknowledge");
        return this.#ack(id, name, token);
      },
      retry: async (delay, error) => {
        checkSpan(delay, "delay", "retry");
        const done = await held("retry", sql.retry, [clock.now() + delay, error]);
        if (done) this.#waiters.wake(name);
        return done;
      },
      deadLetter: async (error) => held("dead-letter", sql.deadLetter, [clock.now(), error]),
      release: async (started) => {
        const done = await held("release", sql.release, [started ? 0 : 1]);
        if (done) this.#waiters.wake(name);
        return done;
      },
      complete: async (tx) => {
        const via = tx as Queryable;
        if (typeof via?.query !== "function") {
          throw new TypeError(
            `Cannot complete a delivery with the PostgreSQL transport as 'tx' must be a client inside BEGIN with query(text, params): received ${
              describeValue(tx)
            }`,
          );
        }
        return held("complete", sql.ack, [], via);
      },
    };
  }
}

/**
 * Microtask turns a batch waits for more: about the depth of the promise chains from the calls
 * of one turn (a `Promise.all` of publishes, the runs of one claim finishing) to the transport.
 */
const LINGER = 8;

/** Runs `fn` after `turns` more microtask turns: costs no timer. */
function lingerThen(turns: number, fn: () => void): void {
  queueMicrotask(() => turns === 0 ? fn() : lingerThen(turns - 1, fn));
}

/** The event of a delivery row. */
function toMessage(found: DeliveryRow): StoredMessage {
  return {
    id: found.event_id,
    topic: found.topic,
    data: found.data,
    publishedAt: num(found.published_at),
  };
}
