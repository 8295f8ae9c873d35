/**
 * Scenario 7 of the bench suite: heap bytes per registered listener and per queued emission,
 * measured with forced garbage collection (not a timed bench).
 *
 * Each case builds its emitter, collects garbage and reads `heapUsed`, adds N items, lets
 * microtasks settle, collects again and reads `heapUsed` again; the difference over N is the
 * cost of one item. Listeners reuse one function and payloads are small integers, so neither
 * the listener function nor the payload is counted. Every case is first run once at a small N
 * so that compiling its code is not counted either.
 *
 * Usage: `deno run --v8-flags=--expose-gc scripts/memory.ts [--json]`
 *
 * @module
 */

import { Pool, Soiree } from "../mod.ts";
import { Emittery, EventEmitter3, pLimit } from "../bench/_peers.ts";

/** Items per measurement. */
const N = 100_000;
/** Items per warm-up run. */
const WARM_UP = 1_000;

/** One measured figure. */
export interface MemoryResult {
  /** What one item is: a listener, an emission, or a topic emitted once (the dispatch cache). */
  kind: "listener" | "emission" | "topic";
  /** The library and the shape of the case. */
  name: string;
  /** Heap bytes per item. */
  bytes: number;
}

/**
 * A case: `setup(n)` builds its state, `add()` adds n items, `release()` settles what is
 * pending; the state is then dropped whole (closing an emitter with 100,000 listeners on one
 * topic would measure its teardown, not its memory).
 */
interface Case {
  kind: MemoryResult["kind"];
  name: string;
  setup(n: number): { add(): void; release(): Promise<void> };
}

const gc = (globalThis as { gc?: () => void }).gc;
const listener = (): void => {};

/** A promise that stays pending until `open()` is called. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Keys for n listeners: one shared topic, or one per listener. */
const oneTopic = (n: number): string[] => Array.from({ length: n }, () => "topic");
const topicEach = (n: number): string[] => Array.from({ length: n }, (_, i) => `topic.${i}`);
const patternEach = (n: number): string[] => Array.from({ length: n }, (_, i) => `topic.${i}.*`);

/** A listener case: subscribe the shared listener n times, to the keys `keys(n)` gives. */
function listenerCase(
  name: string,
  create: () => { on(key: string, fn: () => void): unknown },
  keys: (n: number) => string[],
): Case {
  return {
    kind: "listener",
    name,
    setup(n) {
      const emitter = create();
      const names = keys(n);
      return {
        add: () => {
          for (let i = 0; i < n; i++) emitter.on(names[i], listener);
        },
        release: () => Promise.resolve(),
      };
    },
  };
}

const CASES: Case[] = [
  listenerCase("soiree, one topic", () => new Soiree({ maxListeners: 0 }), oneTopic),
  listenerCase("soiree, a topic each", () => new Soiree(), topicEach),
  listenerCase("soiree, a pattern each (topic.<i>.*)", () => new Soiree(), patternEach),
  listenerCase("eventemitter3, one topic", () => new EventEmitter3(), oneTopic),
  listenerCase("eventemitter3, a topic each", () => new EventEmitter3(), topicEach),
  {
    // The dispatch cache must stay bounded: 100,000 distinct topics, each emitted once.
    kind: "topic",
    name: "soiree, distinct topics emitted once (topic.<i>.x via topic.*.x)",
    setup(n) {
      const soiree = new Soiree();
      soiree.on("topic.*.x", listener);
      const topics = Array.from({ length: n }, (_, i) => `topic.${i}.x`);
      return {
        add: () => {
          for (let i = 0; i < n; i++) soiree.emitSync(topics[i]);
        },
        release: () => Promise.resolve(),
      };
    },
  },
  {
    kind: "emission",
    name: "soiree, queued on a pool of 1",
    setup(n) {
      const { promise, open } = gate();
      const soiree = new Soiree({ pool: new Pool({ concurrency: 1 }) });
      soiree.on("job", () => promise);
      return {
        add: () => {
          for (let i = 0; i < n; i++) soiree.emit("job", i);
        },
        release: async () => {
          open();
          await soiree.close();
        },
      };
    },
  },
  {
    kind: "emission",
    name: "soiree, in flight (no pool), awaiting its listener",
    setup(n) {
      const { promise, open } = gate();
      const soiree = new Soiree();
      soiree.on("job", () => promise);
      return {
        add: () => {
          for (let i = 0; i < n; i++) soiree.emit("job", i);
        },
        release: async () => {
          open();
          await soiree.close();
        },
      };
    },
  },
  {
    kind: "emission",
    name: "soiree Pool.submit, queued on a pool of 1",
    setup(n) {
      const { promise, open } = gate();
      const pool = new Pool({ concurrency: 1 });
      const task = () => promise;
      return {
        add: () => {
          for (let i = 0; i < n; i++) pool.submit(task);
        },
        release: async () => {
          open();
          await pool.close();
        },
      };
    },
  },
  {
    kind: "emission",
    name: "p-limit(1), queued",
    setup(n) {
      const { promise, open } = gate();
      const limit = pLimit(1);
      const task = () => promise;
      return {
        add: () => {
          for (let i = 0; i < n; i++) limit(task);
        },
        release: async () => {
          open();
          while (limit.activeCount + limit.pendingCount > 0) await settle();
        },
      };
    },
  },
  {
    kind: "emission",
    name: "emittery, in flight, awaiting its listener",
    setup(n) {
      const { promise, open } = gate();
      const emittery = new Emittery<{ job: number }>();
      emittery.on("job", () => promise);
      return {
        add: () => {
          for (let i = 0; i < n; i++) emittery.emit("job", i);
        },
        release: async () => {
          open();
          await emittery.emit("job", 0);
        },
      };
    },
  },
];

function heapUsed(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

async function measure(item: Case, n: number): Promise<number> {
  const state = item.setup(n);
  await settle();
  const before = heapUsed();
  state.add();
  await settle();
  const after = heapUsed();
  await state.release();
  return (after - before) / n;
}

/**
 * Measures every case.
 *
 * @returns Bytes per item, case by case.
 */
export async function measureAll(): Promise<MemoryResult[]> {
  if (gc === undefined) {
    throw new Error("Cannot force garbage collection: run with --v8-flags=--expose-gc");
  }
  const results: MemoryResult[] = [];
  for (const item of CASES) {
    await measure(item, WARM_UP);
    const bytes = await measure(item, N);
    results.push({ kind: item.kind, name: item.name, bytes: Math.round(bytes) });
  }
  return results;
}

if (import.meta.main) {
  const results = await measureAll();
  if (Deno.args.includes("--json")) {
    console.log(JSON.stringify(results));
  } else {
    console.log(`Heap bytes per item (N = ${N.toLocaleString("en-US")}, forced GC)`);
    for (const { kind, name, bytes } of results) {
      console.log(`${kind.padEnd(9)} ${name.padEnd(52)} ${String(bytes).padStart(6)} B`);
    }
  }
}
