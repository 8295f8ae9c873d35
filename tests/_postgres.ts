// PostgreSQL for the tests: the server at DATABASE_URL (CI makes a throwaway cluster; locally
// the PostgreSQL tests skip without it), a `pg` pool loaded by name at run time so that nothing
// else needs it, and a conformance fixture: a fresh schema per test instead of a fresh database.

import process from "node:process";
import type { Clock, Transport } from "../mod.ts";
import {
  type PostgresClient,
  postgresTransport,
  type PostgresTransportOptions,
} from "../src/postgres/mod.ts";
import type { FixtureFactory } from "./_conformance.ts";

/** The server the tests use, or `undefined` to skip them. */
export const DATABASE_URL: string | undefined = process.env.DATABASE_URL || undefined;

/** Why the PostgreSQL tests skip, when they do. */
export const SKIP_REASON: string | false = DATABASE_URL === undefined
  ? "DATABASE_URL is not set: start a PostgreSQL server and run with DATABASE_URL=postgres://user@127.0.0.1:<port>/<database>"
  : false;

/** A `pg` client inside a transaction, or a pool's client. */
export interface PgClient extends PostgresClient {
  release(destroy?: boolean): void;
}

/** A `pg` pool, the part the tests use. */
export interface PgPool extends PostgresClient {
  connect(): Promise<PgClient>;
  end(): Promise<void>;
  on(event: "error", fn: (error: unknown) => void): unknown;
  totalCount: number;
}

/** Imports a module by a name the type checker does not follow. */
function load(specifier: string): Promise<Record<string, unknown>> {
  return import(specifier);
}

/** A new `pg` pool on {@linkcode DATABASE_URL}; errors of idle clients are ignored. */
export async function openPool(max = 40, url = DATABASE_URL!): Promise<PgPool> {
  const pg = (await load("pg")).default as { Pool: new (options: unknown) => PgPool };
  const pool = new pg.Pool({ connectionString: url, max });
  // A server restart makes idle clients emit "error"; unhandled, it would end the process.
  pool.on("error", () => {});
  return pool;
}

/** A new schema name: one per test, so that tests never see each other's rows. */
export function freshSchema(): string {
  return `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** Drops `schema` and everything in it. */
export async function dropSchema(client: PostgresClient, schema: string): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/**
 * A conformance fixture factory on one shared pool: a fresh schema per test, every transport
 * on it polling every 100 ms. `done()` ends the pool.
 */
export function postgresFixtures(
  extra: Partial<PostgresTransportOptions> = {},
): { factory: FixtureFactory; done: () => Promise<void> } {
  let pool: Promise<PgPool> | undefined;
  const factory: FixtureFactory = async (clock: Clock | undefined) => {
    pool ??= openPool();
    const client = await pool;
    const schema = freshSchema();
    return {
      open: (): Promise<Transport> =>
        postgresTransport({ client, schema, pollInterval: 100, clock, ...extra }),
      cleanup: () => dropSchema(client, schema),
    };
  };
  const done = async (): Promise<void> => {
    if (pool !== undefined) await (await pool).end();
  };
  return { factory, done };
}
