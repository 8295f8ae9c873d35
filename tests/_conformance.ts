// The transport conformance suite: every guarantee of durable delivery, checked end to end
// through `Soiree` on one transport. Each transport's test file calls `conformance()` with a
// fixture that opens connections to one fresh store (Watermill's `TestPubSub` shape).

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Clock,
  type DurableEvent,
  EmitterClosedError,
  PermanentError,
  Pool,
  PublishError,
  Soiree,
  type SoireeOptions,
  type Transport,
} from "../mod.ts";
import { type FakeClock, fakeClock } from "./_clock.ts";
import { deferred, gate, ticks, within } from "./_util.ts";

/** One fresh store, and the way to open connections to it. */
export interface TransportFixture {
  /** A new connection to the store (for the memory transport, a view of the same one). */
  open(): Promise<Transport>;
  /** Removes the store; runs after every emitter is closed. */
  cleanup(): Promise<void>;
}

/** Makes a fresh store whose transports measure time on `clock`. */
export type FixtureFactory = (clock: Clock | undefined) => Promise<TransportFixture>;

const LONG = 20_000;

/** Runs the conformance suite for one transport. */
export function conformance(label: string, setup: FixtureFactory): void {
  /** Runs `body` with a fresh store and closes every emitter and connection it made. */
  const withStore =
    (clock: FakeClock | undefined, body: (store: Store) => Promise<void>) => async () => {
      const fixture = await setup(clock);
      const emitters: Soiree[] = [];
      const connections: Transport[] = [];
      const store: Store = {
        clock: clock!,
        async make(options?: SoireeOptions): Promise<Soiree> {
          const soiree = new Soiree({
            transport: await fixture.open(),
            errorHandler: () => {},
            panicHandler: () => {},
            ...options,
          });
          emitters.push(soiree);
          return soiree;
        },
        async open(): Promise<Transport> {
          const transport = await fixture.open();
          connections.push(transport);
          return transport;
        },
      };
      try {
        await body(store);
      } finally {
        await Promise.all(emitters.map((soiree) => soiree.isClosed ? undefined : soiree.close()));
        await Promise.all(connections.map((transport) => transport.close()));
        await fixture.cleanup();
      }
    };
  const name = (what: string) => `${label}: ${what}`;

  test(
    name("publish() delivers the event to a durable listener with its attempt and keys"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const got = deferred<DurableEvent>();
      soiree.on("user.*", (event) => got.resolve(event), { durable: "welcome-email" });
      const before = Date.now();
      const receipt = await soiree.publish("user.created", { email: "ada@example.com" });
      assert.equal(receipt.duplicate, false);
      const event = await within(got.promise, LONG, "delivery");
      assert.equal(event.id, receipt.id);
      assert.equal(event.topic, "user.created");
      assert.deepEqual(event.payload, { email: "ada@example.com" });
      assert.equal(event.attempt, 1);
      assert.equal(event.listener, "welcome-email");
      assert.equal(event.idempotencyKey, `${receipt.id}/welcome-email`);
      assert.ok(event.publishedAt.getTime() >= before - 1);
      assert.equal(event.signal.aborted, false);
    }),
  );

  test(
    name("emit() never reaches a durable listener and publish() never reaches a plain one"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const plain: string[] = [];
      const durable: string[] = [];
      const done = gate();
      soiree.on("job.*", (event) => void plain.push(event.topic));
      soiree.on("job.*", (event) => {
        durable.push(event.topic);
        done.open();
      }, { durable: "jobs" });
      await soiree.emit("job.emitted");
      soiree.emitSync("job.synced");
      await soiree.publish("job.published");
      await within(done.promise, LONG, "delivery");
      await soiree.close();
      assert.deepEqual(plain, ["job.emitted", "job.synced"]);
      assert.deepEqual(durable, ["job.published"]);
    }),
  );

  test(
    name("competing consumers of one durable name handle each event once"),
    withStore(undefined, async ({ make }) => {
      const emitters = await Promise.all([make(), make(), make()]);
      const seen = new Map<string, number>();
      const total = 300;
      const all = gate();
      let handled = 0;
      for (const soiree of emitters) {
        soiree.on("order.*", async (event) => {
          seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
          await ticks(2);
          if (++handled === total) all.open();
        }, { durable: "fulfil", pool: { concurrency: 4 } });
      }
      for (let i = 0; i < total; i++) await emitters[i % 3].publish("order.placed", i);
      await within(all.promise, LONG, "every delivery");
      await Promise.all(emitters.map((soiree) => soiree.close()));
      assert.equal(seen.size, total);
      assert.ok([...seen.values()].every((count) => count === 1), "each event handled once");
      const acked = emitters.reduce((sum, soiree) => sum + soiree.stats().durable.acked, 0);
      assert.equal(acked, total);
    }),
  );

  test(
    name("two durable names each get every matching event"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const got = { audit: [] as unknown[], email: [] as unknown[] };
      const both = gate();
      const check = () => got.audit.length === 3 && got.email.length === 2 && both.open();
      soiree.on("user.**", (event) => {
        got.audit.push(event.payload);
        check();
      }, { durable: "audit" });
      soiree.on("user.created", (event) => {
        got.email.push(event.payload);
        check();
      }, { durable: "email" });
      await soiree.publish("user.created", 1);
      await soiree.publish("user.created", 2);
      await soiree.publish("user.deleted.hard", 3);
      await within(both.promise, LONG, "fan-out");
      assert.deepEqual(got.audit.sort(), [1, 2, 3]);
      assert.deepEqual(got.email.sort(), [1, 2]);
    }),
  );

  test(
    name("events published before a durable name was registered are not delivered to it"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      await soiree.publish("report.ready", "before");
      const got = deferred<unknown>();
      soiree.on("report.ready", (event) => got.resolve(event.payload), { durable: "reports" });
      await soiree.publish("report.ready", "after");
      assert.equal(await within(got.promise, LONG, "delivery"), "after");
      await soiree.close();
      assert.equal(soiree.stats().durable.received, 1);
    }),
  );

  test(
    name("events published while no process runs a durable name are kept for it"),
    withStore(undefined, async ({ make }) => {
      const first = await make();
      const off = first.on("invoice.*", () => {}, { durable: "ledger" });
      await first.publish("invoice.paid", 0); // the name is stored once this resolves
      off.off();
      await first.close();
      const publisher = await make();
      await publisher.publish("invoice.paid", 1);
      await publisher.publish("invoice.paid", 2);
      const later = await make();
      const seen: unknown[] = [];
      const done = gate();
      later.on("invoice.*", (event) => {
        seen.push(event.payload);
        if (seen.includes(1) && seen.includes(2)) done.open();
      }, { durable: "ledger" });
      await within(done.promise, LONG, "kept deliveries");
      assert.deepEqual(seen.filter((value) => value !== 0).sort(), [1, 2]);
    }),
  );

  test(
    name("a delivery whose lease expires comes back with attempt + 1"),
    withStore(fakeClock(), async ({ make, open, clock }) => {
      // A consumer that took the delivery and died: it never settles or renews the lease.
      const dead = await open();
      await dead.subscribe({ name: "writer", pattern: "file.*" });
      const soiree = await make();
      await soiree.publish("file.write", "a.txt");
      const [taken] = await dead.receive("writer", 1, 1_000);
      assert.equal(taken.attempt, 1);
      const redelivered = deferred<number>();
      soiree.on("file.*", (event) => redelivered.resolve(event.attempt), { durable: "writer" });
      await ticks(50);
      clock.advance(1_000);
      assert.equal(await advanceUntil(clock, redelivered.promise, "redelivery"), 2);
      assert.equal(await taken.ack(), false, "the dead consumer's late ack changes nothing");
    }),
  );

  test(
    name("a failed attempt is retried after its backoff delay"),
    withStore(fakeClock(), async ({ make, clock }) => {
      const soiree = await make();
      const attempts: number[] = [];
      const first = gate();
      const second = gate();
      soiree.on("sms.send", (event) => {
        attempts.push(event.attempt);
        if (event.attempt === 1) {
          first.open();
          throw new Error("gateway down");
        }
        second.open();
      }, { durable: "sms", retry: { attempts: 3, delay: () => 60_000 } });
      await soiree.publish("sms.send", "hi");
      await within(first.promise, LONG, "first attempt");
      await until(() => soiree.stats().durable.retried === 1);
      clock.advance(59_000);
      await ticks(50);
      assert.deepEqual(attempts, [1], "not before the delay");
      clock.advance(1_000);
      await advanceUntil(clock, second.promise, "second attempt");
      assert.deepEqual(attempts, [1, 2]);
    }),
  );

  test(
    name("a delivery is dead-lettered after its last attempt, with its error, and listed"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      soiree.on("pdf.render", (event) => {
        throw new Error(`renderer crashed on attempt ${event.attempt}`);
      }, { durable: "renderer", retry: { attempts: 3, base: 1, cap: 2 } });
      const { id } = await soiree.publish("pdf.render", { doc: 7 });
      await until(() => soiree.stats().durable.deadLettered === 1);
      const [letter, ...rest] = await soiree.deadLetters("renderer");
      assert.equal(rest.length, 0);
      assert.equal(letter.id, id);
      assert.equal(letter.topic, "pdf.render");
      assert.deepEqual(letter.payload, { doc: 7 });
      assert.equal(letter.attempts, 3);
      assert.match(letter.error, /renderer crashed on attempt 3/);
      assert.ok(letter.deadAt.getTime() >= letter.publishedAt.getTime());
      assert.equal(soiree.stats().durable.retried, 2);
    }),
  );

  test(
    name("a PermanentError dead-letters at once, and redrive() delivers it again"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      let fixed = false;
      const attempts: number[] = [];
      const delivered = gate();
      soiree.on("user.created", (event) => {
        attempts.push(event.attempt);
        if (!fixed) throw new PermanentError("no such mailbox");
        delivered.open();
      }, { durable: "welcome" });
      await soiree.publish("user.created", "ada@example.com");
      await until(() => soiree.stats().durable.deadLettered === 1);
      assert.deepEqual(attempts, [1]);
      const [letter] = await soiree.deadLetters("welcome");
      assert.match(letter.error, /PermanentError: no such mailbox/);
      fixed = true;
      assert.equal(await soiree.redrive("welcome"), 1);
      await within(delivered.promise, LONG, "redriven delivery");
      assert.deepEqual(attempts, [1, 1], "a redriven delivery starts its attempts again");
      assert.deepEqual(await soiree.deadLetters("welcome"), []);
      assert.equal(await soiree.redrive("welcome"), 0);
    }),
  );

  test(
    name("a repeated publish with the same idempotency key stores nothing new"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const seen: unknown[] = [];
      soiree.on("payment.captured", (event) => void seen.push(event.payload), {
        durable: "ledger",
      });
      const first = await soiree.publish("payment.captured", 1, { idempotencyKey: "pay-1" });
      const again = await soiree.publish("payment.captured", 2, { idempotencyKey: "pay-1" });
      const other = await soiree.publish("payment.captured", 3, { idempotencyKey: "pay-2" });
      assert.deepEqual(again, { id: first.id, duplicate: true });
      assert.equal(other.duplicate, false);
      await until(() => soiree.stats().durable.acked === 2);
      assert.deepEqual(seen.sort(), [1, 3]);
      assert.equal(soiree.stats().durable.duplicates, 1);
      assert.equal(soiree.stats().durable.published, 2);
    }),
  );

  test(
    name("an idempotency key is forgotten after its window"),
    withStore(fakeClock(), async ({ make, clock }) => {
      const soiree = await make();
      const first = await soiree.publish("a", 1, { idempotencyKey: "k", dedupeWindow: 1_000 });
      clock.advance(999);
      assert.equal((await soiree.publish("a", 1, { idempotencyKey: "k" })).duplicate, true);
      clock.advance(2);
      const later = await soiree.publish("a", 1, { idempotencyKey: "k" });
      assert.equal(later.duplicate, false);
      assert.notEqual(later.id, first.id);
    }),
  );

  test(
    name("a long listener keeps its lease: no other consumer gets the delivery"),
    withStore(undefined, async ({ make }) => {
      const [a, b] = await Promise.all([make(), make()]);
      const runs: string[] = [];
      const started = gate();
      const finish = gate();
      for (const [label, soiree] of [["a", a], ["b", b]] as const) {
        soiree.on("video.encode", async () => {
          runs.push(label);
          started.open();
          await finish.promise;
        }, { durable: "encoder", lease: 150 });
      }
      await a.publish("video.encode", "movie.mp4");
      await within(started.promise, LONG, "start");
      // Six lease lengths pass while both consumers poll: the renewals must hold the lease.
      await new Promise((resolve) => setTimeout(resolve, 900));
      finish.open();
      await until(() => a.stats().durable.acked + b.stats().durable.acked === 1);
      assert.equal(runs.length, 1);
      assert.equal(a.stats().durable.leasesLost + b.stats().durable.leasesLost, 0);
    }),
  );

  test(
    name("a lost lease aborts the listener's signal, and its outcome changes nothing"),
    withStore(fakeClock(), async ({ make, open, clock }) => {
      const soiree = await make();
      const started = gate();
      const reason = deferred<unknown>();
      soiree.on("image.resize", async (event) => {
        started.open();
        await new Promise((resolve) => event.signal.addEventListener("abort", resolve));
        reason.resolve(event.signal.reason);
        throw new Error("stopped");
      }, { durable: "resizer", lease: 300 });
      await soiree.publish("image.resize", 1);
      await within(started.promise, LONG, "start");
      // The lease runs out on the store's clock and another consumer takes the delivery.
      clock.advance(1_000);
      const other = await open();
      const [taken] = await other.receive("resizer", 1, 60_000);
      assert.equal(taken.attempt, 2);
      assert.match(String(await within(reason.promise, LONG, "abort")), /lease .* was lost/);
      await until(() => soiree.stats().durable.leasesLost === 1);
      assert.equal(soiree.stats().durable.retried, 0, "the old holder settles nothing");
      assert.equal(await taken.ack(), true);
    }),
  );

  test(
    name("close() gives back the leases of listeners it gave up on, for another process at once"),
    withStore(fakeClock(), async ({ make }) => {
      const [a, b] = await Promise.all([make(), make()]);
      const started = gate();
      const aborted = deferred<unknown>();
      a.on("batch.run", (event) => {
        started.open();
        event.signal.addEventListener("abort", () => aborted.resolve(event.signal.reason));
        return new Promise(() => {});
      }, { durable: "batch", lease: 60_000 });
      await a.publish("batch.run", 1);
      await within(started.promise, LONG, "start");
      const reason = new Error("deploy");
      await assert.rejects(a.close({ signal: AbortSignal.abort(reason) }), { message: "deploy" });
      assert.equal(await aborted.promise, reason);
      assert.equal(a.stats().durable.released, 1);
      const taken = deferred<number>();
      b.on("batch.run", (event) => taken.resolve(event.attempt), { durable: "batch" });
      // No clock movement: the lease was given back, not left to expire.
      assert.equal(await within(taken.promise, LONG, "taken over"), 2);
    }),
  );

  test(
    name("close() waits for durable listeners in flight and acks them"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const started = gate();
      let finished = false;
      soiree.on("report.build", async () => {
        started.open();
        await ticks(20);
        finished = true;
      }, { durable: "reports" });
      await soiree.publish("report.build");
      await within(started.promise, LONG, "start");
      await soiree.close();
      assert.equal(finished, true);
      assert.equal(soiree.stats().durable.acked, 1);
      await assert.rejects(soiree.publish("report.build"), EmitterClosedError);
    }),
  );

  test(
    name("10,000 published events are all delivered, none lost"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const total = 10_000;
      const seen = new Set<string>();
      const all = gate();
      soiree.on("load.*", async (event) => {
        await Promise.resolve();
        seen.add(event.id);
        if (seen.size === total) all.open();
      }, { durable: "load", pool: new Pool({ concurrency: 16 }) });
      const ids = new Set<string>();
      for (let i = 0; i < total; i += 100) {
        const batch = [];
        for (let j = i; j < i + 100; j++) batch.push(soiree.publish("load.item", j));
        for (const receipt of await Promise.all(batch)) ids.add(receipt.id);
      }
      await within(all.promise, 120_000, "every delivery");
      assert.equal(ids.size, total);
      assert.deepEqual([...ids].filter((id) => !seen.has(id)), []);
    }),
  );

  test(
    name("a 1 MB payload round-trips"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const big = "x".repeat(1024 * 1024);
      const got = deferred<unknown>();
      soiree.on("blob.put", (event) => got.resolve(event.payload), { durable: "blobs" });
      await soiree.publish("blob.put", { big });
      assert.deepEqual(await within(got.promise, LONG, "delivery"), { big });
    }),
  );

  test(
    name("a durable listener fetches no more deliveries than its pool has free slots"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const release = gate();
      let running = 0;
      const two = gate();
      soiree.on("thumb.make", async () => {
        if (++running === 2) two.open();
        await release.promise;
      }, { durable: "thumbs", pool: { concurrency: 2 } });
      for (let i = 0; i < 10; i++) await soiree.publish("thumb.make", i);
      await within(two.promise, LONG, "two running");
      await ticks(50);
      assert.equal(soiree.stats().durable.received, 2);
      release.open();
      await until(() => soiree.stats().durable.acked === 10);
      assert.equal(soiree.stats().durable.received, 10);
    }),
  );

  test(
    name("durable listeners sharing a pool take its slots by priority"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const pool = new Pool({ concurrency: 1 });
      const order: string[] = [];
      const blocker = gate();
      const blocking = pool.submit(() => blocker.promise);
      soiree.on("work.low", (event) => void order.push(`low ${event.payload}`), {
        durable: "low",
        pool,
        priority: 0,
      });
      soiree.on("work.high", (event) => void order.push(`high ${event.payload}`), {
        durable: "high",
        pool,
        priority: 10,
      });
      for (let i = 0; i < 2; i++) {
        await soiree.publish("work.low", i);
        await soiree.publish("work.high", i);
      }
      await ticks(50);
      blocker.open();
      await blocking;
      await until(() => soiree.stats().durable.acked === 4);
      assert.deepEqual(order.slice(0, 2), ["high 0", "high 1"]);
      await soiree.close();
      await pool.close();
    }),
  );

  test(
    name("an attempt that outlives its timeout sees its signal abort and is retried"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const reasons: unknown[] = [];
      const second = gate();
      soiree.on("ocr.run", async (event) => {
        if (event.attempt === 2) return second.open();
        await new Promise((resolve) => event.signal.addEventListener("abort", resolve));
        reasons.push(event.signal.reason);
      }, { durable: "ocr", timeout: 20, retry: { delay: () => 0 } });
      await soiree.publish("ocr.run");
      await within(second.promise, LONG, "second attempt");
      assert.equal((reasons[0] as DOMException).name, "TimeoutError");
    }),
  );

  test(
    name("off() stops fetching; what is stored for the name stays for later"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const seen: unknown[] = [];
      const subscription = soiree.on("mail.in", (event) => void seen.push(event.payload), {
        durable: "inbox",
      });
      await soiree.publish("mail.in", 1);
      await until(() => seen.length === 1);
      assert.equal(subscription.off(), true);
      assert.equal(subscription.active, false);
      assert.equal(subscription.off(), false);
      await soiree.publish("mail.in", 2);
      const again = deferred<unknown>();
      soiree.on("mail.in", (event) => again.resolve(event.payload), { durable: "inbox" });
      assert.equal(await within(again.promise, LONG, "kept delivery"), 2);
      assert.deepEqual(seen, [1]);
    }),
  );

  for (
    const [title, data, error] of [
      [
        name("a stored event that is not JSON is dead-lettered with an error saying so"),
        "{not json",
        /Cannot read the stored event as it is not a CloudEvents JSON/,
      ],
      [
        name(
          "a stored event that is not a CloudEvents document is dead-lettered naming the member",
        ),
        '{"specversion":"1.0","id":"01JD0000000000000000000001","type":"order.bad"}',
        /Cannot read the stored event as 'source' must be a non-empty string: received undefined/,
      ],
      [
        name("a stored event whose data no longer decodes is dead-lettered with the error"),
        '{"specversion":"1.0","id":"01JD0000000000000000000001","source":"x","type":"order.bad","datacontenttype":"text/plain","data":"{not json"}',
        /Cannot decode the stored data: /,
      ],
    ] as const
  ) {
    test(
      title,
      withStore(undefined, async ({ make, open }) => {
        const panics: unknown[] = [];
        const decoding = await make({ panicHandler: (value) => void panics.push(value) });
        const calls: unknown[] = [];
        decoding.on("order.*", (event) => void calls.push(event.payload), { durable: "orders" });
        await decoding.publish("order.init", 1); // registers the name before the raw write
        await until(() => decoding.stats().durable.acked === 1);
        const raw = await open();
        await raw.publish({
          id: "01JD0000000000000000000001",
          topic: "order.bad",
          data,
          publishedAt: Date.now(),
          idempotencyKey: undefined,
          dedupeWindow: 1,
        });
        await until(() => decoding.stats().durable.deadLettered === 1);
        const [letter] = await decoding.deadLetters("orders");
        assert.equal(letter.data, data);
        assert.equal(letter.payload, undefined);
        assert.match(letter.error, error);
        assert.equal(letter.attempts, 1);
        assert.ok(panics.length >= 1);
        assert.deepEqual(calls, [1], "the listener never saw the unreadable event");
      }),
    );
  }

  test(
    name("store errors in the fetch loop are backed off and counted, and the loop goes on"),
    withStore(undefined, async ({ open }) => {
      const panics: unknown[] = [];
      // A transport whose first three receives fail.
      const inner = await open();
      let failures = 3;
      const failing: Transport = {
        ...bind(inner),
        receive: (name, max, lease) =>
          failures-- > 0
            ? Promise.reject(new Error("database is locked"))
            : inner.receive(name, max, lease),
      };
      const consumer = new Soiree({
        transport: failing,
        errorHandler: () => {},
        panicHandler: (value) => void panics.push(value),
      });
      try {
        const got = deferred<unknown>();
        consumer.on("sync.run", (event) => got.resolve(event.payload), { durable: "sync" });
        await consumer.publish("sync.run", 42);
        assert.equal(await within(got.promise, LONG, "delivery after errors"), 42);
        assert.equal(consumer.stats().durable.transportErrors, 3);
        assert.equal(panics.length, 1, "one report per streak of errors");
        assert.match(String((panics[0] as Error).cause), /database is locked/);
      } finally {
        await consumer.close();
      }
    }),
  );

  test(
    name("publish() rejects with a PublishError carrying the store's error"),
    withStore(undefined, async ({ open }) => {
      const inner = await open();
      const failing: Transport = {
        ...bind(inner),
        publish: () => Promise.reject(new Error("attempt to write a readonly database")),
      };
      const publisher = new Soiree({ transport: failing });
      try {
        const error = await publisher.publish("a.b", 1).catch((error) => error);
        assert.ok(error instanceof PublishError);
        assert.match(error.message, /Cannot publish "a.b" as the .* transport failed to store it/);
        assert.match(String(error.cause), /readonly database/);
        assert.equal(publisher.stats().durable.published, 0);
      } finally {
        await publisher.close();
      }
    }),
  );

  test(
    name("bad durable input is refused with a clear error before anything is stored"),
    withStore(undefined, async ({ make }) => {
      const soiree = await make();
      const listener = () => {};
      assert.throws(() => soiree.on("a", listener, { durable: "no spaces" }), {
        name: "TypeError",
        message: /durable name must be 1 to 64 of A-Z a-z 0-9 _ -: received "no spaces"/,
      });
      assert.throws(() => soiree.on("a", listener, { durable: "x".repeat(65) }), TypeError);
      soiree.on("user.*", listener, { durable: "audit" });
      assert.throws(() => soiree.on("order.*", listener, { durable: "audit" }), {
        name: "TypeError",
        message: /"audit" is already registered in this process \(pattern "user\.\*"\)/,
      });
      assert.throws(
        () => soiree.on("a", listener, { durable: "r", retry: { attempts: 0 } }),
        { name: "RangeError", message: /'retry.attempts' must be a positive integer: received 0/ },
      );
      assert.throws(
        () => soiree.on("a", listener, { durable: "r", retry: { base: 10, cap: 5 } }),
        RangeError,
      );
      assert.throws(
        () => soiree.on("a", listener, { durable: "r", retry: "often" as never }),
        TypeError,
      );
      assert.throws(
        () => soiree.on("a", listener, { durable: "r", once: true } as never),
        /'once' does not apply to a durable listener/,
      );
      assert.throws(() => soiree.publish("user.*", 1), {
        name: "TypeError",
        message: /wildcard/,
      });
      assert.throws(() => soiree.publish("a", 10n), {
        name: "TypeError",
        message: /Cannot publish "a" as its payload cannot be encoded with application\/json/,
      });
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      assert.throws(() => soiree.publish("a", cycle), TypeError);
      assert.throws(() => soiree.publish("a", 1, { idempotencyKey: "" }), TypeError);
      assert.throws(() => soiree.deadLetters("audit", { limit: 0 }), RangeError);
      assert.equal(soiree.stats().durable.published, 0);
      assert.equal(soiree.stats().durable.listeners, 1);
    }),
  );

  test(
    name("inspect() counts the deliveries of a name by state, and how long the next has waited"),
    withStore(fakeClock(), async ({ open, clock }) => {
      const transport = await open();
      if (transport.inspect === undefined) return;
      const empty = { ready: 0, delayed: 0, inFlight: 0, dead: 0, lag: 0 };
      assert.deepEqual(await transport.inspect("audit"), empty, "an unknown name");
      await transport.subscribe({ name: "audit", pattern: "user.*" });
      for (const n of [1, 2, 3, 4]) {
        await transport.publish({
          id: `01JD00000000000000000000${n}0`,
          topic: "user.created",
          data: String(n),
          publishedAt: clock.now(),
          idempotencyKey: undefined,
          dedupeWindow: 1,
        });
        clock.advance(10);
      }
      const [retried, dead] = await transport.receive("audit", 3, 30_000);
      assert.equal(await retried.retry(60_000, "later"), true);
      assert.equal(await dead.deadLetter("broken"), true);
      clock.advance(500);
      assert.deepEqual(await transport.inspect("audit"), {
        ready: 1,
        delayed: 1,
        inFlight: 1,
        dead: 1,
        lag: 510, // the fourth came due 30 ms in, and 540 ms have passed
      });
      assert.deepEqual(await transport.inspect("other"), empty, "another name is apart");
    }),
  );

  test(
    name("ordering keys: one key's deliveries start in publish order, one at a time"),
    withStore(undefined, async ({ make, open }) => {
      if ((await open()).features?.orderingKeys !== true) return;
      const soiree = await make();
      const started: string[] = [];
      const running = new Map<string, number>();
      const holdA = gate();
      const doneB = gate();
      const all = gate();
      let finished = 0;
      const total = 13;
      soiree.on("account.*", async (event) => {
        const { key, n } = event.payload as { key: string; n: number };
        started.push(`${key}${n}`);
        running.set(key, (running.get(key) ?? 0) + 1);
        assert.ok(key === "u" || running.get(key) === 1, `one ${key} at a time`);
        await ticks(3);
        if (key === "a" && n === 1) await holdA.promise;
        if (key === "b" && n === 2 && event.attempt === 1) {
          running.set(key, running.get(key)! - 1);
          throw new Error("b2 fails once");
        }
        running.set(key, running.get(key)! - 1);
        if (key === "b" && n === 5) doneB.open();
        if (++finished === total) all.open();
      }, {
        durable: "ledger",
        pool: { concurrency: 8 },
        retry: { attempts: 3, delay: () => 5 },
      });
      for (let n = 1; n <= 5; n++) {
        await soiree.publish("account.moved", { key: "a", n }, { key: "account-a" });
        await soiree.publish("account.moved", { key: "b", n }, { key: "account-b" });
        if (n <= 3) await soiree.publish("account.moved", { key: "u", n });
      }
      await within(doneB.promise, LONG, "every b while a1 is held");
      assert.deepEqual(started.filter((s) => s.startsWith("a")), ["a1"], "a2 waits for a1");
      holdA.open();
      await within(all.promise, LONG, "every delivery");
      assert.deepEqual(started.filter((s) => s.startsWith("a")), ["a1", "a2", "a3", "a4", "a5"]);
      assert.deepEqual(
        started.filter((s) => s.startsWith("b")),
        ["b1", "b2", "b2", "b3", "b4", "b5"],
        "a retry keeps its place at the head of its key",
      );
      assert.deepEqual(started.filter((s) => s.startsWith("u")).sort(), ["u1", "u2", "u3"]);
    }),
  );

  test(
    name("an ordering key or a transaction the transport does not support is refused up front"),
    withStore(undefined, async ({ make, open }) => {
      const { name, features = {} } = await open();
      const soiree = await make();
      const got: unknown[] = [];
      const done = gate();
      soiree.on("audit.*", (event) => {
        got.push(event.payload);
        done.open();
      }, { durable: "audit" });
      if (features.orderingKeys !== true) {
        assert.throws(
          () => soiree.publish("audit.write", "keyed", { key: "k" }),
          (error: Error) =>
            error instanceof TypeError && error.message.includes(`the ${name} transport`) &&
            error.message.includes("postgresTransport()"),
        );
      }
      if (features.transactions !== true) {
        assert.throws(
          () => soiree.publish("audit.write", "in a tx", { tx: {} }),
          (error: Error) =>
            error instanceof TypeError && error.message.includes(`the ${name} transport`) &&
            error.message.includes("'tx'"),
        );
      }
      assert.throws(() => soiree.publish("audit.write", "bad", { key: "" }), TypeError);
      assert.throws(() => soiree.publish("audit.write", "bad", { tx: 1 }), TypeError);
      await soiree.publish("audit.write", "plain");
      await within(done.promise, LONG, "delivery");
      await soiree.close();
      assert.deepEqual(got, ["plain"], "nothing refused was stored");
    }),
  );

  test(
    name("event.complete(tx) rejects with a TypeError where the transport has no transactions"),
    withStore(undefined, async ({ make, open }) => {
      if ((await open()).features?.transactions === true) return;
      const soiree = await make();
      const rejected = deferred<unknown>();
      soiree.on("credit.grant", async (event) => {
        rejected.resolve(await event.complete({}).then(() => "resolved", (error) => error));
      }, { durable: "credit" });
      await soiree.publish("credit.grant", 1);
      const error = await within(rejected.promise, LONG, "complete()");
      assert.ok(error instanceof TypeError, String(error));
      assert.match((error as Error).message, /does not support transactions/);
      await until(() => soiree.stats().durable.acked === 1);
    }),
  );
}

