import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock, Delivery, OutgoingMessage, Transport } from "../mod.ts";
import { PublishError, Soiree } from "../mod.ts";
import { sqliteTransport, type SqliteTransportOptions } from "../src/sqlite/mod.ts";
import { driver, opensPaths, otherDrivers, type TestDatabase } from "./_sqlite.ts";
import { conformance } from "./_conformance.ts";
import { deferred } from "./_util.ts";

// ---------------------------------------------------------------------------------------------
// Helpers: a clock moved by hand, databases in a temporary folder, messages with ordered IDs.

/** A clock whose time and timers move only when `advance()` says so. */
class FakeClock implements Clock {
  time = 1_000_000;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  now = (): number => this.time;
  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + ms, fn });
    return id;
  };
  clearTimeout = (id: never): void => void this.#timers.delete(id);

  /** Timers not yet fired nor cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing the timers that come due, in order. */
  advance(ms: number): void {
    this.time += ms;
    const due = [...this.#timers].filter(([, timer]) => timer.at <= this.time)
      .sort(([, a], [, b]) => a.at - b.at);
    for (const [id, timer] of due) {
      this.#timers.delete(id);
      timer.fn();
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), "soiree-sqlite-"));
const opened: TestDatabase[] = [];
let files = 0;
after(() => {
  for (const db of opened) db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A new database file's path. */
function newPath(): string {
  return join(dir, `test-${files++}.db`);
}

/** Opens `path` (a new file by default) with this runtime's driver; closed after the tests. */
function open(path = newPath(), options?: { readOnly?: boolean; bigInts?: boolean }) {
  const db = driver.open(path, options);
  opened.push(db);
  return db;
}

/** A transport on a new file with a fake clock. */
async function setup(options: SqliteTransportOptions = {}) {
  const clock = new FakeClock();
  const db = open();
  const transport = await sqliteTransport(db, { clock, ...options });
  return { clock, db, transport };
}

let sequence = 0;

/** A message to publish: IDs sort in publishing order, as ULIDs do. */
function message(topic: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: `01JD${String(sequence++).padStart(22, "0")}`,
    topic,
    data: JSON.stringify({ n: sequence }),
    publishedAt: 1_700_000_000_000,
    idempotencyKey: undefined,
    dedupeWindow: 60_000,
    ...extra,
  };
}

/** How many rows a table of the default prefix holds. */
function count(db: TestDatabase, table: string): number {
  const found = db.prepare(`SELECT count(*) AS n FROM soiree_${table}`).get() as { n: unknown };
  return Number(found.n);
}

const ids = (deliveries: readonly Delivery[]): string[] => deliveries.map((d) => d.message.id);

// ---------------------------------------------------------------------------------------------
// Publish, receive and settle.

test("sqliteTransport() answers to the name sqlite", async () => {
  const { transport } = await setup();
  assert.equal(transport.name, "sqlite");
});

test("publish() stores a delivery that receive() leases and ack() removes", async () => {
  const { db, transport } = await setup();
  await transport.subscribe({ name: "audit", pattern: "user.created" });
  const sent = message("user.created");
  assert.deepEqual(await transport.publish(sent), { id: sent.id, duplicate: false });

  const [delivery, ...rest] = await transport.receive("audit", 10, 30_000);
  assert.deepEqual(rest, []);
  assert.deepEqual(delivery.message, {
    id: sent.id,
    topic: sent.topic,
    data: sent.data,
    publishedAt: sent.publishedAt,
  });
  assert.equal(delivery.attempt, 1);
  assert.deepEqual(await transport.receive("audit", 10, 30_000), [], "leased, not due");
  assert.equal(await delivery.ack(), true);
  assert.equal(await delivery.ack(), false, "settled already");
  assert.equal(count(db, "deliveries"), 0);
  assert.equal(count(db, "events"), 0, "the event goes with its last delivery");
});

test("publish() fans out one delivery per durable name, each settled on its own", async () => {
  const { db, transport } = await setup();
  await transport.subscribe({ name: "audit", pattern: "order.paid" });
  await transport.subscribe({ name: "mailer", pattern: "order.paid" });
  const sent = message("order.paid");
  await transport.publish(sent);

  const [audit] = await transport.receive("audit", 10, 30_000);
  const [mail] = await transport.receive("mailer", 10, 30_000);
  assert.deepEqual([audit.message.id, mail.message.id], [sent.id, sent.id]);
  assert.equal(await audit.ack(), true);
  assert.equal(count(db, "events"), 1, "kept while the mailer's delivery is left");
  assert.equal(await mail.ack(), true);
  assert.equal(count(db, "events"), 0);
});

test("publish() matches patterns with the emitter's rules", async () => {
  const { transport } = await setup();
  await transport.subscribe({ name: "users", pattern: "user.*" });
  await transport.subscribe({ name: "all", pattern: "**" });
  await transport.subscribe({ name: "deep", pattern: "user.**" });
  const cases = [
    { topic: "user", names: ["all"] },
    { topic: "user.created", names: ["all", "deep", "users"] },
    { topic: "user.created.twice", names: ["all", "deep"] },
    { topic: "order.paid", names: ["all"] },
  ];
  for (const { topic, names } of cases) {
    await transport.publish(message(topic));
    const got = [];
    for (const name of ["all", "deep", "users"]) {
      const deliveries = await transport.receive(name, 10, 30_000);
      if (deliveries.length > 0) got.push(name);
      for (const delivery of deliveries) await delivery.ack();
    }
    assert.deepEqual(got, names, topic);
  }
});

test("publish() before any subscription stores nothing, and a later subscriber starts from now", async () => {
  const { db, transport } = await setup();
  const early = message("user.created");
  assert.deepEqual(await transport.publish(early), { id: early.id, duplicate: false });
  assert.equal(count(db, "events"), 0);
  assert.equal(count(db, "deliveries"), 0);
  await transport.subscribe({ name: "audit", pattern: "user.*" });
  assert.deepEqual(await transport.receive("audit", 10, 30_000), []);
});

test("subscribe() again with another pattern applies to later publishes", async () => {
  const { transport } = await setup();
  await transport.subscribe({ name: "audit", pattern: "user.created" });
  await transport.subscribe({ name: "audit", pattern: "order.*" });
  await transport.publish(message("user.created"));
  const paid = message("order.paid");
  await transport.publish(paid);
  assert.deepEqual(ids(await transport.receive("audit", 10, 30_000)), [paid.id]);
});

test("subscribe() rejects an invalid pattern with a TypeError", async () => {
  const { transport } = await setup();
  await assert.rejects(
    transport.subscribe({ name: "audit", pattern: "a..b" }),
    (error: Error) => error instanceof TypeError && /empty segment/.test(error.message),
  );
});

test("receive() hands out at most max deliveries, oldest first", async () => {
  const { transport } = await setup();
  await transport.subscribe({ name: "audit", pattern: "tick" });
  const sent = [];
  for (let i = 0; i < 5; i++) sent.push(message("tick"));
  for (const m of sent) await transport.publish(m);
  const batches = [];
  for (let i = 0; i < 4; i++) batches.push(ids(await transport.receive("audit", 2, 30_000)));
  assert.deepEqual(batches, [
    [sent[0].id, sent[1].id],
    [sent[2].id, sent[3].id],
    [sent[4].id],
    [],
  ]);
  await assert.rejects(transport.receive("audit", 0, 30_000), RangeError);
});

test("receive() never hands one delivery to two holders while their leases live", async () => {
  const { db, clock, transport: first } = await setup();
  const second = await sqliteTransport(db, { clock });
  await first.subscribe({ name: "work", pattern: "job" });
  for (let i = 0; i < 50; i++) await first.publish(message("job"));
  const seen: string[] = [];
  for (let round = 0; round < 10; round++) {
    const [a, b] = await Promise.all([
      first.receive("work", 4, 30_000),
      second.receive("work", 3, 30_000),
    ]);
    seen.push(...ids(a), ...ids(b));
  }
  assert.equal(seen.length, 50);
  assert.equal(new Set(seen).size, 50, "no delivery handed out twice");
});

test("an expired lease makes the delivery receivable again with attempt + 1, and the old holder loses it", async () => {
  const { clock, transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "job" });
  await transport.publish(message("job"));
  const [old] = await transport.receive("work", 1, 1_000);
  clock.advance(999);
  assert.deepEqual(await transport.receive("work", 1, 1_000), [], "lease still live");
  clock.advance(1);
  const [renewed] = await transport.receive("work", 1, 1_000);
  assert.equal(renewed.message.id, old.message.id);
  assert.equal(renewed.attempt, 2);
  for (const settle of [() => old.ack(), () => old.extend(1_000), () => old.retry(0, "x")]) {
    assert.equal(await settle(), false);
  }
  assert.equal(await old.deadLetter("x"), false);
  assert.equal(await old.release(false), false);
  assert.equal(await renewed.ack(), true);
});

