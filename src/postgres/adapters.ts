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
 * ```ts ignore
 * import postgres from "postgres";
 * const sql: PostgresJs = postgres(process.env.DATABASE_URL);
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
 * @example
 * ```ts ignore
 * import postgres from "postgres";
 * import { fromPostgresJs, postgresTransport } from "@x/soiree/postgres";
 *
 * const sql = postgres(process.env.DATABASE_URL);
 * const transport = await postgresTransport({ client: fromPostgresJs(sql) });
 * await sql.begin((tx) => soiree.publish("user.created", user, { tx: fromPostgresJs(tx) }));
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
 * ```ts ignore
 * import { PGlite } from "@electric-sql/pglite";
 * const db: PGliteLike = new PGlite();
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
 * ```ts ignore
 * import { PGlite } from "@electric-sql/pglite";
 * import { fromPGlite, postgresTransport } from "@x/soiree/postgres";
 *
 * const transport = await postgresTransport({ client: fromPGlite(new PGlite()) });
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
