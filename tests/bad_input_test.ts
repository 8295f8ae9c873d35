import { test } from "node:test";
import assert from "node:assert/strict";
import { EmitterClosedError, ListenerNotFoundError, Soiree } from "../mod.ts";

/** The longest delay `setTimeout` honours: larger ones fire after 1 ms. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * Runs `fn` with a fake `setTimeout` that records each delay and never fires, so a test can
 * check what the emitter asks the timer for without waiting.
 */
async function withRecordedTimers(fn: () => Promise<void>): Promise<number[]> {
  const delays: number[] = [];
  const { setTimeout: realSet, clearTimeout: realClear } = globalThis;
  let handle = 0;
  globalThis.setTimeout = ((_fn: () => void, delay?: number) => {
    delays.push(delay ?? 0);
    return ++handle;
  }) as unknown as typeof setTimeout;
  globalThis.clearTimeout = (() => {}) as unknown as typeof clearTimeout;
  try {
    await fn();
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
  return delays;
}

test("timeouts above 2^31 - 1 ms are honoured, not cut to 1 ms", async () => {
  const timeout = 2 ** 31; // accepted by the validation as a finite number of ms from 0 up
  const delays = await withRecordedTimers(async () => {
    const soiree = new Soiree();
    let release = (): void => {};
    soiree.on("slow", () => new Promise<void>((resolve) => (release = resolve)), { timeout });
    const emission = soiree.emit("slow", undefined, { timeout });
    const waiting = soiree.waitFor("never", { timeout });
    await Promise.resolve();
    await Promise.resolve();
    release();
    assert.deepEqual(await emission, []);
    const closing = soiree.close({ timeout });
    await assert.rejects(waiting, EmitterClosedError);
    await closing;
  });
  assert.ok(delays.length >= 3, `emit, on and waitFor each arm a timer: ${delays}`);
  for (const delay of delays) {
    assert.ok(
      delay >= 0 && delay <= MAX_TIMER_DELAY,
      `setTimeout was asked for ${delay} ms, which it runs after 1 ms`,
    );
  }
});

test("off() and a closed emitter describe a bigint argument instead of crashing", async () => {
  const soiree = new Soiree();
  assert.throws(() => soiree.off("a", 1n as never), (error: Error) => {
    assert.ok(error instanceof TypeError || error instanceof ListenerNotFoundError);
    assert.doesNotMatch(error.message, /serialize/);
    return true;
  });
  await soiree.close();
  for (const call of [() => soiree.emit(1n as never), () => soiree.emitSync(1n as never)]) {
    assert.throws(call, { name: "TypeError", message: /'topic' must be a string/ });
  }
});