test("extend() renews the lease without counting an attempt", async () => {
  const { clock, transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "job" });
  await transport.publish(message("job"));
  const [held] = await transport.receive("work", 1, 1_000);
  clock.advance(900);
  assert.equal(await held.extend(1_000), true);
  clock.advance(900);
  assert.deepEqual(await transport.receive("work", 1, 1_000), [], "renewed until 1900");
  clock.advance(100);
  const [again] = await transport.receive("work", 1, 1_000);
  assert.equal(again.attempt, 2);
});

test("a holder whose lease ran out but was not taken can still settle it", async () => {
  const { clock, transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "job" });
  await transport.publish(message("job"));
  const [held] = await transport.receive("work", 1, 1_000);
  clock.advance(5_000);
  assert.equal(await held.ack(), true);
  assert.deepEqual(await transport.receive("work", 1, 1_000), []);
});

test("retry() hands the delivery out again after its delay, and keeps the error", async () => {
  const { clock, db, transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "job" });
  await transport.publish(message("job"));
  const [first] = await transport.receive("work", 1, 30_000);
  assert.equal(await first.retry(5_000, "Error: SMTP 451"), true);
  const stored = db.prepare("SELECT error FROM soiree_deliveries").get() as { error: string };
  assert.equal(stored.error, "Error: SMTP 451");
  clock.advance(4_999);
  assert.deepEqual(await transport.receive("work", 1, 30_000), []);
  clock.advance(1);
  const [second] = await transport.receive("work", 1, 30_000);
  assert.equal(second.attempt, 2);
  assert.equal(await first.ack(), false, "the first holder settled it already");
});

