/**
 * Adapters that make PostgreSQL clients other than `pg` fit {@linkcode PostgresClient}: the
 * `postgres` package (porsager) and PGlite. Soiree imports neither; each adapter uses only the
 * methods named here.
 *
 * @module
 */

import type { PostgresClient } from "./postgres_transport.ts";

/**
 * The part of a `postgres` (porsager) `sql` instance the adapter uses: `unsafe(text, params)`
 * for one statement, and `listen(channel, fn)` for NOTIFY (it keeps a dedicated connection).
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import type { PostgresJs } from "@x/soiree/postgres";
 *
 * const sql: PostgresJs = postgres(); // connects on its first query
 * void sql;
 * ```
 */
export interface PostgresJs {
  /** Runs one statement; resolves with its rows (an array). */
  unsafe(text: string, params?: unknown[]): PromiseLike<unknown>;
  /** Listens on `channel`; resolves with an object whose `unlisten()` stops. */
  listen?(
    channel: string,
    fn: (payload: string) => void,
  ): PromiseLike<{ unlisten(): PromiseLike<unknown> }>;
}

/**
 * Adapts a `postgres` (porsager) `sql` instance, or a transaction's `sql` inside
 * `sql.begin()`, to {@linkcode PostgresClient}. Soiree never calls `sql.end()`.
 *
 * @param sql The instance (or a transaction's).
 * @returns A client for `postgresTransport({ client })`, or a `tx` for `publish(…, { tx })`.
 *
 * @example Publish inside sql.begin() (runs where DATABASE_URL is set)
 * ```ts
 * import postgres from "postgres";
 * import process from "node:process";
 * import assert from "node:assert/strict";
 * import { Soiree } from "@x/soiree";
 * import { fromPostgresJs, postgresTransport } from "@x/soiree/postgres";
 *
 * const url = process.env.DATABASE_URL;
 * if (url !== undefined) {
 *   const sql = postgres(url, { onnotice: () => {} });
 *   const schema = `doc_${crypto.randomUUID().slice(0, 8)}`;
 *   const transport = await postgresTransport({ client: fromPostgresJs(sql), schema });
 *   const soiree = new Soiree({ transport });
 *   const got = Promise.withResolvers<unknown>();
 *   soiree.on("user.created", (event) => got.resolve(event.payload), { durable: "welcome" });
 *   await sql.begin((tx) => soiree.publish("user.created", 1, { tx: fromPostgresJs(tx) }));
 *   assert.equal(await got.promise, 1);
 *   await soiree.close();
 *   await sql.unsafe(`DROP SCHEMA ${schema} CASCADE`);
 *   await sql.end();
 * }
 * ```
 */
export function fromPostgresJs(sql: PostgresJs): PostgresClient {
  if (typeof sql?.unsafe !== "function") {
    throw new TypeError(
      `Cannot adapt a postgres client as it has no unsafe(text, params): received ${typeof sql}`,
    );
  }
  const client: PostgresClient = {
    query: async (text, params) => ({ rows: [...await sql.unsafe(text, params) as unknown[]] }),
  };
  if (typeof sql.listen === "function") {
    const listen = sql.listen.bind(sql);
    client.listen = async (channel, onNotify) => {
      const { unlisten } = await listen(channel, onNotify);
      return async () => void await unlisten();
    };
  }
  return client;
}

/**
 * The part of a PGlite database the adapter uses (`@electric-sql/pglite`): `query(text,
 * params)` and `listen(channel, fn)`, and the same `query` on a transaction of `transaction()`.
 *
 * @example
 * ```ts
 * import type { PGliteLike } from "@x/soiree/postgres";
 *
 * // `new PGlite()` from @electric-sql/pglite is one.
 * const db: PGliteLike = { query: async () => ({ rows: [] }) };
 * void db;
 * ```
 */
export interface PGliteLike {
  /** Runs one statement; resolves with `{ rows }`. */
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  /** Listens on `channel`; resolves with the way to stop. */
  listen?(channel: string, fn: (payload: string) => void): Promise<() => Promise<void>>;
}

/**
 * Adapts a PGlite database (or a transaction of it) to {@linkcode PostgresClient}: its `query`
 * fits as it is, and its `listen` gives NOTIFY wake-ups. Soiree never closes it.
 *
 * @param db The database, or a transaction of `db.transaction()`.
 * @returns A client for `postgresTransport({ client })`, or a `tx` for `publish(…, { tx })`.
 *
 * @example
 * ```ts
 * import { fromPGlite, type PGliteLike } from "@x/soiree/postgres";
 * import assert from "node:assert/strict";
 *
 * // In an application: fromPGlite(new PGlite()) (from @electric-sql/pglite).
 * const db: PGliteLike = { query: async (text) => ({ rows: [{ text }] }) };
 * const client = fromPGlite(db);
 * assert.deepEqual((await client.query("SELECT 1")).rows, [{ text: "SELECT 1" }]);
 * ```
 */
export function fromPGlite(db: PGliteLike): PostgresClient {
  if (typeof db?.query !== "function") {
    throw new TypeError(
      `Cannot adapt a PGlite database as it has no query(text, params): received ${typeof db}`,
    );
  }
  const client: PostgresClient = { query: (text, params) => db.query(text, params) };
  if (typeof db.listen === "function") {
    const listen = db.listen.bind(db);
    client.listen = (channel, onNotify) => listen(channel, onNotify);
  }
  return client;
}
