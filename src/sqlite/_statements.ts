// Every SQL statement the SQLite transport runs once its tables exist, one per operation and
// prepared once per transport; the parameters each takes are listed beside it. Owns the SQL
// text, nothing else. Times are milliseconds on the transport's clock; `state` is 'ready',
// 'leased' or 'dead'. A settling statement applies only while `lease_token` still matches: the
// token is fresh on every claim, so once another holder claimed the delivery, it changes
// nothing.

import type { Handle, Statement } from "./_schema.ts";

/** How many expired idempotency keys one publish forgets at most, beside its own. */
const KEY_SWEEP = 32;

/** The prepared statements of one transport. */
export interface Statements {
  readonly begin: Statement;
  readonly commit: Statement;
  /** Around each write of a group commit: one failing write is undone alone. */
  readonly savepoint: Statement;
  readonly releaseSavepoint: Statement;
  readonly rollbackToSavepoint: Statement;
  /** (name, now, now) → a row when some delivery of the name is due (read without a lock) */
  readonly due: Statement;
  /** (name, pattern) → changes: 0 when the name already had this pattern. */
  readonly subscribe: Statement;
  /** () → changes. Tells every process's publish to read the subscriptions again. */
  readonly bumpSubscriptions: Statement;
  /** () → { value } */
  readonly subscriptionsVersion: Statement;
  /** () → { name, pattern }[] */
  readonly subscriptions: Statement;
  /** (now) → changes */
  readonly sweepKeys: Statement;
  /** (key) → { event_id, expires_at } */
  readonly findKey: Statement;
  /** (key, event id, expires at) */
  readonly putKey: Statement;
  /** (id, topic, data, published at) */
  readonly insertEvent: Statement;
  /** (event id, name, run at, ordering key or null) */
  readonly insertDelivery: Statement;
  /** (lease until, token, name, now, max, name, now, max, max) → changes */
  readonly claim: Statement;
  /** (lease until, token, name, now, max) → changes: the ready ones only, when no lease ended */
  readonly claimReady: Statement;
  /** (name, now) → a row when a lease of the name ended unsettled */
  readonly leaseEnded: Statement;
  /** (name, token) → { event_id, attempt, ordering_key, topic, data, published_at }[], oldest first */
  readonly claimed: Statement;
  /** (lease until, event id, name, token) → changes */
  readonly extend: Statement;
  /** (event id, name, token) → changes */
  readonly ack: Statement;
  /** (event id, event id): deletes the event once no delivery of it is left */
  readonly dropEvent: Statement;
  /** (run at, error, event id, name, token) → changes */
  readonly retry: Statement;
  /** (dead at, error, event id, name, token) → changes */
  readonly deadLetter: Statement;
  /** (attempts to take back: 0 or 1, event id, name, token) → changes */
  readonly release: Statement;
  /** (name, limit) → { event_id, attempt, error, dead_at, topic, data, published_at }[] */
  readonly deadLetters: Statement;
  /** (now, name, limit) → changes */
  readonly redrive: Statement;
  /** (name) → { at }: the earliest run_at of a ready delivery, or null */
  readonly nextReady: Statement;
  /** (name) → { at }: the earliest lease end of a leased delivery, or null */
  readonly nextLeaseEnd: Statement;
  /** (now, now, now, name) → { ready, delayed, in_flight, dead, oldest }: counts by state */
  readonly inspect: Statement;
}

