// No failure goes unseen: what the default handlers log, what a custom handler takes over,
// refusals through the failure path, and messages and printouts that name the user's things.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import {
  EmitterClosedError,
  ListenerError,
  Pool,
  QueueFullError,
  Soiree,
  type SoireeEvent,
} from "../mod.ts";
import { gate, ticks } from "./_util.ts";

/** Runs `body` with `console.error` recorded instead of printed. */
async function capture(body: () => unknown): Promise<unknown[][]> {
  const original = console.error;
  const logged: unknown[][] = [];
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    await body();
  } finally {
    console.error = original;
  }
  return logged;
}

test("by default a listener that throws under emitSync() is logged once and still reported", async () => {
  const soiree = new Soiree();
  const { id } = soiree.on("order.*", () => {
    throw new Error("ledger offline");
  });
  let errors: readonly Error[] = [];
  const logged = await capture(() => void (errors = soiree.emitSync("order.paid")));
  assert.equal(logged.length, 1);
  const [prefix, reported] = logged[0];
  assert.equal(prefix, "Soiree:");
  assert.equal(reported, errors[0], "the logged error is the reported one");
  assert.ok(reported instanceof ListenerError);
  assert.match(
    reported.message,
    new RegExp(`Listener ${id} of "order\\.\\*" failed on "order.paid"`),
  );
  assert.match((reported.cause as Error).stack ?? "", /ledger offline/);
});

test("by default a failure under a fire-and-forget emit() is logged once", async () => {
  const soiree = new Soiree();
  soiree.on("mail.send", () => Promise.reject(new Error("smtp down")));
  const logged = await capture(async () => {
    void soiree.emit("mail.send");
    await soiree.close();
  });
  assert.equal(logged.length, 1);
  assert.match(String(logged[0][1]), /smtp down/);
});

test("an emit() refused because the emitter closed goes through the error handler", async () => {
  const handled: unknown[] = [];
  const soiree = new Soiree({ errorHandler: (_event, error) => void handled.push(error) });
  await soiree.close();
  assert.deepEqual(await soiree.emit("a"), [], "the handler swallowed it");
  assert.deepEqual(soiree.emitSync("a"), []);
  assert.equal(handled.length, 2);
  assert.ok(handled.every((error) => error instanceof EmitterClosedError));
  assert.equal(soiree.stats().failed, 2);
});

test("by default a refused emit() is logged and reported as EmitterClosedError", async () => {
  const soiree = new Soiree();
  await soiree.close();
  let errors: readonly Error[] = [];
  const logged = await capture(async () => void (errors = await soiree.emit("user.created")));
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof EmitterClosedError);
  assert.match(errors[0].message, /Cannot emit "user.created" as the emitter is closed/);
  assert.equal(logged.length, 1);
});

test("by default an emission refused by a full pool is logged and reported", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 0, whenFull: "reject" });
  const soiree = new Soiree({ pool });
  const busy = gate();
  soiree.on("a", () => busy.promise);
  const first = soiree.emit("a");
  await ticks();
  let errors: readonly Error[] = [];
  const logged = await capture(async () => void (errors = await soiree.emit("a")));
  assert.ok(errors[0] instanceof QueueFullError);
  assert.equal(logged.length, 1);
  busy.open();
  await first;
  await soiree.close();
  await pool.close();
});

test("an errorHandler takes over: nothing is logged", async () => {
  const soiree = new Soiree({ errorHandler: (_event, error) => error as Error });
  soiree.on("a", () => {
    throw new Error("boom");
  });
  const logged = await capture(async () => {
    assert.equal(soiree.emitSync("a").length, 1);
    assert.equal((await soiree.emit("a")).length, 1);
    await soiree.close();
    assert.equal((await soiree.emit("a")).length, 1);
  });
  assert.deepEqual(logged, []);
});

test("a listener timeout names the listener's pattern and the topic", async () => {
  const soiree = new Soiree({ errorHandler: (_event, error) => error as Error });
  const { id } = soiree.on("report.*", () => new Promise(() => {}), { timeout: 5 });
  const [error] = await soiree.emit("report.daily");
  assert.equal((error as DOMException).name, "TimeoutError");
  assert.equal(
    error.message,
    `Listener ${id} of "report.*" on "report.daily" timed out after 5 ms`,
  );
});

test("console.log of a pool and an emitter shows their name and live figures", async () => {
  const pool = new Pool({ concurrency: 5, name: "emails" });
  const busy = gate();
  void pool.submit(() => busy.promise);
  assert.equal(
    inspect(pool),
    'Pool { name: "emails", concurrency: 5, running: 1, waiting: 0, isClosed: false }',
  );
  const soiree = new Soiree();
  soiree.on("a", () => {});
  soiree.emitSync("a");
  assert.equal(
    inspect(soiree),
    "Soiree { listeners: 1, inFlight: 0, emitted: 1, failed: 0, durableListeners: 0, published: 0, closed: false }",
  );
  assert.match(inspect({ pool }), /pool: Pool \{ name: "emails"/);
  busy.open();
  await pool.close();
});

test("an event prints under its public name", () => {
  const soiree = new Soiree();
  let event: SoireeEvent | undefined;
  soiree.on("a", (e) => void (event = e));
  soiree.emitSync("a", 1);
  assert.match(inspect(event), /^SoireeEvent \{/);
});