test("deadLetter() parks the delivery; deadLetters() lists it and redrive() puts it back", async () => {
  const { clock, transport } = await setup();
  await transport.subscribe({ name: "mailer", pattern: "email" });
  const sent = message("email");
  await transport.publish(sent);
  const [first] = await transport.receive("mailer", 1, 30_000);
  assert.equal(await first.retry(0, "Error: timeout"), true);
  const [second] = await transport.receive("mailer", 1, 30_000);
  clock.advance(10);
  assert.equal(await second.deadLetter("Error: 550 no such user"), true);
  assert.deepEqual(await transport.receive("mailer", 1, 30_000), []);

  assert.deepEqual(await transport.deadLetters("mailer", 10), [{
    message: { id: sent.id, topic: sent.topic, data: sent.data, publishedAt: sent.publishedAt },
    attempts: 2,
    error: "Error: 550 no such user",
    deadAt: clock.now(),
  }]);
  assert.equal(await transport.redrive("mailer", 10), 1);
  assert.deepEqual(await transport.deadLetters("mailer", 10), []);
  const [again] = await transport.receive("mailer", 1, 30_000);
  assert.equal(again.message.id, sent.id);
  assert.equal(again.attempt, 1, "attempts start again");
});

test("deadLetters() and redrive() take the oldest first, up to the limit", async () => {
  const { clock, transport } = await setup();
  await transport.subscribe({ name: "mailer", pattern: "email" });
  const sent = [message("email"), message("email"), message("email")];
  for (const m of sent) await transport.publish(m);
  const deliveries = await transport.receive("mailer", 3, 30_000);
  for (const delivery of [...deliveries].reverse()) {
    clock.advance(1);
    await delivery.deadLetter("x");
  }
  const listed = await transport.deadLetters("mailer", 2);
  assert.deepEqual(listed.map((dead) => dead.message.id), [sent[2].id, sent[1].id]);
  assert.equal(await transport.redrive("mailer", 2), 2);
  assert.deepEqual(ids(await transport.receive("mailer", 10, 30_000)), [sent[1].id, sent[2].id]);
  assert.equal((await transport.deadLetters("mailer", 10)).length, 1);
  assert.equal(await transport.redrive("nobody", 10), 0);
});

test("release(false) gives the delivery back without counting the attempt; release(true) counts it", async () => {
  const { transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "job" });
  await transport.publish(message("job"));
  const [first] = await transport.receive("work", 1, 30_000);
  assert.equal(await first.release(false), true);
  const [second] = await transport.receive("work", 1, 30_000);
  assert.equal(second.attempt, 1);
  assert.equal(await second.release(true), true);
  const [third] = await transport.receive("work", 1, 30_000);
  assert.equal(third.attempt, 2);
});

// ---------------------------------------------------------------------------------------------
// Idempotency keys.

test("publish() with a key seen inside its window stores nothing and answers the first ID", async () => {
  const { db, transport } = await setup();
  await transport.subscribe({ name: "audit", pattern: "user.created" });
  const first = message("user.created", { idempotencyKey: "signup:1" });
  const again = message("user.created", { idempotencyKey: "signup:1" });
  assert.deepEqual(await transport.publish(first), { id: first.id, duplicate: false });
  assert.deepEqual(await transport.publish(again), { id: first.id, duplicate: true });
  assert.equal(count(db, "deliveries"), 1);
  const [delivery] = await transport.receive("audit", 10, 30_000);
  await delivery.ack();
  const late = message("user.created", { idempotencyKey: "signup:1" });
  assert.deepEqual(
    await transport.publish(late),
    { id: first.id, duplicate: true },
    "the key outlives the event",
  );
});

