import { test } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../src/pool.ts";
import type { PoolStats } from "../src/pool_options.ts";
import { suspendSlot } from "../src/_pool_jobs.ts";
import { PoolClosedError, QueueFullError } from "../src/errors.ts";
import { type Gate, gate, prng, ticks } from "./_util.ts";

// ---------------------------------------------------------------------------------------------
// Helpers: gates instead of sleeps, microtask delays instead of wall time, a seeded PRNG.

/** Asserts the counters add up: submitted = completed + running + waiting + dropped. */
function assertInvariant(pool: Pool): PoolStats {
  const stats = pool.stats();
  assert.equal(stats.completed, stats.successful + stats.failed);
  assert.equal(
    stats.submitted,
    stats.completed + stats.running + stats.waiting + stats.dropped,
    `counters do not add up: ${JSON.stringify(stats)}`,
  );
  assert.equal(stats.running, pool.running);
  assert.equal(stats.waiting, pool.waiting);
  assert.ok(stats.started >= stats.completed + stats.running, `started: ${JSON.stringify(stats)}`);
  assert.ok(stats.started + stats.dropped <= stats.submitted, `started: ${JSON.stringify(stats)}`);
  return stats;
}

/** Records how many tasks run at once and the peak. */
function tracker(): {
  enter(): void;
  leave(): void;
  readonly active: number;
  readonly peak: number;
} {
  let active = 0;
  let peak = 0;
  return {
    enter() {
      active++;
      if (active > peak) peak = active;
    },
    leave() {
      active--;
    },
    get active() {
      return active;
    },
    get peak() {
      return peak;
    },
  };
}

/** A task that runs until its gate opens. */
function blocker(pool: Pool): { gate: Gate; result: Promise<void> } {
  const g = gate();
  return { gate: g, result: pool.submit(() => g.promise) };
}

// ---------------------------------------------------------------------------------------------
// Construction and validation

test("new Pool() has the documented defaults", () => {
  const pool = new Pool();
  assert.equal(pool.concurrency, 16);
  assert.equal(pool.capacity, Infinity);
  assert.match(pool.name, /^pool-\d+$/);
  assert.equal(pool.isClosed, false);
  assert.equal(pool.running, 0);
  assert.equal(pool.waiting, 0);
  assert.deepEqual(pool.stats(), {
    submitted: 0,
    started: 0,
    running: 0,
    waiting: 0,
    blocked: 0,
    successful: 0,
    failed: 0,
    completed: 0,
    dropped: 0,
  });
});

test("new Pool() rejects invalid options with RangeError or TypeError naming what arrived", () => {
  const cases: [unknown, ErrorConstructor, string][] = [
    [
      { concurrency: 0 },
      RangeError,
      "Cannot create the pool as 'concurrency' must be a positive integer: received 0 (number)",
    ],
    [{ concurrency: -1 }, RangeError, "received -1 (number)"],
    [{ concurrency: 1.5 }, RangeError, "received 1.5 (number)"],
    [{ concurrency: NaN }, RangeError, "received NaN (number)"],
    [{ concurrency: Infinity }, RangeError, "received Infinity (number)"],
    [
      { concurrency: "4" },
      TypeError,
      `Cannot create the pool as 'concurrency' must be a number: received "4" (string)`,
    ],
    [
      { capacity: -1 },
      RangeError,
      "Cannot create the pool as 'capacity' must be a non-negative integer or Infinity: received -1 (number)",
    ],
    [{ capacity: 2.5 }, RangeError, "received 2.5 (number)"],
    [{ capacity: NaN }, RangeError, "received NaN (number)"],
    [{ capacity: null }, TypeError, "'capacity' must be a number: received null"],
    [
      { whenFull: "drop" },
      TypeError,
      `Cannot create the pool as 'whenFull' must be "wait" or "reject": received "drop" (string)`,
    ],
    [
      { name: 5 },
      TypeError,
      "Cannot create the pool as 'name' must be a string: received 5 (number)",
    ],
    [4, TypeError, "Cannot create the pool as 'options' must be an object: received 4 (number)"],
    [null, TypeError, "'options' must be an object: received null"],
  ];
  for (const [options, ErrorClass, message] of cases) {
    assert.throws(
      () => new Pool(options as never),
      (error: unknown) => {
        assert.ok(error instanceof ErrorClass, `${JSON.stringify(options)}: ${error}`);
        assert.ok(error.message.includes(message), `${error.message} lacks ${message}`);
        return true;
      },
    );
  }
});

test("new Pool() accepts capacity 0 and Infinity and a concurrency of 1", () => {
  assert.equal(new Pool({ capacity: 0 }).capacity, 0);
  assert.equal(new Pool({ capacity: Infinity }).capacity, Infinity);
  assert.equal(new Pool({ concurrency: 1 }).concurrency, 1);
});

test("Pool.submit() throws TypeError for a task that is not a function or a bad signal", () => {
  const pool = new Pool();
  assert.throws(
    () => pool.submit("task" as never),
    {
      name: "TypeError",
      message: `Cannot submit the task as 'task' must be a function: received "task" (string)`,
    },
  );
  assert.throws(
    () => pool.submit(() => 1, { signal: {} as never }),
    {
      name: "TypeError",
      message: "Cannot submit the task as 'signal' must be an AbortSignal: received an object",
    },
  );
  assert.throws(() => pool.trySubmit(null as never), TypeError);
  assert.equal(pool.stats().submitted, 0);
});

test("Pool.toString() shows the name and live figures", async () => {
  const pool = new Pool({ concurrency: 2, name: "mail" });
  const { gate: g, result } = blocker(pool);
  assert.equal(String(pool), 'Pool "mail" (running 1/2, waiting 0)');
  g.open();
  await result;
});

// ---------------------------------------------------------------------------------------------
// submit()

