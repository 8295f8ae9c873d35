/**
 * The SQLite transport: durable delivery in one database file, shared by every process on the
 * machine that opens it.
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
import { matchTopic } from "../topic.ts";
import { checkClock, checkSpan } from "../durable/_clock.ts";
import { Waiters } from "../durable/_waiters.ts";
import { checkPattern, describeValue } from "../_topic.ts";
import { changes, type Handle, num, rollBack, row, setUp, type SqlValue } from "./_schema.ts";
import { prepareStatements, type Statements } from "./_statements.ts";

/**
 * A prepared statement, as the transport uses it: node:sqlite's `StatementSync`, bun:sqlite's
 * `Statement` and better-sqlite3's `Statement` all fit. Soiree binds only strings, numbers and
 * `null`, positionally, and reads numbers whether they come back as `number` or `bigint`.
 *
 * @example node:sqlite's statements fit
 * ```ts
 * import type { SqliteStatement } from "@x/soiree/sqlite";
 * import { DatabaseSync } from "node:sqlite";
 * import assert from "node:assert/strict";
 *
 * const statement: SqliteStatement = new DatabaseSync(":memory:").prepare("SELECT ? AS x");
 * assert.deepEqual({ ...statement.get(1) as object }, { x: 1 });
 * ```
 */
export interface SqliteStatement {
  /** Runs a statement that returns no rows; the result's `changes` is read. */
  run(...params: (string | number | null)[]): unknown;
  /** The first row as an object, or `undefined` (or `null`) when there is none. */
  get(...params: (string | number | null)[]): unknown;
  /** Every row, as objects. */
  all(...params: (string | number | null)[]): unknown[];
}

/**
 * An open SQLite database you pass to {@linkcode sqliteTransport} instead of a path:
 * node:sqlite's `DatabaseSync` (Node 22.13+, Deno, Bun), bun:sqlite's `Database` or a
 * better-sqlite3 `Database` (Node 20). Soiree never imports a driver: it uses only these two
 * methods, and never closes the handle. SQLite has one transaction per connection, so a
 * transaction of your own left open on the handle across an `await` makes the transport's
 * writes fail meanwhile: give the transport a handle of its own if you do that.
 *
 * @example A handle from node:sqlite
 * ```ts
 * import { type SqliteHandle, sqliteTransport } from "@x/soiree/sqlite";
 * import { DatabaseSync } from "node:sqlite";
 *
 * const db = new DatabaseSync(":memory:");
 * const handle: SqliteHandle = db;
 * const transport = await sqliteTransport(handle);
 * await transport.close();
 * db.close(); // yours to close
 * ```
 */
export interface SqliteHandle {
  /** Runs SQL text (several statements allowed), returning no rows. */
  exec(sql: string): unknown;
  /** Compiles one statement. */
  prepare(sql: string): SqliteStatement;
}

/**
 * Options of {@linkcode sqliteTransport}.
 *
 * @example Faster polling and a table prefix of your own
 * ```ts
 * import { type SqliteTransportOptions, sqliteTransport } from "@x/soiree/sqlite";
 *
 * const options: SqliteTransportOptions = { pollInterval: 100, tablePrefix: "events_" };
 * const transport = await sqliteTransport(":memory:", options);
 * await transport.close();
 * ```
 */