test("publish() with a key whose window passed stores the event again", async () => {
  const { clock, transport } = await setup();
  await transport.subscribe({ name: "audit", pattern: "user.created" });
  const first = message("user.created", { idempotencyKey: "k", dedupeWindow: 1_000 });
  await transport.publish(first);
  clock.advance(999);
  assert.equal(
    (await transport.publish(message("user.created", { idempotencyKey: "k" }))).duplicate,
    true,
  );
  clock.advance(1);
  const later = message("user.created", { idempotencyKey: "k", dedupeWindow: 1_000 });
  assert.deepEqual(await transport.publish(later), { id: later.id, duplicate: false });
  assert.equal(
    (await transport.publish(message("user.created", { idempotencyKey: "k" }))).duplicate,
    true,
  );
  assert.deepEqual(ids(await transport.receive("audit", 10, 30_000)), [first.id, later.id]);
});

test("publish() forgets expired keys of other publishes as it goes", async () => {
  const { clock, db, transport } = await setup();
  for (let i = 0; i < 10; i++) {
    await transport.publish(message("a", { idempotencyKey: `k${i}`, dedupeWindow: 100 }));
  }
  clock.advance(100);
  await transport.publish(message("a", { idempotencyKey: "fresh" }));
  assert.equal(count(db, "idempotency_keys"), 1);
});

// ---------------------------------------------------------------------------------------------
// wait().

test("wait() resolves at once when this transport publishes for the name", async () => {
  const { clock, transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "job" });
  let woken = false;
  const waiting = transport.wait("work", new AbortController().signal).then(() => woken = true);
  await transport.publish(message("other"));
  await Promise.resolve();
  assert.equal(woken, false, "a topic the name does not match wakes nothing");
  await transport.publish(message("job"));
  await waiting;
  assert.equal(clock.pending, 0, "its timer is cleared");
});

test("wait() resolves after the poll interval when nothing happens here", async () => {
  const { clock, transport } = await setup({ pollInterval: 500 });
  await transport.subscribe({ name: "work", pattern: "job" });
  let woken = false;
  const waiting = transport.wait("work", new AbortController().signal).then(() => woken = true);
  clock.advance(499);
  await Promise.resolve();
  assert.equal(woken, false);
  clock.advance(1);
  await waiting;
});

test("wait() resolves when a retry comes due, before the poll interval", async () => {
  const { clock, transport } = await setup({ pollInterval: 10_000 });
  await transport.subscribe({ name: "work", pattern: "job" });
  await transport.publish(message("job"));
  const [delivery] = await transport.receive("work", 1, 30_000);
  await delivery.retry(2_000, "x");
  let woken = false;
  const waiting = transport.wait("work", new AbortController().signal).then(() => woken = true);
  clock.advance(1_999);
  await Promise.resolve();
  assert.equal(woken, false);
  clock.advance(1);
  await waiting;
});

test("wait() resolves when a lease ends, and at once when something is due", async () => {
  const { clock, transport } = await setup({ pollInterval: 10_000 });
  await transport.subscribe({ name: "work", pattern: "job" });
  await transport.publish(message("job"));
  await transport.wait("work", new AbortController().signal); // due now
  await transport.receive("work", 1, 3_000);
  const waiting = transport.wait("work", new AbortController().signal);
  clock.advance(3_000);
  await waiting;
});

test("wait() resolves when the signal aborts or the transport closes, leaving no timer", async () => {
  const { clock, transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "job" });
  const controller = new AbortController();
  const aborted = transport.wait("work", controller.signal);
  controller.abort();
  await aborted;
  await transport.wait("work", controller.signal);
  const closing = transport.wait("work", new AbortController().signal);
  await transport.close();
  await closing;
  assert.equal(clock.pending, 0);
  await transport.wait("work", new AbortController().signal);
});

test("redrive(), retry() and release() wake the name's waits", async () => {
  const { transport } = await setup({ pollInterval: 60_000 });
  await transport.subscribe({ name: "work", pattern: "job" });
  await transport.publish(message("job"));
  const [delivery] = await transport.receive("work", 1, 30_000);
  const signal = new AbortController().signal;
  let waiting = transport.wait("work", signal);
  await delivery.deadLetter("x");
  waiting = Promise.all([waiting, transport.redrive("work", 1)]).then(() => {});
  await waiting;
  const [again] = await transport.receive("work", 1, 30_000);
  waiting = transport.wait("work", signal);
  await again.release(false);
  await waiting;
});

