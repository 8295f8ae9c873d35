// broadcast(): an event for the plain listeners of every emitter sharing the transport, as an
// emit() there; what it refuses, and how the receiving side reports what it cannot deliver.
// Engine-free, on the memory transport and transports built over it; Redis Pub/Sub is tested
// in redis_transport_test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  EmitterClosedError,
  memoryTransport,
  Soiree,
  type StoredMessage,
  type Transport,
} from "../mod.ts";
import { deferred, ticks } from "./_util.ts";

const METHODS = [
  ...["subscribe", "publish", "receive", "wait", "deadLetters", "redrive", "close"],
  ...["inspect", "broadcast", "onBroadcast"],
] as const;

/** A transport that is `base` (its methods bound to it) with `changes`. */
function override(base: Transport, changes: Partial<Transport>): Transport {
  const copy: Record<string, unknown> = { name: base.name };
  for (const method of METHODS) {
    const fn = base[method as keyof Transport];
    if (typeof fn === "function") copy[method] = fn.bind(base);
  }
  return Object.assign(copy, changes) as unknown as Transport;
}

/** The memory transport with `onBroadcast()` replaced. */
function withOnBroadcast(onBroadcast: Transport["onBroadcast"]): Transport {
  return override(memoryTransport(), { onBroadcast });
}

test("broadcast() reaches the plain listeners of every emitter sharing the transport, the sender's included", async () => {
  const transport = memoryTransport();
  const sender = new Soiree({ transport });
  const other = new Soiree({ transport });
  const got: string[] = [];
  const both = deferred<void>();
  const note = (who: string) => (event: { topic: string; payload: unknown }) => {
    got.push(`${who} ${event.topic} ${JSON.stringify(event.payload)}`);
    if (got.length === 3) both.resolve();
  };
  sender.on("cache.user.invalidate", note("sender"));
  other.on("cache.user.*", note("other *"));
  other.on("cache.**", note("other **"));
  other.on("cache.order.*", note("never"));
  await other.broadcast("warm.up"); // resolves once `other` receives, as sender's below does
  await sender.broadcast("cache.user.invalidate", { id: 42 });
  await both.promise;
  assert.deepEqual(got.sort(), [
    'other * cache.user.invalidate {"id":42}',
    'other ** cache.user.invalidate {"id":42}',
    'sender cache.user.invalidate {"id":42}',
  ]);
  assert.equal(other.stats().emitted, 2);
  assert.equal(sender.stats().durable.broadcastsSent, 1);
  assert.deepEqual(
    [sender.stats().durable.broadcastsReceived, other.stats().durable.broadcastsReceived],
    [2, 2],
  );
  const text = await other.metrics();
  assert.match(text, /^soiree_broadcasts_received_total\{transport="memory"\} 2$/m);
  await Promise.all([sender.close(), other.close()]);
});

test("broadcast() never reaches a durable listener, and publish() never reaches a plain one", async () => {
  const soiree = new Soiree({ transport: memoryTransport() });
  const plain = deferred<unknown>();
  const durable = deferred<unknown>();
  soiree.on("a", (event) => durable.resolve(event.payload), { durable: "audit" });
  soiree.on("a", (event) => plain.resolve(event.payload));
  await soiree.broadcast("a", "broadcast");
  assert.equal(await plain.promise, "broadcast");
  await soiree.publish("a", "published");
  assert.equal(await durable.promise, "published");
  assert.equal(soiree.stats().emitted, 1);
  await soiree.close();
});

test("broadcast() refuses a bad topic, an unencodable payload and a missing transport before sending anything", async () => {
  const transport = memoryTransport();
  const soiree = new Soiree({ transport });
  const other = new Soiree({ transport });
  let received = 0;
  other.on("**", () => void received++);
  assert.throws(() => soiree.broadcast("cache.*", 1), {
    name: "TypeError",
    message:
      /Cannot broadcast as 'topic' contains a wildcard, which only patterns may: received "cache\.\*"/,
  });
  assert.throws(() => soiree.broadcast("", 1), { name: "TypeError", message: /'topic' is empty/ });
  assert.throws(() => soiree.broadcast("a", 10n), {
    name: "TypeError",
    message: /Cannot broadcast "a" as its payload cannot be encoded with application\/json/,
  });
  assert.throws(() => new Soiree().broadcast("a", 1), {
    name: "TypeError",
    message: /Cannot broadcast "a" as the emitter has no transport: .*redisTransport\(\)/,
  });
  await soiree.broadcast("a", 1); // the only one sent
  await ticks();
  assert.equal(received, 1);
  await Promise.all([soiree.close(), other.close()]);
});

