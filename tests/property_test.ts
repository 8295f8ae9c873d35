// Property tests: the matcher, the dispatch order and the pool against simple models.
//
// Every run prints its seed; `SOIREE_SEED=<seed>` replays it. `SOIREE_STRESS=1` runs ten
// times as many cases.

import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import { matchTopic, Pool, QueueFullError, Soiree, type Subscription } from "../mod.ts";

const SEED = readSeed();
const SCALE = process.env.SOIREE_STRESS === "1" ? 10 : 1;
console.log(`property_test.ts: seed ${SEED} (replay with SOIREE_SEED=${SEED})`);

function readSeed(): number {
  const raw = process.env.SOIREE_SEED;
  if (raw === undefined || raw === "") return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`SOIREE_SEED must be an integer: ${raw}`);
  return seed | 0;
}

/** fast-check parameters: this file's seed, and the number of runs scaled for stress. */
function params(numRuns: number): { seed: number; numRuns: number } {
  return { seed: SEED, numRuns: numRuns * SCALE };
}

/** Lets every queued microtask (and the ones they queue) run. */
async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

// --- the reference matcher -------------------------------------------------------------------

/**
 * The README's rules, transcribed as directly as possible ("Topics and patterns"): `*`
 * matches exactly one segment; `**` matches any number of segments, including none, except
 * at the end of a pattern, where it matches one or more; any other segment matches itself.
 * Exponential in the worst case, which is fine for the short inputs below.
 */
function referenceMatch(pattern: readonly string[], topic: readonly string[]): boolean {
  const from = (p: number, t: number): boolean => {
    if (p === pattern.length) return t === topic.length;
    const segment = pattern[p];
    if (segment === "**") {
      const last = p === pattern.length - 1;
      if (last) return topic.length - t >= 1;
      for (let k = t; k <= topic.length; k++) if (from(p + 1, k)) return true;
      return false;
    }
    if (t === topic.length) return false;
    return (segment === "*" || segment === topic[t]) && from(p + 1, t + 1);
  };
  return from(0, 0);
}

/** A small alphabet, so that random patterns and topics often match. */
const SEGMENTS = ["a", "b", "__proto__"] as const;
const topicArb = fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 6 })
  .map((segments) => segments.join("."));
const patternArb = fc.array(fc.constantFrom(...SEGMENTS, "*", "**"), { minLength: 1, maxLength: 6 })
  .map((segments) => segments.join("."));

test("the reference matcher agrees with the README's table", () => {
  const table: [string, string, boolean][] = [
    ["user.created", "user.created", true],
    ["user.created", "user.deleted", false],
    ["User.created", "user.created", false],
    ["user.*", "user.created", true],
    ["user.*", "user", false],
    ["user.*", "user.created.twice", false],
    ["*", "user", true],
    ["*", "user.created", false],
    ["*.created", "user.created", true],
    ["invoice.**", "invoice.paid", true],
    ["invoice.**", "invoice.paid.late", true],
    ["invoice.**", "invoice", false],
    ["**.completed", "completed", true],
    ["**.completed", "job.step.completed", true],
    ["**.completed", "job.completed.late", false],
    ["a.**.z", "a.z", true],
    ["a.**.z", "a.b.c.z", true],
    ["a.**.z", "a.b.c", false],
    ["**", "user", true],
    ["**", "a.b.c.d", true],
    ["a.b.**", "a.b", false],
    ["**.a.**", "a", false],
    ["**.a.**", "x.a.y", true],
    ["*.**", "a", false],
    ["*.**", "a.b", true],
    ["*.*.**", "a.b.c", true],
    ["a.*.**.z", "a.b.z", true],
    ["__proto__.*", "__proto__.polluted", true],
    ["constructor", "constructor", true],
  ];
  for (const [pattern, topic, expected] of table) {
    assert.equal(referenceMatch(pattern.split("."), topic.split(".")), expected, pattern);
  }
});