test("Pool.submit() resolves with what the task returns, sync, async or thenable", async () => {
  const pool = new Pool({ concurrency: 2 });
  assert.equal(await pool.submit(() => 1), 1);
  assert.equal(await pool.submit(async () => "two"), "two");
  const thenable: PromiseLike<number> = { then: (resolve) => resolve?.(3) as never };
  assert.equal(await pool.submit(() => thenable), 3);
  assert.equal(pool.stats().successful, 3);
});

test("Pool.submit() starts the task inside the call when a slot is free", async () => {
  const pool = new Pool({ concurrency: 1 });
  let started = false;
  const result = pool.submit(() => {
    started = true;
  });
  assert.equal(started, true);
  assert.equal(pool.running, 1);
  await result;
});

test("Pool.submit() turns a synchronous throw into a rejection and frees the slot", async () => {
  const pool = new Pool({ concurrency: 1 });
  const boom = new Error("boom");
  let result: Promise<never> | undefined;
  assert.doesNotThrow(() => {
    result = pool.submit(() => {
      throw boom;
    });
  });
  const after = pool.submit(() => "after");
  await assert.rejects(result!, (error) => error === boom);
  assert.equal(await after, "after");
  assert.equal(pool.stats().failed, 1);
  assert.equal(pool.stats().successful, 1);
});

test("Pool.submit() rejects with an async task's error, frees the slot and the pool goes on", async () => {
  const pool = new Pool({ concurrency: 1 });
  const results = await Promise.allSettled([
    pool.submit(async () => {
      await ticks(2);
      throw new Error("first");
    }),
    pool.submit(() => Promise.reject(new Error("second"))),
    pool.submit(async () => "third"),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected", "fulfilled"]);
  assert.equal((results[0] as PromiseRejectedResult).reason.message, "first");
  assert.equal(pool.running, 0);
  assert.deepEqual(
    [pool.stats().failed, pool.stats().successful, pool.stats().completed],
    [2, 1, 3],
  );
});

test("Pool.submit() counts the task as finished before the caller's await resumes", async () => {
  const pool = new Pool({ concurrency: 1 });
  await pool.submit(() => "done");
  assert.equal(pool.running, 0);
  assert.equal(pool.stats().successful, 1);
  await pool.submit(() => Promise.reject(new Error("x"))).catch(() => {});
  assert.equal(pool.stats().failed, 1);
});

test("Pool.submit() never runs more than concurrency tasks under 10,000 random submissions", async () => {
  const random = prng(42);
  const concurrency = 16;
  const pool = new Pool({ concurrency });
  const track = tracker();
  const promises: Promise<number>[] = [];
  for (let i = 0; i < 10_000; i++) {
    const delay = Math.floor(random() * 8);
    const fails = random() < 0.05;
    promises.push(pool.submit(async () => {
      track.enter();
      assert.ok(pool.running <= concurrency);
      if (i % 97 === 0) assertInvariant(pool);
      await ticks(delay);
      track.leave();
      if (fails) throw new Error(`task ${i}`);
      return i;
    }));
    if (i % 500 === 0) {
      assertInvariant(pool);
      await ticks(Math.floor(random() * 20));
    }
  }
  assertInvariant(pool);
  const results = await Promise.allSettled(promises);
  assert.equal(track.peak, concurrency);
  assert.equal(track.active, 0);
  let failed = 0;
  results.forEach((result, i) => {
    if (result.status === "fulfilled") assert.equal(result.value, i);
    else failed++;
  });
  const stats = assertInvariant(pool);
  assert.equal(stats.submitted, 10_000);
  assert.equal(stats.completed, 10_000);
  assert.equal(stats.failed, failed);
  assert.equal(stats.running + stats.waiting + stats.dropped, 0);
});

test("Pool.submit() starts queued tasks in FIFO order", async () => {
  const random = prng(7);
  const pool = new Pool({ concurrency: 3 });
  const started: number[] = [];
  const all: Promise<void>[] = [];
  for (let i = 0; i < 200; i++) {
    const delay = Math.floor(random() * 10);
    all.push(pool.submit(async () => {
      started.push(i);
      await ticks(delay);
    }));
  }
  await Promise.all(all);
  assert.deepEqual(started, Array.from({ length: 200 }, (_, i) => i));
});

test("Pool.submit() drains a long queue of synchronous tasks without overflowing the stack", async () => {
  const pool = new Pool({ concurrency: 1 });
  let count = 0;
  const all: Promise<number>[] = [];
  for (let i = 0; i < 100_000; i++) all.push(pool.submit(() => count++));
  await pool.onIdle();
  assert.equal(count, 100_000);
  assert.equal((await Promise.all(all)).at(-1), 99_999);
});

// ---------------------------------------------------------------------------------------------
// whenFull

test('Pool.submit() waits for room when the queue is full and whenFull is "wait"', async () => {
  const pool = new Pool({ concurrency: 1, capacity: 1 });
  const order: string[] = [];
  const first = blocker(pool);
  const second = pool.submit(() => order.push("second"));
  const third = pool.submit(() => order.push("third"));
  let stats = assertInvariant(pool);
  assert.deepEqual([stats.running, stats.waiting, stats.blocked, stats.dropped], [1, 2, 1, 0]);
  first.gate.open();
  await Promise.all([first.result, second, third]);
  assert.deepEqual(order, ["second", "third"]);
  stats = assertInvariant(pool);
  assert.deepEqual([stats.completed, stats.blocked, stats.dropped], [3, 1, 0]);
});

test("Pool.submit() lets blocked submissions in FIFO order", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 2 });
  const order: number[] = [];
  const first = blocker(pool);
  const all = Array.from({ length: 10 }, (_, i) => pool.submit(() => order.push(i)));
  assert.equal(pool.stats().blocked, 8);
  assert.equal(pool.waiting, 10);
  first.gate.open();
  await Promise.all(all);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('Pool.submit() with capacity 0 and whenFull "wait" runs the task when a slot frees', async () => {
  const pool = new Pool({ concurrency: 1, capacity: 0 });
  const first = blocker(pool);
  let ran = false;
  const second = pool.submit(() => {
    ran = true;
  });
  assert.equal(ran, false);
  assert.deepEqual([pool.waiting, pool.stats().blocked], [1, 1]);
  first.gate.open();
  await second;
  assert.equal(ran, true);
});

test("Pool.submit() rejects with QueueFullError when the queue is full", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 1, whenFull: "reject", name: "mail" });
  const first = blocker(pool);
  const second = pool.submit(() => "second");
  let ran = false;
  const third = pool.submit(() => {
    ran = true;
  });
  await assert.rejects(third, (error: unknown) => {
    assert.ok(error instanceof QueueFullError);
    assert.equal(error.message, 'Cannot submit the task as the queue of "mail" is full: 1 waiting');
    return true;
  });
  const stats = assertInvariant(pool);
  assert.deepEqual([stats.submitted, stats.dropped, stats.blocked, stats.waiting], [3, 1, 0, 1]);
  first.gate.open();
  assert.equal(await second, "second");
  assert.equal(ran, false);
});

