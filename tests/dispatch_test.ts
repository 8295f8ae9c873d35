// How an emission runs its listeners: listeners given up on can no longer change it, once
// listeners that never ran are not consumed, and the concurrent dispatch mode.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ListenerError, Pool, Priority, Soiree } from "../mod.ts";
import { gate, muteFailureLogs, ticks } from "./_util.ts";

muteFailureLogs();

/** Resolves after `ms` milliseconds (listener bodies that take time, not waits in tests). */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// --- listeners given up on --------------------------------------------------------------------

test("a listener given up on by its timeout can no longer abort the emission", async () => {
  const soiree = new Soiree();
  const ran: string[] = [];
  const late = gate();
  soiree.on("job", async (event) => {
    await late.promise;
    event.abort();
  }, { timeout: 5 });
  soiree.on("job", async () => {
    late.open();
    await ticks();
    ran.push("second");
  });
  soiree.on("job", () => void ran.push("third"));
  const errors = await soiree.emit("job");
  assert.deepEqual(ran, ["second", "third"]);
  assert.equal(errors.length, 1);
  assert.equal((errors[0].cause as DOMException).name, "TimeoutError");
});

test("a listener given up on cannot rewrite the payload or properties the next ones see", async () => {
  const soiree = new Soiree();
  const late = gate();
  soiree.on("job", async (event) => {
    await late.promise;
    event.payload = "rewritten";
    event.properties.set("by", "the late listener");
  }, { timeout: 5 });
  let seen: unknown;
  soiree.on("job", async (event) => {
    late.open();
    await ticks();
    seen = [event.payload, event.properties.get("by"), event.properties.get("kept")];
  });
  soiree.on("job", (event) => void event.properties.set("kept", true), {
    priority: Priority.High,
  });
  await soiree.emit("job", "original");
  assert.deepEqual(seen, ["original", undefined, true]);
});

test("a once listener whose call timed out while waiting for its class slot is not consumed", async () => {
  const pool = new Pool({ concurrency: 1, name: "emails" });
  const busy = gate();
  void pool.submit(() => busy.promise);
  const soiree = new Soiree();
  let calls = 0;
  soiree.on("mail", () => void calls++, { once: true, pool, timeout: 5 });
  const [error] = await soiree.emit("mail");
  assert.equal((error.cause as DOMException).name, "TimeoutError");
  assert.equal(calls, 0);
  assert.equal(soiree.listenerCount("mail"), 1, "still subscribed: it never ran");
  busy.open();
  await pool.onIdle();
  assert.deepEqual(await soiree.emit("mail"), []);
  assert.equal(calls, 1);
  assert.equal(soiree.listenerCount("mail"), 0, "consumed by the call that ran");
  await pool.close();
});

test("a once listener waiting for its class slot is skipped by overlapping emissions", async () => {
  const pool = new Pool({ concurrency: 1 });
  const busy = gate();
  void pool.submit(() => busy.promise);
  const soiree = new Soiree();
  let calls = 0;
  soiree.on("mail", () => void calls++, { once: true, pool });
  const first = soiree.emit("mail");
  const second = soiree.emit("mail");
  await ticks();
  busy.open();
  assert.deepEqual(await Promise.all([first, second]), [[], []]);
  assert.equal(calls, 1);
  assert.equal(soiree.listenerCount(), 0);
  await pool.close();
});

test("off() while a once listener's call waits for its class slot means the call never runs", async () => {
  const pool = new Pool({ concurrency: 1 });
  const busy = gate();
  void pool.submit(() => busy.promise);
  const soiree = new Soiree();
  let calls = 0;
  const subscription = soiree.on("mail", () => void calls++, { once: true, pool });
  const emission = soiree.emit("mail");
  await ticks();
  assert.equal(subscription.off(), true);
  busy.open();
  assert.deepEqual(await emission, []);
  assert.equal(calls, 0);
  await pool.close();
});

// --- concurrent dispatch ---------------------------------------------------------------------

test("concurrent dispatch: a fast listener does not wait behind a full class of its level", async () => {
  const emails = new Pool({ concurrency: 1, name: "emails" });
  const soiree = new Soiree({ dispatch: "concurrent" });
  const order: string[] = [];
  const sent = gate();
  soiree.on("user.created", async () => {
    await sent.promise;
    order.push("email");
  }, { pool: emails, priority: Priority.Low });
  soiree.on("user.created", () => void order.push("analytics"), { priority: Priority.Low });
  const emission = soiree.emit("user.created");
  await ticks();
  assert.deepEqual(order, ["analytics"], "analytics ran while the email waited");
  sent.open();
  assert.deepEqual(await emission, []);
  assert.deepEqual(order, ["analytics", "email"]);
  await emails.close();
});

test("sequential dispatch (the default) holds later listeners behind a slow one", async () => {
  const soiree = new Soiree();
  const order: string[] = [];
  const sent = gate();
  soiree.on("user.created", async () => {
    await sent.promise;
    order.push("email");
  });
  soiree.on("user.created", () => void order.push("analytics"));
  const emission = soiree.emit("user.created");
  await ticks();
  assert.deepEqual(order, []);
  sent.open();
  await emission;
  assert.deepEqual(order, ["email", "analytics"]);
});

