// Stress and fault tests. Sizes are CI-sized by default; `SOIREE_STRESS=1` (`deno task
// stress`) runs the full sizes. Every run prints its seed; `SOIREE_SEED=<seed>` replays it.
// The heap check needs a forced GC (`--v8-flags=--expose-gc`, `node --expose-gc`); without
// one it is skipped with a printed reason.

import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  EmitterClosedError,
  ListenerError,
  Pool,
  Soiree,
  type SoireeEvent,
  type Subscription,
} from "../mod.ts";
import { emitterAccess } from "../src/_internal.ts";
import { EMPTY_INTERNALS, muteFailureLogs, prng, ticks, within } from "./_util.ts";

// Failures are injected by the thousand here: keep their default log lines out of the output.
muteFailureLogs();

const STRESS = process.env.SOIREE_STRESS === "1";
const SEED = readSeed();
/** Emits through a pool in the mixed-listener test. */
const POOLED_EMITS = size("SOIREE_EMITS", 1_000_000, 100_000);
/** Subscribe, unsubscribe and emit operations in the churn test. */
const CHURN_OPS = size("SOIREE_CHURN_OPS", 1_000_000, 100_000);
/** Emissions queued and running when close() is called. */
const EMISSIONS_AT_CLOSE = size("SOIREE_CLOSE_EMISSIONS", 100_000, 10_000);
/** Emissions (top-level and nested) in the re-entrancy test, per configuration. */
const REENTRANT_EMITS = size("SOIREE_REENTRANT_EMITS", 200_000, 20_000);
console.log(
  `stress_test.ts: seed ${SEED} (replay with SOIREE_SEED=${SEED})${STRESS ? ", full sizes" : ""}`,
);

function readSeed(): number {
  const raw = process.env.SOIREE_SEED;
  if (raw === undefined || raw === "") return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`SOIREE_SEED must be an integer: ${raw}`);
  return seed | 0;
}

function size(name: string, full: number, ci: number): number {
  const raw = process.env[name];
  if (raw !== undefined && raw !== "") return Number(raw);
  return STRESS ? full : ci;
}