// ---------------------------------------------------------------------------------------------
// trySubmit()

test("Pool.trySubmit() returns a promise when the task can start or be queued", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 1 });
  const g = gate();
  const first = pool.trySubmit(() => g.promise);
  const second = pool.trySubmit(() => "queued");
  assert.ok(first instanceof Promise);
  assert.ok(second instanceof Promise);
  assert.deepEqual([pool.running, pool.waiting], [1, 1]);
  g.open();
  assert.equal(await second, "queued");
});

test("Pool.trySubmit() returns undefined and counts nothing when the queue is full", async () => {
  for (const whenFull of ["wait", "reject"] as const) {
    const pool = new Pool({ concurrency: 1, capacity: 1, whenFull });
    const first = blocker(pool);
    pool.submit(() => {});
    const before = pool.stats();
    let ran = false;
    assert.equal(
      pool.trySubmit(() => {
        ran = true;
      }),
      undefined,
    );
    assert.deepEqual(pool.stats(), before);
    first.gate.open();
    await pool.onIdle();
    assert.equal(ran, false);
  }
});

test("Pool.trySubmit() does not jump ahead of blocked submissions", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 0 });
  const first = blocker(pool);
  const waiting = pool.submit(() => "blocked");
  assert.equal(pool.trySubmit(() => "jumper"), undefined);
  first.gate.open();
  assert.equal(await waiting, "blocked");
});

test("Pool.trySubmit() rejects like submit() on a closed pool or an aborted signal", async () => {
  const pool = new Pool();
  const reason = new Error("stop");
  await assert.rejects(
    pool.trySubmit(() => 1, { signal: AbortSignal.abort(reason) })!,
    (e) => e === reason,
  );
  await pool.close();
  await assert.rejects(pool.trySubmit(() => 1)!, PoolClosedError);
  assert.equal(pool.stats().submitted, 0);
});

// ---------------------------------------------------------------------------------------------
// signal

test("Pool.submit() withdraws a queued task when its signal aborts", async () => {
  const pool = new Pool({ concurrency: 1 });
  const first = blocker(pool);
  const controller = new AbortController();
  let ran = false;
  const withdrawn = pool.submit(() => {
    ran = true;
  }, { signal: controller.signal });
  const after = pool.submit(() => "after");
  const reason = new Error("not needed");
  controller.abort(reason);
  await assert.rejects(withdrawn, (e) => e === reason);
  let stats = assertInvariant(pool);
  assert.deepEqual([stats.waiting, stats.dropped], [1, 1]);
  first.gate.open();
  assert.equal(await after, "after");
  assert.equal(ran, false);
  stats = assertInvariant(pool);
  assert.deepEqual([stats.submitted, stats.completed, stats.dropped], [3, 2, 1]);
});

test("Pool.submit() withdraws a blocked submission when its signal aborts", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 1 });
  const first = blocker(pool);
  const queued = pool.submit(() => "queued");
  const controller = new AbortController();
  const blocked = pool.submit(() => "blocked", { signal: controller.signal });
  const last = pool.submit(() => "last");
  controller.abort();
  await assert.rejects(blocked, { name: "AbortError" });
  assertInvariant(pool);
  first.gate.open();
  assert.deepEqual(await Promise.all([queued, last]), ["queued", "last"]);
  assert.deepEqual([pool.stats().blocked, pool.stats().dropped], [2, 1]);
});