// ---------------------------------------------------------------------------------------------
// Several processes on one file: two handles in one process behave as two processes.

test("two transports on one file share the work: claims never overlap, publishes cross", async () => {
  const path = newPath();
  const clock = new FakeClock();
  const one = await sqliteTransport(open(path), { clock });
  const two = await sqliteTransport(open(path), { clock });
  await one.subscribe({ name: "work", pattern: "job" });
  const sent = [];
  for (let i = 0; i < 30; i++) {
    const m = message("job");
    sent.push(m.id);
    await (i % 2 === 0 ? one : two).publish(m);
  }
  const seen: string[] = [];
  for (let round = 0; round < 10; round++) {
    for (const transport of [two, one]) {
      const deliveries = await transport.receive("work", 2, 30_000);
      seen.push(...ids(deliveries));
      if (round % 2 === 0) { for (const delivery of deliveries) await delivery.ack(); }
    }
  }
  assert.deepEqual(seen.sort(), sent.sort());
});

test("a name subscribed through another handle gets the events published after it", async () => {
  const path = newPath();
  const publisher = await sqliteTransport(open(path));
  const worker = await sqliteTransport(open(path));
  await publisher.publish(message("job")); // caches the (empty) subscriptions
  await worker.subscribe({ name: "work", pattern: "job" });
  const sent = message("job");
  await publisher.publish(sent);
  assert.deepEqual(ids(await worker.receive("work", 10, 30_000)), [sent.id]);
});

test("two table prefixes keep two stores apart in one file", async () => {
  const db = open();
  const blue = await sqliteTransport(db, { tablePrefix: "blue_" });
  const green = await sqliteTransport(db, { tablePrefix: "green_" });
  await blue.subscribe({ name: "work", pattern: "job" });
  await green.subscribe({ name: "work", pattern: "job" });
  await blue.publish(message("job"));
  assert.deepEqual(await green.receive("work", 10, 30_000), []);
  assert.equal((await blue.receive("work", 10, 30_000)).length, 1);
});

// ---------------------------------------------------------------------------------------------
// Opening, closing and failures.

test(
  "sqliteTransport(path) opens the file in WAL mode with its tables",
  { skip: !opensPaths },
  async () => {
    const path = newPath();
    const transport = await sqliteTransport(path);
    await transport.subscribe({ name: "work", pattern: "job" });
    await transport.publish(message("job"));
    await transport.close();
    const db = open(path);
    const mode = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    assert.equal(mode.journal_mode, "wal");
    assert.equal(count(db, "deliveries"), 1, "stored before close, kept after");
    const version = db.prepare("SELECT value FROM soiree_meta WHERE key = 'schema_version'").get();
    assert.equal(Number((version as { value: unknown }).value), 3);
  },
);

test("sqliteTransport(path) rejects, naming the way out, where node:sqlite is missing", {
  skip: opensPaths,
}, async () => {
  await assert.rejects(
    sqliteTransport(newPath()),
    (error: Error) =>
      /has no node:sqlite .*open the file with better-sqlite3 and pass the database/.test(
        error.message,
      ) && error.cause !== undefined,
  );
});

test("receive(), extend() and retry() refuse a lease or delay that is not a finite span", async () => {
  const { transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "job" });
  await transport.publish(message("job"));
  await assert.rejects(transport.receive("work", 1, NaN), /'lease' must be a finite number/);
  const [delivery] = await transport.receive("work", 1, 1_000);
  await assert.rejects(delivery.extend(Infinity), RangeError);
  await assert.rejects(delivery.retry(-1, "x"), /'delay'/);
  assert.equal(await delivery.ack(), true, "still held");
});

test("close() leaves the user's handle open, is idempotent, and later calls reject", async () => {
  const { db, transport } = await setup();
  await transport.close();
  await transport.close();
  assert.deepEqual({ ...db.prepare("SELECT 1 AS one").get() as object }, { one: 1 });
  await assert.rejects(
    transport.publish(message("job")),
    (error: Error) => /Cannot publish as the SQLite transport is closed/.test(error.message),
  );
  for (
    const call of [
      () => transport.subscribe({ name: "work", pattern: "job" }),
      () => transport.receive("work", 1, 1_000),
      () => transport.deadLetters("work", 1),
      () => transport.redrive("work", 1),
    ]
  ) await assert.rejects(call(), /closed/);
});

test("a delivery's methods reject once its transport is closed", async () => {
  const { transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "job" });
  await transport.publish(message("job"));
  const [delivery] = await transport.receive("work", 1, 30_000);
  await transport.close();
  await assert.rejects(delivery.ack(), /Cannot acknowledge as the SQLite transport is closed/);
  await assert.rejects(delivery.extend(1), /closed/);
});

