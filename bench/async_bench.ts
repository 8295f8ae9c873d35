// Scenario 6: async. `await emit()` with one async listener (emittery, and eventemitter2's
// `emitAsync`, are the peers); then 10,000 emits of one async listener bounded by a pool of
// 16, beside p-limit and p-queue running the same async function 10,000 times at concurrency
// 16, Soiree's `Pool.submit` on its own, and unbounded runs for reference.
//
// The first groups run ASYNC_OPS sequential awaits per iteration (the second compares the two
// dispatch modes with 4 async listeners); the last one batch of POOLED emits, awaited together.

import { Pool, Soiree, type SoireeEvent } from "@x/soiree";
import {
  ASYNC_OPS,
  bench,
  Emittery,
  EventEmitter2,
  NodeEventEmitter,
  pLimit,
  PQueue,
  sink,
} from "./_peers.ts";
import { once } from "node:events";

/** Emits per iteration of the pooled group. */
const POOLED = 10_000;
/** The pool size of the pooled group. */
const CONCURRENCY = 16;
/**
 * Iterations of each pooled bench. A batch keeps 10,000 emissions alive at once, so old-space
 * collections land in some iterations and not others: more iterations than Deno's default
 * (about 25 here) steady the mean. p-queue, ten times slower, gets a fifth of them.
 */
const POOLED_ITERATIONS = 100;

const task = async (value: number): Promise<void> => {
  sink.value ^= value;
};
const soireeListener = async (event: SoireeEvent): Promise<void> => {
  sink.value ^= event.payload as number;
};
const emitteryListener = async ({ data }: { data: number }): Promise<void> => {
  sink.value ^= data;
};

{
  // "waitFor per request": wait for the event a request is about, emit it, settle; emittery's
  // once() and Node's events.once() are the peers.
  const group = `async: waitFor per request, subscribe + emit + settle (×${ASYNC_OPS})`;
  const soiree = new Soiree();
  const emittery = new Emittery<{ "request.done": number }>();
  const node = new NodeEventEmitter();
  bench({
    name: "soiree",
    group,
    baseline: true,
    async fn() {
      for (let i = 0; i < ASYNC_OPS; i++) {
        const done = soiree.waitFor("request.done");
        soiree.emitSync("request.done", i);
        sink.value ^= (await done).payload as number;
      }
    },
  });
  bench({
    name: "emittery once()",
    group,
    async fn() {
      for (let i = 0; i < ASYNC_OPS; i++) {
        const done = emittery.once("request.done");
        await emittery.emit("request.done", i);
        sink.value ^= (await done).data;
      }
    },
  });
  bench({
    name: "node:events once()",
    group,
    async fn() {
      for (let i = 0; i < ASYNC_OPS; i++) {
        const done = once(node, "request.done");
        node.emit("request.done", i);
        sink.value ^= (await done)[0] as number;
      }
    },
  });
}

for (const queued of [1_000, 10_000]) {
  // Tasks queued behind a busy slot that share one request-scoped signal: the cost per task
  // must not grow with their number.
  bench({
    name: "soiree Pool.submit",
    group: `async: ${queued} queued tasks sharing one signal (×${queued})`,
    baseline: true,
    async fn() {
      const pool = new Pool({ concurrency: 1 });
      const { signal } = new AbortController();
      let release = (): void => {};
      const busy = pool.submit(() => new Promise<void>((resolve) => (release = resolve)));
      const tasks: Promise<unknown>[] = [];
      for (let i = 0; i < queued; i++) tasks.push(pool.submit(() => i, { signal }));
      release();
      await Promise.all(tasks);
      await busy;
    },
  });
}

