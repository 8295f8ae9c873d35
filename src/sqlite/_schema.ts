// The SQLite transport's tables, their schema version and the setup that creates or upgrades
// them: WAL, the busy timeout, and DDL run once per file under a write lock, so that several
// processes opening one file at once cannot race. Also the duck type of the handles it runs
// on (node:sqlite, bun:sqlite, better-sqlite3) and the helpers that read their rows alike.

/**
 * The schema this code writes and reads. Stored per table prefix in `<prefix>meta`, not in
 * `PRAGMA user_version`, which is one number per file and could belong to the user's own tables
 * (or to a second prefix) in a shared file. Version 1 is the first; an upgrade adds a step in
 * {@linkcode setUp} for each version after it. Version 2: `events.data` holds the event's
 * CloudEvents document rather than the bare codec text ({@linkcode toVersion2}), so that a
 * Soiree from before refuses the file instead of handing listeners the document as payload.
 * Version 3: the deliveries' `ordering_key` column and its index ({@linkcode toVersion3}).
 */
export const SCHEMA_VERSION = 3;

/** Values bound to statement parameters: only these three kinds are used. */
export type SqlValue = string | number | null;

/** The part of a prepared statement the transport uses. */
export interface Statement {
  run(...params: SqlValue[]): unknown;
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
}

/** The part of a database handle the transport uses. */
export interface Handle {
  exec(sql: string): unknown;
  prepare(sql: string): Statement;
}

/** A result column read as a number: better-sqlite3 and node:sqlite may answer BigInt. */
export function num(value: unknown): number {
  return typeof value === "bigint" ? Number(value) : value as number;
}

/** The `changes` of a `run()` result (a number or a BigInt, as above). */
export function changes(result: unknown): number {
  return num((result as { changes: unknown }).changes);
}

/** A row from `get()`, or `undefined`: bun:sqlite answers `null` where the others `undefined`. */
export function row<T>(value: unknown): T | undefined {
  return value === null || value === undefined ? undefined : value as T;
}

/**
 * Ends the transaction under way without its changes. An error SQLite already rolled back (a
 * full disk, an interrupt) leaves none to end, and the error to report is the first one.
 */
export function rollBack(db: Handle): void {
  try {
    db.exec("ROLLBACK");
  } catch {
    // No transaction left to roll back.
  }
}

/** The tables and indexes of one prefix, as `CREATE … IF NOT EXISTS` statements. */
function ddl(p: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${p}meta (
  key TEXT PRIMARY KEY NOT NULL,
  value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ${p}subscriptions (
  name TEXT PRIMARY KEY NOT NULL,
  pattern TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ${p}events (
  id TEXT PRIMARY KEY NOT NULL,
  topic TEXT NOT NULL,
  data TEXT NOT NULL,
  published_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ${p}deliveries (
  event_id TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('ready', 'leased', 'dead')),
  attempt INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL,
  lease_until INTEGER,
  lease_token TEXT,
  error TEXT,
  dead_at INTEGER,
  ordering_key TEXT,
  PRIMARY KEY (event_id, name)
);
CREATE INDEX IF NOT EXISTS ${p}deliveries_due ON ${p}deliveries (name, state, run_at, event_id);
CREATE TABLE IF NOT EXISTS ${p}idempotency_keys (
  key TEXT PRIMARY KEY NOT NULL,
  event_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ${p}idempotency_keys_expiry ON ${p}idempotency_keys (expires_at);
INSERT OR IGNORE INTO ${p}meta (key, value) VALUES ('schema_version', ${SCHEMA_VERSION});
INSERT OR IGNORE INTO ${p}meta (key, value) VALUES ('subscriptions_version', 0);
`;
}

/** The index that finds a delivery's elders of the same ordering key (version 3 on). */
function keyIndex(p: string): string {
  return `CREATE INDEX IF NOT EXISTS ${p}deliveries_key ON ${p}deliveries (name, ordering_key)
  WHERE ordering_key IS NOT NULL;`;
}

/**
 * Version 1 → 2: wraps each stored event's codec text in a CloudEvents document, as `publish()`
 * now stores it (source `"soiree"`, no trace context): empty text as no data, JSON text as
 * JSON data (`application/json`), any other text as a string (`text/plain`), which the
 * emitter's codec decodes as before.
 */
function toVersion2(p: string): string {
  const head = `'specversion', '1.0', 'id', id, 'source', 'soiree', 'type', topic,
    'time', strftime('%Y-%m-%dT%H:%M:%fZ', published_at / 1000.0, 'unixepoch')`;
  return `
UPDATE ${p}events SET data = CASE
  WHEN data = '' THEN json_object(${head}, 'datacontenttype', 'application/json')
  WHEN json_valid(data) THEN json_object(${head}, 'datacontenttype', 'application/json',
    'data', json(data))
  ELSE json_object(${head}, 'datacontenttype', 'text/plain', 'data', data)
END;
UPDATE ${p}meta SET value = 2 WHERE key = 'schema_version' AND value = 1;
`;
}

/** Version 2 → 3: the ordering key of each delivery (none for those stored before). */
function toVersion3(p: string): string {
  return `ALTER TABLE ${p}deliveries ADD COLUMN ordering_key TEXT;
UPDATE ${p}meta SET value = 3 WHERE key = 'schema_version' AND value = 2;`;
}

/** The schema version stored for `prefix`, or 0 when its tables do not exist yet. */
function storedVersion(db: Handle, prefix: string): number {
  const table = row(
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(
      `${prefix}meta`,
    ),
  );
  if (table === undefined) return 0;
  const version = row<{ value: unknown }>(
    db.prepare(`SELECT value FROM ${prefix}meta WHERE key = 'schema_version'`).get(),
  );
  return version === undefined ? 0 : num(version.value);
}

/**
 * Prepares a database for the transport: sets `busy_timeout` (ms), switches the file to WAL
 * (so readers never block the writer; a no-op in memory) and creates the tables of `prefix`
 * unless they are already at {@linkcode SCHEMA_VERSION}. When they are, it writes nothing, so a
 * read-only handle on a set-up file opens (and its writes fail later, with SQLite's error).
 *
 * @throws {Error} SQLite's error (a locked file past the busy timeout, a read-only file that
 * needs setting up), or when the tables were made by a newer version of Soiree.
 */
export function setUp(db: Handle, prefix: string, busyTimeout: number): void {
  db.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
  const mode = row<{ journal_mode: string }>(db.prepare("PRAGMA journal_mode").get());
  if (mode?.journal_mode !== "wal" && mode?.journal_mode !== "memory") {
    db.exec("PRAGMA journal_mode = WAL");
  }
  let version = storedVersion(db, prefix);
  if (version === SCHEMA_VERSION) return;
  if (version < SCHEMA_VERSION) {
    // Under the write lock, another process may have set the tables up meanwhile: the DDL is
    // idempotent, and the version is read again inside the lock.
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(ddl(prefix));
      if (storedVersion(db, prefix) === 1) db.exec(toVersion2(prefix));
      if (storedVersion(db, prefix) === 2) db.exec(toVersion3(prefix));
      db.exec(keyIndex(prefix));
      version = storedVersion(db, prefix);
      db.exec("COMMIT");
    } catch (error) {
      rollBack(db);
      throw error;
    }
  }
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `Cannot open the SQLite transport as its tables '${prefix}*' have schema version ${version}, made by a newer Soiree: this one reads version ${SCHEMA_VERSION}`,
    );
  }
}