/** Prepares the statements on the tables of `p` (the table prefix, already checked). */
export function prepareStatements(db: Handle, p: string): Statements {
  // A delivery with an ordering key may run only while no other live delivery of its key and
  // name is older than it (inserted before: a lower rowid) or leased: one of a key at a time,
  // in publish order. `d` is the delivery considered.
  const mayRun = `(d.ordering_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM ${p}deliveries AS o
      WHERE o.name = d.name AND o.ordering_key = d.ordering_key AND o.state <> 'dead'
        AND o.rowid <> d.rowid AND (o.rowid < d.rowid OR o.state = 'leased')))`;
  const held = "event_id = ? AND name = ? AND state = 'leased' AND lease_token = ?";
  const message = "e.topic, e.data, e.published_at";
  return {
    begin: db.prepare("BEGIN IMMEDIATE"),
    commit: db.prepare("COMMIT"),
    savepoint: db.prepare("SAVEPOINT soiree_write"),
    releaseSavepoint: db.prepare("RELEASE soiree_write"),
    rollbackToSavepoint: db.prepare("ROLLBACK TO soiree_write"),
    due: db.prepare(
      `SELECT 1 AS due FROM ${p}deliveries AS d
       WHERE name = ? AND ((state = 'ready' AND run_at <= ?) OR (state = 'leased' AND lease_until <= ?))
         AND ${mayRun}
       LIMIT 1`,
    ),
    subscribe: db.prepare(
      `INSERT INTO ${p}subscriptions (name, pattern) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET pattern = excluded.pattern
       WHERE pattern <> excluded.pattern`,
    ),
    bumpSubscriptions: db.prepare(
      `UPDATE ${p}meta SET value = value + 1 WHERE key = 'subscriptions_version'`,
    ),
    subscriptionsVersion: db.prepare(
      `SELECT value FROM ${p}meta WHERE key = 'subscriptions_version'`,
    ),
    subscriptions: db.prepare(`SELECT name, pattern FROM ${p}subscriptions`),
    sweepKeys: db.prepare(
      `DELETE FROM ${p}idempotency_keys WHERE key IN (
         SELECT key FROM ${p}idempotency_keys WHERE expires_at <= ?
         ORDER BY expires_at LIMIT ${KEY_SWEEP})`,
    ),
    findKey: db.prepare(`SELECT event_id, expires_at FROM ${p}idempotency_keys WHERE key = ?`),
    putKey: db.prepare(
      `INSERT INTO ${p}idempotency_keys (key, event_id, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at`,
    ),
    insertEvent: db.prepare(
      `INSERT INTO ${p}events (id, topic, data, published_at) VALUES (?, ?, ?, ?)`,
    ),
    insertDelivery: db.prepare(
      `INSERT INTO ${p}deliveries (event_id, name, state, attempt, run_at, ordering_key)
       VALUES (?, ?, 'ready', 0, ?, ?)`,
    ),
    // Two index range scans of (name, state, run_at, event_id), each cut at max, merged and cut
    // again: due ready deliveries in order, and leased ones whose lease ended (as many as are
    // in flight, so a short scan). One statement: SQLite's single writer makes it atomic.
    claim: db.prepare(
      `UPDATE ${p}deliveries
       SET state = 'leased', attempt = attempt + 1, lease_until = ?, lease_token = ?
       WHERE rowid IN (
         SELECT rowid FROM (
           SELECT * FROM (
             SELECT rowid, run_at, event_id FROM ${p}deliveries AS d
             WHERE name = ? AND state = 'ready' AND run_at <= ? AND ${mayRun}
             ORDER BY run_at, event_id LIMIT ?)
           UNION ALL
           SELECT * FROM (
             SELECT rowid, run_at, event_id FROM ${p}deliveries AS d
             WHERE name = ? AND state = 'leased' AND lease_until <= ? AND ${mayRun}
             ORDER BY run_at, event_id LIMIT ?))
         ORDER BY run_at, event_id LIMIT ?)`,
    ),
    claimReady: db.prepare(
      `UPDATE ${p}deliveries
       SET state = 'leased', attempt = attempt + 1, lease_until = ?, lease_token = ?
       WHERE rowid IN (
         SELECT rowid FROM ${p}deliveries AS d
         WHERE name = ? AND state = 'ready' AND run_at <= ? AND ${mayRun}
         ORDER BY run_at, event_id LIMIT ?)`,
    ),
    leaseEnded: db.prepare(
      `SELECT 1 AS ended FROM ${p}deliveries
       WHERE name = ? AND state = 'leased' AND lease_until <= ? LIMIT 1`,
    ),
    claimed: db.prepare(
      `SELECT d.event_id, d.attempt, d.ordering_key, ${message}
       FROM ${p}deliveries AS d JOIN ${p}events AS e ON e.id = d.event_id
       WHERE d.name = ? AND d.state = 'leased' AND d.lease_token = ?
       ORDER BY d.run_at, d.event_id`,
    ),
    extend: db.prepare(`UPDATE ${p}deliveries SET lease_until = ? WHERE ${held}`),
    ack: db.prepare(`DELETE FROM ${p}deliveries WHERE ${held}`),
    dropEvent: db.prepare(
      `DELETE FROM ${p}events
       WHERE id = ? AND NOT EXISTS (SELECT 1 FROM ${p}deliveries WHERE event_id = ?)`,
    ),
    retry: db.prepare(
      `UPDATE ${p}deliveries
       SET state = 'ready', run_at = ?, error = ?, lease_until = NULL, lease_token = NULL
       WHERE ${held}`,
    ),
    deadLetter: db.prepare(
      `UPDATE ${p}deliveries
       SET state = 'dead', dead_at = ?, error = ?, lease_until = NULL, lease_token = NULL
       WHERE ${held}`,
    ),
    // run_at stays: it was due when claimed, so the delivery keeps its place in the line.
    release: db.prepare(
      `UPDATE ${p}deliveries
       SET state = 'ready', attempt = attempt - ?, lease_until = NULL, lease_token = NULL
       WHERE ${held}`,
    ),
    deadLetters: db.prepare(
      `SELECT d.event_id, d.attempt, d.error, d.dead_at, ${message}
       FROM ${p}deliveries AS d JOIN ${p}events AS e ON e.id = d.event_id
       WHERE d.name = ? AND d.state = 'dead'
       ORDER BY d.dead_at, d.event_id LIMIT ?`,
    ),
    redrive: db.prepare(
      `UPDATE ${p}deliveries
       SET state = 'ready', attempt = 0, run_at = ?, error = NULL, dead_at = NULL
       WHERE rowid IN (
         SELECT rowid FROM ${p}deliveries WHERE name = ? AND state = 'dead'
         ORDER BY dead_at, event_id LIMIT ?)`,
    ),
    nextReady: db.prepare(
      `SELECT min(run_at) AS at FROM ${p}deliveries AS d
       WHERE name = ? AND state = 'ready' AND ${mayRun}`,
    ),
    nextLeaseEnd: db.prepare(
      `SELECT min(lease_until) AS at FROM ${p}deliveries WHERE name = ? AND state = 'leased'`,
    ),
    // One range of the (name, state, run_at, event_id) index, read without a lock.
    inspect: db.prepare(
      `SELECT count(*) FILTER (WHERE state = 'ready' AND run_at <= ?) AS ready,
         count(*) FILTER (WHERE state = 'ready' AND run_at > ?) AS delayed,
         count(*) FILTER (WHERE state = 'leased') AS in_flight,
         count(*) FILTER (WHERE state = 'dead') AS dead,
         min(run_at) FILTER (WHERE state = 'ready' AND run_at <= ?) AS oldest
       FROM ${p}deliveries WHERE name = ?`,
    ),
  };
}