export interface SqliteTransportOptions {
  /**
   * The time that run times, leases, idempotency windows and dead-letter times are measured
   * on, and the timers `wait()` uses: tests pass a clock they move by hand.
   *
   * @default {real time: Date.now and the global setTimeout}
   */
  clock?: Clock;
  /**
   * How often (ms) an idle consumer looks again for work that another process wrote. Work
   * written by this transport object wakes its consumers at once.
   *
   * @default {250}
   */
  pollInterval?: number;
  /**
   * How long (ms) a statement waits for another process's write lock before it fails with
   * SQLite's `SQLITE_BUSY` error (`PRAGMA busy_timeout`, set on the handle).
   *
   * @default {5000}
   */
  busyTimeout?: number;
  /**
   * How hard a commit waits for the disk (`PRAGMA synchronous`, set on the connection):
   * `"full"` syncs the write-ahead log on every commit, so a stored event survives a power cut
   * or an OS crash; `"normal"` syncs it at checkpoints only, which makes commits several times
   * faster and still survives the process being killed, but a power cut may lose the last
   * commits (SQLite's advice for WAL mode). Commits are grouped either way: the writes of one
   * turn of the event loop share one.
   *
   * @default {the connection's setting: "full" for a file this transport opens, SQLite's default}
   */
  synchronous?: "full" | "normal";
  /**
   * Prefix of the transport's table names (`soiree_events`, `soiree_deliveries`, …): lower
   * case letters, digits and `_`, not starting with a digit. Two prefixes keep two independent
   * stores in one file.
   *
   * @default {"soiree_"}
   */
  tablePrefix?: string;
}

/** The largest delay `setTimeout` keeps (about 24.8 days). */
const MAX_TIMER = 2_147_483_647;

/** A database this transport opened itself, so it closes it too. */
interface OwnedDatabase extends Handle {
  close(): void;
}

/** node:sqlite's module, the part used. */
interface NodeSqlite {
  DatabaseSync: new (path: string) => OwnedDatabase;
}

/**
 * Opens a durable transport on SQLite: events and their deliveries live in one database file,
 * so they survive restarts, and every process that opens the file shares the work (each
 * delivery is leased to one process at a time; SQLite serialises the writers). Pass it as
 * `new Soiree({ transport })`.
 *
 * Give it a path, and it opens the file with `node:sqlite` (Node 22.13+, Deno, Bun) and closes
 * it on `close()`. Or give it a database you opened (node:sqlite's `DatabaseSync`, bun:sqlite's
 * `Database`, better-sqlite3 on Node 20): it is used as it is and never closed. Either way the
 * file is switched to WAL mode, `busy_timeout` is set on the connection, and the tables are
 * created unless they exist (`soiree_subscriptions`, `soiree_events`, `soiree_deliveries`,
 * `soiree_idempotency_keys`, `soiree_meta`). Not for network file systems or for processes on
 * several machines.
 *
 * The drivers are synchronous: a statement that waits for another process's write lock blocks
 * this process's event loop (lease renewals included) for up to `busyTimeout`. The writes of
 * one turn share a transaction, which keeps the waits short, but keep durable listeners'
 * leases at several seconds (the default is 30 s) when several processes write to one file.
 *
 * @param pathOrHandle A file path (or `":memory:"`), or an open database.
 * @param options The clock, poll interval (ms), busy timeout (ms) and table prefix.
 * @returns The transport, once its tables are ready; its `name` is `"sqlite"`.
 * @throws {TypeError} When `pathOrHandle` is neither a non-empty string nor a handle with
 * `exec` and `prepare`, when `options` is not an object, when the clock lacks a method, or when
 * the table prefix is malformed.
 * @throws {RangeError} When `pollInterval` or `busyTimeout` is out of range.
 * @throws {Error} SQLite's own error when the file cannot be opened or set up (the promise
 * rejects with it as it is), or when `node:sqlite` is missing and a path was given.
 *
 * @example The contract by hand: what Soiree does for a durable listener
 * ```ts
 * import { sqliteTransport } from "@x/soiree/sqlite";
 * import { matchTopic } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const transport = await sqliteTransport(":memory:");
 * await transport.subscribe({ name: "welcome-email", pattern: "user.*" });
 * const receipt = await transport.publish({
 *   id: "01JD0000000000000000000000",
 *   topic: "user.created",
 *   data: '{"email":"ada@example.com"}',
 *   publishedAt: Date.now(),
 *   idempotencyKey: "signup:ada",
 *   dedupeWindow: 60_000,
 * });
 * assert.equal(receipt.duplicate, false);
 *
 * const [delivery] = await transport.receive("welcome-email", 10, 30_000);
 * assert.ok(matchTopic("user.*", delivery.message.topic));
 * assert.equal(delivery.attempt, 1);
 * assert.equal(await delivery.ack(), true);
 * await transport.close();
 * ```
 *
 * @example Two transports on one database share the work
 * ```ts
 * import { sqliteTransport } from "@x/soiree/sqlite";
 * import type { Transport } from "@x/soiree";
 * import { DatabaseSync } from "node:sqlite";
 * import assert from "node:assert/strict";
 *
 * const db = new DatabaseSync(":memory:");
 * const producer: Transport = await sqliteTransport(db);
 * const worker: Transport = await sqliteTransport(db);
 * await worker.subscribe({ name: "invoice-pdf", pattern: "invoice.**" });
 * await producer.publish({
 *   id: "01JD0000000000000000000000",
 *   topic: "invoice.paid",
 *   data: '{"cents":500}',
 *   publishedAt: Date.now(),
 *   idempotencyKey: undefined,
 *   dedupeWindow: 60_000,
 * });
 * const [delivery] = await worker.receive("invoice-pdf", 10, 30_000);
 * assert.equal(delivery.message.topic, "invoice.paid");
 * assert.equal(await delivery.ack(), true);
 * await Promise.all([producer.close(), worker.close()]);
 * db.close();
 * ```
 */