test("Pool.submit() rejects at once with the reason of an already aborted signal, uncounted", async () => {
  const pool = new Pool({ concurrency: 1 });
  const reason = new Error("too late");
  let ran = false;
  await assert.rejects(
    pool.submit(() => {
      ran = true;
    }, { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(ran, false);
  assert.deepEqual(assertInvariant(pool), {
    submitted: 0,
    started: 0,
    running: 0,
    waiting: 0,
    blocked: 0,
    successful: 0,
    failed: 0,
    completed: 0,
    dropped: 0,
  });
});

test("Pool.submit() ignores a signal that aborts after the task started", async () => {
  const pool = new Pool({ concurrency: 1 });
  const controller = new AbortController();
  const g = gate();
  const result = pool.submit(async () => {
    await g.promise;
    return "finished";
  }, { signal: controller.signal });
  controller.abort();
  g.open();
  assert.equal(await result, "finished");
  assert.equal(pool.stats().dropped, 0);
});

test("Pool.submit() stops listening to the signal once the task starts", async () => {
  const pool = new Pool({ concurrency: 1 });
  const controller = new AbortController();
  const first = blocker(pool);
  const second = pool.submit(() => "ok", { signal: controller.signal });
  first.gate.open();
  assert.equal(await second, "ok");
  controller.abort();
  assert.equal(pool.stats().dropped, 0);
  assertInvariant(pool);
});

// ---------------------------------------------------------------------------------------------
// resize()

test("Pool.resize() to a larger bound starts queued tasks at once", async () => {
  const pool = new Pool({ concurrency: 1 });
  const gates = Array.from({ length: 4 }, gate);
  const all = gates.map((g) => pool.submit(() => g.promise));
  assert.deepEqual([pool.running, pool.waiting], [1, 3]);
  pool.resize(3);
  assert.equal(pool.concurrency, 3);
  assert.deepEqual([pool.running, pool.waiting], [3, 1]);
  for (const g of gates) g.open();
  await Promise.all(all);
});

test("Pool.resize() to a smaller bound lets running tasks finish and starts none until below it", async () => {
  const pool = new Pool({ concurrency: 3 });
  const track = tracker();
  const gates = Array.from({ length: 8 }, gate);
  const all = gates.map((g) =>
    pool.submit(async () => {
      track.enter();
      await g.promise;
      track.leave();
    })
  );
  assert.equal(pool.running, 3);
  pool.resize(1);
  assert.equal(pool.running, 3);
  gates[0].open();
  gates[1].open();
  await ticks(10);
  assert.deepEqual([pool.running, track.active], [1, 1]);
  assert.equal(pool.waiting, 5);
  gates[2].open();
  await ticks(10);
  assert.deepEqual([pool.running, track.active], [1, 1]);
  for (const g of gates) g.open();
  await Promise.all(all);
  assert.equal(track.peak, 3);
});

test("Pool.resize() rejects an invalid bound without changing the pool", () => {
  const pool = new Pool({ concurrency: 2 });
  assert.throws(() => pool.resize(0), {
    name: "RangeError",
    message:
      "Cannot resize the pool as 'concurrency' must be a positive integer: received 0 (number)",
  });
  assert.throws(() => pool.resize("3" as never), TypeError);
  assert.equal(pool.concurrency, 2);
});

// ---------------------------------------------------------------------------------------------
// onIdle() and onEmpty()

test("Pool.onIdle() resolves at once when idle and after the last task otherwise", async () => {
  const pool = new Pool({ concurrency: 2 });
  await pool.onIdle();
  const gates = Array.from({ length: 3 }, gate);
  const done: number[] = [];
  gates.forEach((g, i) => pool.submit(() => g.promise.then(() => done.push(i))));
  let idle = false;
  const idlePromise = pool.onIdle().then(() => (idle = true));
  gates[2].open();
  gates[0].open();
  await ticks(10);
  assert.equal(idle, false);
  gates[1].open();
  await idlePromise;
  assert.deepEqual(done.sort(), [0, 1, 2]);
  assert.deepEqual([pool.running, pool.waiting], [0, 0]);
});

test("Pool.onEmpty() resolves when nothing waits while tasks still run", async () => {
  const pool = new Pool({ concurrency: 1 });
  await pool.onEmpty();
  const first = blocker(pool);
  const second = blocker(pool);
  let empty = false;
  const emptyPromise = pool.onEmpty().then(() => (empty = true));
  await ticks(5);
  assert.equal(empty, false);
  first.gate.open();
  await emptyPromise;
  assert.deepEqual([pool.running, pool.waiting], [1, 0]);
  second.gate.open();
  await second.result;
});

test("Pool.onIdle() resolves when withdrawals leave nothing to do", async () => {
  const pool = new Pool({ concurrency: 1 });
  const first = blocker(pool);
  const controller = new AbortController();
  const queued = pool.submit(() => {}, { signal: controller.signal });
  queued.catch(() => {});
  const empty = pool.onEmpty();
  controller.abort();
  await empty;
  first.gate.open();
  await pool.onIdle();
  assertInvariant(pool);
});

test("Pool.onIdle() called many times in a loop settles every call", async () => {
  const pool = new Pool({ concurrency: 4 });
  for (let round = 0; round < 1_000; round++) {
    pool.submit(() => ticks(round % 3));
    await pool.onIdle();
    assert.equal(pool.running, 0);
  }
  assert.equal(pool.stats().completed, 1_000);
});

// ---------------------------------------------------------------------------------------------
// stats()

test("Pool.stats() counters add up at every step of a random workload", async () => {
  const random = prng(2024);
  const pool = new Pool({ concurrency: 3, capacity: 5 });
  const rejectingPool = new Pool({ concurrency: 2, capacity: 2, whenFull: "reject" });
  const controllers: AbortController[] = [];
  const pending: Promise<unknown>[] = [];
  for (let step = 0; step < 3_000; step++) {
    const target = random() < 0.5 ? pool : rejectingPool;
    const roll = random();
    const delay = Math.floor(random() * 6);
    const task = async () => {
      assertInvariant(target);
      await ticks(delay);
      if (roll < 0.1) throw new Error("task failed");
      return step;
    };
    if (roll < 0.6) {
      pending.push(target.submit(task).catch(() => {}));
    } else if (roll < 0.75) {
      const controller = new AbortController();
      controllers.push(controller);
      pending.push(target.submit(task, { signal: controller.signal }).catch(() => {}));
    } else if (roll < 0.85) {
      target.trySubmit(task)?.catch(() => {});
    } else if (roll < 0.92) {
      controllers.splice(Math.floor(random() * controllers.length), 1)[0]?.abort();
    } else if (roll < 0.96) {
      target.resize(1 + Math.floor(random() * 4));
    } else {
      await ticks(delay);
    }
    assertInvariant(pool);
    assertInvariant(rejectingPool);
  }
  for (const controller of controllers) controller.abort();
  await Promise.all(pending);
  await Promise.all([pool.onIdle(), rejectingPool.onIdle()]);
  for (const p of [pool, rejectingPool]) {
    const stats = assertInvariant(p);
    assert.equal(stats.running + stats.waiting, 0);
    assert.ok(stats.completed > 0);
  }
  assert.ok(pool.stats().blocked > 0, "the waiting pool never blocked");
  assert.ok(rejectingPool.stats().dropped > 0, "the rejecting pool never dropped");
});

test("Pool.stats() returns a new snapshot that does not change", async () => {
  const pool = new Pool();
  const before = pool.stats();
  await pool.submit(() => {});
  assert.equal(before.submitted, 0);
  assert.notEqual(pool.stats(), pool.stats());
});

// ---------------------------------------------------------------------------------------------
// map()

async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = [];
  for await (const value of iterator) values.push(value);
  return values;
}

test("Pool.map() yields results in input order whatever order they finish in", async () => {
  const random = prng(99);
  const pool = new Pool({ concurrency: 4 });
  const input = Array.from({ length: 100 }, (_, i) => i);
  const delays = input.map(() => Math.floor(random() * 20));
  const output = await collect(pool.map(input, async (n) => {
    await ticks(delays[n]);
    return n * 2;
  }));
  assert.deepEqual(output, input.map((n) => n * 2));
  assert.equal(pool.stats().completed, 100);
});

test("Pool.map() accepts an async iterable and a sync fn", async () => {
  const pool = new Pool({ concurrency: 2 });
  async function* source(): AsyncGenerator<string> {
    yield "a";
    await ticks(3);
    yield "b";
    yield "c";
  }
  assert.deepEqual(await collect(pool.map(source(), (s) => s.toUpperCase())), ["A", "B", "C"]);
});

test("Pool.map() of an empty iterable yields nothing", async () => {
  const pool = new Pool();
  assert.deepEqual(await collect(pool.map([], (n: number) => n)), []);
  assert.equal(pool.stats().submitted, 0);
});

test("Pool.map() runs at most concurrency items at a time", async () => {
  const random = prng(5);
  const pool = new Pool({ concurrency: 3 });
  const track = tracker();
  await collect(pool.map(Array.from({ length: 200 }, (_, i) => i), async () => {
    track.enter();
    await ticks(Math.floor(random() * 10));
    track.leave();
  }));
  assert.equal(track.peak, 3);
});

test("Pool.map() shares the pool's bound with the pool's other tasks", async () => {
  const random = prng(11);
  const pool = new Pool({ concurrency: 4 });
  const track = tracker();
  const others = Array.from({ length: 50 }, () =>
    pool.submit(async () => {
      track.enter();
      await ticks(Math.floor(random() * 10));
      track.leave();
    }));
  const mapped = collect(pool.map(Array.from({ length: 50 }, (_, i) => i), async (n) => {
    track.enter();
    assert.ok(pool.running <= 4);
    await ticks(Math.floor(random() * 10));
    track.leave();
    return n;
  }));
  assert.equal((await mapped).length, 50);
  await Promise.all(others);
  assert.equal(track.peak, 4);
  assert.equal(pool.stats().completed, 100);
});

test("Pool.map() keeps at most concurrency of its items in the pool, even for an endless iterable", async () => {
  const pool = new Pool({ concurrency: 2 });
  let pulled = 0;
  let closed = false;
  function* endless(): Generator<number> {
    try {
      while (true) yield pulled++;
    } finally {
      closed = true;
    }
  }
  const seen: number[] = [];
  for await (
    const n of pool.map(endless(), async (n) => {
      assert.ok(pool.running + pool.waiting <= 2);
      await ticks(1);
      return n;
    })
  ) {
    seen.push(n);
    assert.ok(pool.running + pool.waiting <= 2);
    if (seen.length === 100) break;
  }
  assert.equal(closed, true);
  assert.ok(pulled <= 104, `pulled ${pulled} items`);
  await pool.onIdle();
  assertInvariant(pool);
});

test("Pool.map() pauses pulling while a slow consumer falls behind", async () => {
  const pool = new Pool({ concurrency: 2 });
  let pulled = 0;
  function* endless(): Generator<number> {
    while (true) yield pulled++;
  }
  let consumed = 0;
  for await (const n of pool.map(endless(), (n) => n)) {
    assert.equal(n, consumed++);
    await ticks(50);
    // At most 2 in flight plus 2 finished results wait, besides the one being consumed.
    assert.ok(pulled - consumed <= 4, `pulled ${pulled}, consumed ${consumed}`);
    if (consumed === 20) break;
  }
  await pool.onIdle();
});

test("Pool.map() lets a slow item hold back yielding, not the running of the items after it", async () => {
  const pool = new Pool({ concurrency: 3 });
  const slow = gate();
  const started: number[] = [];
  const iterator = pool.map([0, 1, 2, 3, 4, 5, 6, 7], async (n) => {
    started.push(n);
    if (n === 0) await slow.promise;
    return n;
  });
  const first = iterator.next();
  await ticks(20);
  // Item 0 holds a slot; 1..4 ran through the other two; then 3 finished results wait.
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  slow.open();
  assert.deepEqual(await first, { value: 0, done: false });
  const rest: number[] = [];
  for await (const n of iterator) rest.push(n);
  assert.deepEqual(rest, [1, 2, 3, 4, 5, 6, 7]);
});

test("Pool.map() after a failure starts no new item, yields the results before it, then throws AggregateError", async () => {
  const pool = new Pool({ concurrency: 3 });
  const gates = Array.from({ length: 3 }, gate);
  const started: number[] = [];
  const first = new Error("item 1");
  const third = new Error("item 2");
  const iterator = pool.map([0, 1, 2, 3, 4, 5], async (n) => {
    started.push(n);
    if (n === 1) throw first;
    if (n < 3) await gates[n].promise;
    if (n === 2) throw third;
    return n;
  });
  const seen: number[] = [];
  let settled = false;
  const done = (async () => {
    for await (const n of iterator) seen.push(n);
  })().finally(() => (settled = true));
  done.catch(() => {});
  await ticks(10);
  assert.deepEqual(started, [0, 1, 2]);
  gates[0].open();
  await ticks(10);
  assert.deepEqual(seen, [0]);
  assert.equal(settled, false, "threw before the running items finished");
  gates[2].open();
  await assert.rejects(done, (error: unknown) => {
    assert.ok(error instanceof AggregateError);
    assert.equal(
      error.message,
      "Cannot complete the mapping as an error was thrown from an item",
    );
    assert.deepEqual(error.errors, [first, third]);
    return true;
  });
  assert.deepEqual(started, [0, 1, 2]);
  assert.deepEqual(seen, [0]);
  assertInvariant(pool);
});

test("Pool.map() withdraws its queued items after a failure", async () => {
  const pool = new Pool({ concurrency: 2 });
  const busy = blocker(pool);
  const started: number[] = [];
  const result = collect(pool.map([0, 1, 2], async (n) => {
    started.push(n);
    await ticks(1);
    if (n === 0) throw new Error("zero");
    return n;
  }));
  await ticks(0);
  // Item 0 runs on the free slot; item 1 waits in the pool's queue behind the busy task.
  assert.deepEqual([started, pool.waiting], [[0], 1]);
  await assert.rejects(result, AggregateError);
  assert.deepEqual(started, [0]);
  busy.gate.open();
  await pool.onIdle();
  const stats = assertInvariant(pool);
  assert.deepEqual([stats.failed, stats.dropped], [1, 1]);
});

test("Pool.map() stops pulling at once when an item throws synchronously", async () => {
  const pool = new Pool({ concurrency: 4 });
  let pulled = 0;
  function* source(): Generator<number> {
    while (true) yield pulled++;
  }
  await assert.rejects(
    collect(pool.map(source(), () => {
      throw new Error("sync");
    })),
    AggregateError,
  );
  assert.equal(pulled, 1);
});

test("Pool.map() rethrows an error from the iterable itself as it is", async () => {
  const pool = new Pool({ concurrency: 2 });
  const broken = new Error("source broke");
  function* source(): Generator<number> {
    yield 1;
    yield 2;
    throw broken;
  }
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const n of pool.map(source(), async (n) => n)) seen.push(n);
  }, (error) => error === broken);
  assert.deepEqual(seen, [1, 2]);

  async function* asyncSource(): AsyncGenerator<number> {
    yield 1;
    throw broken;
  }
  await assert.rejects(collect(pool.map(asyncSource(), (n) => n)), (error) => error === broken);
});

