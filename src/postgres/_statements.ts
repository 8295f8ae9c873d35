// Every SQL statement the PostgreSQL transport runs once its tables exist, one per operation,
// with the parameters each takes beside it. Owns the SQL text, nothing else. Times are
// milliseconds on the transport's clock (bigint); `state` is 'ready', 'leased' or 'dead'. A
// settling statement applies only while `lease_token` still matches: the token is fresh on
// every claim, so once another holder claimed the delivery, it changes nothing. Each is one
// statement, so that it runs alike on a pool, a client inside the caller's transaction, or
// PGlite, in one round trip.

import { quote } from "./_schema.ts";

/** How many rows one cleanup pass deletes at most, per table. */
export const CLEANUP_BATCH = 1_000;

/** The SQL text of one transport's statements, on the tables of one schema. */
export interface Statements {
  /** (name, pattern, regex) → nothing */
  readonly subscribe: string;
  /**
   * (id, topic, data, published at, idempotency key or null, dedupe window, now, ordering key or
   * null, NOTIFY channel or null) → { first, names }: `first` is the key's event ID (this one's
   * when it was stored) or null without a key; `names`, the durable names that got a delivery.
   */
  readonly publish: string;
  /**
   * (ids[], topics[], data[], published ats[], ordering keys[] (null for none), now, NOTIFY
   * channel) → { names }: several events without idempotency keys at once, in array order.
   */
  readonly publishMany: string;
  /** (name, now, max, lease until, token) → claimed rows (event_id, attempt, seq, topic, …) */
  readonly claim: string;
  /** (name) → { at }: when the next delivery that may run comes due (or its lease ends) */
  readonly nextDue: string;
  /** (event id, name, token, lease until) → a row when it applied */
  readonly extend: string;
  /** (event id, name, token) → a row when it applied */
  readonly ack: string;
  /** (event ids[], names[], tokens[]) → { event_id, name } of each that applied */
  readonly ackMany: string;
  /** (event id, name, token, run at, error) → a row when it applied */
  readonly retry: string;
  /** (event id, name, token, dead at, error) → a row when it applied */
  readonly deadLetter: string;
  /** (event id, name, token, attempts to take back: 0 or 1) → a row when it applied */
  readonly release: string;
  /** (name, limit) → dead rows with their events, oldest first */
  readonly deadLetters: string;
  /** (now, name, limit) → one row per delivery put back */
  readonly redrive: string;
  /** (now, name) → { ready, delayed, in_flight, dead, oldest } */
  readonly inspect: string;
  /** (now, events published before) → { keys, events }: how many rows it deleted */
  readonly cleanup: string;
  /**
   * () → nothing: ANALYZEs the deliveries unless they were ever analyzed. Without statistics
   * the planner takes one durable name for a few rows and sorts every due delivery on each
   * claim instead of reading the first ones off the index; autovacuum keeps them fresh later.
   */
  readonly analyze: string;
}