export async function sqliteTransport(
  pathOrHandle: string | SqliteHandle,
  options?: SqliteTransportOptions,
): Promise<Transport> {
  const action = "open the SQLite transport";
  const isHandle = typeof pathOrHandle === "object" && pathOrHandle !== null &&
    typeof pathOrHandle.exec === "function" && typeof pathOrHandle.prepare === "function";
  if (!isHandle && (typeof pathOrHandle !== "string" || pathOrHandle === "")) {
    throw new TypeError(
      `Cannot ${action} as 'pathOrHandle' must be a file path or a database handle with exec() and prepare(): received ${
        describeValue(pathOrHandle)
      }`,
    );
  }
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: received ${describeValue(options)}`,
    );
  }
  const clock = checkClock(options?.clock, action);
  const pollInterval = checkMilliseconds(options?.pollInterval, 250, 1, "pollInterval");
  const busyTimeout = checkMilliseconds(options?.busyTimeout, 5_000, 0, "busyTimeout");
  const prefix = options?.tablePrefix ?? "soiree_";
  if (typeof prefix !== "string" || !/^[a-z_][a-z0-9_]{0,62}$/.test(prefix)) {
    throw new TypeError(
      `Cannot ${action} as 'tablePrefix' must be 1 to 63 of a-z, 0-9 and _, not starting with a digit: received ${
        describeValue(prefix)
      }`,
    );
  }

  const synchronous = options?.synchronous;
  if (synchronous !== undefined && synchronous !== "full" && synchronous !== "normal") {
    throw new TypeError(
      `Cannot ${action} as 'synchronous' must be "full" or "normal": received ${
        describeValue(synchronous)
      }`,
    );
  }

  let owned: OwnedDatabase | undefined;
  let db: Handle;
  if (typeof pathOrHandle === "string") {
    owned = new (await loadNodeSqlite()).DatabaseSync(pathOrHandle);
    db = owned;
  } else db = pathOrHandle;
  try {
    setUp(db, prefix, busyTimeout);
    if (synchronous !== undefined) db.exec(`PRAGMA synchronous = ${synchronous.toUpperCase()}`);
    return new SqliteTransport(db, owned, prepareStatements(db, prefix), clock, pollInterval);
  } catch (error) {
    owned?.close();
    throw error;
  }
}

/** Checks an integer option in ms from `min` up, at most `setTimeout`'s limit. */
function checkMilliseconds(value: unknown, fallback: number, min: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot open the SQLite transport as '${name}' must be a number of milliseconds: received ${
        describeValue(value)
      }`,
    );
  }
  if (!Number.isInteger(value) || value < min || value > MAX_TIMER) {
    throw new RangeError(
      `Cannot open the SQLite transport as '${name}' must be ${
        min === 0 ? "an integer from 0" : "a positive integer"
      } of milliseconds up to ${MAX_TIMER}: received ${describeValue(value)}`,
    );
  }
  return value;
}