test("Pool.map() leaves no unhandled rejection when the loop breaks early", async () => {
  const pool = new Pool({ concurrency: 3 });
  const gates = Array.from({ length: 3 }, gate);
  let closed = false;
  function* source(): Generator<number> {
    try {
      for (let i = 0; i < 10; i++) yield i;
    } finally {
      closed = true;
    }
  }
  for await (
    const n of pool.map(source(), async (n) => {
      if (n > 0) {
        await gates[n].promise;
        throw new Error(`late failure ${n}`);
      }
      return n;
    })
  ) {
    assert.equal(n, 0);
    break;
  }
  assert.equal(closed, true);
  for (const g of gates) g.open();
  await pool.onIdle();
  const stats = assertInvariant(pool);
  assert.equal(stats.successful, 1);
  assert.equal(stats.failed + stats.dropped, stats.submitted - 1);
});

test("Pool.map() throws the signal's reason and withdraws queued items when aborted", async () => {
  const pool = new Pool({ concurrency: 2 });
  const busy = blocker(pool);
  const controller = new AbortController();
  const g = gate();
  const started: number[] = [];
  const iterator = pool.map([0, 1, 2, 3], async (n) => {
    started.push(n);
    await g.promise;
    return n;
  }, { signal: controller.signal });
  const next = iterator.next();
  await ticks(5);
  assert.deepEqual(started, [0]);
  const reason = new Error("cancelled");
  controller.abort(reason);
  await assert.rejects(next, (error) => error === reason);
  assert.deepEqual((await iterator.next()).done, true);
  g.open();
  busy.gate.open();
  await pool.onIdle();
  assert.deepEqual(started, [0]);
  assert.equal(pool.stats().dropped, 1);
  assertInvariant(pool);
});

