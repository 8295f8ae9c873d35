// The PostgreSQL transport's tables, their schema version and the setup that creates or upgrades
// them: one `DO` statement, run under a transaction-level advisory lock keyed on the schema's
// name, so that several processes starting at once install it once and never race on
// `CREATE … IF NOT EXISTS`. Also the duck type of the client it runs on. Owns the DDL only.

/**
 * The layout this code writes and reads, stored in `<schema>.meta` under `schema_version`.
 * Version 1 is the first; an upgrade adds a step in {@linkcode setupSql} for each one after it.
 */
export const SCHEMA_VERSION = 1;

/** The part of a client the transport uses: one statement per call, positional `$n` params. */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** `name` as a quoted identifier (already checked: lower case letters, digits and `_`). */
export function quote(name: string): string {
  return `"${name}"`;
}

/**
 * The setup, as one statement: takes the advisory lock, creates the schema and tables unless
 * they exist, and fails when they were made by a newer Soiree. Times are milliseconds on the
 * transport's clock (bigint). `due_at` is when a ready delivery may run or when a leased one's
 * lease ends; `run_at` is when a ready one came due (its place in line, kept by a release).
 */
export function setupSql(schema: string): string {
  const s = quote(schema);
  // The lock key is a constant derived from the schema's name, the same in every process.
  return `DO $soiree$
DECLARE
  installed bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('soiree:' || ${literal(schema)}, 0));
  CREATE SCHEMA IF NOT EXISTS ${s};
  CREATE TABLE IF NOT EXISTS ${s}.meta (
    key text PRIMARY KEY,
    value bigint NOT NULL
  );
  SELECT value INTO installed FROM ${s}.meta WHERE key = 'schema_version';
  IF installed > ${SCHEMA_VERSION} THEN
    RAISE EXCEPTION 'Cannot open the PostgreSQL transport as schema % has layout version %, made by a newer Soiree: this one reads version ${SCHEMA_VERSION}', ${
    literal(schema)
  }, installed;
  END IF;
  IF installed IS NULL THEN
    CREATE TABLE IF NOT EXISTS ${s}.subscriptions (
      name text PRIMARY KEY,
      pattern text NOT NULL,
      regex text NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${s}.events (
      id text PRIMARY KEY,
      topic text NOT NULL,
      data text NOT NULL,
      published_at bigint NOT NULL
    );
    CREATE INDEX IF NOT EXISTS events_published ON ${s}.events (published_at);
    CREATE TABLE IF NOT EXISTS ${s}.deliveries (
      event_id text NOT NULL,
      name text NOT NULL,
      seq bigserial NOT NULL,
      state text NOT NULL CHECK (state IN ('ready', 'leased', 'dead')),
      attempt integer NOT NULL DEFAULT 0,
      run_at bigint NOT NULL,
      due_at bigint NOT NULL,
      lease_token text,
      ordering_key text,
      error text,
      dead_at bigint,
      PRIMARY KEY (event_id, name)
    );
    CREATE INDEX IF NOT EXISTS deliveries_due ON ${s}.deliveries (name, due_at, seq)
      WHERE state <> 'dead';
    CREATE INDEX IF NOT EXISTS deliveries_dead ON ${s}.deliveries (name, dead_at, seq)
      WHERE state = 'dead';
    CREATE INDEX IF NOT EXISTS deliveries_key ON ${s}.deliveries (name, ordering_key, seq)
      WHERE ordering_key IS NOT NULL AND state <> 'dead';
    CREATE TABLE IF NOT EXISTS ${s}.idempotency_keys (
      key text PRIMARY KEY,
      event_id text NOT NULL,
      expires_at bigint NOT NULL
    );
    CREATE INDEX IF NOT EXISTS idempotency_keys_expiry ON ${s}.idempotency_keys (expires_at);
    INSERT INTO ${s}.meta (key, value) VALUES ('schema_version', ${SCHEMA_VERSION})
      ON CONFLICT (key) DO NOTHING;
  END IF;
END
$soiree$`;
}

/** `text` as a SQL string literal. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