/** What a test of the suite gets: its store, and the clock when it asked for a fake one. */
interface Store {
  /** The fake clock the store's transports measure time on (only when the test made one). */
  readonly clock: FakeClock;
  /** An emitter on a new connection to the store; closed at the end of the test. */
  make(options?: SoireeOptions): Promise<Soiree>;
  /** A new connection to the store, to act as another process by hand. */
  open(): Promise<Transport>;
}

/**
 * Awaits `promise` while moving the fake clock on by 100 ms every few real milliseconds: on a
 * store behind a network, a consumer may arm its next timer just after any one move of the clock,
 * so one move alone can leave it waiting for a time that never comes.
 */
async function advanceUntil<T>(clock: FakeClock, promise: Promise<T>, what: string): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => (settled = true));
  const deadline = Date.now() + LONG;
  while (!settled) {
    if (Date.now() > deadline) throw new Error(`${what}: still pending after ${LONG} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (!settled) clock.advance(100);
  }
  return await watched;
}

/** Polls a condition across macrotasks: for outcomes reached through the transport's loops. */
async function until(condition: () => boolean, ms = LONG): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition still false after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A transport's methods bound to it, to spread into a wrapper. */
function bind(transport: Transport): Transport {
  return {
    name: transport.name,
    subscribe: transport.subscribe.bind(transport),
    publish: transport.publish.bind(transport),
    receive: transport.receive.bind(transport),
    wait: transport.wait.bind(transport),
    deadLetters: transport.deadLetters.bind(transport),
    redrive: transport.redrive.bind(transport),
    close: () => Promise.resolve(),
  };
}