/** The statements on the tables of `schema` (already checked). */
export function statements(schema: string): Statements {
  const s = quote(schema);
  const held = "event_id = $1 AND name = $2 AND lease_token = $3 AND state = 'leased'";
  // A delivery with an ordering key may run only while no other live delivery of its key and
  // name is older than it or leased (one of a key at a time, in publish order).
  const mayRun = `(d.ordering_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM ${s}.deliveries AS o
      WHERE o.name = d.name AND o.ordering_key = d.ordering_key AND o.state <> 'dead'
        AND o.event_id <> d.event_id AND (o.seq < d.seq OR o.state = 'leased')))`;
  return {
    subscribe: `INSERT INTO ${s}.subscriptions (name, pattern, regex) VALUES ($1, $2, $3)
      ON CONFLICT (name) DO UPDATE SET pattern = excluded.pattern, regex = excluded.regex
      WHERE subscriptions.pattern <> excluded.pattern`,
    // The key is claimed in the same statement as the insert: on a conflict, the row is locked
    // and read at its latest version, so that of two concurrent publishes with one key, one
    // stores and the other answers the first's ID. An expired key is taken over.
    publish: `WITH k AS (
        INSERT INTO ${s}.idempotency_keys AS k (key, event_id, expires_at)
        SELECT $5::text, $1::text, $7::bigint + $6::bigint WHERE $5::text IS NOT NULL
        ON CONFLICT (key) DO UPDATE SET
          event_id = CASE WHEN k.expires_at <= $7::bigint THEN excluded.event_id ELSE k.event_id END,
          expires_at = CASE WHEN k.expires_at <= $7::bigint THEN excluded.expires_at
            ELSE k.expires_at END
        RETURNING k.event_id
      ), e AS (
        INSERT INTO ${s}.events (id, topic, data, published_at)
        SELECT $1::text, $2::text, $3::text, $4::bigint
        WHERE $5::text IS NULL OR (SELECT event_id FROM k) = $1::text
        RETURNING id
      ), d AS (
        INSERT INTO ${s}.deliveries (event_id, name, state, run_at, due_at, ordering_key)
        SELECT e.id, sub.name, 'ready', $7::bigint, $7::bigint, $8::text
        FROM e CROSS JOIN ${s}.subscriptions AS sub WHERE $2::text ~ sub.regex
        RETURNING name
      ), n AS (
        SELECT pg_notify($9::text, CASE WHEN sum(length(name)) > 7000 THEN '*'
          ELSE string_agg(name, ',') END)
        FROM d WHERE $9::text IS NOT NULL HAVING count(*) > 0
      )
      SELECT (SELECT event_id FROM k) AS first, (SELECT array_agg(name) FROM d) AS names,
        (SELECT count(*) FROM n) AS notified`,
    publishMany: `WITH m AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])
          WITH ORDINALITY AS m (id, topic, data, published_at, ordering_key, n)
      ), e AS (
        INSERT INTO ${s}.events (id, topic, data, published_at)
        SELECT id, topic, data, published_at FROM m
      ), d AS (
        INSERT INTO ${s}.deliveries (event_id, name, state, run_at, due_at, ordering_key)
        SELECT m.id, sub.name, 'ready', $6::bigint, $6::bigint, m.ordering_key
        FROM m JOIN ${s}.subscriptions AS sub ON m.topic ~ sub.regex
        ORDER BY m.n
        RETURNING name
      ), n AS (
        SELECT pg_notify($7::text, CASE WHEN sum(length(name)) > 7000 THEN '*'
          ELSE string_agg(DISTINCT name, ',') END)
        FROM d HAVING count(*) > 0
      )
      SELECT (SELECT array_agg(DISTINCT name) FROM d) AS names, (SELECT count(*) FROM n) AS notified`,
    claim: `WITH c AS (
        SELECT d.event_id FROM ${s}.deliveries AS d
        WHERE d.name = $1 AND d.state <> 'dead' AND d.due_at <= $2::bigint AND ${mayRun}
        ORDER BY d.due_at, d.seq
        LIMIT $3
        FOR UPDATE OF d SKIP LOCKED
      )
      UPDATE ${s}.deliveries AS d
      SET state = 'leased', attempt = d.attempt + 1, due_at = $4::bigint, lease_token = $5
      FROM c, ${s}.events AS e
      WHERE d.name = $1 AND d.event_id = c.event_id AND e.id = d.event_id
      RETURNING d.event_id, d.attempt, d.due_at, d.seq, e.topic, e.data, e.published_at`,
    nextDue: `SELECT d.due_at AS at FROM ${s}.deliveries AS d
      WHERE d.name = $1 AND d.state <> 'dead' AND ${mayRun}
      ORDER BY d.due_at LIMIT 1`,
    extend: `UPDATE ${s}.deliveries SET due_at = $4::bigint WHERE ${held} RETURNING 1 AS ok`,
    ack: `DELETE FROM ${s}.deliveries WHERE ${held} RETURNING 1 AS ok`,
    ackMany: `DELETE FROM ${s}.deliveries AS d
      USING unnest($1::text[], $2::text[], $3::text[]) AS a (event_id, name, token)
      WHERE d.event_id = a.event_id AND d.name = a.name AND d.lease_token = a.token
        AND d.state = 'leased'
      RETURNING d.event_id, d.name`,
    retry: `UPDATE ${s}.deliveries
      SET state = 'ready', run_at = $4::bigint, due_at = $4::bigint, error = $5, lease_token = NULL
      WHERE ${held} RETURNING 1 AS ok`,
    deadLetter: `UPDATE ${s}.deliveries
      SET state = 'dead', dead_at = $4::bigint, error = $5, lease_token = NULL
      WHERE ${held} RETURNING 1 AS ok`,
    // run_at stays: it was due when claimed, so the delivery keeps its place in the line.
    release: `UPDATE ${s}.deliveries
      SET state = 'ready', due_at = run_at, attempt = attempt - $4::integer, lease_token = NULL
      WHERE ${held} RETURNING 1 AS ok`,
    deadLetters: `SELECT d.event_id, d.attempt, d.error, d.dead_at, e.topic, e.data, e.published_at
      FROM ${s}.deliveries AS d JOIN ${s}.events AS e ON e.id = d.event_id
      WHERE d.name = $1 AND d.state = 'dead'
      ORDER BY d.dead_at, d.seq LIMIT $2`,
    redrive: `UPDATE ${s}.deliveries AS d
      SET state = 'ready', attempt = 0, run_at = $1::bigint, due_at = $1::bigint, error = NULL,
        dead_at = NULL
      FROM (SELECT event_id FROM ${s}.deliveries WHERE name = $2 AND state = 'dead'
        ORDER BY dead_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED) AS c
      WHERE d.name = $2 AND d.event_id = c.event_id
      RETURNING 1 AS ok`,
    inspect: `SELECT count(*) FILTER (WHERE state = 'ready' AND due_at <= $1::bigint) AS ready,
        count(*) FILTER (WHERE state = 'ready' AND due_at > $1::bigint) AS delayed,
        count(*) FILTER (WHERE state = 'leased') AS in_flight,
        count(*) FILTER (WHERE state = 'dead') AS dead,
        min(run_at) FILTER (WHERE state = 'ready' AND due_at <= $1::bigint) AS oldest
      FROM ${s}.deliveries WHERE name = $2`,
    cleanup: `WITH k AS (
        DELETE FROM ${s}.idempotency_keys WHERE key IN (
          SELECT key FROM ${s}.idempotency_keys WHERE expires_at <= $1::bigint
          ORDER BY expires_at LIMIT ${CLEANUP_BATCH})
        RETURNING 1
      ), e AS (
        DELETE FROM ${s}.events WHERE id IN (
          SELECT ev.id FROM ${s}.events AS ev
          WHERE ev.published_at <= $2::bigint
            AND NOT EXISTS (SELECT 1 FROM ${s}.deliveries AS d WHERE d.event_id = ev.id)
          ORDER BY ev.published_at LIMIT ${CLEANUP_BATCH})
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM k) AS keys, (SELECT count(*) FROM e) AS events`,
    analyze: `DO $soiree$ BEGIN
        IF (SELECT coalesce(last_analyze, last_autoanalyze) IS NULL FROM pg_stat_user_tables
            WHERE relid = '${s}.deliveries'::regclass) THEN
          ANALYZE ${s}.deliveries;
        END IF;
      END $soiree$`,
  };
}