{
  // Dispatch modes: 4 async listeners of one priority, each awaited in turn (sequential, the
  // default) or started together (concurrent); emittery always starts them together.
  const group = `async: await emit(), 4 async listeners, sequential vs concurrent (×${ASYNC_OPS})`;
  const sequential = new Soiree();
  const concurrent = new Soiree({ dispatch: "concurrent" });
  const emittery = new Emittery<{ a: number }>();
  for (let i = 0; i < 4; i++) {
    sequential.on("a", soireeListener);
    concurrent.on("a", soireeListener);
    emittery.on("a", emitteryListener);
  }

  bench({
    name: "soiree sequential",
    group,
    baseline: true,
    async fn() {
      for (let i = 0; i < ASYNC_OPS; i++) sink.value ^= (await sequential.emit("a", i)).length;
    },
  });
  bench({
    name: "soiree concurrent",
    group,
    async fn() {
      for (let i = 0; i < ASYNC_OPS; i++) sink.value ^= (await concurrent.emit("a", i)).length;
    },
  });
  bench({
    name: "emittery",
    group,
    async fn() {
      for (let i = 0; i < ASYNC_OPS; i++) await emittery.emit("a", i);
    },
  });
}

{
  const group = `async: await emit(), 1 async listener (×${ASYNC_OPS})`;
  const soiree = new Soiree();
  const emittery = new Emittery<{ a: number }>();
  const ee2 = new EventEmitter2();
  soiree.on("a", soireeListener);
  emittery.on("a", emitteryListener);
  ee2.on("a", task);

  bench({
    name: "soiree",
    group,
    baseline: true,
    async fn() {
      for (let i = 0; i < ASYNC_OPS; i++) sink.value ^= (await soiree.emit("a", i)).length;
    },
  });
  bench({
    name: "emittery",
    group,
    async fn() {
      for (let i = 0; i < ASYNC_OPS; i++) await emittery.emit("a", i);
    },
  });
  bench({
    name: "eventemitter2 emitAsync",
    group,
    async fn() {
      for (let i = 0; i < ASYNC_OPS; i++) sink.value ^= (await ee2.emitAsync("a", i)).length;
    },
  });
  bench({
    name: "floor: await the listener",
    group,
    async fn() {
      for (let i = 0; i < ASYNC_OPS; i++) await task(i);
    },
  });
}

{
  const group = `async: ${POOLED} async emits through a pool of ${CONCURRENCY} (×${POOLED})`;
  const pooled = new Soiree({ pool: new Pool({ concurrency: CONCURRENCY }) });
  const unbounded = new Soiree();
  const pool = new Pool({ concurrency: CONCURRENCY });
  const limit = pLimit(CONCURRENCY);
  const queue = new PQueue({ concurrency: CONCURRENCY });
  pooled.on("job", soireeListener);
  unbounded.on("job", soireeListener);
  // Reused across iterations, so the bodies allocate only what the libraries allocate.
  const promises: Promise<unknown>[] = new Array(POOLED);
  const settle = async (): Promise<void> => {
    for (const result of await Promise.all(promises)) {
      if (Array.isArray(result)) sink.value ^= result.length;
    }
  };

  bench({
    name: "soiree",
    group,
    baseline: true,
    n: POOLED_ITERATIONS,
    async fn() {
      for (let i = 0; i < POOLED; i++) promises[i] = pooled.emit("job", i);
      await settle();
    },
  });
  bench({
    name: "soiree Pool.submit",
    group,
    n: POOLED_ITERATIONS,
    async fn() {
      for (let i = 0; i < POOLED; i++) promises[i] = pool.submit(() => task(i));
      await settle();
    },
  });
  bench({
    name: "p-limit",
    group,
    n: POOLED_ITERATIONS,
    async fn() {
      for (let i = 0; i < POOLED; i++) promises[i] = limit(task, i);
      await settle();
    },
  });
  bench({
    name: "p-queue",
    group,
    n: POOLED_ITERATIONS / 5,
    async fn() {
      for (let i = 0; i < POOLED; i++) promises[i] = queue.add(() => task(i));
      await settle();
    },
  });
  bench({
    name: "soiree, no pool (unbounded)",
    group,
    n: POOLED_ITERATIONS,
    async fn() {
      for (let i = 0; i < POOLED; i++) promises[i] = unbounded.emit("job", i);
      await settle();
    },
  });
  bench({
    name: "floor: unbounded calls",
    group,
    n: POOLED_ITERATIONS,
    async fn() {
      for (let i = 0; i < POOLED; i++) promises[i] = task(i);
      await settle();
    },
  });
}