test("Pool.map() with an already aborted signal throws its reason and runs nothing", async () => {
  const pool = new Pool();
  const reason = new Error("early");
  let ran = false;
  const iterator = pool.map([1], () => {
    ran = true;
  }, { signal: AbortSignal.abort(reason) });
  await assert.rejects(iterator.next(), (error) => error === reason);
  assert.equal(ran, false);
});

test("Pool.map() throws PoolClosedError on a closed pool", async () => {
  const pool = new Pool();
  await pool.close();
  await assert.rejects(pool.map([1], (n) => n).next(), PoolClosedError);
});

test("Pool.map() throws TypeError for a bad iterable, fn or signal", () => {
  const pool = new Pool();
  assert.throws(() => pool.map(5 as never, (n) => n), {
    name: "TypeError",
    message:
      "Cannot map the iterable as 'iterable' must be iterable or async iterable: received 5 (number)",
  });
  assert.throws(() => pool.map([1], "fn" as never), {
    name: "TypeError",
    message: `Cannot map the iterable as 'fn' must be a function: received "fn" (string)`,
  });
  assert.throws(() => pool.map([1], (n) => n, { signal: "no" as never }), TypeError);
});

// ---------------------------------------------------------------------------------------------
// close()

test("Pool.close() lets queued and running tasks finish, then resolves", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 1 });
  const order: string[] = [];
  const first = blocker(pool);
  const queued = pool.submit(() => order.push("queued"));
  const blocked = pool.submit(() => order.push("blocked"));
  let closed = false;
  const closing = pool.close().then(() => (closed = true));
  assert.equal(pool.isClosed, true);
  await ticks(5);
  assert.equal(closed, false);
  first.gate.open();
  await closing;
  assert.deepEqual(order, ["queued", "blocked"]);
  await Promise.all([first.result, queued, blocked]);
  const stats = assertInvariant(pool);
  assert.deepEqual([stats.completed, stats.dropped], [3, 0]);
});