test("publish() on a read-only file rejects with SQLite's error and stores nothing", async () => {
  const path = newPath();
  const writer = await sqliteTransport(open(path));
  await writer.subscribe({ name: "work", pattern: "job" });
  const readOnly = await sqliteTransport(open(path, { readOnly: true }));
  await assert.rejects(
    readOnly.publish(message("job", { idempotencyKey: "k" })),
    (error: Error) => /readonly|read-only|read only/i.test(error.message),
  );
  const db = open(path);
  assert.equal(count(db, "events"), 0);
  assert.equal(count(db, "idempotency_keys"), 0);
  const retried = message("job", { idempotencyKey: "k" });
  assert.deepEqual(await writer.publish(retried), { id: retried.id, duplicate: false });
});

test("Soiree.publish() on a read-only file rejects with a PublishError whose cause is SQLite's", async () => {
  const path = newPath();
  const writer = await sqliteTransport(open(path));
  await writer.subscribe({ name: "work", pattern: "job" });
  const soiree = new Soiree({ transport: await sqliteTransport(open(path, { readOnly: true })) });
  const error = await soiree.publish("job", { n: 1 }).catch((error) => error);
  assert.ok(error instanceof PublishError, String(error));
  assert.match(String(error.cause), /readonly|read-only|read only/i);
  assert.equal(soiree.stats().durable.published, 0);
  await soiree.close();
  assert.equal(count(open(path), "events"), 0);
});

test("Soiree.publish() on a file another process holds locked rejects once the busy timeout passes", async () => {
  const path = newPath();
  const soiree = new Soiree({
    transport: await sqliteTransport(open(path), { busyTimeout: 20 }),
    panicHandler: () => {}, // the consumer's loop meets the lock too, and backs off
  });
  soiree.on("job", () => {}, { durable: "work" });
  const locker = open(path);
  locker.exec("BEGIN IMMEDIATE");
  try {
    const error = await soiree.publish("job", 1).catch((error) => error);
    assert.ok(error instanceof PublishError, String(error));
    assert.match(String(error.cause), /locked|busy/i);
  } finally {
    locker.exec("ROLLBACK");
  }
  // Once the lock is gone, the same publish goes through.
  assert.equal((await soiree.publish("job", 1)).duplicate, false);
  await soiree.close();
});

test("a publish that fails half-way stores nothing", async () => {
  const { db, transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "job" });
  const sent = message("job", { idempotencyKey: "k" });
  await transport.publish(sent);
  // The same event ID again, under a new key: the key is stored, then the event insert fails.
  await assert.rejects(transport.publish({ ...sent, idempotencyKey: "k2" }), /UNIQUE/);
  assert.equal(count(db, "idempotency_keys"), 1);
  assert.equal(count(db, "deliveries"), 1);
});

test("writes of one turn commit together, and one that fails is undone alone", async () => {
  const { db, transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "job" });
  const first = message("job", { idempotencyKey: "a" });
  await transport.publish(first);
  // In one turn: a good publish, one that reuses the first's event ID (its insert fails after
  // its key was stored), and another good one.
  const results = await Promise.allSettled([
    transport.publish(message("job", { idempotencyKey: "b" })),
    transport.publish({ ...first, idempotencyKey: "c" }),
    transport.publish(message("job", { idempotencyKey: "d" })),
  ]);
  assert.deepEqual(results.map((result) => result.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE/);
  assert.equal(count(db, "events"), 3);
  assert.equal(count(db, "idempotency_keys"), 3, "the failed publish's key is undone with it");
  assert.equal((await transport.receive("work", 10, 1_000)).length, 3);
});

