import { test } from "node:test";
import assert from "node:assert/strict";
import { type ListenerError, Pool, PoolClosedError, QueueFullError, Soiree } from "../mod.ts";
import { gate, NO_DURABLE, prng, ticks } from "./_util.ts";

test("an emitter pool never runs more emissions than its bound under 10,000 emits", async () => {
  const pool = new Pool({ concurrency: 8 });
  const soiree = new Soiree({ pool });
  const next = prng(42);
  let running = 0;
  let peak = 0;
  let calls = 0;
  soiree.on("job.*", async () => {
    peak = Math.max(peak, ++running);
    await ticks(Math.floor(next() * 20));
    running--;
    calls++;
  });
  soiree.on("job.*", () => void calls++);
  const emissions = Array.from({ length: 10_000 }, (_, i) => soiree.emit(`job.${i % 10}`));
  assert.ok(pool.waiting > 0, "emissions queue behind the bound");
  const results = await Promise.all(emissions);
  assert.ok(results.every((errors) => errors.length === 0));
  assert.equal(peak, 8);
  assert.equal(calls, 20_000);
  const stats = pool.stats();
  assert.equal(stats.submitted, 10_000);
  assert.equal(stats.completed, 10_000);
  assert.equal(soiree.stats().inFlight, 0);
  await soiree.close();
  assert.equal(pool.isClosed, false, "a pool the emitter was handed stays open");
  await pool.close();
});

test("emit() on a full pool with whenFull: reject resolves to [QueueFullError] via the error handler", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 2, whenFull: "reject" });
  const handled: [unknown, unknown][] = [];
  const soiree = new Soiree({
    pool,
    errorHandler: (_event, error, listener) => {
      handled.push([error, listener]);
      return error as Error;
    },
  });
  const release = gate();
  soiree.on("upload", () => release.promise);
  const emissions = Array.from({ length: 10 }, () => soiree.emit("upload"));
  const early = await Promise.race([Promise.all(emissions.slice(3)), ticks(5)]);
  assert.ok(Array.isArray(early), "the refused emissions resolve at once");
  release.open();
  const results = await Promise.all(emissions);
  const dropped = results.filter((errors) => errors[0] instanceof QueueFullError);
  assert.equal(dropped.length, 7);
  assert.ok(results.slice(0, 3).every((errors) => errors.length === 0));
  assert.equal(handled.length, 7);
  assert.ok(handled.every(([error, listener]) => error instanceof QueueFullError && !listener));
  assert.equal(pool.stats().dropped, 7);
  assert.equal(soiree.stats().failed, 7);
  await soiree.close();
});

test("emit() on a full pool with whenFull: wait waits for room and loses nothing", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 1 });
  const soiree = new Soiree({ pool });
  const seen: number[] = [];
  soiree.on("n", async (event) => {
    await ticks(2);
    seen.push(event.payload as number);
  });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => soiree.emit("n", i)));
  assert.ok(results.every((errors) => errors.length === 0));
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i));
  assert.ok(pool.stats().blocked > 0);
  await soiree.close();
});

test("close() with queued emissions on an own pool settles every promise and closes the pool", async () => {
  const soiree = new Soiree({ pool: { concurrency: 2 } });
  let calls = 0;
  soiree.on("q", async () => {
    await ticks(3);
    calls++;
  });
  const emissions = Array.from({ length: 100 }, () => soiree.emit("q"));
  await soiree.close();
  const results = await Promise.all(emissions);
  assert.equal(calls, 100);
  assert.ok(results.every((errors) => errors.length === 0));
  const [refused] = await soiree.emit("q");
  assert.equal(refused.name, "EmitterClosedError");
});

test("a listener that never settles cannot block close({ timeout }) with a pool", async () => {
  const pool = new Pool({ concurrency: 1 });
  const soiree = new Soiree({ pool });
  soiree.on("stuck", () => new Promise(() => {}));
  const emissions = Array.from({ length: 5 }, () => soiree.emit("stuck"));
  await ticks(5);
  await assert.rejects(soiree.close({ timeout: 5 }), { name: "TimeoutError" });
  const results = await Promise.all(emissions);
  assert.equal(results.length, 5);
  assert.ok(results.every((errors) => errors.length === 1));
  assert.equal(soiree.stats().inFlight, 0);
  // The stuck listener still holds its slot: the bound is never exceeded.
  assert.equal(pool.running, 1);
});