test("matchTopic() agrees with the reference matcher on 100,000 random pairs", () => {
  let pairs = 0;
  fc.assert(
    fc.property(patternArb, fc.array(topicArb, { minLength: 20, maxLength: 20 }), (p, topics) => {
      const segments = p.split(".");
      for (const topic of topics) {
        pairs++;
        assert.equal(matchTopic(p, topic), referenceMatch(segments, topic.split(".")), topic);
      }
    }),
    params(5_000),
  );
  assert.ok(pairs >= 100_000 * SCALE, `checked ${pairs} pairs`);
  console.log(`matchTopic(): ${pairs} pairs checked`);
});

/** One step of a subscription sequence. */
type MatchOp =
  | { kind: "on"; pattern: string }
  | { kind: "off"; pick: number }
  | { kind: "emit"; topic: string };

const matchOpArb: fc.Arbitrary<MatchOp> = fc.oneof(
  { arbitrary: patternArb.map((pattern) => ({ kind: "on", pattern }) as const), weight: 3 },
  { arbitrary: fc.nat().map((pick) => ({ kind: "off", pick }) as const), weight: 2 },
  { arbitrary: topicArb.map((topic) => ({ kind: "emit", topic }) as const), weight: 5 },
);

test("emitters deliver to exactly the reference's matches through subscribe and unsubscribe sequences", () => {
  let pairs = 0;
  fc.assert(
    fc.property(fc.array(matchOpArb, { minLength: 1, maxLength: 120, size: "max" }), (ops) => {
      const soiree = new Soiree({ maxListeners: 0 });
      const live: { pattern: string; subscription: Subscription; label: number }[] = [];
      let label = 0;
      for (const op of ops) {
        if (op.kind === "on") {
          const me = label++;
          const subscription = soiree.on(op.pattern, (event) => {
            (event.payload as number[]).push(me);
          });
          live.push({ pattern: op.pattern, subscription, label: me });
        } else if (op.kind === "off") {
          if (live.length === 0) continue;
          const [gone] = live.splice(op.pick % live.length, 1);
          assert.equal(gone.subscription.off(), true);
        } else {
          const segments = op.topic.split(".");
          const expected = live.filter((entry) =>
            referenceMatch(entry.pattern.split("."), segments)
          )
            .map((entry) => entry.label);
          pairs += live.length;
          // Twice: the second emission is served from the match cache.
          for (let round = 0; round < 2; round++) {
            const seen: number[] = [];
            assert.deepEqual(soiree.emitSync(op.topic, seen), []);
            assert.deepEqual(seen.sort((x, y) => x - y), expected, op.topic);
            assert.equal(soiree.listenerCount(op.topic), expected.length);
          }
        }
      }
    }),
    params(3_000),
  );
  assert.ok(pairs >= 100_000 * SCALE, `checked ${pairs} pairs`);
  console.log(`emitter matching: ${pairs} (listener, topic) pairs checked`);
});

// --- dispatch order --------------------------------------------------------------------------

/** What a listener does when it runs, besides recording the call. */
type Behaviour =
  | { kind: "none" }
  | { kind: "async" }
  | { kind: "abort" }
  | { kind: "offSelf" }
  | { kind: "offOther"; pick: number }
  | { kind: "subscribe"; pattern: string; priority: number };

type OrderOp =
  | { kind: "on"; pattern: string; priority: number; once: boolean; behaviour: Behaviour }
  | { kind: "off"; pick: number; byId: boolean }
  | { kind: "emit"; topic: string; sync: boolean };

