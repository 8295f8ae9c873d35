import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { EmitterClosedError, Pool, Soiree } from "../mod.ts";

/** Lets every queued microtask (and the ones they queue) run. */
async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

const EMISSIONS_AT_CLOSE = Number(process.env.SOIREE_CLOSE_EMISSIONS ?? 10_000);

test("close({ timeout }) with 10,000 emissions queued settles every promise", async () => {
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
    const emissions: Promise<Error[]>[] = [];
    let settled = 0;
    for (let i = 0; i < EMISSIONS_AT_CLOSE; i++) {
      const emission = soiree.emit("job", i);
      emission.then(() => void settled++);
      emissions.push(emission);
    }
    await flush();
    const closing = soiree.close({ timeout: 5 });
    const [refused] = await soiree.emit("job", -1);
    assert.ok(refused instanceof EmitterClosedError, `shared=${shared}`);
    await assert.rejects(closing, { name: "TimeoutError" });
    await flush();
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

test("close() called by an emitSync() listener lets the rest of that emission run", async () => {
  const soiree = new Soiree();
  const calls: string[] = [];
  let closing: Promise<void> | undefined;
  soiree.on("a", () => {
    calls.push("closer");
    closing = soiree.close();
  });
  soiree.on("a", () => void calls.push("after"));
  assert.deepEqual(soiree.emitSync("a"), []);
  await closing;
  assert.deepEqual(calls, ["closer", "after"]);
});