test("a flood on one workload class does not delay listeners on another", async () => {
  const uploads = new Pool({ concurrency: 2, name: "uploads" });
  const emails = new Pool({ concurrency: 2, name: "emails" });
  const soiree = new Soiree();
  const order: string[] = [];
  const release = gate();
  let uploadsRunning = 0;
  let uploadsPeak = 0;
  soiree.on("upload.*", async () => {
    uploadsPeak = Math.max(uploadsPeak, ++uploadsRunning);
    await release.promise;
    uploadsRunning--;
    order.push("upload");
  }, { pool: uploads });
  soiree.on("email.send", () => void order.push("email"), { pool: emails });
  const flood = Array.from({ length: 100 }, (_, i) => soiree.emit(`upload.${i}`));
  const email = soiree.emit("email.send");
  assert.deepEqual(await email, []);
  assert.deepEqual(order, ["email"], "the email ran while 100 uploads were queued");
  assert.equal(uploads.waiting, 98);
  release.open();
  await Promise.all(flood);
  assert.equal(uploadsPeak, 2);
  assert.equal(order.length, 101);
});

test("an emission waiting on a listener's class gives its emitter slot to other emissions", async () => {
  const emitterPool = new Pool({ concurrency: 1, name: "emitter" });
  const uploads = new Pool({ concurrency: 1, name: "uploads" });
  const soiree = new Soiree({ pool: emitterPool });
  const order: string[] = [];
  const release = gate();
  soiree.on("upload", async () => {
    order.push("upload start");
    await release.promise;
    order.push("upload end");
  }, { pool: uploads });
  soiree.on("upload", () => void order.push("after upload"));
  soiree.on("request", () => void order.push("request"));
  const upload = soiree.emit("upload");
  await ticks(10);
  assert.deepEqual(order, ["upload start"]);
  assert.equal(emitterPool.running, 0, "the emitter slot is lent out");
  assert.deepEqual(await soiree.emit("request"), []);
  assert.deepEqual(order, ["upload start", "request"]);
  release.open();
  assert.deepEqual(await upload, []);
  assert.deepEqual(order, ["upload start", "request", "upload end", "after upload"]);
  assert.equal(emitterPool.stats().completed, 2);
  await soiree.close();
});

test("listeners of several patterns share one budget by sharing a pool", async () => {
  const shared = new Pool({ concurrency: 1 });
  const soiree = new Soiree();
  let running = 0;
  let peak = 0;
  const work = async () => {
    peak = Math.max(peak, ++running);
    await ticks(3);
    running--;
  };
  soiree.on("a.*", work, { pool: shared });
  soiree.on("b.**", work, { pool: shared });
  await Promise.all([soiree.emit("a.x"), soiree.emit("b.y.z"), soiree.emit("a.q")]);
  assert.equal(peak, 1);
  assert.equal(shared.stats().completed, 3);
});

test("a pooled listener's timeout withdraws it from the queue and the emission moves on", async () => {
  const pool = new Pool({ concurrency: 1 });
  const soiree = new Soiree();
  const release = gate();
  const calls: string[] = [];
  pool.submit(() => release.promise); // the class is busy
  soiree.on("slow", () => void calls.push("never started"), { pool, timeout: 5 });
  soiree.on("slow", () => void calls.push("next"));
  const errors = await soiree.emit("slow");
  assert.equal(errors.length, 1);
  assert.equal(((errors[0] as ListenerError).cause as DOMException).name, "TimeoutError");
  assert.deepEqual(calls, ["next"]);
  release.open();
  await pool.onIdle();
  assert.deepEqual(calls, ["next"], "the withdrawn invocation never runs");
  assert.equal(pool.stats().dropped, 1);
});

test("a pooled listener that ignores its signal keeps its slot until it returns", async () => {
  const pool = new Pool({ concurrency: 1 });
  const soiree = new Soiree();
  const release = gate();
  let sawAbort = false;
  soiree.on("stubborn", async (event) => {
    await release.promise;
    sawAbort = event.signal.aborted;
  }, { pool, timeout: 5 });
  const [error] = await soiree.emit("stubborn");
  assert.equal(((error as ListenerError).cause as DOMException).name, "TimeoutError");
  assert.equal(pool.running, 1, "the slot is still held");
  release.open();
  await pool.onIdle();
  assert.equal(sawAbort, true);
  assert.equal(pool.running, 0);
});

test("a full listener pool with whenFull: reject reports a QueueFullError for that listener", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 0, whenFull: "reject" });
  const soiree = new Soiree();
  const release = gate();
  soiree.on("x", () => release.promise, { pool });
  const first = soiree.emit("x");
  await ticks(5);
  const [error] = await soiree.emit("x");
  assert.ok((error as ListenerError).cause instanceof QueueFullError);
  release.open();
  assert.deepEqual(await first, []);
});

test("emitSync() with a pooled listener does not wait and reports late failures as panics", async () => {
  const panics: unknown[] = [];
  const pool = new Pool({ concurrency: 1 });
  const soiree = new Soiree({ panicHandler: (value) => void panics.push(value) });
  soiree.on("x", async () => {
    await ticks(2);
    throw new Error("late pooled failure");
  }, { pool });
  assert.deepEqual(soiree.emitSync("x"), []);
  await soiree.close();
  assert.equal(panics.length, 1);
  assert.match((panics[0] as Error).message, /late pooled failure/);
});

