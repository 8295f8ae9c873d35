// Scenario 3: wildcards. Topic `a.b.c` reaches three listeners, through `a.b.c`, `a.*.c` and
// `a.**`, beside 10 to 100,000 unrelated subscriptions (one in ten of them a pattern); then the
// first (cold) emit of a topic never emitted before, and emits while subscriptions churn.
// eventemitter2 in wildcard mode is the peer; the floor calls the three listeners directly.
//
// Each iteration is OPS operations (so µs per iteration read as ns per operation), except in
// the churn groups, which run CHURN_OPS.

import { Soiree, type SoireeEvent } from "@x/soiree";
import { bench, EventEmitter2, listeners, OPS, sink, warmUp } from "./_peers.ts";

/** The sizes of the unrelated subscription sets. */
const SIZES = [10, 100, 1_000, 10_000, 100_000] as const;
/** The patterns that reach `a.b.c`. */
const MATCHING = ["a.b.c", "a.*.c", "a.**"] as const;
/** How many distinct new topics the cold bench cycles through (more than any cache holds). */
const COLD_TOPICS = 1 << 16;
/** The unrelated-subscription count of the cold and churn benches. */
const CHURN_SIZE = 1_000;
/** Operations per iteration of the churn benches (eventemitter2 takes about 1 ms for one). */
const CHURN_OPS = 100;

type Handler = (value: number) => void;
type SoireeListener = (event: SoireeEvent) => void;

/** The listeners of the matching patterns: distinct functions (see `listeners`). */
const plain = listeners<Handler>(MATCHING.length, "value", "value");
const onEvent = listeners<SoireeListener>(MATCHING.length, "event", "event.payload");
/** The listener of every unrelated subscription (never called). */
const idle = (): void => {};
/** The listeners of the churned subscriptions (never called either). */
const churnPlain = listeners<Handler>(1, "value", "value")[0];
const churnEvent = listeners<SoireeListener>(1, "event", "event.payload")[0];

function unrelated(i: number): string {
  return i % 10 === 0 ? `t${i}.*.c` : `t${i}.b.c`;
}

function build(size: number): { soiree: Soiree; ee2: InstanceType<typeof EventEmitter2> } {
  const soiree = new Soiree({ maxListeners: 0 });
  const ee2 = new EventEmitter2({ wildcard: true, maxListeners: 0 });
  for (let i = 0; i < size; i++) {
    const pattern = unrelated(i);
    soiree.on(pattern, idle);
    ee2.on(pattern, idle);
  }
  MATCHING.forEach((pattern, k) => {
    soiree.on(pattern, onEvent[k]);
    ee2.on(pattern, plain[k]);
  });
  return { soiree, ee2 };
}

const floor: Handler[] = plain;
const floorBench = (group: string, ops = OPS): void =>
  bench({
    name: "floor: direct calls",
    group,
    fn() {
      for (let i = 0; i < ops; i++) {
        for (let k = 0; k < floor.length; k++) floor[k](i);
      }
    },
  });

for (const size of SIZES) {
  const { soiree, ee2 } = build(size);
  const group = `wildcard: a.b.c via 3 patterns, ${size} unrelated subscriptions (×${OPS})`;
  bench({
    name: "soiree",
    group,
    baseline: true,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= soiree.emitSync("a.b.c", i).length;
    },
  });
  bench({
    name: "eventemitter2",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= Number(ee2.emit("a.b.c", i));
    },
  });
  floorBench(group);
}

/** Soiree and eventemitter2 emitting the topics in turn, each a new one until they wrap. */
function coldBenches(
  group: string,
  topics: readonly string[],
  { soiree, ee2 }: ReturnType<typeof build>,
): void {
  let next = 0;
  bench({
    name: "soiree",
    group,
    baseline: true,
    fn() {
      for (let i = 0; i < OPS; i++) {
        sink.value ^= soiree.emitSync(topics[next], i).length;
        next = (next + 1) & (COLD_TOPICS - 1);
      }
    },
  });
  bench({
    name: "eventemitter2",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) {
        sink.value ^= Number(ee2.emit(topics[next], i));
        next = (next + 1) & (COLD_TOPICS - 1);
      }
    },
  });
}

{
  // A new topic on every emit: `a.n<k>.c`, matched by `a.*.c` and `a.**`.
  const group = `wildcard: cold emit of a new topic, ${CHURN_SIZE} unrelated (×${OPS})`;
  coldBenches(group, Array.from({ length: COLD_TOPICS }, (_, k) => `a.n${k}.c`), build(CHURN_SIZE));
  floorBench(group);
}

{
  // "ID in the topic": `order.<n>.paid` with a new n on every emit, reached through
  // `order.*.paid`, beside the unrelated subscriptions: nearly every emission is a cold one.
  const emitters = build(CHURN_SIZE);
  emitters.soiree.on("order.*.paid", onEvent[0]);
  emitters.ee2.on("order.*.paid", plain[0]);
  coldBenches(
    `wildcard: ID in the topic, order.<n>.paid, ${CHURN_SIZE} unrelated (×${OPS})`,
    Array.from({ length: COLD_TOPICS }, (_, k) => `order.${k}.paid`),
    emitters,
  );
}

for (const size of [10, 100_000]) {
  // Cold emits as subscriptions grow (the 1,000 row is the cold group above): Soiree alone.
  const topics = Array.from({ length: COLD_TOPICS }, (_, k) => `a.n${k}.c`);
  const { soiree } = build(size);
  let next = 0;
  bench({
    name: "soiree",
    group: `wildcard: cold emit of a new topic, ${size} unrelated (×${OPS})`,
    baseline: true,
    fn() {
      for (let i = 0; i < OPS; i++) {
        sink.value ^= soiree.emitSync(topics[next], i).length;
        next = (next + 1) & (COLD_TOPICS - 1);
      }
    },
  });
}

for (const [kind, churned] of [["a pattern", "t.*.x"], ["an exact-topic", "t.q.x"]] as const) {
  // Per operation: subscribe an unrelated listener, emit `a.b.c`, unsubscribe it.
  const { soiree, ee2 } = build(CHURN_SIZE);
  const group =
    `wildcard: emit while ${kind} subscription churns, ${CHURN_SIZE} unrelated (×${CHURN_OPS})`;
  bench({
    name: "soiree",
    group,
    baseline: true,
    fn() {
      for (let i = 0; i < CHURN_OPS; i++) {
        const subscription = soiree.on(churned, churnEvent);
        sink.value ^= soiree.emitSync("a.b.c", i).length;
        subscription.off();
      }
    },
  });
  bench({
    name: "eventemitter2",
    group,
    fn() {
      for (let i = 0; i < CHURN_OPS; i++) {
        ee2.on(churned, churnPlain);
        sink.value ^= Number(ee2.emit("a.b.c", i));
        ee2.off(churned, churnPlain);
      }
    },
  });
  floorBench(group, CHURN_OPS);
}

await warmUp();
