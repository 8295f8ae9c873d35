// The PostgreSQL transport's SQL on PGlite (PostgreSQL compiled to WebAssembly, in this
// process): a smoke test that needs no server, so it runs on every runtime. The full suite
// runs against a real server in tests/postgres_transport_test.ts. PGlite takes about ten seconds
// to start on a busy machine, so the smoke test runs in the Deno run only.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Soiree } from "../mod.ts";
import { fromPGlite, type PGliteLike, postgresTransport } from "../src/postgres/mod.ts";
import { deferred, gate, within } from "./_util.ts";

interface PGlite extends PGliteLike {
  transaction<T>(fn: (tx: PGliteLike) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Imports a module by a name the type checker does not follow. */
function load(specifier: string): Promise<Record<string, unknown>> {
  return import(specifier);
}

const LONG = 20_000;
const SKIP = !("Deno" in globalThis) &&
  "PGlite takes about ten seconds to start: its smoke test runs in the Deno run only";

describe("pglite", { skip: SKIP }, () => {
  let db: PGlite;
  before(async () => {
    const { PGlite } = await load("@electric-sql/pglite") as { PGlite: new () => PGlite };
    db = new PGlite();
  });
  after(() => db?.close());

  test("pglite: publish, deliver, ack, ordering key and redelivery run on PGlite", async () => {
    const transport = await postgresTransport({ client: fromPGlite(db), pollInterval: 20 });
    const soiree = new Soiree({ transport, errorHandler: () => {} });
    const seen: unknown[] = [];
    const all = gate();
    soiree.on("order.*", (event) => {
      seen.push(event.payload);
      if (event.payload === 2 && event.attempt === 1) throw new Error("once");
      if (seen.length === 4) all.open();
    }, { durable: "orders", pool: { concurrency: 4 }, retry: { delay: () => 1 } });
    for (const n of [1, 2, 3]) await soiree.publish("order.placed", n, { key: "customer-1" });
    await within(all.promise, LONG, "deliveries");
    assert.deepEqual(seen, [1, 2, 2, 3], "in key order, the retry at the head");
    const again = await soiree.publish("order.placed", 9, { idempotencyKey: "k" });
    assert.deepEqual(await soiree.publish("order.placed", 9, { idempotencyKey: "k" }), {
      id: again.id,
      duplicate: true,
    });
    await soiree.close();
  });

  test("pglite: publish(…, { tx }) in a rolled-back transaction is never delivered", async () => {
    const transport = await postgresTransport({
      client: fromPGlite(db),
      schema: "outbox",
      pollInterval: 20,
    });
    const soiree = new Soiree({ transport });
    const got: unknown[] = [];
    const next = deferred<unknown>();
    soiree.on("user.created", (event) => {
      got.push(event.payload);
      next.resolve(event.payload);
    }, { durable: "welcome" });
    await assert.rejects(
      db.transaction(async (tx) => {
        await soiree.publish("user.created", "rolled back", { tx: fromPGlite(tx) });
        throw new Error("roll back");
      }),
      /roll back/,
    );
    await db.transaction(async (tx) => {
      await soiree.publish("user.created", "committed", { tx: fromPGlite(tx) });
    });
    assert.equal(await within(next.promise, LONG, "the committed event"), "committed");
    await soiree.close();
    assert.deepEqual(got, ["committed"]);
  });
});