test("concurrent dispatch starts the next priority level once the current one has settled", async () => {
  const soiree = new Soiree({ dispatch: "concurrent" });
  const log: string[] = [];
  const slow = gate();
  soiree.on("a", async () => {
    log.push("high 1 start");
    await slow.promise;
    log.push("high 1 end");
  }, { priority: Priority.High });
  soiree.on("a", () => void log.push("high 2"), { priority: Priority.High });
  soiree.on("a", () => void log.push("normal"));
  const emission = soiree.emit("a");
  await ticks();
  assert.deepEqual(log, ["high 1 start", "high 2"]);
  slow.open();
  await emission;
  assert.deepEqual(log, ["high 1 start", "high 2", "high 1 end", "normal"]);
});

test("concurrent dispatch: abort() stops the levels after the current one, not its siblings", async () => {
  const soiree = new Soiree({ dispatch: "concurrent" });
  const ran: string[] = [];
  soiree.on("a", (event) => {
    ran.push("aborter");
    event.abort();
  }, { priority: Priority.High });
  soiree.on("a", async () => {
    await ticks(2);
    ran.push("sibling");
  }, { priority: Priority.High });
  soiree.on("a", () => void ran.push("next level"));
  assert.deepEqual(await soiree.emit("a"), []);
  assert.deepEqual(ran, ["aborter", "sibling"]);
  assert.equal(soiree.stats().aborted, 1);
});

test("concurrent dispatch: the next level sees the payload the last listener of the level set", async () => {
  const soiree = new Soiree({ dispatch: "concurrent" });
  soiree.on("a", async (event) => {
    await ticks(3);
    event.payload = "first";
  }, { priority: Priority.High });
  soiree.on("a", (event) => {
    event.payload = "second";
    event.properties.set("shared", true);
  }, { priority: Priority.High });
  soiree.on("a", () => {}, { priority: Priority.High });
  let seen: unknown;
  soiree.on("a", (event) => void (seen = [event.payload, event.properties.get("shared")]));
  await soiree.emit("a", "original");
  assert.deepEqual(seen, ["second", true]);
});

test("concurrent dispatch gives each listener of a level its own signal and timeout", async () => {
  const soiree = new Soiree({ dispatch: "concurrent" });
  const signals: AbortSignal[] = [];
  soiree.on("a", (event) => {
    signals.push(event.signal);
    return new Promise(() => {});
  }, { timeout: 5 });
  soiree.on("a", async (event) => {
    signals.push(event.signal);
    await delay(20);
  });
  let after = false;
  soiree.on("a", () => void (after = true), { priority: Priority.Low });
  const errors = await soiree.emit("a");
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof ListenerError);
  assert.match(errors[0].message, /timed out after 5 ms/);
  assert.equal(signals[0].aborted, true);
  assert.equal(signals[1].aborted, false);
  assert.equal(after, true, "the level moved on after both");
});

test("concurrent dispatch: cancelling the emission fails every listener of the level still running", async () => {
  const soiree = new Soiree({ dispatch: "concurrent" });
  const signals: AbortSignal[] = [];
  for (let i = 0; i < 3; i++) {
    soiree.on("a", (event) => {
      signals.push(event.signal);
      return new Promise(() => {});
    });
  }
  soiree.on("a", () => assert.fail("the next level must not run"), { priority: Priority.Low });
  const errors = await soiree.emit("a", undefined, { timeout: 5 });
  assert.equal(errors.length, 3);
  assert.ok(signals.every((signal) => signal.aborted));
});

test("emit({ dispatch }) overrides the emitter's mode for one emission", async () => {
  const soiree = new Soiree();
  const order: string[] = [];
  const slow = gate();
  soiree.on("a", async () => {
    await slow.promise;
    order.push("slow");
  });
  soiree.on("a", () => void order.push("fast"));
  const emission = soiree.emit("a", undefined, { dispatch: "concurrent" });
  await ticks();
  assert.deepEqual(order, ["fast"]);
  slow.open();
  await emission;
  const sequential = new Soiree({ dispatch: "concurrent" });
  const seen: string[] = [];
  sequential.on("b", async () => {
    await ticks(2);
    seen.push("first");
  });
  sequential.on("b", () => void seen.push("second"));
  await sequential.emit("b", undefined, { dispatch: "sequential" });
  assert.deepEqual(seen, ["first", "second"]);
});

test("concurrent dispatch on a pooled emitter never runs more emissions than the pool allows", async () => {
  const pool = new Pool({ concurrency: 2 });
  const classPool = new Pool({ concurrency: 4 });
  const soiree = new Soiree({ pool, dispatch: "concurrent" });
  let running = 0;
  let peak = 0;
  const body = async (): Promise<void> => {
    running++;
    peak = Math.max(peak, running);
    await ticks(3);
    running--;
  };
  soiree.on("a", body);
  soiree.on("a", body);
  soiree.on("a", () => ticks(2), { pool: classPool, priority: Priority.Low });
  const emissions = Array.from({ length: 20 }, () => soiree.emit("a"));
  assert.ok((await Promise.all(emissions)).every((errors) => errors.length === 0));
  assert.ok(peak <= 4, `two emissions of two plain listeners at most: saw ${peak}`);
  await soiree.close();
  await pool.close();
  await classPool.close();
});