test("broadcast() on a transport without broadcasts throws a TypeError naming the ones that have them", async () => {
  const transport = override(memoryTransport(), {
    name: "file",
    broadcast: undefined,
    onBroadcast: undefined,
  });
  const soiree = new Soiree({ transport });
  assert.throws(() => soiree.broadcast("a", 1), {
    name: "TypeError",
    message:
      /Cannot broadcast "a" as the file transport cannot broadcast \(it has no broadcast\(\) and onBroadcast\(\)\): redisTransport\(\) from @x\/soiree\/redis/,
  });
  await soiree.close();
});

test("broadcast() on a closed emitter rejects with EmitterClosedError, and a closed emitter takes no more broadcasts", async () => {
  const transport = memoryTransport();
  const sender = new Soiree({ transport });
  // Closing an emitter closes its transport: this one leaves the shared one open.
  const closed = new Soiree({ transport: override(transport, { close: async () => {} }) });
  let received = 0;
  closed.on("a", () => void received++);
  await closed.close();
  await assert.rejects(closed.broadcast("a", 1), EmitterClosedError);
  await sender.broadcast("a", 1);
  await ticks();
  assert.equal(received, 0);
  await sender.close();
});

test("a listener failure on a received broadcast goes to the error handler, then the panic handler", async () => {
  const transport = memoryTransport();
  const handled: unknown[] = [];
  const panicked = deferred<unknown>();
  const receiver = new Soiree({
    transport,
    errorHandler: (_event, error) => (handled.push(error), error as Error),
    panicHandler: (value) => panicked.resolve(value),
  });
  receiver.on("cache.flush", () => {
    throw new Error("cache offline");
  });
  const sender = new Soiree({ transport });
  await sender.broadcast("cache.flush");
  const panic = await panicked.promise as Error;
  assert.match(
    panic.message,
    /ran broadcast "cache\.flush" and a listener failed \(memory transport\)/,
  );
  assert.match(String((panic.cause as Error).message), /cache offline/);
  assert.equal(handled.length, 1);
  await Promise.all([sender.close(), receiver.close()]);
});

test("a broadcast that does not decode is reported to the panic handler with its ID, not emitted", async () => {
  let deliver!: (message: StoredMessage) => void;
  const transport = withOnBroadcast(async (handler) => {
    deliver = handler;
    return async () => {};
  });
  const panicked = deferred<unknown>();
  const soiree = new Soiree({ transport, panicHandler: (value) => panicked.resolve(value) });
  let received = 0;
  soiree.on("**", () => void received++);
  await soiree.broadcast("a", 1).catch(() => {}); // waits until receiving started
  deliver({ id: "01JD", topic: "a", data: "{not json", publishedAt: 0 });
  const panic = await panicked.promise as Error;
  assert.match(panic.message, /dropped broadcast "01JD"/);
  assert.match((panic.cause as Error).message, /not a CloudEvents JSON document/);
  assert.equal(received, 0);
  await soiree.close();
});

test("receiving broadcasts starts again with backoff after a failure, reporting only the first failure of a streak", async () => {
  let attempts = 0;
  const started = deferred<void>();
  let report!: (error: unknown) => void;
  const transport = withOnBroadcast(async (_handler, onError) => {
    if (++attempts < 3) throw new Error(`connection refused ${attempts}`);
    report = onError;
    started.resolve();
    return async () => {};
  });
  const panics: Error[] = [];
  const soiree = new Soiree({ transport, panicHandler: (value) => panics.push(value as Error) });
  await started.promise;
  assert.equal(attempts, 3);
  assert.deepEqual(panics.map((panic) => (panic.cause as Error).message), [
    "connection refused 1",
  ]);
  report(new Error("connection reset"));
  report(new Error("connection reset"));
  assert.equal(soiree.stats().durable.transportErrors, 4);
  assert.equal(panics.length, 1);
  await soiree.close();
});

test("close() stops receiving broadcasts before it closes the transport", async () => {
  const order: string[] = [];
  const inner = memoryTransport();
  const transport = override(inner, {
    onBroadcast: async (
      handler: (message: StoredMessage) => void,
      onError: (e: unknown) => void,
    ) => {
      const stop = await inner.onBroadcast!(handler, onError);
      return async () => (order.push("stop receiving"), await stop());
    },
    close: async () => (order.push("close transport"), await inner.close()),
  });
  const soiree = new Soiree({ transport });
  await soiree.close();
  assert.deepEqual(order, ["stop receiving", "close transport"]);
});

test("a transport that fails to send makes broadcast() reject with its error as the cause", async () => {
  const failure = new Error("READONLY You can't write against a read only replica");
  const inner = memoryTransport();
  const transport = override(inner, {
    broadcast: () => Promise.reject(failure),
  });
  const soiree = new Soiree({ transport });
  const error = await soiree.broadcast("a", 1).catch((error) => error) as Error;
  assert.match(error.message, /Cannot broadcast "a" as the memory transport failed to send it/);
  assert.equal(error.cause, failure);
  await soiree.close();
});
