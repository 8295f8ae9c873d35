// Property tests: the matcher, the dispatch order and the pool against simple models.
//
// Every run prints its seed; `SOIREE_SEED=<seed>` replays it. `SOIREE_STRESS=1` runs ten
// times as many cases.

import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import {
  EmitterAlreadyClosedError,
  EmitterClosedError,
  ListenerError,
  ListenerNotFoundError,
  matchTopic,
  Pool,
  QueueFullError,
  Soiree,
  type Subscription,
} from "../mod.ts";
import { emitterAccess } from "../src/_internal.ts";
import { PatternTrie } from "../src/_trie.ts";
import { EMPTY_INTERNALS, muteFailureLogs, NO_DURABLE, ticks } from "./_util.ts";

// Failures are injected by the thousand here: keep their default log lines out of the output.
muteFailureLogs();

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
            return async ? ticks(3) : undefined;
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
          await ticks();
          check();
        }
        // Let everything run to its end: each round ends every task that holds a slot.
        while (gates.size > 0) {
          for (const [index, end] of [...gates]) {
            gates.delete(index);
            end();
          }
          await ticks();
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

// --- the matcher's work bound ----------------------------------------------------------------

/**
 * The README's rules as a dynamic programme over (pattern position, topic position): linear
 * in both lengths, so it can check matches on topics far too long for `referenceMatch`.
 */
function referenceMatchLong(pattern: readonly string[], topic: readonly string[]): boolean {
  const n = topic.length;
  // `next[t]`: whether pattern[p + 1..] matches topic[t..]; `suffix[t]`: any of next[t..].
  let next = new Uint8Array(n + 1);
  next[n] = 1;
  for (let p = pattern.length - 1; p >= 0; p--) {
    const segment = pattern[p];
    const here = new Uint8Array(n + 1);
    if (segment === "**" && p === pattern.length - 1) {
      for (let t = 0; t < n; t++) here[t] = 1;
    } else if (segment === "**") {
      let any = 0;
      for (let t = n; t >= 0; t--) here[t] = any |= next[t];
    } else {
      for (let t = 0; t < n; t++) {
        here[t] = (segment === "*" || segment === topic[t]) ? next[t + 1] : 0;
      }
    }
    next = here;
  }
  return next[0] === 1;
}

/** Patterns built to make a backtracking matcher explode, each with a topic that defeats it. */
const BACKTRACKING_BOMBS: [string[], number][] = [
  [["**.a.**.a.**.a.**.a.**.b"], 512],
  [["**.**.**.**.**.**.**.**.**.**.**.**.b"], 512],
  [["*.**.*.**.*.**.*.**.c", "**.*.**.*.**.*.**.*.**"], 512],
  [Array.from({ length: 12 }, (_, i) => `${"**.a.".repeat(i + 1)}b`), 256],
];

/** A segment of a `**`-heavy pattern: mostly `**`, some `*` and literals. */
const heavySegmentArb = fc.oneof(
  { arbitrary: fc.constant("**"), weight: 4 },
  { arbitrary: fc.constantFrom("*", "a", "b"), weight: 3 },
);
const heavyPatternsArb = fc.array(fc.array(heavySegmentArb, { minLength: 1, maxLength: 10 }), {
  minLength: 1,
  maxLength: 20,
});
/** One period of a long topic; the topic repeats it. */
const topicBlockArb = fc.array(fc.constantFrom("a", "b", "c"), { minLength: 1, maxLength: 8 });

/**
 * Matches `topic` against every pattern of `trie` (holding `patterns` by index), checks the
 * result against the linear reference and the work against (nodes + 1) × (segments + 1), and
 * returns the steps.
 */
function measuredMatch(
  trie: PatternTrie<number>,
  patterns: readonly (readonly string[])[],
  topic: readonly string[],
): number {
  const work = { steps: 0 };
  const matched = trie.match(topic, [], work).sort((x, y) => x - y);
  const expected = patterns.flatMap((pattern, i) => referenceMatchLong(pattern, topic) ? [i] : []);
  assert.deepEqual(matched, expected, "matched the reference's patterns");
  const bound = (trie.nodeCount + 1) * (topic.length + 1);
  assert.ok(work.steps <= bound, `${work.steps} steps, bound ${bound}`);
  return work.steps;
}

test("the matcher does at most (nodes + 1) × (segments + 1) steps, and twice the segments cost about twice the steps", () => {
  let steps = 0;
  const check = (patterns: string[][], block: string[], repeats: number): void => {
    const trie = new PatternTrie<number>();
    // Distinct patterns only: a repeated one keeps one value.
    const unique = [...new Map(patterns.map((p) => [p.join("."), p])).values()];
    unique.forEach((pattern, i) => trie.set(pattern, i));
    const topic = Array.from({ length: repeats }, () => block).flat();
    const single = measuredMatch(trie, unique, topic);
    const double = measuredMatch(trie, unique, [...topic, ...topic]);
    // Linear, not polynomial: past a transient of at most (pattern depth + period) positions
    // per node, each extra segment costs at most one step per node.
    const depth = Math.max(...unique.map((pattern) => pattern.length));
    const slack = (trie.nodeCount + 1) * (depth + block.length);
    assert.ok(
      double <= 2 * single + slack,
      `${single} steps for ${topic.length} segments, ${double} for twice as many (slack ${slack})`,
    );
    steps += single + double;
  };
  for (const [patterns, length] of BACKTRACKING_BOMBS) {
    // Growing, so that a matcher that backtracks fails on a short topic instead of hanging.
    for (let size = 4; size <= length; size *= 2) {
      check(patterns.map((pattern) => pattern.split(".")), ["a"], size);
    }
  }
  fc.assert(
    fc.property(heavyPatternsArb, topicBlockArb, (patterns, block) => {
      // Long topics: at least 512 segments, 1,024 when doubled.
      check(patterns, block, Math.ceil(512 / block.length));
    }),
    params(300),
  );
  console.log(`matcher work bound: ${steps} steps checked`);
});

// --- fuzzing the public API against a model --------------------------------------------------

/** What a user listener does when called, besides recording the call. */
type FuzzBehaviour = "none" | "async" | "throw" | "return error" | "reject" | "abort" | "offOther";

/** One operation of a fuzz sequence. `pick` chooses among what exists when it runs. */
type FuzzOp =
  | {
    kind: "on";
    pattern: string;
    priority: number;
    once: boolean;
    behaviour: FuzzBehaviour;
    signal: "none" | "live" | "aborted";
    pick: number;
  }
  | { kind: "off"; pick: number; how: "handle" | "id" | "dispose" }
  | { kind: "abort signal"; pick: number }
  | { kind: "emit"; topic: string; sync: boolean; cancelled: boolean }
  | { kind: "count"; topic: string; pattern: string }
  | { kind: "waitFor"; pattern: string; priority: number }
  | { kind: "events"; pattern: string; priority: number; bufferSize: number }
  | { kind: "read"; pick: number }
  | { kind: "end iterator"; pick: number }
  | { kind: "invalid"; pick: number }
  | { kind: "off missing"; pick: number; pattern: string };

const fuzzBehaviourArb = fc.constantFrom<FuzzBehaviour>(
  "none",
  "none",
  "none",
  "async",
  "throw",
  "return error",
  "reject",
  "abort",
  "offOther",
);
const fuzzOpArb: fc.Arbitrary<FuzzOp> = fc.oneof(
  {
    arbitrary: fc.record({
      pattern: patternArb,
      priority: priorityArb,
      once: fc.boolean(),
      behaviour: fuzzBehaviourArb,
      signal: fc.constantFrom(
        "none" as const,
        "none" as const,
        "live" as const,
        "aborted" as const,
      ),
      pick: fc.nat(),
    }).map((op) => ({ kind: "on", ...op }) as const),
    weight: 20,
  },
  {
    arbitrary: fc.record({ pick: fc.nat(), how: fc.constantFrom("handle", "id", "dispose") })
      .map((op) => ({ kind: "off", ...op }) as const),
    weight: 7,
  },
  { arbitrary: fc.nat().map((pick) => ({ kind: "abort signal", pick }) as const), weight: 3 },
  {
    arbitrary: fc.record({
      topic: topicArb,
      sync: fc.boolean(),
      cancelled: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    }).map((op) => ({ kind: "emit", ...op }) as const),
    weight: 25,
  },
  {
    arbitrary: fc.record({ topic: topicArb, pattern: patternArb })
      .map((op) => ({ kind: "count", ...op }) as const),
    weight: 6,
  },
  {
    arbitrary: fc.record({ pattern: patternArb, priority: priorityArb })
      .map((op) => ({ kind: "waitFor", ...op }) as const),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      pattern: patternArb,
      priority: priorityArb,
      bufferSize: fc.constantFrom(1, 2, 1024),
    }).map((op) => ({ kind: "events", ...op }) as const),
    weight: 2,
  },
  { arbitrary: fc.nat().map((pick) => ({ kind: "read", pick }) as const), weight: 5 },
  { arbitrary: fc.nat().map((pick) => ({ kind: "end iterator", pick }) as const), weight: 1 },
  { arbitrary: fc.nat().map((pick) => ({ kind: "invalid", pick }) as const), weight: 4 },
  {
    arbitrary: fc.record({ pick: fc.nat(), pattern: patternArb })
      .map((op) => ({ kind: "off missing", ...op }) as const),
    weight: 2,
  },
);
const fuzzConfigArb = fc.record({
  /** 0: no pool; otherwise the concurrency of the emitter's own pool. */
  pool: fc.constantFrom(0, 0, 1, 3),
  customIds: fc.boolean(),
});

