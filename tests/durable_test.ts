// Durable delivery's own rules, apart from any engine: the consumer's slots and turns, the retry
// policy, failure classification, and what an emitter without a transport says.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DurableEvent,
  EmitterClosedError,
  memoryTransport,
  PermanentError,
  Pool,
  Soiree,
  SoireeEvent,
} from "../mod.ts";
import { backoff, checkRetry, describeError, retryDelay } from "../src/durable/_retry.ts";
import { gate, prng, ticks, within } from "./_util.ts";

/** Polls a condition across macrotasks: for outcomes reached through the consumer loops. */
async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition still false after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

test("without a transport, publish() and a durable listener throw a TypeError naming the choices", () => {
  const soiree = new Soiree();
  const choices = /memoryTransport\(\) for tests and one process, or sqliteTransport\(path\)/;
  assert.throws(() => soiree.publish("user.created", {}), { name: "TypeError", message: choices });
  assert.throws(() => soiree.on("a", () => {}, { durable: "mail" }), {
    name: "TypeError",
    message: choices,
  });
  assert.throws(() => soiree.deadLetters("mail"), choices);
  assert.throws(() => soiree.redrive("mail"), choices);
});

test("new Soiree() refuses a transport or codec that does not fit the contract", () => {
  assert.throws(() => new Soiree({ transport: {} as never }), {
    name: "TypeError",
    message: /'transport' must implement the Transport contract \(missing subscribe, publish/,
  });
  assert.throws(
    () => new Soiree({ codec: { encode: JSON.stringify } as never }),
    /'codec' must have encode\(\), decode\(\) and a contentType string/,
  );
});

test("publish() on a closed emitter rejects with EmitterClosedError and stores nothing", async () => {
  const transport = memoryTransport();
  const soiree = new Soiree({ transport });
  await soiree.close();
  await assert.rejects(soiree.publish("a", 1), EmitterClosedError);
  assert.throws(() => soiree.on("a", () => {}, { durable: "a" }), EmitterClosedError);
  assert.equal(soiree.stats().durable.published, 0);
});

test("emitters that share a transport: closing one leaves the others working, the last closes it", async () => {
  // Emitters in one process may share a transport as processes share a store (and a broadcast
  // reaches each of them): one emitter's close() must not pull the store from under the others.
  const transport = memoryTransport();
  const first = new Soiree({ transport });
  const second = new Soiree({ transport });
  const seen: string[] = [];
  const received = gate();
  second.on("order.paid", (event: DurableEvent) => {
    seen.push(String(event.payload));
    received.open();
  }, { durable: "ledger" });
  await first.close();
  await second.publish("order.paid", "after the first closed");
  await received.promise;
  assert.deepEqual(seen, ["after the first closed"]);
  const third = new Soiree({ transport });
  await third.publish("order.paid", "from an emitter made later");
  await until(() => seen.length === 2);
  await second.close();
  await third.publish("order.paid", "the third is still open");
  await third.close();
  await assert.rejects(
    transport.publish({ topic: "a", data: new Uint8Array(), idempotencyKey: undefined } as never),
    /memory transport as it is closed/,
  );
});

test("durable listeners of equal priority on one pool take its slots in turn", async () => {
  const soiree = new Soiree({ transport: memoryTransport() });
  const pool = new Pool({ concurrency: 1 });
  const order: string[] = [];
  const blocker = gate();
  const blocking = pool.submit(() => blocker.promise);
  for (const name of ["a", "b", "c"]) {
    soiree.on(`work.${name}`, () => void order.push(name), { durable: name, pool });
  }
  for (let i = 0; i < 3; i++) {
    for (const name of ["a", "b", "c"]) await soiree.publish(`work.${name}`, i);
  }
  await ticks(20);
  blocker.open();
  await blocking;
  await until(() => soiree.stats().durable.acked === 9);
  // Each takes one slot in turn: none runs twice before every hungry one ran once.
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(order.slice(round * 3, round * 3 + 3).sort(), ["a", "b", "c"]);
  }
  await soiree.close();
  await pool.close();
});

test("a durable listener's pool is shared fairly with the pool's other tasks", async () => {
  const soiree = new Soiree({ transport: memoryTransport() });
  const pool = new Pool({ concurrency: 1 });
  const order: string[] = [];
  soiree.on("job", (event) => void order.push(`durable ${event.payload}`), {
    durable: "jobs",
    pool,
  });
  const blocker = gate();
  const blocking = pool.submit(() => blocker.promise);
  await soiree.publish("job", 1);
  await soiree.publish("job", 2);
  await ticks(20);
  const plain = pool.submit(() => void order.push("plain task"));
  blocker.open();
  await blocking;
  await plain;
  await until(() => soiree.stats().durable.acked === 2);
  // The durable consumer's slot request was queued before the plain task: FIFO in the pool.
  assert.equal(order[0], "durable 1");
  assert.ok(order.indexOf("plain task") < order.indexOf("durable 2"));
  await soiree.close();
  await pool.close();
});