test("Pool.close() makes new submissions reject with PoolClosedError at once", async () => {
  const pool = new Pool({ name: "mail" });
  const first = blocker(pool);
  const closing = pool.close();
  await assert.rejects(pool.submit(() => 1), {
    name: "PoolClosedError",
    message: 'Cannot submit the task as "mail" is closed',
  });
  await assert.rejects(pool.submit(() => 1), PoolClosedError);
  assert.equal(pool.stats().submitted, 1);
  first.gate.open();
  await closing;
});

test("Pool.close() resolves at once on an idle pool", async () => {
  const pool = new Pool();
  await pool.close({ signal: AbortSignal.abort(), timeout: 1 });
  assert.equal(pool.isClosed, true);
});

test("Pool.close() returns the same promise when called again", async () => {
  const pool = new Pool();
  const first = blocker(pool);
  const closing = pool.close();
  assert.equal(pool.close(), closing);
  assert.equal(pool.close({ timeout: 5 }), closing);
  assert.throws(() => pool.close({ timeout: -1 }), RangeError);
  first.gate.open();
  await closing;
  assert.equal(pool.close(), closing);
});

test("Pool.close({ timeout }) rejects queued tasks, then itself, and every promise settles", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 1 });
  const hung = gate();
  const events: string[] = [];
  const running = pool.submit(() => hung.promise).then(() => events.push("running finished"));
  const queued = pool.submit(() => events.push("queued ran")).catch((error: unknown) => {
    assert.ok(error instanceof DOMException);
    events.push(`queued ${error.name}`);
  });
  const blocked = pool.submit(() => events.push("blocked ran")).catch((error: unknown) => {
    events.push(`blocked ${(error as DOMException).name}`);
  });
  const closing = pool.close({ timeout: 20 }).then(
    () => events.push("close resolved"),
    (error: unknown) => {
      assert.ok(error instanceof DOMException);
      assert.match(
        error.message,
        /^Cannot finish closing "pool-\d+" as its tasks did not complete/,
      );
      events.push(`close ${error.name}`);
    },
  );
  await Promise.all([queued, blocked, closing]);
  assert.deepEqual(events, ["queued TimeoutError", "blocked TimeoutError", "close TimeoutError"]);
  let stats = assertInvariant(pool);
  assert.deepEqual([stats.running, stats.waiting, stats.dropped], [1, 0, 2]);
  await assert.rejects(pool.submit(() => 1), PoolClosedError);
  hung.open();
  await running;
  await pool.onIdle();
  stats = assertInvariant(pool);
  assert.deepEqual([stats.completed, stats.dropped], [1, 2]);
  assert.deepEqual(events.slice(3), ["running finished"]);
});

test("Pool.close({ signal }) rejects queued tasks and itself with the signal's reason", async () => {
  const pool = new Pool({ concurrency: 1 });
  const first = blocker(pool);
  const queued = pool.submit(() => "never");
  const controller = new AbortController();
  const closing = pool.close({ signal: controller.signal });
  const reason = new Error("give up");
  controller.abort(reason);
  await assert.rejects(queued, (e) => e === reason);
  await assert.rejects(closing, (e) => e === reason);
  first.gate.open();
  await first.result;
  assertInvariant(pool);
});

test("Pool.close() with an already aborted signal gives up at once on a busy pool", async () => {
  const pool = new Pool({ concurrency: 1 });
  const first = blocker(pool);
  const queued = pool.submit(() => "never");
  const reason = new Error("now");
  const closing = pool.close({ signal: AbortSignal.abort(reason) });
  await assert.rejects(queued, (e) => e === reason);
  await assert.rejects(closing, (e) => e === reason);
  first.gate.open();
  await first.result;
});

test("Pool.close() rejects invalid options before closing", () => {
  const pool = new Pool();
  assert.throws(() => pool.close({ timeout: -1 }), {
    name: "RangeError",
    message:
      "Cannot close the pool as 'timeout' must be a positive number of milliseconds, or Infinity for no limit: received -1 (number)",
  });
  assert.throws(() => pool.close({ timeout: 0 }), RangeError);
  assert.throws(() => pool.close({ timeout: "5" as never }), TypeError);
  assert.throws(() => pool.close({ signal: 1 as never }), TypeError);
  assert.equal(pool.isClosed, false);
});

test("Pool[Symbol.asyncDispose]() closes the pool gracefully", async () => {
  const pool = new Pool({ concurrency: 1 });
  const done: number[] = [];
  for (const n of [1, 2, 3]) pool.submit(async () => done.push(n));
  await pool[Symbol.asyncDispose]();
  assert.equal(pool.isClosed, true);
  assert.deepEqual(done, [1, 2, 3]);
});

// ---------------------------------------------------------------------------------------------
// suspendSlot()

test("suspendSlot() lets a queued task run while the suspended task waits", async () => {
  const pool = new Pool({ concurrency: 1 });
  const elsewhere = gate();
  const order: string[] = [];
  const away = gate();
  const outer = pool.submit(async () => {
    order.push("outer start");
    await away.promise;
    const resume = suspendSlot(pool);
    // The queued task took the slot at once; the suspended one counts as waiting.
    const stats = assertInvariant(pool);
    assert.deepEqual([stats.running, stats.waiting], [1, 1]);
    await elsewhere.promise;
    await resume();
    order.push("outer end");
  });
  const inner = pool.submit(() => order.push("inner"));
  assert.equal(pool.waiting, 1);
  away.open();
  await inner;
  assert.deepEqual(order, ["outer start", "inner"]);
  elsewhere.open();
  await outer;
  assert.deepEqual(order, ["outer start", "inner", "outer end"]);
  const stats = assertInvariant(pool);
  assert.deepEqual([stats.completed, stats.running, stats.waiting], [2, 0, 0]);
});