/** The README's matching rules, for checking deliveries (see property_test.ts). */
function referenceMatch(pattern: readonly string[], topic: readonly string[]): boolean {
  const from = (p: number, t: number): boolean => {
    if (p === pattern.length) return t === topic.length;
    const segment = pattern[p];
    if (segment === "**") {
      if (p === pattern.length - 1) return topic.length - t >= 1;
      for (let k = t; k <= topic.length; k++) if (from(p + 1, k)) return true;
      return false;
    }
    if (t === topic.length) return false;
    return (segment === "*" || segment === topic[t]) && from(p + 1, t + 1);
  };
  return from(0, 0);
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Heap in use after a full forced GC, or undefined when GC cannot be forced. */
function heapAfterGc(): number | undefined {
  if (gc === undefined) return undefined;
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const MB = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

test(`close({ timeout }) with ${EMISSIONS_AT_CLOSE} emissions queued settles every promise`, async () => {
  for (const shared of [false, true]) {
    const pool = new Pool({ concurrency: 4 });
    const soiree = new Soiree({ pool: shared ? pool : { concurrency: 4 } });
    let ran = 0;
    let stuck = 0;
    soiree.on("job", (event) => {
      ran++;
      const n = event.payload as number;
      if (n % 1000 === 999) {
        stuck++;
        return new Promise(() => {}); // never settles
      }
      return n % 2 === 1 ? Promise.resolve() : undefined;
    });
    const emissions: Promise<readonly Error[]>[] = [];
    let settled = 0;
    for (let i = 0; i < EMISSIONS_AT_CLOSE; i++) {
      const emission = soiree.emit("job", i);
      emission.then(() => void settled++);
      emissions.push(emission);
    }
    await ticks();
    const closing = soiree.close({ timeout: 5 });
    const [refused] = await soiree.emit("job", -1);
    assert.ok(refused instanceof EmitterClosedError, `shared=${shared}`);
    await assert.rejects(closing, { name: "TimeoutError" });
    await ticks();
    assert.equal(settled, EMISSIONS_AT_CLOSE, "no emit() promise is left pending");
    const results = await Promise.all(emissions);
    const failed = results.filter((errors) => errors.length > 0).length;
    assert.ok(stuck > 0);
    assert.equal(ran - stuck + failed, EMISSIONS_AT_CLOSE, "each ran, or was cancelled by close");
    assert.equal(soiree.stats().inFlight, 0);
    assert.equal(soiree.listenerCount(), 0);
    if (shared) {
      // The shared pool stays open; listeners that never return keep their slots.
      const stats = pool.stats();
      assert.ok(stats.running <= pool.concurrency, JSON.stringify(stats));
      assert.equal(
        stats.submitted,
        stats.completed + stats.running + stats.waiting + stats.dropped,
      );
    }
  }
});

// --- a million emits through a pool ----------------------------------------------------------

/** The failures the mixed listeners below inject into emission `n`. */
function failuresInjected(n: number): number {
  if (n % 101 === 0) return 1; // emitted with an aborted signal: no listener runs
  if (n % 17 === 0) return 0; // aborted by a listener before the failing ones
  return Number(n % 7 === 0) + Number(n % 11 === 0) + Number(n % 13 === 0);
}

interface WorkloadFigures {
  emits: number;
  settled: number;
  reported: number;
  injected: number;
  delivered: number;
  peakRunning: number;
}

/**
 * Emits `emits` times through an emitter pool, in windows, to listeners that are sync, async,
 * throwing, rejecting, returning errors and aborting; closes the emitter and returns what
 * happened. Everything it allocates is garbage once it returns.
 */
async function pooledWorkload(emits: number): Promise<WorkloadFigures> {
  const concurrency = 8;
  const soiree = new Soiree({ pool: { concurrency, capacity: 4096 }, maxListeners: 0 });
  let running = 0;
  let peakRunning = 0;
  soiree.on("job.**", async () => {
    peakRunning = Math.max(peakRunning, ++running);
    await null;
    running--;
  }, { priority: 5 });
  soiree.on("job.*.run", (event: SoireeEvent) => {
    if ((event.payload as number) % 17 === 0) event.abort();
  }, { priority: 4 });
  soiree.on("job.*.run", (event: SoireeEvent) => {
    if ((event.payload as number) % 7 === 0) throw new Error("thrown");
  });
  soiree.on("**", (event: SoireeEvent) => {
    if ((event.payload as number) % 11 === 0) return Promise.reject(new Error("rejected"));
    return Promise.resolve();
  });
  soiree.on("job.*.*", (event: SoireeEvent) => {
    if ((event.payload as number) % 13 === 0) return new Error("returned");
  });
  soiree.on("job.*.run", () => {}, { priority: 1 });
  const aborted = AbortSignal.abort(new Error("cancelled before it started"));
  const window = 2_000;
  let settled = 0;
  let reported = 0;
  let injected = 0;
  for (let start = 0; start < emits; start += window) {
    const batch: Promise<void>[] = [];
    const end = Math.min(emits, start + window);
    for (let n = start; n < end; n++) {
      injected += failuresInjected(n);
      const topic = `job.${n % 1_000}.run`;
      const emission = n % 101 === 0
        ? soiree.emit(topic, n, { signal: aborted })
        : soiree.emit(topic, n);
      batch.push(emission.then((errors) => {
        settled++;
        reported += errors.length;
      }));
    }
    await Promise.all(batch);
  }
  const { delivered, failed, inFlight } = soiree.stats();
  assert.equal(failed, injected, "the emitter counted every failure once");
  assert.equal(inFlight, 0);
  await soiree.close();
  assert.deepEqual(emitterAccess.internals(soiree), EMPTY_INTERNALS);
  return { emits, settled, reported, injected, delivered, peakRunning };
}

test("emits through a pool settle, report every failure and leave the heap as it was", async () => {
  await pooledWorkload(20_000); // warm-up: compiled code and lazily made structures
  const before = heapAfterGc();
  const figures = await pooledWorkload(POOLED_EMITS);
  const after = heapAfterGc();
  assert.equal(figures.settled, POOLED_EMITS, "every emit() promise settled");
  assert.equal(figures.reported, figures.injected, "every injected failure was reported");
  assert.ok(figures.peakRunning > 1 && figures.peakRunning <= 8, `peak ${figures.peakRunning}`);
  const pending = figures.emits - figures.settled;
  if (before === undefined || after === undefined) {
    console.log(
      `pooled emits: ${figures.emits} emits, ${figures.delivered} deliveries, ${figures.injected} failures injected and reported, ${pending} pending; heap check skipped: no forced GC (run with --v8-flags=--expose-gc or node --expose-gc)`,
    );
    return;
  }
  console.log(
    `pooled emits: ${figures.emits} emits, ${figures.delivered} deliveries, ${figures.injected} failures injected and reported, ${pending} pending; heap ${
      MB(before)
    } before, ${MB(after)} after forced GC (${after - before >= 0 ? "+" : ""}${
      ((after - before) / 1024).toFixed(0)
    } KB)`,
  );
  assert.ok(after <= before * 1.1, `heap grew from ${MB(before)} to ${MB(after)}`);
});

// --- subscription churn ----------------------------------------------------------------------

test(`${CHURN_OPS} random subscribe, unsubscribe and emit operations leave nothing behind`, async () => {
  const random = prng(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const segments = ["a", "b", "c", "d", "__proto__"];
  const randomPath = (wildcards: boolean): string => {
    const length = 1 + Math.floor(random() * 5);
    const out: string[] = [];
    for (let i = 0; i < length; i++) {
      const r = random();
      out.push(wildcards && r < 0.15 ? "*" : wildcards && r < 0.3 ? "**" : pick(segments));
    }
    return out.join(".");
  };
  const soiree = new Soiree({ maxListeners: 0 });
  const live: { pattern: string; segments: string[]; subscription: Subscription }[] = [];
  const controllers = new Map<Subscription, AbortController>();
  let calls = 0;
  let emits = 0;
  let peakTrieNodes = 0;
  for (let op = 0; op < CHURN_OPS; op++) {
    const r = random();
    const subscribeChance = live.length < 150 ? 0.45 : 0.25;
    if (r < subscribeChance) {
      const pattern = randomPath(true);
      const controller = random() < 0.2 ? new AbortController() : undefined;
      const subscription = soiree.on(pattern, () => void calls++, {
        signal: controller?.signal,
        priority: Math.floor(random() * 5),
      });
      if (controller !== undefined) controllers.set(subscription, controller);
      live.push({ pattern, segments: pattern.split("."), subscription });
    } else if (r < 0.7) {
      if (live.length === 0) continue;
      const index = Math.floor(random() * live.length);
      const { pattern, subscription } = live[index];
      live[index] = live[live.length - 1];
      live.pop();
      const controller = controllers.get(subscription);
      controllers.delete(subscription);
      if (controller !== undefined) controller.abort();
      else if (random() < 0.5) soiree.off(pattern, subscription.id);
      else assert.equal(subscription.off(), true);
      assert.equal(subscription.active, false);
    } else {
      emits++;
      const topic = randomPath(false);
      const topicSegments = topic.split(".");
      let expected = 0;
      for (const entry of live) if (referenceMatch(entry.segments, topicSegments)) expected++;
      calls = 0;
      if (random() < 0.1) assert.deepEqual(await soiree.emit(topic), []);
      else assert.deepEqual(soiree.emitSync(topic), []);
      assert.equal(calls, expected, `emit ${topic} after ${op} operations`);
    }
    if (op % 1_000 === 0) {
      const internals = emitterAccess.internals(soiree);
      assert.equal(internals.listeners, live.length);
      assert.equal(
        internals.exactPatterns + internals.wildcardPatterns,
        new Set(live.map((entry) => entry.pattern)).size,
      );
      assert.ok(internals.cacheSize <= 4096);
      peakTrieNodes = Math.max(peakTrieNodes, internals.trieNodes);
    }
  }
  assert.ok(peakTrieNodes > 50, `the trie grew to ${peakTrieNodes} nodes`);
  for (const { subscription } of live) {
    const controller = controllers.get(subscription);
    if (controller !== undefined) controller.abort();
    else subscription.off();
  }
  assert.deepEqual(emitterAccess.internals(soiree), EMPTY_INTERNALS);
  console.log(
    `churn: ${CHURN_OPS} operations (${emits} emits), trie peaked at ${peakTrieNodes} nodes, 0 left`,
  );
  await soiree.close();
});

// --- close() with emissions queued and running ----------------------------------------------

test(`close() with ${EMISSIONS_AT_CLOSE} emissions queued and running runs every accepted one and refuses the rest`, async () => {
  for (const mode of ["no pool", "own pool", "shared pool"] as const) {
    const shared = new Pool({ concurrency: 4 });
    const soiree = new Soiree({
      pool: mode === "no pool" ? undefined : mode === "own pool" ? { concurrency: 4 } : shared,
    });
    const ran = new Set<number>();
    let failures = 0;
    let open = (): void => {};
    const opened = new Promise<void>((resolve) => (open = resolve));
    soiree.on("job.*", async (event: SoireeEvent) => {
      const n = event.payload as number;
      if (n % 3 === 0) await opened; // running when close() is called
      ran.add(n);
      if (n % 10 === 0) {
        failures++;
        throw new Error(`job ${n}`);
      }
    });
    const emissions: Promise<readonly Error[]>[] = [];
    let settled = 0;
    for (let n = 0; n < EMISSIONS_AT_CLOSE; n++) {
      const emission = soiree.emit(`job.${n % 100}`, n);
      emission.then(() => void settled++);
      emissions.push(emission);
    }
    await ticks(); // some are running, most are queued
    assert.ok(ran.size < EMISSIONS_AT_CLOSE);
    const closing = soiree.close();
    const [refused] = await soiree.emit("job.late", -1);
    assert.ok(refused instanceof EmitterClosedError, mode);
    assert.ok(soiree.emitSync("job.late", -1)[0] instanceof EmitterClosedError);
    assert.throws(() => soiree.on("job.*", () => {}), EmitterClosedError);
    open();
    await within(closing, 30_000, `close() (${mode})`);
    assert.equal(settled, EMISSIONS_AT_CLOSE, "no emit() promise is left pending");
    assert.equal(ran.size, EMISSIONS_AT_CLOSE, `every accepted emission ran (${mode})`);
    assert.ok(!ran.has(-1));
    const reported = (await Promise.all(emissions)).reduce((sum, errors) => sum + errors.length, 0);
    assert.equal(reported, failures);
    assert.deepEqual(emitterAccess.internals(soiree), EMPTY_INTERNALS);
    const stats = shared.stats();
    assert.equal(stats.submitted, mode === "shared pool" ? EMISSIONS_AT_CLOSE : 0);
    assert.equal(stats.running + stats.waiting + stats.dropped, 0);
    await shared.close();
  }
});

// --- re-entrancy under load ------------------------------------------------------------------

test("listeners that emit, subscribe, unsubscribe and close under load: no deadlock, no call after removal", async () => {
  const configurations = [
    { name: "no pool", pool: undefined, awaitNested: true },
    { name: "own pool", pool: { concurrency: 3 }, awaitNested: false },
    { name: "shared pool", pool: new Pool({ concurrency: 2 }), awaitNested: false },
  ];
  for (const [c, configuration] of configurations.entries()) {
    const random = prng(SEED + c);
    const soiree = new Soiree({ pool: configuration.pool, maxListeners: 0 });
    // A workload class for some listeners: their calls queue on it.
    const classPool = new Pool({ concurrency: 2 });
    const topics = ["a", "a.b", "a.b.c", "x.a", "x.y.z"];
    const patterns = ["a", "a.*", "a.**", "**", "*.a", "x.**", "**.c", "a.b.c", "*.y.*"];
    const maxLive = 60;
    const violations: string[] = [];
    const pending: Promise<unknown>[] = [];
    let emitted = 0;
    let calls = 0;
    let closeResolved = false;
    let closing: Promise<void> | undefined;
    let callsAfterRemoval = 0;
    interface Entry {
      subscription: Subscription;
      removed: boolean;
      /** Its index in `live`, or -1. */
      slot: number;
    }
    const live: Entry[] = [];
    const forget = (entry: Entry): void => {
      if (entry.slot === -1) return;
      const last = live.pop()!;
      if (last !== entry) {
        live[entry.slot] = last;
        last.slot = entry.slot;
      }
      entry.slot = -1;
    };
    const remove = (entry: Entry): void => {
      const wasActive = entry.subscription.active;
      forget(entry);
      const removed = entry.subscription.off();
      if (removed !== wasActive) violations.push("off() misreported");
      // Only a removal by this call forbids later calls: a once listener that a dispatch has
      // already removed still gets that dispatch's call, even one queued on its pool.
      if (removed) entry.removed = true;
    };
    const nestedEmit = (depth: number): Promise<unknown> | undefined => {
      if (emitted >= REENTRANT_EMITS) return undefined;
      emitted++;
      const topic = topics[Math.floor(random() * topics.length)];
      const check = (errors: readonly Error[]): void => {
        for (const error of errors) {
          if (!(error instanceof EmitterClosedError)) violations.push(`${error}`);
        }
      };
      if (random() < 0.3) return void check(soiree.emitSync(topic, depth + 1));
      const emission = soiree.emit(topic, depth + 1).then(check);
      pending.push(emission);
      return emission;
    };
    const subscribe = (): void => {
      const pattern = patterns[Math.floor(random() * patterns.length)];
      const once = random() < 0.2;
      const onClass = random() < 0.1;
      const entry: Entry = { subscription: undefined!, removed: false, slot: -1 };
      try {
        entry.subscription = soiree.on(pattern, (event: SoireeEvent) => {
          calls++;
          if (entry.removed) {
            callsAfterRemoval++;
            violations.push(
              `${entry.subscription.id} called after its removal${onClass ? " (pooled)" : ""}`,
            );
          }
          if (closeResolved) violations.push(`${entry.subscription.id} called after close()`);
          if (once) {
            entry.removed = true;
            forget(entry);
          }
          const depth = event.payload as number;
          const r = random();
          if (r < 0.15) {
            if (depth >= 4) return;
            const nested = nestedEmit(depth);
            // Not from a pooled listener: awaiting an emission that needs the same pool's
            // slots is the classic nested-semaphore deadlock.
            if (configuration.awaitNested && !onClass && nested !== undefined && r < 0.07) {
              return nested;
            }
          } else if (r < 0.3) {
            if (live.length < maxLive) subscribe();
          } else if (r < 0.4) {
            remove(entry);
          } else if (r < 0.55) {
            if (live.length > 0) remove(live[Math.floor(random() * live.length)]);
          } else if (r < 0.552) {
            if (emitted > REENTRANT_EMITS / 2 && closing === undefined) closing = soiree.close();
          } else if (r < 0.6) {
            return ticks(2);
          }
        }, { once, pool: onClass ? classPool : undefined });
      } catch (error) {
        if (!(error instanceof EmitterClosedError)) violations.push(`on(): ${error}`);
        return;
      }
      entry.slot = live.length;
      live.push(entry);
    };
    for (let i = 0; i < 40; i++) subscribe();
    while (emitted < REENTRANT_EMITS && !soiree.isClosed) {
      for (let i = 0; i < 50; i++) {
        nestedEmit(0);
        if (live.length < 20) subscribe();
      }
      await within(Promise.all(pending.splice(0)), 30_000, `emissions (${configuration.name})`);
    }
    closing ??= soiree.close();
    await within(closing, 30_000, `close() (${configuration.name})`);
    closeResolved = true;
    await within(Promise.all(pending.splice(0)), 30_000, `emissions (${configuration.name})`);
    assert.equal(
      callsAfterRemoval,
      0,
      `${callsAfterRemoval} calls after removal (${configuration.name})`,
    );
    assert.deepEqual(violations, [], configuration.name);
    assert.deepEqual(emitterAccess.internals(soiree), EMPTY_INTERNALS);
    assert.equal(soiree.stats().inFlight, 0);
    await classPool.close();
    if (configuration.pool instanceof Pool) await configuration.pool.close();
    console.log(
      `re-entrancy (${configuration.name}): ${emitted} emissions, ${calls} calls, ${callsAfterRemoval} after removal`,
    );
    assert.ok(calls > 1_000, `${calls} calls`);
  }
});

test("a workload-class listener removed while its call waits for a slot is not called", async () => {
  for (const sync of [false, true]) {
    const soiree = new Soiree();
    const pool = new Pool({ concurrency: 1 });
    let release = (): void => {};
    const busy = pool.submit(() => new Promise<void>((resolve) => (release = resolve)));
    let calls = 0;
    const subscription = soiree.on("a", () => void calls++, { pool });
    const emission = sync ? Promise.resolve(soiree.emitSync("a")) : soiree.emit("a");
    await ticks(); // the call waits in the pool's queue
    subscription.off();
    release();
    await busy;
    await emission;
    await pool.onIdle();
    assert.equal(calls, 0, sync ? "emitSync()" : "emit()");
    await soiree.close();
    await pool.close();
  }
});

// --- handlers that fail ----------------------------------------------------------------------

test("an error handler that throws: its throw goes to the panic handler and the default report is kept", async () => {
  const panics: unknown[] = [];
  let handled = 0;
  const soiree = new Soiree({
    errorHandler: (_event, error) => {
      if (++handled % 2 === 0) throw new Error("error handler broke");
      return error as Error;
    },
    panicHandler: (value) => void panics.push(value),
  });
  soiree.on("a.*", () => {
    throw new Error("listener broke");
  });
  soiree.on("a.b", () => {});
  let reported = 0;
  for (let i = 0; i < 1_000; i++) {
    const errors = i % 2 === 0 ? await soiree.emit("a.b") : soiree.emitSync("a.b");
    assert.equal(errors.length, 1);
    reported++;
    if (errors[0] instanceof ListenerError) {
      assert.equal((errors[0].cause as Error).message, "listener broke");
    } else {
      assert.equal(errors[0].message, "listener broke");
    }
  }
  assert.equal(reported, 1_000);
  assert.equal(panics.length, 500);
  assert.ok(panics.every((panic) => (panic as Error).message === "error handler broke"));
  assert.equal(soiree.stats().failed, 1_000);
  await soiree.close();
});

test("a panic handler that throws is logged with console.error and the emitter keeps working", async () => {
  const logged: unknown[][] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    const soiree = new Soiree({
      errorHandler: () => {
        throw new Error("error handler broke");
      },
      panicHandler: () => {
        throw new Error("panic handler broke");
      },
    });
    let calls = 0;
    soiree.on("a", () => {
      calls++;
      throw new Error("listener broke");
    });
    soiree.on("a", () => Promise.reject(new Error("late")));
    for (let i = 0; i < 100; i++) {
      const errors = i % 2 === 0 ? await soiree.emit("a") : soiree.emitSync("a");
      // The default report is kept for the synchronous failure (and the awaited one in emit()).
      assert.equal(errors.length, i % 2 === 0 ? 2 : 1);
      assert.ok(errors.every((error) => error instanceof ListenerError));
    }
    await soiree.close();
    assert.equal(calls, 100);
    assert.ok(logged.length >= 150, `${logged.length} lines logged`);
    for (const line of logged) {
      assert.match(String(line[0]), /the panic handler threw/);
      assert.equal((line[1] as Error).message, "panic handler broke");
    }
  } finally {
    console.error = originalError;
  }
});

test("an ID generator that throws or repeats itself fails on() cleanly and the emitter keeps working", async () => {
  const random = prng(SEED ^ 0x5eed);
  // From 1: "id-0" is the one the repeating mode returns, never a fresh ID.
  let next = 1;
  let mode: "ok" | "throw" | "repeat" | "empty" = "ok";
  const panics: unknown[] = [];
  const soiree = new Soiree({
    idGenerator: () => {
      if (mode === "throw") throw new Error("generator broke");
      if (mode === "repeat") return "id-0";
      if (mode === "empty") return "";
      return `id-${next++}`;
    },
    panicHandler: (value) => void panics.push(value),
    maxListeners: 0,
  });
  const live: Subscription[] = [];
  let refused = 0;
  let eventIdPanics = 0;
  for (let i = 0; i < 5_000; i++) {
    const r = random();
    mode = r < 0.15 ? "throw" : r < 0.3 ? "repeat" : r < 0.35 ? "empty" : "ok";
    const before = emitterAccess.internals(soiree);
    try {
      live.push(soiree.on(random() < 0.5 ? `t.${i % 7}.*` : `t.${i % 7}.x`, () => {}));
      // A repeat of "id-0" is accepted only while no live listener holds it.
      assert.ok(mode === "ok" || mode === "repeat", mode);
    } catch (error) {
      refused++;
      const message = (error as Error).message;
      if (mode === "throw") {
        assert.match(message, /ID generator threw/);
        assert.equal(((error as Error).cause as Error).message, "generator broke");
      } else if (mode === "repeat") assert.match(message, /already in use: received "id-0"/);
      else {
        assert.ok(error instanceof TypeError);
        assert.match(message, /non-empty string/);
      }
      assert.deepEqual(emitterAccess.internals(soiree), before, "a refused on() changed nothing");
    }
    if (random() < 0.3 && live.length > 0) {
      live.splice(Math.floor(random() * live.length), 1)[0].off();
    }
    // Event IDs come from the same generator: a throw goes to the panic handler.
    mode = "ok";
    const [calls, ids] = [{ n: 0 }, new Set<string>()];
    const probe = soiree.on(`t.${i % 7}.x`, (event: SoireeEvent) => {
      calls.n++;
      ids.add(event.id);
    }, {});
    mode = random() < 0.2 ? "throw" : "ok";
    if (mode === "throw") eventIdPanics++;
    assert.deepEqual(soiree.emitSync(`t.${i % 7}.x`), []);
    mode = "ok";
    assert.equal(calls.n, 1);
    assert.equal([...ids][0].length > 0, true);
    probe.off();
  }
  assert.ok(refused > 1_000, `${refused} refused`);
  assert.equal(panics.length, eventIdPanics);
  assert.equal(soiree.listenerCount(), live.length);
  for (const subscription of live) subscription.off();
  assert.deepEqual(emitterAccess.internals(soiree), EMPTY_INTERNALS);
  await soiree.close();
});

// --- iterators -------------------------------------------------------------------------------

test("events(): next() called again before the last one settled: every call settles, in order", async () => {
  const soiree = new Soiree();
  const iterator = soiree.events("a");
  const settled: string[] = [];
  const first = iterator.next().then((result) =>
    void settled.push(`first ${result.value?.payload}`)
  );
  const second = iterator.next().then((result) =>
    void settled.push(`second ${result.value?.payload}`)
  );
  soiree.emitSync("a", 1);
  soiree.emitSync("a", 2);
  await soiree.close();
  await ticks();
  assert.deepEqual(settled, ["first 1", "second 2"], "every next() settles, in call order");
  await Promise.all([first, second]);
});
