// At-least-once delivery across real processes: this process publishes 2,000 events to a SQLite
// store, three consumer processes share them, and one is killed with SIGKILL mid-run.
// Every event's side effect must be there, and the repeats must come only from the deliveries
// the killed process had in flight. The consumers are tests/_crash_consumer.ts, started with
// this runtime (Deno, Node or Bun).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Soiree } from "../mod.ts";
import { sqliteTransport } from "../src/sqlite/mod.ts";
import { driver, opensPaths, type TestDatabase } from "./_sqlite.ts";
import { deferred, within } from "./_util.ts";
import { type Consumer, runtimeCommand, startConsumer } from "./_consumer_process.ts";
import type { CrashConsumerConfig } from "./_crash_consumer.ts";

const EVENTS = 2_000;
const CONSUMERS = 3;
/** The first consumer is killed once it has started this many deliveries. */
const KILL_AFTER = 200;
/** Events published at once. */
const BATCH = 100;
const DURABLE = "crash";
const TOPIC = "crash.job";
/** Guards against a hang; the run takes a few seconds. */
const LONG = 30_000;

const CONSUMER_SCRIPT = fileURLToPath(new URL("./_crash_consumer.ts", import.meta.url));

test("a consumer process killed with SIGKILL loses no event and repeats only what it had in flight", async () => {
  const dir = mkdtempSync(join(tmpdir(), "soiree-crash-"));
  const consumers: Consumer[] = [];
  const opened: TestDatabase[] = [];
  let publisher: Soiree | undefined;
  try {
    const config: CrashConsumerConfig = {
      events: join(dir, "events.db"),
      effects: join(dir, "effects.db"),
      durable: DURABLE,
      pattern: "crash.*",
      concurrency: 8,
      // Three busy writers on one file make a transaction wait for the lock up to a second or
      // so (SQLite's busy handler polls): a lease well above that keeps the survivors' leases.
      lease: 5_000,
      work: 3,
    };
    const effects = driver.open(config.effects);
    opened.push(effects);
    effects.exec("PRAGMA journal_mode = WAL");
    effects.exec(
      "CREATE TABLE effects (key TEXT NOT NULL, n INTEGER, pid INTEGER, attempt INTEGER)",
    );
    const countKeys = effects.prepare("SELECT COUNT(DISTINCT key) AS keys FROM effects");

    // The store keeps a durable name's events from its first registration on: register it,
    // then publish the backlog the consumers start on.
    const store = opensPaths ? config.events : driver.open(config.events);
    if (typeof store !== "string") opened.push(store);
    const transport = await sqliteTransport(store);
    await transport.subscribe({ name: DURABLE, pattern: config.pattern });
    publisher = new Soiree({ transport });
    const ids: string[] = [];
    for (let n = 0; n < EVENTS; n += BATCH) {
      const batch = Array.from(
        { length: BATCH },
        (_, i) => publisher!.publish(TOPIC, { n: n + i }),
      );
      for (const receipt of await Promise.all(batch)) ids.push(receipt.id);
    }

    // Every side effect is in once the last acknowledgement is reported: check at each report.
    const allRecorded = deferred<void>();
    const check = (): void => {
      const { keys } = countKeys.get() as { keys: number };
      if (keys >= EVENTS) allRecorded.resolve();
    };
    for (let i = 0; i < CONSUMERS; i++) {
      consumers.push(startConsumer(runtimeCommand(CONSUMER_SCRIPT), config, check));
    }
    await within(Promise.all(consumers.map((consumer) => consumer.ready)), LONG, "start");

    const [victim, ...survivors] = consumers;
    const killed = victim.reached(KILL_AFTER).then(() => victim.child.kill("SIGKILL"));
    await within(killed, LONG, `${KILL_AFTER} deliveries started in the first consumer`);
    // Its last lines are read once it has exited: what it started and had not acknowledged.
    assert.equal(await within(victim.exited, LONG, "the killed consumer's exit"), null);
    const inFlight = victim.started - victim.acked;

    check();
    await within(allRecorded.promise, LONG, `${EVENTS} side effects`);
    for (const consumer of survivors) consumer.child.stdin!.write("close\n");
    const codes = await within(Promise.all(survivors.map((c) => c.exited)), LONG, "close");
    assert.deepEqual(codes, survivors.map(() => 0), survivors.map((c) => c.stderr).join("\n"));

    type Row = { key: string; pid: number; attempt: number };
    const rows = effects.prepare("SELECT key, pid, attempt FROM effects").all() as Row[];
    const byKey = new Map<string, Row[]>();
    for (const row of rows) byKey.set(row.key, [...byKey.get(row.key) ?? [], row]);
    const lost = ids.filter((id) => !byKey.has(`${id}/${DURABLE}`)).length;
    const duplicates = rows.length - byKey.size;
    console.log(
      `crash test: ${EVENTS} events, ${lost} lost, ${duplicates} duplicates (the killed process ` +
        `had ${inFlight} in flight; it started ${victim.started} deliveries, the others ` +
        `${survivors.map((c) => c.started).join(" and ")})`,
    );
    assert.equal(lost, 0);
    assert.equal(byKey.size, EVENTS);
    assert.ok(
      duplicates <= inFlight,
      `${duplicates} duplicates, more than the ${inFlight} in flight; leases the survivors ` +
        `lost: ${survivors.map((c) => c.stats?.leasesLost).join(" and ")}`,
    );
    // Each repeat is a delivery of the killed process, done again in a later attempt.
    for (const group of byKey.values()) {
      if (group.length === 1) continue;
      assert.ok(group.some((row) => row.pid === victim.child.pid), JSON.stringify(group));
      assert.ok(group.some((row) => row.attempt > 1), JSON.stringify(group));
    }
  } finally {
    for (const consumer of consumers) consumer.child.kill("SIGKILL");
    await Promise.all(consumers.map((consumer) => consumer.exited));
    if (publisher !== undefined && !publisher.isClosed) await publisher.close();
    for (const db of opened) db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