/** A listener of the model: a user's, a `waitFor()`'s or an `events()` iterator's. */
interface FuzzListener {
  kind: "user" | "waiter" | "iterator";
  label: number;
  seq: number;
  pattern: string;
  segments: string[];
  wildcard: boolean;
  priority: number;
  once: boolean;
  behaviour: FuzzBehaviour;
  pick: number;
  /** Whether the model says it is subscribed. */
  active: boolean;
  /** Whether its ID went into the emitter's ID map (read, or a custom ID). */
  idRead: boolean;
  subscription?: Subscription;
  controller?: AbortController;
  // waitFor(): the event the model says resolves it (else it is aborted with `reason`), and
  // what its promise settled with.
  expected?: { topic: string; payload: number };
  reason?: Error;
  settled?: { event?: { topic: string; payload: unknown }; reason?: unknown };
  // events(): the payloads it accepted, the bound, the next() results in call order.
  iterator?: AsyncIterableIterator<{ topic: string; payload: unknown }>;
  accepted?: number[];
  bufferSize?: number;
  reads?: Promise<IteratorResult<{ topic: string; payload: unknown }>>[];
}

/** Calls a documented argument error must make, and what it must be. */
const INVALID_CALLS: [string, (soiree: Soiree) => unknown, ErrorConstructor, RegExp][] = [
  ["on() an empty segment", (s) => s.on("a..b", () => {}), TypeError, /empty segment/],
  ["on() a mixed wildcard", (s) => s.on("a.b*", () => {}), TypeError, /mixes '\*'/],
  ["on() no function", (s) => s.on("a", "f" as never), TypeError, /'listener' must be/],
  ["on() a NaN priority", (s) => s.on("a", () => {}, { priority: NaN }), RangeError, /priority/],
  ["on() a negative timeout", (s) => s.on("a", () => {}, { timeout: -1 }), RangeError, /timeout/],
  ["emit() a wildcard", (s) => s.emit("a.*"), TypeError, /wildcard/],
  ["emitSync() empty", (s) => s.emitSync(""), TypeError, /is empty/],
  ["emit() bad options", (s) => s.emit("a", 1, { timeout: NaN }), RangeError, /timeout/],
  ["listenerCount() a number", (s) => s.listenerCount(7 as never), TypeError, /must be a string/],
  ["waitFor() a bad filter", (s) => s.waitFor("a", { filter: 1 as never }), TypeError, /filter/],
  ["events() a zero buffer", (s) => s.events("a", { bufferSize: 0 }), RangeError, /bufferSize/],
];

