// Consumers of events (waitFor(), events()): what close() owes them, what they are handed,
// and what an iterator nobody reads costs.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  EmitterClosedError,
  ListenerError,
  Pool,
  Priority,
  QueueFullError,
  Soiree,
  type SoireeEvent,
} from "../mod.ts";
import { gate, muteFailureLogs, ticks } from "./_util.ts";

muteFailureLogs();

// --- close() delivers what it accepted -------------------------------------------------------

test("close() still delivers an emission accepted before it to events() and waitFor()", async () => {
  const soiree = new Soiree();
  const it = soiree.events("data");
  const next = it.next();
  const waiting = soiree.waitFor("data");
  const accepted = soiree.emit("data", "late");
  await soiree.close();
  const first = await next;
  assert.equal(first.done, false);
  assert.equal(first.value?.payload, "late");
  assert.equal((await waiting).payload, "late");
  assert.deepEqual(await accepted, []);
  assert.deepEqual(await it.next(), { done: true, value: undefined }, "the loop ends after");
});

test("close() on a pooled emitter delivers every queued emission to events() before it ends", async () => {
  const pool = new Pool({ concurrency: 1 });
  const soiree = new Soiree({ pool });
  const release = gate();
  soiree.on("data", () => release.promise, { priority: Priority.Lowest });
  const it = soiree.events("data");
  const accepted = [1, 2, 3].map((n) => soiree.emit("data", n));
  const closing = soiree.close();
  release.open();
  await closing;
  const seen: unknown[] = [];
  for await (const event of it) seen.push(event.payload);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(await Promise.all(accepted), [[], [], []]);
  await pool.close();
});

test("waitFor() rejects with EmitterClosedError on close() only when no accepted emission matched", async () => {
  const soiree = new Soiree();
  const matched = soiree.waitFor("a");
  const unmatched = soiree.waitFor("b");
  void soiree.emit("a", 1);
  await soiree.close();
  assert.equal((await matched).payload, 1);
  await assert.rejects(unmatched, EmitterClosedError);
});

test("waitFor() and events() are refused at once on a closed emitter", async () => {
  const soiree = new Soiree();
  await soiree.close();
  await assert.rejects(soiree.waitFor("a"), EmitterClosedError);
  assert.deepEqual(await soiree.events("a").next(), { done: true, value: undefined });
});

test("close({ timeout }) that gives up still ends events() and rejects waitFor()", async () => {
  const soiree = new Soiree();
  soiree.on("stuck", () => new Promise(() => {}));
  const it = soiree.events("other");
  const waiting = soiree.waitFor("other");
  void soiree.emit("stuck");
  await ticks();
  await assert.rejects(soiree.close({ timeout: 1 }), { name: "TimeoutError" });
  await assert.rejects(waiting, EmitterClosedError);
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

// --- consumers see the event as it was at their turn -------------------------------------------

test("waitFor() hands over the event as it was at its turn, not as later listeners left it", async () => {
  const soiree = new Soiree<{ "user.signup": string }>();
  const waiting = soiree.waitFor("user.signup", { priority: Priority.Highest });
  soiree.on("user.signup", (event) => {
    event.payload = "[redacted]";
    event.properties.set("seen", true);
  }, { priority: Priority.Lowest });
  soiree.emitSync("user.signup", "ada@example.com");
  const event = await waiting;
  assert.equal(event.payload, "ada@example.com");
  assert.equal(event.properties.has("seen"), false);
  assert.equal(event.topic, "user.signup");
});

test("events() hands over each event as it was at its turn, with the emission's ID", async () => {
  const soiree = new Soiree();
  const it = soiree.events("a", { priority: Priority.High });
  let id: string | undefined;
  soiree.on("a", (event) => {
    id = event.id;
    event.payload = "changed later";
  });
  soiree.emitSync("a", "original");
  const { value } = await it.next();
  assert.equal(value?.payload, "original");
  assert.equal(value?.id, id);
  await it.return?.();
});

test("a consumer's copy is detached: its abort() and writes reach nothing", async () => {
  const soiree = new Soiree();
  let copy: SoireeEvent | undefined;
  const waiting = soiree.waitFor("a", {
    filter: (event) => {
      copy = event;
      event.abort();
      event.payload = "from the filter";
      return true;
    },
    priority: Priority.High,
  });
  let later: unknown;
  soiree.on("a", (event) => void (later = event.payload));
  assert.deepEqual(soiree.emitSync("a", "kept"), []);
  assert.equal(later, "kept");
  assert.equal(await waiting, copy);
  assert.equal(copy?.signal.aborted, false);
});

// --- events() that nobody reads ------------------------------------------------------------

/** Forces a garbage collection on Deno and Node (`--expose-gc`) and Bun; false when none. */
function collect(): boolean {
  const bun = (globalThis as { Bun?: { gc(full: boolean): void } }).Bun;
  if (bun !== undefined) {
    bun.gc(true);
    return true;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return false;
  gc();
  return true;
}

/** Makes an iterator in a frame of its own, so nothing here keeps it reachable. */
function dropIterator(soiree: Soiree): void {
  soiree.events("metrics.*", { bufferSize: 2 });
}

test("an events() iterator nobody can reach any more unsubscribes once collected", async () => {
  const soiree = new Soiree();
  dropIterator(soiree);
  assert.equal(soiree.listenerCount("metrics.cpu"), 1, "it subscribed at once");
  if (!collect()) {
    console.log("events() collection check skipped: no forced GC (run with --expose-gc)");
    return;
  }
  // Finalizers run after a collection, on a later turn: collect and yield until it is gone.
  for (let round = 0; round < 50 && soiree.listenerCount() > 0; round++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    collect();
  }
  assert.equal(soiree.listenerCount(), 0);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(soiree.emitSync("metrics.cpu", i), [], "no buffer fills any more");
  }
});

test("an events() iterator that is still referenced keeps its events across collections", async () => {
  const soiree = new Soiree();
  const it = soiree.events("a");
  soiree.emitSync("a", 1);
  collect();
  await new Promise((resolve) => setTimeout(resolve, 0));
  collect();
  soiree.emitSync("a", 2);
  assert.equal((await it.next()).value?.payload, 1);
  assert.equal((await it.next()).value?.payload, 2);
  await it.return?.();
});

test("a full events() buffer makes the emission report a ListenerError caused by QueueFullError", () => {
  const soiree = new Soiree();
  const it = soiree.events("tick", { bufferSize: 1 });
  assert.deepEqual(soiree.emitSync("tick", 1), []);
  const [error] = soiree.emitSync("tick", 2);
  assert.ok(error instanceof ListenerError);
  assert.equal(error.pattern, "tick");
  assert.ok(error.cause instanceof QueueFullError);
  assert.match(
    (error.cause as Error).message,
    /events\(\) iterator of "tick".*buffer of 1 is full/,
  );
  void it.return?.();
});

test("an events() loop throws when its signal aborts, and ends quietly on close()", async () => {
  const soiree = new Soiree();
  const controller = new AbortController();
  const aborted = (async () => {
    for await (const _ of soiree.events("a", { signal: controller.signal }));
  })();
  const closed = (async () => {
    let count = 0;
    for await (const _ of soiree.events("a")) count++;
    return count;
  })();
  await ticks();
  controller.abort(new Error("stop"));
  await assert.rejects(aborted, { message: "stop" });
  await soiree.close();
  assert.equal(await closed, 0);
});