test("a durable listener that returns an Error, or rejects, fails its attempt", async () => {
  const soiree = new Soiree({ transport: memoryTransport(), errorHandler: () => {} });
  soiree.on("a", () => new PermanentError("returned"), { durable: "returns" });
  soiree.on("a", () => Promise.reject(new PermanentError("rejected")), { durable: "rejects" });
  await soiree.publish("a");
  await until(() => soiree.stats().durable.deadLettered === 2);
  assert.match((await soiree.deadLetters("returns"))[0].error, /returned/);
  assert.match((await soiree.deadLetters("rejects"))[0].error, /rejected/);
  await soiree.close();
});

test("each failed attempt goes through the error handler with the delivery's event", async () => {
  const seen: [string, number, string | undefined][] = [];
  const soiree = new Soiree({
    transport: memoryTransport(),
    errorHandler: (event, error, listener) => {
      assert.ok(event instanceof DurableEvent);
      seen.push([(error as Error).message, event.attempt, listener?.pattern]);
    },
  });
  soiree.on("pay.*", () => {
    throw new Error("card declined");
  }, { durable: "pay", retry: { attempts: 2, delay: () => 0 } });
  await soiree.publish("pay.now");
  await until(() => soiree.stats().durable.deadLettered === 1);
  assert.deepEqual(seen, [["card declined", 1, "pay.*"], ["card declined", 2, "pay.*"]]);
  await soiree.close();
});

test("a retry.delay that throws or returns nonsense falls back to the backoff and panics", async () => {
  const panics: unknown[] = [];
  const soiree = new Soiree({
    transport: memoryTransport(),
    errorHandler: () => {},
    panicHandler: (value) => void panics.push(value),
  });
  const second = gate();
  soiree.on("a", (event) => {
    if (event.attempt === 2) return second.open();
    throw new Error("once");
  }, { durable: "a", retry: { base: 1, cap: 1, delay: () => -5 } });
  await soiree.publish("a");
  await within(second.promise, 10_000, "second attempt");
  assert.equal(panics.length, 1);
  assert.match(String(panics[0]), /'retry.delay'.*non-negative finite number.*-5/);
  await soiree.close();
});

test("backoff() draws full jitter under min(cap, base × 2^(attempt − 1))", () => {
  const policy = checkRetry({ base: 100, cap: 1_000 }, "test");
  const random = prng(7);
  for (let attempt = 1; attempt <= 12; attempt++) {
    const bound = Math.min(1_000, 100 * 2 ** (attempt - 1));
    for (let i = 0; i < 50; i++) {
      const delay = backoff(policy, attempt, random);
      assert.ok(delay >= 0 && delay < bound, `attempt ${attempt}: ${delay} < ${bound}`);
    }
  }
  assert.equal(backoff(policy, 3, () => 0.5), 200);
  assert.equal(retryDelay({ ...policy, delay: () => 42 }, 1, undefined, () => {}), 42);
});

test("the default retry policy is 5 attempts from 1 s capped at 5 min", () => {
  assert.deepEqual({ ...checkRetry(undefined, "test") }, {
    attempts: 5,
    base: 1_000,
    cap: 300_000,
    delay: undefined,
  });
});

test("describeError() keeps the name, message and causes of a failure", () => {
  const error = new TypeError("outer", { cause: new Error("inner", { cause: "root" }) });
  assert.equal(describeError(error), "TypeError: outer\ncaused by Error: inner\ncaused by root");
  assert.equal(describeError(undefined), "undefined");
  assert.equal(describeError(42), "42 (number)");
});

test("a durable listener's signal option stops it", async () => {
  const soiree = new Soiree({ transport: memoryTransport() });
  const controller = new AbortController();
  const subscription = soiree.on("a", () => {}, { durable: "a", signal: controller.signal });
  assert.equal(soiree.stats().durable.listeners, 1);
  controller.abort();
  assert.equal(subscription.active, false);
  assert.equal(soiree.stats().durable.listeners, 0);
  const again = soiree.on("a", () => {}, { durable: "a" });
  assert.equal(again.active, true);
  const aborted = soiree.on("b", () => {}, { durable: "b", signal: AbortSignal.abort() });
  assert.equal(aborted.active, false);
  await soiree.close();
});

test("a DurableEvent is a SoireeEvent whose abort() stops nothing but itself", () => {
  const event = new DurableEvent("user.created", { id: 1 }, {
    id: "01JD0000000000000000000000",
    listener: "mail",
    attempt: 3,
    publishedAt: 0,
  });
  assert.ok(event instanceof SoireeEvent);
  assert.equal(event.id, "01JD0000000000000000000000");
  assert.equal(event.idempotencyKey, "01JD0000000000000000000000/mail");
  assert.equal(event.attempt, 3);
  assert.equal(event.publishedAt.getTime(), 0);
  assert.equal(event.signal.aborted, false);
  event.abort();
  assert.equal(event.aborted, true);
});

test("the memory transport refuses a malformed clock", () => {
  assert.throws(() => memoryTransport({ clock: { now: () => 0 } as never }), {
    name: "TypeError",
    message: /'clock.setTimeout' must be a function/,
  });
  assert.throws(() => memoryTransport(1 as never), TypeError);
});