const priorityArb = fc.constantFrom(-1, 1, 2, 3, 3, 3, 3.5, 4, 5, 1e9);
const behaviourArb: fc.Arbitrary<Behaviour> = fc.oneof(
  { arbitrary: fc.constant({ kind: "none" } as const), weight: 6 },
  { arbitrary: fc.constant({ kind: "async" } as const), weight: 2 },
  { arbitrary: fc.constant({ kind: "abort" } as const), weight: 1 },
  { arbitrary: fc.constant({ kind: "offSelf" } as const), weight: 1 },
  { arbitrary: fc.nat().map((pick) => ({ kind: "offOther", pick }) as const), weight: 2 },
  {
    arbitrary: fc.record({ pattern: patternArb, priority: priorityArb })
      .map(({ pattern, priority }) => ({ kind: "subscribe", pattern, priority }) as const),
    weight: 1,
  },
);
const orderOpArb: fc.Arbitrary<OrderOp> = fc.oneof(
  {
    arbitrary: fc.record({
      pattern: patternArb,
      priority: priorityArb,
      once: fc.boolean(),
      behaviour: behaviourArb,
    }).map((on) => ({ kind: "on", ...on }) as const),
    weight: 4,
  },
  {
    arbitrary: fc.record({ pick: fc.nat(), byId: fc.boolean() })
      .map((off) => ({ kind: "off", ...off }) as const),
    weight: 1,
  },
  {
    arbitrary: fc.record({ topic: topicArb, sync: fc.boolean() })
      .map((emit) => ({ kind: "emit", ...emit }) as const),
    weight: 3,
  },
);

/** A listener in the model: what the emitter should do, by the README's rules. */
interface ModelListener {
  label: number;
  seq: number;
  segments: string[];
  priority: number;
  once: boolean;
  behaviour: Behaviour;
  active: boolean;
}

/** A model of the emitter's listener list and one emission's dispatch. */
class DispatchModel {
  listeners: ModelListener[] = [];
  #seq = 0;

  add(label: number, pattern: string, priority: number, once: boolean, behaviour: Behaviour): void {
    this.listeners.push({
      label,
      seq: this.#seq++,
      segments: pattern.split("."),
      priority,
      once,
      behaviour,
      active: true,
    });
  }

  /** The labels an emission calls, in order; runs the behaviours on the model. */
  emit(topic: string, newLabel: () => number): number[] {
    const segments = topic.split(".");
    const list = this.listeners.filter((l) => l.active && referenceMatch(l.segments, segments))
      .sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    const calls: number[] = [];
    for (const listener of list) {
      if (!listener.active) continue;
      if (listener.once) listener.active = false;
      calls.push(listener.label);
      const behaviour = listener.behaviour;
      if (behaviour.kind === "abort") break;
      if (behaviour.kind === "offSelf") listener.active = false;
      if (behaviour.kind === "offOther") {
        this.listeners[behaviour.pick % this.listeners.length].active = false;
      }
      if (behaviour.kind === "subscribe") {
        this.add(newLabel(), behaviour.pattern, behaviour.priority, false, { kind: "none" });
      }
    }
    return calls;
  }
}

test("dispatch order equals the model's: priority, then subscription order, each listener at most once", async () => {
  let emissions = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(orderOpArb, { minLength: 1, maxLength: 60, size: "max" }),
      async (ops) => {
        const soiree = new Soiree({ maxListeners: 0 });
        const model = new DispatchModel();
        // Indexed like model.listeners: the same growth, in the same order.
        const subscriptions: Subscription[] = [];
        let calls: number[] = [];
        let modelLabels = 0;
        let realLabels = 0;
        const subscribe = (
          pattern: string,
          priority: number,
          once: boolean,
          behaviour: Behaviour,
        ): void => {
          const label = realLabels++;
          const index = subscriptions.length;
          subscriptions.push(soiree.on(pattern, (event) => {
            calls.push(label);
            switch (behaviour.kind) {
              case "async":
                return Promise.resolve();
              case "abort":
                return event.abort();
              case "offSelf":
                return void subscriptions[index].off();
              case "offOther":
                return void subscriptions[behaviour.pick % subscriptions.length].off();
              case "subscribe":
                return subscribe(behaviour.pattern, behaviour.priority, false, { kind: "none" });
            }
          }, { priority, once }));
        };
        for (const op of ops) {
          if (op.kind === "on") {
            model.add(modelLabels++, op.pattern, op.priority, op.once, op.behaviour);
            subscribe(op.pattern, op.priority, op.once, op.behaviour);
          } else if (op.kind === "off") {
            if (subscriptions.length === 0) continue;
            const index = op.pick % subscriptions.length;
            const wasActive = model.listeners[index].active;
            model.listeners[index].active = false;
            const subscription = subscriptions[index];
            assert.equal(subscription.active, wasActive);
            if (op.byId && wasActive) soiree.off(subscription.pattern, subscription.id);
            else assert.equal(subscription.off(), wasActive);
          } else {
            emissions++;
            const expected = model.emit(op.topic, () => modelLabels++);
            calls = [];
            if (op.sync) assert.deepEqual(soiree.emitSync(op.topic), []);
            else assert.deepEqual(await soiree.emit(op.topic), []);
            assert.deepEqual(calls, expected, `emit ${op.topic}`);
            assert.equal(new Set(calls).size, calls.length, "a listener ran twice in one emission");
            assert.equal(soiree.stats().listeners, model.listeners.filter((l) => l.active).length);
          }
        }
        await soiree.close();
      },
    ),
    params(2_000),
  );
  assert.ok(emissions > 10_000 * SCALE, `checked ${emissions} emissions`);
  console.log(`dispatch order: ${emissions} emissions checked`);
});