test("suspendSlot() resume() takes the next slot ahead of every queued task", async () => {
  const pool = new Pool({ concurrency: 1 });
  const order: string[] = [];
  const elsewhere = gate();
  let resume: () => Promise<void> = () => Promise.resolve();
  const outer = pool.submit(async () => {
    resume = suspendSlot(pool);
    await elsewhere.promise;
    await resume();
    order.push("resumed");
  });
  const holder = blocker(pool);
  const queued = ["a", "b", "c"].map((name) => pool.submit(() => order.push(name)));
  elsewhere.open();
  await ticks(5);
  assert.deepEqual([pool.running, pool.waiting], [1, 4]);
  holder.gate.open();
  await Promise.all([outer, ...queued]);
  assert.deepEqual(order, ["resumed", "a", "b", "c"]);
});

test("suspendSlot() never lets more than concurrency tasks run", async () => {
  const random = prng(31);
  const pool = new Pool({ concurrency: 3 });
  const track = tracker();
  const all: Promise<void>[] = [];
  for (let i = 0; i < 500; i++) {
    const suspends = random() < 0.5;
    const before = Math.floor(random() * 5);
    const away = Math.floor(random() * 10);
    all.push(pool.submit(async () => {
      track.enter();
      assert.ok(pool.running <= 3);
      await ticks(before);
      if (suspends) {
        track.leave();
        const resume = suspendSlot(pool);
        assertInvariant(pool);
        await ticks(away);
        await resume();
        track.enter();
        assert.ok(track.active <= 3);
        assertInvariant(pool);
      }
      await ticks(before);
      track.leave();
    }));
  }
  await Promise.all(all);
  assert.equal(track.peak, 3);
  const stats = assertInvariant(pool);
  assert.deepEqual([stats.completed, stats.running, stats.waiting], [500, 0, 0]);
});

test("suspendSlot() resume() ignores capacity and the closed state", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 0, whenFull: "reject" });
  const elsewhere = gate();
  const outer = pool.submit(async () => {
    const resume = suspendSlot(pool);
    await elsewhere.promise;
    await resume();
    return "resumed";
  });
  const closing = pool.close();
  elsewhere.open();
  assert.equal(await outer, "resumed");
  await closing;
});

test("Pool.close() waits for a suspended task", async () => {
  const pool = new Pool({ concurrency: 1 });
  const elsewhere = gate();
  let finished = false;
  const outer = pool.submit(async () => {
    const resume = suspendSlot(pool);
    await elsewhere.promise;
    await resume();
    finished = true;
  });
  let closed = false;
  const closing = pool.close().then(() => (closed = true));
  await ticks(10);
  assert.deepEqual([closed, pool.running, pool.waiting], [false, 0, 1]);
  elsewhere.open();
  await closing;
  assert.equal(finished, true);
  await outer;
});

test("suspendSlot() resume() returns the same promise when called again", async () => {
  const pool = new Pool({ concurrency: 1 });
  await pool.submit(async () => {
    const resume = suspendSlot(pool);
    const first = resume();
    assert.equal(resume(), first);
    await first;
    assert.equal(pool.running, 1);
  });
  assertInvariant(pool);
});

test("suspendSlot() throws when no task of the pool is running", () => {
  const pool = new Pool({ name: "idle" });
  assert.throws(() => suspendSlot(pool), {
    message: 'Cannot suspend a slot of "idle" as none of its tasks is running',
  });
  assert.throws(() => suspendSlot({} as never), TypeError);
});

/** Counts the abort listeners on a signal: now, and at most at once. */
function countListeners(signal: AbortSignal): { readonly now: number; readonly peak: number } {
  const counts = { now: 0, peak: 0 };
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    counts.peak = Math.max(counts.peak, ++counts.now);
    add(...args);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    counts.now--;
    remove(...args);
  }) as typeof signal.removeEventListener;
  return counts;
}

test("queued tasks that share one signal cost one abort listener, and its abort withdraws them oldest first", async () => {
  const pool = new Pool({ concurrency: 1 });
  const controller = new AbortController();
  const { signal } = controller;
  const listeners = countListeners(signal);
  const busy = gate();
  void pool.submit(() => busy.promise);
  const order: number[] = [];
  const tasks = Array.from(
    { length: 1_000 },
    (_, i) => pool.submit(() => i, { signal }).catch(() => void order.push(i)),
  );
  assert.equal(listeners.peak, 1, "one listener for 1,000 queued tasks");
  controller.abort(new Error("request gone"));
  await Promise.all(tasks);
  assert.deepEqual(order, Array.from({ length: 1_000 }, (_, i) => i));
  busy.open();
  await pool.close();
});

test("a shared signal's listener goes once no queued task uses it", async () => {
  const pool = new Pool({ concurrency: 1 });
  const { signal } = new AbortController();
  const listeners = countListeners(signal);
  const busy = gate();
  void pool.submit(() => busy.promise);
  const tasks = [1, 2, 3].map((n) => pool.submit(() => n, { signal }));
  assert.equal(listeners.now, 1);
  busy.open();
  assert.deepEqual(await Promise.all(tasks), [1, 2, 3]);
  assert.equal(listeners.now, 0);
  await pool.close();
});

test("Pool.stats().started counts the tasks that got a slot, not those queued or dropped", async () => {
  const pool = new Pool({ concurrency: 1, capacity: 1, whenFull: "reject" });
  let release = () => {};
  const first = pool.submit(() => new Promise<void>((resolve) => (release = resolve)));
  const second = pool.submit(() => "second");
  const refused = pool.submit(() => "refused");
  await assert.rejects(refused, QueueFullError);
  assert.equal(pool.stats().started, 1);
  release();
  await Promise.all([first, second]);
  assert.deepEqual([pool.stats().started, pool.stats().dropped], [2, 1]);
});

test("new Pool() names unnamed pools pool-1, pool-2, … in creation order", () => {
  const [a, named, b] = [new Pool(), new Pool({ name: "mail" }), new Pool()];
  const n = Number(a.name.slice("pool-".length));
  assert.match(a.name, /^pool-\d+$/);
  assert.deepEqual([named.name, b.name], ["mail", `pool-${n + 1}`]);
});
