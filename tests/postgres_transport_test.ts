// The PostgreSQL transport against a real server (DATABASE_URL): the conformance suite, the
// transactional outbox (publish in a transaction, complete in a transaction), ordering keys,
// the schema setup under concurrency, cleanup, and the adapters. Skips without DATABASE_URL.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type DurableEvent, matchTopic, Soiree, type Transport } from "../mod.ts";
import { fromPostgresJs, type PostgresJs, postgresTransport } from "../src/postgres/mod.ts";
import { patternRegex } from "../src/postgres/_pattern.ts";
import { channelName } from "../src/postgres/_listen.ts";
import { conformance } from "./_conformance.ts";
import {
  DATABASE_URL,
  dropSchema,
  freshSchema,
  openPool,
  type PgPool,
  postgresFixtures,
  SKIP_REASON,
} from "./_postgres.ts";
import { deferred, gate, within } from "./_util.ts";
import fc from "fast-check";

const LONG = 20_000;

/** A `postgres` (porsager) instance, the part the tests use. */
interface Sql extends PostgresJs {
  unsafe(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  begin<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  end(): Promise<void>;
}

describe("postgres", { skip: SKIP_REASON }, () => {
  const { factory, done } = postgresFixtures();
  after(done);
  conformance("postgres", factory);
});

test("NOTIFY channel names: under 64 bytes, and no schema's channel is another schema's", () => {
  // Wake-up channels start with "soiree_", broadcast channels never do: schema "x_broadcast"
  // must not wake on the broadcasts of "x", nor "x" hear its wake-ups as broadcasts.
  const schema = fc.stringMatching(/^[a-z_][a-z0-9_]{0,62}$/);
  fc.assert(
    fc.property(schema, schema, (a, b) => {
      const names = [channelName(a), channelName(a, "broadcast")];
      for (const name of names) assert.ok(new TextEncoder().encode(name).length < 64, name);
      assert.ok(names[0].startsWith("soiree_") && !names[1].startsWith("soiree_"));
      if (a !== b) {
        assert.notEqual(channelName(a), channelName(b));
        assert.notEqual(channelName(a, "broadcast"), channelName(b, "broadcast"));
      }
      assert.notEqual(channelName(a, "broadcast"), channelName(b));
    }),
    { numRuns: 2_000 },
  );
  assert.notEqual(channelName("x", "broadcast"), channelName("x_broadcast"));
});

describe("postgres outbox", { skip: SKIP_REASON }, () => {
  let pool: Promise<PgPool> | undefined;
  const schemas: string[] = [];
  const transports: Transport[] = [];
  after(async () => {
    if (pool === undefined) return;
    const client = await pool;
    await Promise.all(transports.map((transport) => transport.close()));
    for (const schema of schemas) await dropSchema(client, schema);
    await client.end();
  });
  /** A pool, a fresh schema and a transport on it. */
  async function setup(pollInterval = 50) {
    pool ??= openPool(30);
    const client = await pool;
    const schema = freshSchema();
    schemas.push(schema);
    const open = async () => {
      const transport = await postgresTransport({ client, schema, pollInterval });
      transports.push(transport);
      return transport;
    };
    return { client, schema, open };
  }

  test("publish(…, { tx }) then ROLLBACK: never delivered; COMMIT: delivered", async () => {
    const { client, open } = await setup();
    const soiree = new Soiree({ transport: await open() });
    const got: unknown[] = [];
    const committed = gate();
    soiree.on("user.created", (event) => {
      got.push(event.payload);
      if (event.payload === "committed") committed.open();
    }, { durable: "welcome" });
    const rolledBack = await client.connect();
    await rolledBack.query("BEGIN");
    const receipt = await soiree.publish("user.created", "rolled back", { tx: rolledBack });
    assert.equal(receipt.duplicate, false);
    await rolledBack.query("ROLLBACK");
    rolledBack.release();
    const tx = await client.connect();
    await tx.query("BEGIN");
    await soiree.publish("user.created", "committed", { tx });
    assert.deepEqual(got, [], "nothing is delivered before the commit");
    await tx.query("COMMIT");
    tx.release();
    await within(committed.promise, LONG, "the committed event");
    await soiree.close();
    assert.deepEqual(got, ["committed"]);
  });

  test("event.complete(tx) acks in the listener's transaction: a rollback redelivers", async () => {
    const { client, schema, open } = await setup();
    const soiree = new Soiree({ transport: await open(), errorHandler: () => {} });
    await client.query(`CREATE TABLE "${schema}".credits (event text, attempt int)`);
    const finished = deferred<DurableEvent>();
    soiree.on("user.created", async (event) => {
      const tx = await client.connect();
      try {
        await tx.query("BEGIN");
        await tx.query(`INSERT INTO "${schema}".credits VALUES ($1, $2)`, [
          event.id,
          event.attempt,
        ]);
        await event.complete(tx);
        await assert.rejects(event.complete(tx), TypeError, "only once");
        // The first attempt rolls back: the ack with it.
        await tx.query(event.attempt === 1 ? "ROLLBACK" : "COMMIT");
      } finally {
        tx.release();
      }
      if (event.attempt === 2) finished.resolve(event);
    }, { durable: "credit", lease: 300 });
    await soiree.publish("user.created", { id: 7 });
    const event = await within(finished.promise, LONG, "the second attempt");
    await within(
      (async () => {
        while (soiree.stats().durable.acked < 2) await new Promise((r) => setTimeout(r, 5));
      })(),
      LONG,
      "acked counts",
    );
    const { rows } = await client.query(`SELECT event, attempt FROM "${schema}".credits`);
    assert.deepEqual(rows, [{ event: event.id, attempt: 2 }], "the write exists once");
    const { rows: left } = await client.query(
      `SELECT count(*)::int AS n FROM "${schema}".deliveries`,
    );
    assert.deepEqual(left, [{ n: 0 }], "the delivery is gone with the commit");
    const stats = soiree.stats().durable;
    assert.equal(stats.retried + stats.deadLettered, 0, "Soiree settled nothing itself");
    await soiree.close();
  });

  test("event.complete(tx) after the listener returned rejects with a TypeError, writing nothing", async () => {
    const { client, open } = await setup();
    const soiree = new Soiree({ transport: await open() });
    const got = deferred<DurableEvent>();
    soiree.on("late.ack", (event) => got.resolve(event), { durable: "late" });
    await soiree.publish("late.ack", 1);
    const event = await within(got.promise, LONG, "delivery");
    const tx = await client.connect();
    try {
      await tx.query("BEGIN");
      await assert.rejects(
        event.complete(tx),
        (error: Error) =>
          error instanceof TypeError && /listener has already returned/.test(error.message),
      );
      await tx.query("ROLLBACK");
    } finally {
      tx.release();
    }
    await soiree.close();
    assert.equal(soiree.stats().durable.acked, 1, "Soiree acked it itself, once");
  });

  test("several processes setting the schema up at once all succeed, once", async () => {
    const { client, schema } = await setup();
    const opened = await Promise.all(
      Array.from({ length: 8 }, () => postgresTransport({ client, schema, listen: false })),
    );
    transports.push(...opened);
    const { rows } = await client.query(
      `SELECT value::int AS version FROM "${schema}".meta WHERE key = 'schema_version'`,
    );
    assert.deepEqual(rows, [{ version: 1 }]);
  });

  test("a bad schema name or client is refused before anything runs", async () => {
    const { client } = await setup();
    await assert.rejects(postgresTransport({ client, schema: "Bad-Name" }), TypeError);
    await assert.rejects(postgresTransport({ client, schema: "x; DROP" }), TypeError);
    // @ts-expect-error a client without query()
    await assert.rejects(postgresTransport({ client: {} }), TypeError);
    await assert.rejects(postgresTransport({ client, pollInterval: 0 }), RangeError);
  });

  test("cleanup deletes expired idempotency keys and fully acked events past retention", async () => {
    const { client, schema } = await setup();
    let ahead = 0; // real time, moved ahead by hand below
    const clock = { now: () => Date.now() + ahead, setTimeout, clearTimeout };
    const transport = await postgresTransport({
      client,
      schema,
      retention: 0,
      listen: false,
      clock,
    });
    transports.push(transport);
    const soiree = new Soiree({ transport });
    const done = gate();
    soiree.on("a", () => done.open(), { durable: "n" });
    await soiree.publish("a", 1, { idempotencyKey: "k", dedupeWindow: 1 });
    await within(done.promise, LONG, "delivery");
    while (soiree.stats().durable.acked < 1) await new Promise((r) => setTimeout(r, 5));
    ahead += 1_000; // past the key's 1 ms window and the 0 ms retention
    const cleaned = await (transport as unknown as { cleanup(): Promise<unknown> }).cleanup();
    assert.deepEqual(cleaned, { keys: 1, events: 1 });
    await soiree.close();
  });

  test("NOTIFY wakes an idle consumer of another transport at once (pg Pool, polling every minute)", async () => {
    const { client, schema } = await setup();
    const consumer = await postgresTransport({ client, schema, pollInterval: 60_000 });
    const producer = await postgresTransport({ client, schema, listen: false });
    transports.push(consumer, producer);
    // The consumer's transport, telling when its listener's loop went idle (called wait()).
    let idle = deferred<void>();
    const watched: Transport = {
      name: consumer.name,
      features: consumer.features,
      subscribe: (subscription) => consumer.subscribe(subscription),
      publish: (message, tx) => consumer.publish(message, tx),
      receive: (name, max, lease) => consumer.receive(name, max, lease),
      wait: (name, signal) => {
        idle.resolve();
        return consumer.wait(name, signal);
      },
      deadLetters: (name, limit) => consumer.deadLetters(name, limit),
      redrive: (name, limit) => consumer.redrive(name, limit),
      close: () => consumer.close(),
    };
    await consumer.subscribe({ name: "pong", pattern: "ping.*" });
    const soiree = new Soiree({ transport: watched });
    const publisher = new Soiree({ transport: producer });
    const got: unknown[] = [];
    let next = deferred<void>();
    soiree.on("ping.*", (event) => {
      got.push(event.payload);
      next.resolve();
    }, { durable: "pong" });
    for (const payload of ["first", "second"]) {
      await within(idle.promise, LONG, "an idle consumer");
      idle = deferred<void>();
      await publisher.publish("ping.sent", payload);
      await within(next.promise, 10_000, `a wake-up by NOTIFY (${payload})`);
      next = deferred<void>();
    }
    assert.deepEqual(got, ["first", "second"]);
    await Promise.all([soiree.close(), publisher.close()]);
  });

  test("the postgres (porsager) adapter: LISTEN, publish in sql.begin(), complete in a transaction", async () => {
    const { schema } = await setup();
    // Loaded by a name the type checker does not follow: in one type-check graph with the
    // bench's drizzle-orm, `postgres` would change how drizzle's peers resolve.
    const specifier = "postgres";
    const postgres = (await import(specifier)).default as (url: string, options: unknown) => Sql;
    const sql = postgres(DATABASE_URL!, { onnotice: () => {}, max: 10 });
    try {
      const client = fromPostgresJs(sql);
      const transport = await postgresTransport({ client, schema, pollInterval: 60_000 });
      transports.push(transport);
      const soiree = new Soiree({ transport });
      await sql.unsafe(`CREATE TABLE "${schema}".seen (id text)`);
      const done = deferred<DurableEvent>();
      soiree.on("user.created", async (event) => {
        await sql.begin(async (tx) => {
          await tx.unsafe(`INSERT INTO "${schema}".seen VALUES ($1)`, [event.id]);
          await event.complete(fromPostgresJs(tx));
        });
        done.resolve(event);
      }, { durable: "seen" });
      await assert.rejects(
        sql.begin(async (tx) => {
          await soiree.publish("user.created", "no", { tx: fromPostgresJs(tx) });
          throw new Error("roll back");
        }),
        /roll back/,
      );
      let id = "";
      await sql.begin(async (tx) => {
        id = (await soiree.publish("user.created", "yes", { tx: fromPostgresJs(tx) })).id;
      });
      const event = await within(done.promise, 10_000, "a wake-up by NOTIFY after the commit");
      assert.equal(event.payload, "yes");
      await soiree.close();
      assert.deepEqual([...await sql.unsafe(`SELECT id FROM "${schema}".seen`)], [{ id }]);
      assert.deepEqual([...await sql.unsafe(`SELECT event_id FROM "${schema}".deliveries`)], []);
      assert.equal(soiree.stats().durable.acked, 1);
    } finally {
      await sql.end();
    }
  });

  test("broadcast() reaches the plain listeners of every emitter on the schema, pg Pool and the postgres (porsager) adapter, the sender's included", async () => {
    const { client, schema, open } = await setup();
    const specifier = "postgres"; // see the adapter test above
    const postgres = (await import(specifier)).default as (url: string, options: unknown) => Sql;
    const sql = postgres(DATABASE_URL!, { onnotice: () => {}, max: 4 });
    try {
      const viaPool = new Soiree({ transport: await open() });
      const other = await postgresTransport({ client: fromPostgresJs(sql), schema });
      transports.push(other);
      const viaAdapter = new Soiree({ transport: other });
      // Another schema's broadcasts never arrive.
      const elsewhere = new Soiree({
        transport: await postgresTransport({ client, schema: `${schema}_x` }),
      });
      schemas.push(`${schema}_x`);
      const heard = { pool: deferred<unknown>(), adapter: deferred<unknown>() };
      viaPool.on("cache.user.*", (event) => heard.pool.resolve(event.payload));
      viaAdapter.on("cache.user.*", (event) => heard.adapter.resolve(event.payload));
      elsewhere.on("cache.user.*", () => assert.fail("a broadcast crossed schemas"));
      const durable: unknown[] = [];
      viaAdapter.on("cache.user.*", (event) => void durable.push(event.payload), {
        durable: "never",
      });
      await viaAdapter.broadcast("warm.up"); // resolves once its own session listens
      await viaPool.broadcast("cache.user.invalidate", { id: 42 });
      assert.deepEqual(await within(heard.pool.promise, 10_000, "the sender's listener"), {
        id: 42,
      });
      assert.deepEqual(await within(heard.adapter.promise, 10_000, "the other's listener"), {
        id: 42,
      });
      assert.equal(viaPool.stats().durable.broadcastsSent, 1);
      assert.deepEqual(durable, [], "durable listeners never see a broadcast");
      await Promise.all([viaPool.close(), viaAdapter.close(), elsewhere.close()]);
    } finally {
      await sql.end();
    }
  });

  test("broadcast() refuses a message over the NOTIFY limit before sending it; listen: false has no broadcast", async () => {
    const { client, schema, open } = await setup();
    const soiree = new Soiree({ transport: await open() });
    const heard: unknown[] = [];
    soiree.on("big", (event) => void heard.push(event.payload));
    await soiree.broadcast("big", "x".repeat(7_000)); // under 8,000 bytes with the envelope
    await assert.rejects(soiree.broadcast("big", "é".repeat(4_000)), (error: Error) => {
      assert.match(String(error.cause), /RangeError: .* a NOTIFY payload must be under 8000/);
      return true;
    });
    await within(
      (async () => {
        while (heard.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
      10_000,
      "the broadcast under the limit",
    );
    assert.equal(soiree.stats().durable.broadcastsSent, 1);
    await soiree.close();
    const quiet = new Soiree({
      transport: await postgresTransport({ client, schema, listen: false }),
    });
    assert.throws(() => quiet.broadcast("a"), {
      name: "TypeError",
      message: /postgres transport cannot broadcast/,
    });
    await quiet.close();
  });

  test("broadcasts share the LISTEN session of the wake-ups: a pool of 2 connections publishes, delivers and broadcasts", async () => {
    const small = await openPool(2);
    const schema = freshSchema();
    schemas.push(schema);
    try {
      const transport = await postgresTransport({ client: small, schema, pollInterval: 60_000 });
      const soiree = new Soiree({ transport });
      const delivered = deferred<unknown>();
      const heard = deferred<unknown>();
      soiree.on("small.job", (event) => delivered.resolve(event.payload), { durable: "small" });
      soiree.on("small.ping", (event) => heard.resolve(event.payload));
      await soiree.broadcast("small.ping", "heard");
      await soiree.publish("small.job", "delivered");
      assert.equal(await within(heard.promise, 10_000, "a broadcast"), "heard");
      assert.equal(await within(delivered.promise, 10_000, "a delivery"), "delivered");
      await soiree.close();
      assert.equal(small.totalCount <= 2, true);
    } finally {
      await small.end();
    }
  });

  test("another schema's wake-ups never reach this schema's broadcast receivers", async () => {
    const { client, schema } = await setup();
    const neighbour = `${schema}_broadcast`; // once a channel name of the first schema's
    schemas.push(neighbour);
    const panics: unknown[] = [];
    const mine = new Soiree({
      transport: await postgresTransport({ client, schema }),
      panicHandler: (value) => void panics.push(value),
    });
    const other = new Soiree({ transport: await postgresTransport({ client, schema: neighbour }) });
    const delivered = deferred<void>();
    other.on("job.run", () => delivered.resolve(), { durable: "worker" });
    const heard = deferred<unknown>();
    mine.on("mine.ping", (event) => heard.resolve(event.payload));
    await other.publish("job.run", 1); // its NOTIFY is sent with the commit
    await within(delivered.promise, 10_000, "the neighbour's delivery");
    // NOTIFYs reach a session in commit order: anything stray arrives before this one.
    await mine.broadcast("mine.ping", "mine");
    assert.equal(await within(heard.promise, 10_000, "its own broadcast"), "mine");
    assert.deepEqual(panics, []);
    assert.equal(mine.stats().durable.transportErrors, 0);
    await Promise.all([mine.close(), other.close()]);
  });

  test("while the LISTEN session is down, broadcast() still settles, for emitters made before and after the drop", async () => {
    const admin = await openPool(2);
    const db = `soiree_down_${crypto.randomUUID().slice(0, 8)}`;
    await admin.query(`CREATE DATABASE ${db}`);
    const pool = await openPool(4, DATABASE_URL!.replace(/\/[^/]*$/, `/${db}`));
    const options = { errorHandler: () => {}, panicHandler: () => {} };
    const transport = await postgresTransport({ client: pool, schema: "soiree" });
    const before = new Soiree({ transport, ...options });
    let after: Soiree | undefined;
    try {
      await before.broadcast("warm.up");
      await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
        [db],
      );
      // Once the session has noticed (its failure reaches each receiver), a new emitter starts.
      await within(
        (async () => {
          while (before.stats().durable.transportErrors === 0) {
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        })(),
        10_000,
        "the session noticed the drop",
      );
      after = new Soiree({ transport, ...options });
      const settle = (promise: Promise<unknown>) => promise.then(() => "sent", () => "refused");
      // The server refuses connections: each one is refused, neither waits for the session.
      assert.equal(await within(settle(before.broadcast("a")), 10_000, "before"), "refused");
      assert.equal(await within(settle(after.broadcast("a")), 10_000, "after"), "refused");
    } finally {
      await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`);
      await Promise.all([before.close(), after?.close()]).catch(() => {});
      await pool.end().catch(() => {});
      await admin.query(`DROP DATABASE ${db} WITH (FORCE)`);
      await admin.end();
    }
  });

  test("listen: true on a client that cannot hold a session is refused at open", async () => {
    const { client, schema } = await setup();
    const lent = await (client as PgPool).connect(); // a pg client: no listen(), not a pool
    try {
      await assert.rejects(postgresTransport({ client: lent, schema, listen: true }), {
        name: "TypeError",
        message: /'listen: true' needs a client that can hold a session/,
      });
    } finally {
      lent.release();
    }
  });

  test("a schema name of 63 characters: NOTIFY channels stay under 64 bytes, and wake-ups and broadcasts work", async () => {
    const { client } = await setup();
    const long = `${freshSchema()}_${"x".repeat(63)}`.slice(0, 63);
    schemas.push(long);
    const transport = await postgresTransport({ client, schema: long, pollInterval: 60_000 });
    transports.push(transport);
    const soiree = new Soiree({ transport });
    const got = deferred<unknown>();
    soiree.on("long.name", (event) => got.resolve(event.payload), { durable: "long" });
    await soiree.publish("long.name", "stored");
    assert.equal(await within(got.promise, 10_000, "a delivery"), "stored");
    const heard = deferred<unknown>();
    soiree.on("long.ping", (event) => heard.resolve(event.payload));
    await soiree.broadcast("long.ping", "sent");
    assert.equal(await within(heard.promise, 10_000, "a broadcast"), "sent");
    await soiree.close();
  });

  test("pattern regexes match exactly as matchTopic() does, on the server", async () => {
    const { client } = await setup();
    const patterns = ["a.**", "**", "a.**.c", "a.*", "**.b", "a.b", "*.*", "**.**", "a.*.**"];
    const topics = ["a", "a.b", "a.b.c", "a.c", "b", "x.b", "x.y-z", "a.b.b", "a+b.c$"];
    for (const pattern of patterns) {
      for (const topic of topics) {
        const { rows } = await client.query("SELECT $1::text ~ $2::text AS m", [
          topic,
          patternRegex(pattern),
        ]);
        assert.equal(
          (rows[0] as { m: boolean }).m,
          matchTopic(pattern, topic),
          `${pattern} ${topic}`,
        );
      }
    }
  });
});