test("emitting on a closed shared pool reports PoolClosedError", async () => {
  const pool = new Pool({ concurrency: 1 });
  const soiree = new Soiree({ pool });
  soiree.on("x", () => {});
  await pool.close();
  const [error] = await soiree.emit("x");
  assert.ok(error instanceof PoolClosedError);
});

test("stats() counts emitted, delivered, failed, aborted and in flight", async () => {
  const soiree = new Soiree({ errorHandler: () => undefined });
  const release = gate();
  soiree.on("a", () => {
    throw new Error("x");
  });
  soiree.on("a", (event) => event.abort());
  soiree.on("b", () => release.promise);
  soiree.emitSync("a");
  const pending = soiree.emit("b");
  await ticks(3);
  assert.deepEqual(soiree.stats(), {
    emitted: 2,
    delivered: 3,
    failed: 1,
    aborted: 1,
    inFlight: 1,
    listeners: 3,
    durable: NO_DURABLE,
  });
  release.open();
  await pending;
  assert.equal(soiree.stats().inFlight, 0);
});

test("a listener given up on keeps its emitter slot even when a later listener uses a class", async () => {
  const emitterPool = new Pool({ concurrency: 1 });
  const uploads = new Pool({ concurrency: 1 });
  const soiree = new Soiree({ pool: emitterPool });
  const stubborn = gate();
  let active = 0;
  let peak = 0;
  soiree.on("x", async () => {
    peak = Math.max(peak, ++active);
    await stubborn.promise;
    active--;
  }, { timeout: 1, priority: 5 });
  soiree.on("x", () => ticks(3), { pool: uploads });
  const first = soiree.emit("x");
  const second = soiree.emit("x");
  const [errors] = await Promise.all([first]);
  assert.equal(errors.length, 1, "the first emission timed out its stubborn listener");
  assert.equal(peak, 1, "the second emission cannot start while the stubborn call runs");
  assert.equal(emitterPool.running, 1);
  stubborn.open();
  await second;
  assert.equal(peak, 1);
  await soiree.close();
});

test("close({ timeout }) settles an emission waiting to get its lent slot back", async () => {
  const emails = new Pool({ concurrency: 1 });
  const soiree = new Soiree({ pool: { concurrency: 1 } });
  const mail = gate();
  soiree.on("a", () => mail.promise, { pool: emails }); // lends its emitter slot while waiting
  soiree.on("b", () => new Promise(() => {})); // takes the slot and never gives it back
  const a = soiree.emit("a");
  await ticks();
  const b = soiree.emit("b");
  await ticks();
  mail.open(); // a now waits for an emitter slot that b holds forever
  await ticks();
  await assert.rejects(soiree.close({ timeout: 1 }), { name: "TimeoutError" });
  const [aErrors, bErrors] = await Promise.all([a, b]);
  assert.equal(aErrors.length, 1);
  assert.equal(bErrors.length, 1);
  assert.equal(soiree.stats().inFlight, 0);
});

test("an emission that times out in the pool's queue gives its place back", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 1, whenFull: "reject" });
  const soiree = new Soiree({ pool });
  const slow = gate();
  soiree.on("slow", () => slow.promise);
  let ran = 0;
  soiree.on("x", () => void ran++);
  const first = soiree.emit("slow");
  const [timedOut] = await soiree.emit("x", undefined, { timeout: 1 });
  assert.equal(timedOut.name, "TimeoutError");
  assert.equal(pool.waiting, 0, "withdrawn from the queue");
  const next = soiree.emit("x"); // takes the freed place instead of QueueFullError
  slow.open();
  assert.deepEqual(await next, []);
  await first;
  assert.equal(ran, 1, "the timed-out emission never ran");
});

test("on(…, { pool: options }) makes a workload class of the listener's own, closed when it goes", async () => {
  const soiree = new Soiree();
  const release = gate();
  let running = 0;
  let peak = 0;
  const subscription = soiree.on("upload", async () => {
    running++;
    peak = Math.max(peak, running);
    await release.promise;
    running--;
  }, { pool: { concurrency: 2, name: "uploads" } });
  const emissions = Array.from({ length: 5 }, () => soiree.emit("upload"));
  await ticks();
  assert.equal(running, 2, "bounded by the listener's own pool");
  release.open();
  assert.ok((await Promise.all(emissions)).every((errors) => errors.length === 0));
  assert.equal(peak, 2);
  subscription.off();
  await soiree.close();
});

test("timeout: Infinity means no limit on on(), emit(), waitFor() and close()", async () => {
  const soiree = new Soiree();
  const release = gate();
  soiree.on("a", () => release.promise, { timeout: Infinity });
  const waiting = soiree.waitFor("a", { timeout: Infinity });
  const emission = soiree.emit("a", undefined, { timeout: Infinity });
  await ticks();
  const closing = soiree.close({ timeout: Infinity });
  release.open();
  assert.deepEqual(await emission, []);
  await waiting;
  await closing;
});