test("random sequences of 50,000+ public API calls agree with a model and keep every invariant", async () => {
  let operations = 0;
  let emissions = 0;
  await fc.assert(
    fc.asyncProperty(
      fuzzConfigArb,
      fc.array(fuzzOpArb, { maxLength: 400, size: "max" }),
      async (config, ops) => {
        const panics: unknown[] = [];
        let nextId = 0;
        const soiree = new Soiree({
          maxListeners: 0,
          pool: config.pool === 0 ? undefined : { concurrency: config.pool },
          idGenerator: config.customIds ? () => `id-${nextId++}` : undefined,
          panicHandler: (value) => void panics.push(value),
        });
        const all: FuzzListener[] = [];
        const users: FuzzListener[] = [];
        const model = { emitted: 0, delivered: 0, failed: 0, aborted: 0, panics: 0 };
        let seq = 0;
        let payload = 0;
        /** Labels of the user listeners called by the current emission, in call order. */
        let calls: number[] = [];

        const add = (listener: Omit<FuzzListener, "seq" | "segments" | "wildcard">) => {
          const full: FuzzListener = {
            ...listener,
            seq: seq++,
            segments: listener.pattern.split("."),
            wildcard: listener.pattern.includes("*"),
          };
          all.push(full);
          return full;
        };
        const active = () => all.filter((l) => l.active);

        /** The model's emission: who runs, in which order, what fails, what is late. */
        const modelEmit = (topic: string, value: number, sync: boolean) => {
          const segments = topic.split(".");
          const list = active().filter((l) => referenceMatch(l.segments, segments))
            .sort((a, b) => b.priority - a.priority || a.seq - b.seq);
          const called: number[] = [];
          const failures: string[] = [];
          /** Rejections after emitSync() returned: failures that reach the panic handler. */
          let late = 0;
          let aborted = false;
          for (const l of list) {
            if (!l.active) continue;
            model.delivered++;
            if (l.once) l.active = false;
            if (l.kind === "waiter") {
              l.active = false;
              l.expected = { topic, payload: value };
              continue;
            }
            if (l.kind === "iterator") {
              const accepted = l.accepted!;
              const waitingReaders = l.reads!.length > accepted.length;
              if (!waitingReaders && accepted.length - l.reads!.length >= l.bufferSize!) {
                failures.push("buffer full");
                l.idRead = true;
              } else accepted.push(value);
              continue;
            }
            called.push(l.label);
            const b = l.behaviour;
            if (b === "throw" || b === "return error" || (b === "reject" && !sync)) {
              failures.push(`${l.label}`);
              l.idRead = true;
            } else if (b === "reject") {
              late++;
              l.idRead = true;
            } else if (b === "abort") {
              aborted = true;
              break;
            } else if (b === "offOther") {
              users[l.pick % users.length].active = false;
            }
          }
          model.failed += failures.length + late;
          model.panics += late;
          if (aborted) model.aborted++;
          return { called, failures };
        };

        /** The trie's node count for the active wildcard patterns: their distinct prefixes. */
        const modelTrieNodes = () => {
          const prefixes = new Set<string>();
          for (const l of active()) {
            if (!l.wildcard) continue;
            for (let i = 1; i <= l.segments.length; i++) {
              prefixes.add(l.segments.slice(0, i).join("\u0000"));
            }
          }
          return prefixes.size;
        };

        const checkInvariants = (where: string) => {
          const live = active();
          const stats = soiree.stats();
          assert.deepEqual(stats, {
            emitted: model.emitted,
            delivered: model.delivered,
            failed: model.failed,
            aborted: model.aborted,
            inFlight: 0,
            listeners: live.length,
            durable: NO_DURABLE,
          }, where);
          assert.equal(soiree.listenerCount(), live.length, where);
          assert.equal(panics.length, model.panics, where);
          const internals = emitterAccess.internals(soiree);
          assert.deepEqual(
            { ...internals, cacheSize: 0 },
            {
              trieNodes: modelTrieNodes(),
              wildcardPatterns: new Set(live.filter((l) => l.wildcard).map((l) => l.pattern)).size,
              exactPatterns: new Set(live.filter((l) => !l.wildcard).map((l) => l.pattern)).size,
              cacheSize: 0,
              listeners: live.length,
              indexedIds: live.filter((l) => l.idRead).length,
              inFlightLinked: 0,
            },
            where,
          );
          for (const l of users) assert.equal(l.subscription!.active, l.active, where);
        };

        for (const op of ops) {
          operations++;
          const where = `${JSON.stringify(op)} (op ${operations})`;
          switch (op.kind) {
            case "on": {
              const controller = op.signal === "none" ? undefined : new AbortController();
              if (op.signal === "aborted") controller!.abort(new Error("gone"));
              const label = users.length;
              const listener = add({
                kind: "user",
                label,
                pattern: op.pattern,
                priority: op.priority,
                once: op.once,
                behaviour: op.behaviour,
                pick: op.pick,
                active: op.signal !== "aborted",
                idRead: config.customIds,
                controller,
              });
              users.push(listener);
              listener.subscription = soiree.on(op.pattern, (event) => {
                calls.push(label);
                switch (op.behaviour) {
                  case "async":
                    return Promise.resolve();
                  case "throw":
                    throw new Error(`${label}`);
                  case "return error":
                    return new Error(`${label}`);
                  case "reject":
                    return Promise.reject(new Error(`${label}`));
                  case "abort":
                    return event.abort();
                  case "offOther":
                    return void users[op.pick % users.length].subscription!.off();
                }
              }, { priority: op.priority, once: op.once, signal: controller?.signal });
              break;
            }
            case "off": {
              if (users.length === 0) break;
              const l = users[op.pick % users.length];
              const wasActive = l.active;
              l.active = false;
              if (op.how === "handle") assert.equal(l.subscription!.off(), wasActive, where);
              else if (op.how === "dispose") l.subscription![Symbol.dispose]();
              else {
                const { pattern, id } = l.subscription!;
                if (wasActive) l.idRead = true;
                if (wasActive) soiree.off(pattern, id);
                else assert.throws(() => soiree.off(pattern, id), ListenerNotFoundError, where);
              }
              break;
            }
            case "abort signal": {
              const withSignal = all.filter((l) => l.controller !== undefined);
              if (withSignal.length === 0) break;
              const l = withSignal[op.pick % withSignal.length];
              l.active = false;
              l.reason ??= new Error(`aborted ${l.label}`);
              l.controller!.abort(l.reason);
              break;
            }
            case "emit": {
              emissions++;
              model.emitted++;
              const value = payload++;
              if (op.cancelled && !op.sync) {
                // An emission whose signal already aborted: refused, reported, counted.
                const reason = new Error(`cancelled ${value}`);
                calls = [];
                const errors = await soiree.emit(op.topic, value, {
                  signal: AbortSignal.abort(reason),
                });
                assert.deepEqual(errors, [reason], where);
                assert.deepEqual(calls, [], where);
                model.failed++;
                model.aborted++;
                break;
              }
              const expected = modelEmit(op.topic, value, op.sync);
              calls = [];
              const errors = op.sync
                ? soiree.emitSync(op.topic, value)
                : await soiree.emit(op.topic, value);
              await ticks(4); // late rejections of emitSync() reach the panic handler
              assert.deepEqual(calls, expected.called, `${where}: calls`);
              assert.deepEqual(
                errors.map((error) => {
                  assert.ok(error instanceof ListenerError, `${where}: ${error}`);
                  return error.cause instanceof QueueFullError
                    ? "buffer full"
                    : (error.cause as Error).message;
                }),
                expected.failures,
                `${where}: errors`,
              );
              break;
            }
            case "count": {
              const live = active();
              const topic = op.topic.split(".");
              assert.equal(
                soiree.listenerCount(op.topic),
                live.filter((l) => referenceMatch(l.segments, topic)).length,
                where,
              );
              const exactly = op.pattern.includes("*")
                ? live.filter((l) => l.pattern === op.pattern).length
                : live.filter((l) => referenceMatch(l.segments, op.pattern.split("."))).length;
              assert.equal(soiree.listenerCount(op.pattern), exactly, where);
              break;
            }
            case "waitFor": {
              const controller = new AbortController();
              const listener = add({
                kind: "waiter",
                label: -1,
                pattern: op.pattern,
                priority: op.priority,
                once: false,
                behaviour: "none",
                pick: 0,
                active: true,
                idRead: config.customIds,
                controller,
                settled: undefined,
              });
              soiree.waitFor(op.pattern, { priority: op.priority, signal: controller.signal })
                .then(
                  (event) => void (listener.settled = { event }),
                  (reason) => void (listener.settled = { reason }),
                );
              break;
            }
            case "events": {
              const listener = add({
                kind: "iterator",
                label: -1,
                pattern: op.pattern,
                priority: op.priority,
                once: false,
                behaviour: "none",
                pick: 0,
                active: true,
                idRead: config.customIds,
                accepted: [],
                bufferSize: op.bufferSize,
                reads: [],
              });
              listener.iterator = soiree.events(op.pattern, {
                priority: op.priority,
                bufferSize: op.bufferSize,
              });
              break;
            }
            case "read":
            case "end iterator": {
              const open = all.filter((l) => l.kind === "iterator" && l.active);
              if (open.length === 0) break;
              const l = open[op.pick % open.length];
              if (op.kind === "read") l.reads!.push(l.iterator!.next());
              else {
                l.active = false;
                assert.deepEqual(await l.iterator!.return!(), { done: true, value: undefined });
              }
              break;
            }
            case "invalid": {
              const [name, call, type, message] = INVALID_CALLS[op.pick % INVALID_CALLS.length];
              const before = { ...emitterAccess.internals(soiree), cacheSize: 0 };
              assert.throws(() => call(soiree), (error: Error) => {
                assert.ok(error instanceof type, `${name}: ${error}`);
                assert.match(error.message, message, name);
                return true;
              });
              assert.deepEqual(
                { ...emitterAccess.internals(soiree), cacheSize: 0 },
                before,
                `${name} changed nothing`,
              );
              break;
            }
            case "off missing": {
              const live = users.filter((l) => l.active);
              if (live.length > 0 && op.pick % 2 === 0) {
                const l = live[op.pick % live.length];
                const other = op.pattern === l.pattern ? `${op.pattern}.x` : op.pattern;
                const { id } = l.subscription!;
                l.idRead = true;
                assert.throws(() => soiree.off(other, id), ListenerNotFoundError, where);
              } else {
                assert.throws(() => soiree.off(op.pattern, "no such id"), (error: Error) => {
                  assert.ok(error instanceof ListenerNotFoundError);
                  assert.match(error.message, /"no such id"/);
                  return true;
                });
              }
              break;
            }
          }
          checkInvariants(where);
        }

        // Remove everything, each listener its own way: nothing may be left behind.
        let removed = 0;
        for (const l of all) {
          if (!l.active) continue;
          removed++;
          l.active = false;
          if (l.kind === "user") assert.equal(l.subscription!.off(), true);
          else if (l.kind === "waiter") l.controller!.abort(l.reason = new Error("given up"));
          else await l.iterator!.return!();
        }
        await ticks();
        checkInvariants("after removing everything");
        // The last removal also empties the dispatch cache.
        const { cacheSize, ...sizes } = emitterAccess.internals(soiree);
        assert.deepEqual(
          { ...sizes, cacheSize: removed > 0 ? cacheSize : 0 },
          EMPTY_INTERNALS,
        );

        // What the waiters and iterators got.
        for (const l of all) {
          if (l.kind === "waiter") {
            const { expected, settled } = l;
            assert.ok(settled !== undefined, "every waitFor() settled");
            if (expected === undefined) assert.equal(settled.reason, l.reason);
            else {
              assert.equal(settled.event?.topic, expected.topic);
              assert.equal(settled.event?.payload, expected.payload);
            }
          } else if (l.kind === "iterator") {
            const results = await Promise.all(l.reads!);
            results.forEach((result, i) => {
              if (i < l.accepted!.length) {
                assert.equal(result.done, false);
                assert.equal(result.value!.payload, l.accepted![i], `read ${i} of ${l.pattern}`);
              } else assert.deepEqual(result, { done: true, value: undefined });
            });
          }
        }

        // Closed: refusals of the documented kinds, nothing left.
        await soiree.close();
        assert.throws(() => soiree.on("a", () => {}), EmitterClosedError);
        assert.ok((await soiree.emit("a"))[0] instanceof EmitterClosedError);
        assert.ok(soiree.emitSync("a")[0] instanceof EmitterClosedError);
        await assert.rejects(soiree.close(), EmitterAlreadyClosedError);
        assert.deepEqual(emitterAccess.internals(soiree), EMPTY_INTERNALS);
      },
    ),
    params(400),
  );
  assert.ok(operations >= 50_000 * SCALE, `${operations} operations`);
  console.log(`fuzz: ${operations} operations (${emissions} emissions) checked against the model`);
});