test("the synchronous option sets how commits wait for the disk, and is left alone without it", async () => {
  const level = (db: TestDatabase) =>
    Number((db.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous);
  const untouched = open();
  untouched.exec("PRAGMA synchronous = OFF");
  await sqliteTransport(untouched);
  assert.equal(level(untouched), 0);
  const normal = open();
  await sqliteTransport(normal, { synchronous: "normal" });
  assert.equal(level(normal), 1);
  const full = open();
  full.exec("PRAGMA synchronous = OFF");
  await sqliteTransport(full, { synchronous: "full" });
  assert.equal(level(full), 2);
});

test("sqliteTransport() refuses tables made by a newer schema", async () => {
  const db = open();
  await sqliteTransport(db);
  db.exec("UPDATE soiree_meta SET value = 4 WHERE key = 'schema_version'");
  await assert.rejects(sqliteTransport(db), /schema version 4, made by a newer Soiree/);
});

test("sqliteTransport() upgrades tables of schema version 2, keeping their deliveries", async () => {
  const clock = new FakeClock();
  const db = open();
  const old = await sqliteTransport(db, { clock });
  await old.subscribe({ name: "work", pattern: "job" });
  await old.publish(message("job"));
  await old.close();
  // Version 2's layout: no ordering key.
  db.exec("DROP INDEX soiree_deliveries_key");
  db.exec("ALTER TABLE soiree_deliveries DROP COLUMN ordering_key");
  db.exec("UPDATE soiree_meta SET value = 2 WHERE key = 'schema_version'");
  const transport = await sqliteTransport(db, { clock });
  const version = db.prepare("SELECT value FROM soiree_meta WHERE key = 'schema_version'").get();
  assert.equal(Number((version as { value: unknown }).value), 3);
  await transport.publish(message("job", { key: "k" }));
  await transport.publish(message("job", { key: "k" }));
  const first = await transport.receive("work", 10, 1_000);
  assert.equal(first.length, 2, "the old delivery and the first of key k, not the second");
  await transport.close();
});

test("sqliteTransport() upgrades schema 1 tables: their bare codec text becomes CloudEvents documents", async () => {
  const db = open();
  const old = await sqliteTransport(db);
  await old.subscribe({ name: "work", pattern: "job.*" });
  // What a schema 1 store held: the codec's text alone.
  const json = message("job.json", { data: '{"n":1}' });
  const empty = message("job.empty", { data: "" });
  const text = message("job.text", { data: "plain, not JSON" });
  for (const stored of [json, empty, text]) await old.publish(stored);
  // Version 1's layout also had no ordering key (version 3 added it).
  db.exec("DROP INDEX soiree_deliveries_key");
  db.exec("ALTER TABLE soiree_deliveries DROP COLUMN ordering_key");
  db.exec("UPDATE soiree_meta SET value = 1 WHERE key = 'schema_version'");

  const soiree = new Soiree({ transport: await sqliteTransport(db) });
  const version = db.prepare("SELECT value FROM soiree_meta WHERE key = 'schema_version'").get();
  assert.equal(Number((version as { value: unknown }).value), 3);
  const documents = new Map(
    (db.prepare("SELECT id, data FROM soiree_events").all() as { id: string; data: string }[])
      .map(({ id, data }) => [id, JSON.parse(data)]),
  );
  const head = (stored: OutgoingMessage) => ({
    specversion: "1.0",
    id: stored.id,
    source: "soiree",
    type: stored.topic,
    time: new Date(stored.publishedAt).toISOString(),
  });
  assert.deepEqual(documents.get(json.id), {
    ...head(json),
    datacontenttype: "application/json",
    data: { n: 1 },
  });
  assert.deepEqual(documents.get(empty.id), {
    ...head(empty),
    datacontenttype: "application/json",
  });
  assert.deepEqual(documents.get(text.id), {
    ...head(text),
    datacontenttype: "text/plain",
    data: "plain, not JSON",
  });
  const payloads = new Map<string, unknown>();
  const both = deferred<void>();
  soiree.on("job.*", (event) => {
    payloads.set(event.topic, event.payload);
    if (payloads.size === 2) both.resolve();
  }, { durable: "work" });
  await both.promise;
  await soiree.close();
  assert.deepEqual(
    payloads,
    new Map<string, unknown>([["job.json", { n: 1 }], ["job.empty", undefined]]),
  );
});

test("sqliteTransport() reads integers that the handle returns as BigInt", async () => {
  const clock = new FakeClock();
  const transport = await sqliteTransport(open(newPath(), { bigInts: true }), { clock });
  await transport.subscribe({ name: "work", pattern: "job" });
  const sent = message("job");
  await transport.publish(sent);
  const [delivery] = await transport.receive("work", 1, 1_000);
  assert.equal(delivery.attempt, 1);
  assert.equal(delivery.message.publishedAt, sent.publishedAt);
  await delivery.deadLetter("x");
  const [dead] = await transport.deadLetters("work", 1);
  assert.deepEqual([dead.attempts, dead.deadAt], [1, clock.now()]);
});

test("sqliteTransport() rejects bad arguments before touching the database", async () => {
  const db = open();
  const cases: [unknown, unknown, ErrorConstructor, RegExp][] = [
    ["", undefined, TypeError, /'pathOrHandle' must be a file path or a database handle/],
    [42, undefined, TypeError, /received 42 \(number\)/],
    [{ exec() {} }, undefined, TypeError, /'pathOrHandle'/],
    [db, null, TypeError, /'options' must be an object: received null/],
    [db, { clock: { now: () => 0 } }, TypeError, /'clock.setTimeout' must be a function/],
    [
      db,
      { pollInterval: -1 },
      RangeError,
      /'pollInterval' must be a positive integer of milliseconds up to 2147483647: received -1/,
    ],
    [db, { pollInterval: 0 }, RangeError, /'pollInterval'/],
    [
      db,
      { pollInterval: "1" },
      TypeError,
      /'pollInterval' must be a number of milliseconds: received "1"/,
    ],
    [db, { pollInterval: Infinity }, RangeError, /'pollInterval'/],
    [db, { busyTimeout: -1 }, RangeError, /'busyTimeout' must be an integer from 0/],
    [db, { busyTimeout: 1.5 }, RangeError, /'busyTimeout'/],
    [db, { tablePrefix: "Soiree" }, TypeError, /'tablePrefix' must be 1 to 63 of a-z, 0-9 and _/],
    [db, { tablePrefix: "1x" }, TypeError, /'tablePrefix'/],
    [db, { tablePrefix: "x; DROP TABLE y" }, TypeError, /'tablePrefix'/],
    [db, { tablePrefix: "" }, TypeError, /'tablePrefix'/],
    [
      db,
      { synchronous: "OFF" },
      TypeError,
      /'synchronous' must be "full" or "normal": received "OFF"/,
    ],
  ];
  for (const [target, options, kind, pattern] of cases) {
    await assert.rejects(
      sqliteTransport(target as string, options as SqliteTransportOptions),
      (error: Error) => {
        assert.ok(error instanceof kind, `${error.name}: ${error.message}`);
        assert.match(error.message, /^Cannot open the SQLite transport as /);
        assert.match(error.message, pattern);
        return true;
      },
    );
  }
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: unknown };
  assert.equal(Number(tables.n), 0, "nothing created");
});