/** Imports node:sqlite at run time, so that a better-sqlite3 user on Node 20 never loads it. */
async function loadNodeSqlite(): Promise<NodeSqlite> {
  try {
    // @ts-ignore: the npm build compiles without Node's types, which declare this module
    return await import("node:sqlite") as NodeSqlite;
  } catch (error) {
    throw new Error(
      "Cannot open the SQLite transport from a path as this runtime has no node:sqlite (Node 22.13+, Deno and Bun have it): open the file with better-sqlite3 and pass the database instead",
      { cause: error },
    );
  }
}

/** A subscription row. */
interface Subscription {
  readonly name: string;
  readonly pattern: string;
}

/** A claimed or dead delivery joined with its event, as SQLite returns it. */
interface DeliveryRow {
  event_id: string;
  attempt: unknown;
  ordering_key?: string | null;
  topic: string;
  data: string;
  published_at: unknown;
  error?: string | null;
  dead_at?: unknown;
}

/**
 * Microtask turns a group commit waits for more writes: about the depth of the promise chain
 * from a publish that wakes a consumer to that consumer's claim.
 */
const LINGER = 8;

/** How many topics' matching names one transport remembers before it starts again. */
const MATCH_CACHE = 1_024;

class SqliteTransport implements Transport {
  readonly name = "sqlite";
  readonly features: TransportFeatures = Object.freeze({ orderingKeys: true });
  readonly #db: Handle;
  readonly #owned: OwnedDatabase | undefined;
  readonly #sql: Statements;
  readonly #clock: Clock;
  readonly #pollInterval: number;
  /** The waits of each durable name's consumers in this process. */
  readonly #waiters = new Waiters();
  /** The subscriptions table as last read, and the version it was read at. */
  #subscriptions: readonly Subscription[] = [];
  #subscriptionsVersion = -1;
  /** Topic → the names whose pattern matches it, for {@linkcode #subscriptions}. */
  readonly #matches = new Map<string, readonly string[]>();
  #closed = false;
  /** Writes waiting for the next group commit (see `#write()`). */
  #queued: {
    work: () => unknown;
    resolve: (value: unknown) => void;
    reject: (e: unknown) => void;
  }[] = [];

  constructor(
    db: Handle,
    owned: OwnedDatabase | undefined,
    sql: Statements,
    clock: Clock,
    pollInterval: number,
  ) {
    this.#db = db;
    this.#owned = owned;
    this.#sql = sql;
    this.#clock = clock;
    this.#pollInterval = pollInterval;
  }

  async subscribe(subscription: DurableSubscription): Promise<void> {
    this.#checkOpen("subscribe");
    checkPattern(subscription.pattern, "subscribe");
    const sql = this.#sql;
    await this.#write(() => {
      if (changes(sql.subscribe.run(subscription.name, subscription.pattern)) > 0) {
        sql.bumpSubscriptions.run();
      }
    });
  }

  async publish(message: OutgoingMessage): Promise<PublishReceipt> {
    this.#checkOpen("publish");
    const sql = this.#sql;
    const now = this.#clock.now();
    const { id, idempotencyKey: key } = message;
    const stored = await this.#write((): string | readonly string[] => {
      if (key !== undefined) {
        sql.sweepKeys.run(now);
        const seen = row<{ event_id: string; expires_at: unknown }>(sql.findKey.get(key));
        if (seen !== undefined && num(seen.expires_at) > now) return String(seen.event_id);
        sql.putKey.run(key, id, now + message.dedupeWindow);
      }
      const names = this.#matching(message.topic);
      if (names.length > 0) {
        sql.insertEvent.run(id, message.topic, message.data, message.publishedAt);
        for (const name of names) sql.insertDelivery.run(id, name, now, message.key ?? null);
      }
      return names;
    });
    if (typeof stored === "string") return { id: stored, duplicate: true };
    for (const name of stored) this.#waiters.wake(name);
    return { id, duplicate: false };
  }

  async receive(name: string, max: number, lease: number): Promise<readonly Delivery[]> {
    this.#checkOpen("receive");
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot receive as 'max' must be a positive integer: received ${describeValue(max)}`,
      );
    }
    checkSpan(lease, "lease", "receive");
    const sql = this.#sql;
    const now = this.#clock.now();
    // Idle consumers poll: a read finds out, without the write lock, that nothing is due.
    if (row(sql.due.get(name, now, now)) === undefined) return [];
    const token = crypto.randomUUID();
    const rows = await this.#write(() => {
      // Most claims find no ended lease: the ready deliveries alone are one index range.
      const claimed = changes(
        row(sql.leaseEnded.get(name, now)) === undefined
          ? sql.claimReady.run(now + lease, token, name, now, max)
          : sql.claim.run(now + lease, token, name, now, max, name, now, max, max),
      );
      return claimed === 0 ? [] : sql.claimed.all(name, token) as DeliveryRow[];
    });
    return rows.map((found) => this.#delivery(name, token, found));
  }

  wait(name: string, signal: AbortSignal): Promise<void> {
    if (this.#closed || signal.aborted) return Promise.resolve();
    const clock = this.#clock;
    let delay = this.#pollInterval;
    try {
      const ready = row<{ at: unknown }>(this.#sql.nextReady.get(name))?.at;
      const leaseEnd = row<{ at: unknown }>(this.#sql.nextLeaseEnd.get(name))?.at;
      const now = clock.now();
      for (const at of [ready, leaseEnd]) {
        if (at !== null && at !== undefined) delay = Math.min(delay, num(at) - now);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#waiters.park(name).sleep(signal, clock, delay);
  }

  async deadLetters(name: string, limit: number): Promise<readonly StoredDeadLetter[]> {
    this.#checkOpen("list dead letters");
    const rows = this.#sql.deadLetters.all(name, limit) as DeliveryRow[];
    return rows.map((dead) => ({
      message: toMessage(dead),
      attempts: num(dead.attempt),
      error: dead.error ?? "",
      deadAt: num(dead.dead_at),
    }));
  }

  async redrive(name: string, limit: number): Promise<number> {
    this.#checkOpen("redrive dead letters");
    const now = this.#clock.now();
    const count = await this.#write(() => changes(this.#sql.redrive.run(now, name, limit)));
    if (count > 0) this.#waiters.wake(name);
    return count;
  }

  async inspect(name: string): Promise<QueueState> {
    this.#checkOpen("inspect");
    const now = this.#clock.now();
    const found = row<Record<string, unknown>>(this.#sql.inspect.get(now, now, now, name))!;
    const oldest = found.oldest;
    return {
      ready: num(found.ready),
      delayed: num(found.delayed),
      inFlight: num(found.in_flight),
      dead: num(found.dead),
      lag: oldest === null || oldest === undefined ? 0 : now - num(oldest),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiters.wakeAll();
    this.#owned?.close();
  }

  #checkOpen(action: string): void {
    if (this.#closed) throw new Error(`Cannot ${action} as the SQLite transport is closed`);
  }

  /**
   * Runs `work` in the next write transaction, all of it or none of it. The writes queued in
   * one turn of the event loop share it (a group commit: one write lock and one sync to disk
   * for all of them), each in a savepoint of its own, so one failing write is undone alone and
   * rejects alone. The promise settles once the transaction committed.
   */
  #write<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queued.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.#queued.length === 1) this.#linger(LINGER);
    });
  }

  /**
   * Commits after `turns` more microtask turns: the writes that other promise chains of this
   * turn are about to make (a consumer's claim right after the publish that woke it) join the
   * same commit instead of waiting for the next one. Costs no timer.
   */
  #linger(turns: number): void {
    queueMicrotask(() => turns === 0 ? this.#commit() : this.#linger(turns - 1));
  }

  /** Commits the queued writes together. */
  #commit(): void {
    const batch = this.#queued;
    this.#queued = [];
    const sql = this.#sql;
    const results: unknown[] = [];
    const failed: boolean[] = [];
    try {
      this.#checkOpen("write");
      // BEGIN before the try: if it fails, a transaction of the user's own may be under way on
      // their handle, and rolling it back is not ours to do.
      sql.begin.run();
    } catch (error) {
      for (const write of batch) write.reject(error);
      return;
    }
    try {
      for (const write of batch) {
        if (batch.length === 1) {
          results.push(write.work());
          failed.push(false);
          break;
        }
        sql.savepoint.run();
        try {
          results.push(write.work());
          failed.push(false);
        } catch (error) {
          sql.rollbackToSavepoint.run();
          results.push(error);
          failed.push(true);
        }
        sql.releaseSavepoint.run();
      }
      sql.commit.run();
    } catch (error) {
      rollBack(this.#db);
      for (const write of batch) write.reject(error);
      return;
    }
    batch.forEach((write, i) => failed[i] ? write.reject(results[i]) : write.resolve(results[i]));
  }

  /**
   * The names whose pattern matches `topic`, from the subscriptions table as it is now: the
   * version stamp is read inside the publishing transaction, so a name that another process
   * subscribed before this publish began gets its delivery.
   */
  #matching(topic: string): readonly string[] {
    const version = num(row<{ value: unknown }>(this.#sql.subscriptionsVersion.get())?.value);
    if (version !== this.#subscriptionsVersion) {
      this.#subscriptions = (this.#sql.subscriptions.all() as Subscription[])
        .map(({ name, pattern }) => ({ name, pattern }));
      this.#subscriptionsVersion = version;
      this.#matches.clear();
    }
    let names = this.#matches.get(topic);
    if (names === undefined) {
      names = this.#subscriptions.filter(({ pattern }) => matchTopic(pattern, topic))
        .map(({ name }) => name);
      if (this.#matches.size >= MATCH_CACHE) this.#matches.clear();
      this.#matches.set(topic, names);
    }
    return names;
  }

  /** A claimed delivery: its settling methods apply while `token` is still its lease token. */
  #delivery(name: string, token: string, found: DeliveryRow): Delivery {
    const sql = this.#sql;
    const clock = this.#clock;
    const eventId = found.event_id;
    const keyed = found.ordering_key !== null && found.ordering_key !== undefined;
    const held = (action: string, statement: keyof Statements, ...params: SqlValue[]) => {
      this.#checkOpen(action);
      return this.#write(() => changes(sql[statement].run(...params, eventId, name, token)) > 0);
    };
    return {
      message: toMessage(found),
      attempt: num(found.attempt),
      extend: async (lease) => {
        checkSpan(lease, "lease", "extend a lease");
        return held("extend a lease", "extend", clock.now() + lease);
      },
      ack: async () => {
        this.#checkOpen("acknowledge");
        const done = await this.#write(() => {
          if (changes(sql.ack.run(eventId, name, token)) === 0) return false;
          sql.dropEvent.run(eventId, eventId);
          return true;
        });
        // The next delivery of its ordering key may run now.
        if (done && keyed) this.#waiters.wake(name);
        return done;
      },
      retry: async (delay, error) => {
        checkSpan(delay, "delay", "retry");
        const done = await held("retry", "retry", clock.now() + delay, error);
        if (done) this.#waiters.wake(name);
        return done;
      },
      deadLetter: async (error) => {
        const done = await held("dead-letter", "deadLetter", clock.now(), error);
        if (done && keyed) this.#waiters.wake(name);
        return done;
      },
      release: async (started) => {
        const done = await held("release", "release", started ? 0 : 1);
        if (done) this.#waiters.wake(name);
        return done;
      },
    };
  }
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