test("once listeners run once across overlapping random emissions", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ pattern: patternArb, once: fc.boolean(), async: fc.boolean() }), {
        minLength: 1,
        maxLength: 12,
      }),
      fc.array(topicArb, { minLength: 1, maxLength: 12 }),
      async (listeners, topics) => {
        const soiree = new Soiree();
        const counts = listeners.map(() => 0);
        listeners.forEach(({ pattern, once, async }, i) => {
          soiree.on(pattern, () => {
            counts[i]++;
            return async ? flush(3) : undefined;
          }, { once });
        });
        // All started before any finishes: the emissions overlap.
        await Promise.all(topics.map((topic) => soiree.emit(topic)));
        listeners.forEach(({ pattern, once }, i) => {
          const matches = topics.filter((t) => referenceMatch(pattern.split("."), t.split(".")));
          const expected = once ? Math.min(1, matches.length) : matches.length;
          assert.equal(counts[i], expected, `${pattern} once=${once}`);
        });
        await soiree.close();
      },
    ),
    params(500),
  );
});

// --- the pool --------------------------------------------------------------------------------

type PoolOp =
  | { kind: "submit"; fail: boolean; sync: boolean; useTry: boolean; withSignal: boolean }
  | { kind: "finish"; pick: number }
  | { kind: "abort"; pick: number };

const poolOpArb: fc.Arbitrary<PoolOp> = fc.oneof(
  {
    arbitrary: fc.record({
      fail: fc.boolean(),
      sync: fc.boolean(),
      useTry: fc.boolean(),
      withSignal: fc.boolean(),
    }).map((submit) => ({ kind: "submit", ...submit }) as const),
    weight: 3,
  },
  { arbitrary: fc.nat().map((pick) => ({ kind: "finish", pick }) as const), weight: 3 },
  { arbitrary: fc.nat().map((pick) => ({ kind: "abort", pick }) as const), weight: 1 },
);

const poolConfigArb = fc.record({
  concurrency: fc.integer({ min: 1, max: 4 }),
  capacity: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant(Infinity)),
  whenFull: fc.constantFrom("wait" as const, "reject" as const),
});