// ---------------------------------------------------------------------------------------------
// Volume.

test("10,000 events published, received and acknowledged: none lost, none twice", async () => {
  const { db, transport } = await setup();
  // No fsync per commit (a power cut could lose the last ones, a crash of the process not):
  // the test counts deliveries, not the disk's speed.
  db.exec("PRAGMA synchronous = NORMAL");
  await transport.subscribe({ name: "work", pattern: "job.*" });
  const total = 10_000;
  for (let i = 0; i < total; i++) {
    await transport.publish(message(`job.${i % 7}`, { idempotencyKey: `k${i}` }));
  }
  const seen = new Set<string>();
  for (;;) {
    const deliveries = await transport.receive("work", 100, 30_000);
    if (deliveries.length === 0) break;
    for (const delivery of deliveries) {
      seen.add(delivery.message.id);
      assert.equal(await delivery.ack(), true);
    }
  }
  assert.equal(seen.size, total);
  assert.equal(count(db, "deliveries"), 0);
  assert.equal(count(db, "events"), 0);
});

test("a 1 MB payload round-trips", async () => {
  const { transport } = await setup();
  await transport.subscribe({ name: "work", pattern: "blob" });
  const data = JSON.stringify("é€😀x".repeat(200_000));
  assert.ok(data.length > 1_000_000);
  await transport.publish(message("blob", { data }));
  const [delivery] = await transport.receive("work", 1, 30_000);
  assert.equal(delivery.message.data, data);
});

// ---------------------------------------------------------------------------------------------
// Other drivers of this runtime (bun:sqlite under Bun).

for (const other of otherDrivers) {
  test(`sqliteTransport() runs on a ${other.name} handle`, async () => {
    const db = other.open(newPath());
    opened.push(db);
    const clock = new FakeClock();
    const transport: Transport = await sqliteTransport(db, { clock });
    await transport.subscribe({ name: "work", pattern: "job" });
    const sent = message("job", { idempotencyKey: "k" });
    await transport.publish(sent);
    assert.equal(
      (await transport.publish(message("job", { idempotencyKey: "k" }))).duplicate,
      true,
    );
    const [first] = await transport.receive("work", 10, 1_000);
    assert.deepEqual(first.message.id, sent.id);
    clock.advance(1_000);
    const [second] = await transport.receive("work", 10, 1_000);
    assert.equal(second.attempt, 2);
    assert.equal(await first.ack(), false);
    assert.equal(await second.deadLetter("x"), true);
    assert.equal((await transport.deadLetters("work", 10)).length, 1);
    assert.equal(await transport.redrive("work", 10), 1);
    const [third] = await transport.receive("work", 10, 1_000);
    assert.equal(await third.ack(), true);
    await transport.close();
  });
}

// The conformance suite: every connection is a handle of its own on one file, as separate
// processes would have; a short poll interval keeps the cross-connection tests quick.
conformance("sqlite", (clock) => {
  const path = newPath();
  return Promise.resolve({
    open: () => sqliteTransport(open(path), { clock, pollInterval: 10 }),
    cleanup: () => Promise.resolve(),
  });
});