test("Pool keeps its bound, FIFO order and counters for random tasks, failures and policies", async () => {
  let submissions = 0;
  await fc.assert(
    fc.asyncProperty(
      poolConfigArb,
      fc.array(poolOpArb, { minLength: 1, maxLength: 100, size: "max" }),
      async ({ concurrency, capacity, whenFull }, ops) => {
        const pool = new Pool({ concurrency, capacity, whenFull });
        const started: number[] = [];
        /** Tasks that hold a slot, by index: what ends them. */
        const gates = new Map<number, () => void>();
        const controllers: AbortController[] = [];
        let active = 0;
        const outcome = { fulfilled: 0, failed: 0, full: 0, withdrawn: 0 };
        const accepted = new Set<number>();
        const withdrawn = new Set<number>();
        const settling: Promise<void>[] = [];
        const check = (): void => {
          const stats = pool.stats();
          assert.ok(active <= concurrency, `${active} tasks ran at once, bound ${concurrency}`);
          assert.ok(stats.running <= concurrency, JSON.stringify(stats));
          assert.equal(
            stats.submitted,
            stats.completed + stats.running + stats.waiting + stats.dropped,
            JSON.stringify(stats),
          );
          assert.equal(stats.completed, stats.successful + stats.failed);
        };
        let next = 0;
        for (const op of ops) {
          if (op.kind === "submit") {
            const index = next++;
            submissions++;
            const task = (): Promise<number> | number => {
              started.push(index);
              active++;
              assert.ok(active <= concurrency);
              if (op.sync) {
                active--;
                if (op.fail) throw new Error(`task ${index}`);
                return index;
              }
              return new Promise<number>((resolve, reject) => {
                gates.set(index, () => {
                  active--;
                  if (op.fail) reject(new Error(`task ${index}`));
                  else resolve(index);
                });
              });
            };
            const controller = new AbortController();
            controllers[index] = controller;
            const before = pool.stats();
            const freeSlot = before.running < concurrency && before.waiting === 0;
            const queueFull = before.waiting >= capacity;
            const options = op.withSignal ? { signal: controller.signal } : undefined;
            const promise = op.useTry ? pool.trySubmit(task, options) : pool.submit(task, options);
            // Documented: a task starts inside the call when a slot is free.
            assert.equal(started.includes(index), freeSlot);
            if (promise === undefined) {
              assert.ok(op.useTry && !freeSlot && queueFull, "trySubmit refused with room");
              check();
              continue;
            }
            accepted.add(index);
            settling.push(promise.then(
              (value) => {
                assert.equal(value, index);
                outcome.fulfilled++;
              },
              (error: unknown) => {
                if (error instanceof QueueFullError) {
                  assert.ok(whenFull === "reject" && queueFull, "QueueFullError with room");
                  outcome.full++;
                  withdrawn.add(index);
                } else if (error === controller.signal.reason) {
                  outcome.withdrawn++;
                  withdrawn.add(index);
                } else {
                  assert.equal((error as Error).message, `task ${index}`);
                  outcome.failed++;
                }
              },
            ));
          } else if (op.kind === "finish") {
            if (gates.size === 0) continue;
            const keys = [...gates.keys()];
            const index = keys[op.pick % keys.length];
            const end = gates.get(index)!;
            gates.delete(index);
            end();
          } else {
            if (next === 0) continue;
            controllers[op.pick % next].abort(new Error("withdrawn"));
          }
          await flush();
          check();
        }
        // Let everything run to its end: each round ends every task that holds a slot.
        while (gates.size > 0) {
          for (const [index, end] of [...gates]) {
            gates.delete(index);
            end();
          }
          await flush();
          check();
        }
        await pool.onIdle();
        await Promise.all(settling);
        check();
        // FIFO: tasks start in the order they were submitted.
        for (let i = 1; i < started.length; i++) {
          assert.ok(started[i - 1] < started[i], `started out of order: ${started}`);
        }
        // Every accepted task that was not dropped ran, exactly once.
        assert.deepEqual(started, [...accepted].filter((i) => !withdrawn.has(i)));
        const stats = pool.stats();
        assert.equal(stats.submitted, accepted.size);
        assert.equal(stats.successful, outcome.fulfilled);
        assert.equal(stats.failed, outcome.failed);
        assert.equal(stats.dropped, outcome.full + outcome.withdrawn);
        assert.equal(stats.running + stats.waiting, 0);
        await pool.close();
      },
    ),
    params(1_500),
  );
  assert.ok(submissions > 10_000 * SCALE, `submitted ${submissions} tasks`);
  console.log(`pool: ${submissions} submissions checked`);
});
