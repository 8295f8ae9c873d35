// Compile-time checks: `deno check` fails if an `@ts-expect-error` line stops being an error.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type CheckedPattern,
  type DeadLetter,
  type Listener,
  memoryTransport,
  type PatternEvent,
  type PatternPayload,
  type PatternTopic,
  Priority,
  type PublishReceipt,
  Soiree,
  type SoireeEvent,
  type WaitForOptions,
} from "../mod.ts";

type User = { name: string };
type Invoice = { cents: number };
type Events = {
  "user.created": User;
  "user.deleted": { id: number };
  "invoice.paid": Invoice;
  "invoice.paid.late": Invoice & { days: number };
  "system.tick": undefined;
};

/** Fails to compile unless A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T extends true>(_: T): void {}

test("a typed emitter checks topics and payloads at compile time", () => {
  const soiree = new Soiree<Events>();
  const seen: string[] = [];
  soiree.on("user.created", (event) => {
    expectType<Equal<typeof event.payload, User>>(true);
    expectType<Equal<typeof event.topic, "user.created">>(true);
    seen.push(event.payload.name);
  });
  soiree.emitSync("user.created", { name: "Ada" });
  void soiree.emit("invoice.paid", { cents: 100 });
  soiree.emitSync("system.tick");
  void soiree.emit("system.tick", undefined, { timeout: 10 });

  const wrongPayload = { name: "Ada" };
  // @ts-expect-error invoice.paid carries an Invoice
  soiree.emitSync("invoice.paid", wrongPayload);
  // @ts-expect-error no such topic
  soiree.emitSync("user.renamed", wrongPayload);
  // @ts-expect-error the payload is required
  soiree.emitSync("user.created");
  // @ts-expect-error no such topic for emit() either
  void soiree.emit("nope", 1);
  assert.deepEqual(seen, ["Ada"]);
});

test("a pattern listener sees the union of the payloads of the topics it matches", () => {
  const soiree = new Soiree<Events>();
  soiree.on("user.*", (event) => {
    expectType<Equal<typeof event.payload, User | { id: number }>>(true);
    expectType<Equal<typeof event.topic, "user.created" | "user.deleted">>(true);
  });
  soiree.on("invoice.**", (event) => {
    expectType<Equal<typeof event.payload, Invoice | (Invoice & { days: number })>>(true);
  });
  soiree.on("**.late", (event) => {
    expectType<Equal<typeof event.topic, "invoice.paid.late">>(true);
  });
  expectType<Equal<PatternPayload<Events, "*.created">, User>>(true);
  expectType<Equal<PatternTopic<Events, "invoice.*">, "invoice.paid">>(true);
  expectType<Equal<PatternTopic<Events, "**">, keyof Events>>(true);
  // A trailing ** needs at least one segment, as at run time.
  expectType<Equal<PatternTopic<Events, "invoice.paid.**">, "invoice.paid.late">>(true);
  const waiting = soiree.waitFor("user.deleted", { timeout: 1 });
  expectType<Equal<typeof waiting, Promise<SoireeEvent<{ id: number }, "user.deleted">>>>(true);
  waiting.catch(() => {});
  assert.ok(true);
});

test("an untyped emitter accepts any topic with an unknown payload", () => {
  const soiree = new Soiree();
  soiree.on("anything.*", (event) => {
    expectType<Equal<typeof event.payload, unknown>>(true);
    expectType<Equal<typeof event.topic, string>>(true);
  });
  assert.deepEqual(soiree.emitSync("anything.at.all", 42), []);
  soiree.emitSync("no.payload");
});

test("checking event.topic in a wildcard listener narrows event.payload", () => {
  const soiree = new Soiree<Events>();
  const seen: string[] = [];
  soiree.on("user.*", (event) => {
    expectType<
      Equal<
        typeof event,
        SoireeEvent<User, "user.created"> | SoireeEvent<{ id: number }, "user.deleted">
      >
    >(true);
    if (event.topic === "user.created") {
      expectType<Equal<typeof event.payload, User>>(true);
      seen.push(event.payload.name);
    } else {
      expectType<Equal<typeof event.payload, { id: number }>>(true);
      seen.push(`#${event.payload.id}`);
    }
  });
  soiree.on("invoice.**", (event) => {
    switch (event.topic) {
      case "invoice.paid":
        expectType<Equal<typeof event.payload, Invoice>>(true);
        break;
      case "invoice.paid.late":
        seen.push(`${event.payload.days} days late`);
        break;
    }
  });
  soiree.on("user.*", (event) => {
    // @ts-expect-error without narrowing, the payload may be a { id: number }
    void event.payload.name;
  });
  soiree.emitSync("user.created", { name: "Ada" });
  soiree.emitSync("user.deleted", { id: 7 });
  soiree.emitSync("invoice.paid.late", { cents: 100, days: 3 });
  assert.deepEqual(seen, ["Ada", "#7", "3 days late"]);
});

test("waitFor() narrows in its filter and its result, events() in each item", async () => {
  const soiree = new Soiree<Events>();
  const deleted = soiree.waitFor("user.*", {
    filter: (event) => event.topic === "user.deleted" && event.payload.id > 1,
  });
  expectType<Equal<typeof deleted, Promise<PatternEvent<Events, "user.*">>>>(true);
  const iterator = soiree.events("invoice.*");
  expectType<
    Equal<typeof iterator, AsyncIterableIterator<SoireeEvent<Invoice, "invoice.paid">>>
  >(true);
  soiree.emitSync("user.deleted", { id: 1 });
  soiree.emitSync("user.created", { name: "Ada" });
  soiree.emitSync("user.deleted", { id: 2 });
  soiree.emitSync("invoice.paid", { cents: 250 });
  const event = await deleted;
  assert.equal(event.topic === "user.deleted" ? event.payload.id : 0, 2);
  const next = await iterator.next();
  assert.equal(next.done ? 0 : next.value.payload.cents, 250);
  await iterator.return?.();
  await soiree.close();
});

test("a pattern that matches no topic of a typed map does not compile", async () => {
  const soiree = new Soiree<Events>();
  const id = soiree.on("user.*", () => {}).id;
  // @ts-expect-error usr.* is a typo: no topic matches it
  soiree.on("usr.*", () => {});
  // @ts-expect-error "*" matches one segment, and every topic has two or more
  soiree.on("*", () => {});
  // @ts-expect-error one pattern of a union that matches nothing is enough
  soiree.on(Math.random() < 2 ? "user.*" : "usr.*", () => {});
  // @ts-expect-error waitFor() checks its pattern too
  const waiting = soiree.waitFor("invoice.*.*.*", { timeout: 1 });
  // @ts-expect-error and so does events()
  const iterator = soiree.events("system.tock");
  // @ts-expect-error off() takes the pattern given to on(), so it checks it the same way
  assert.throws(() => soiree.off("usr.*", id), { name: "ListenerNotFoundError" });
  // @ts-expect-error listenerCount() too, with a topic or a pattern
  assert.equal(soiree.listenerCount("user.created.twice"), 0);
  // @ts-expect-error an invalid pattern matches no topic either, so it fails before run time
  assert.throws(() => soiree.on("user..created", () => {}), TypeError);
  // A valid pattern that matches a topic still compiles for each of them.
  soiree.off("user.*", id);
  assert.equal(soiree.listenerCount("user.created") + soiree.listenerCount("**"), 1);
  await assert.rejects(waiting, { name: "TimeoutError" });
  await iterator.return?.();
  await soiree.close();
});

test("the compiler names the pattern no topic matches", () => {
  expectType<
    Equal<
      CheckedPattern<Events, "usr.*">,
      'No topic of the event map matches the pattern "usr.*"'
    >
  >(true);
  expectType<Equal<CheckedPattern<Events, "user.*">, "user.*">>(true);
  expectType<Equal<CheckedPattern<{ [topic: string]: number }, "a..b">, "a..b">>(true);
  assert.ok(true);
});

test("an untyped emitter accepts any pattern, and invalid ones still throw at run time", () => {
  const soiree = new Soiree();
  assert.throws(() => soiree.on("a..b", () => {}), {
    name: "TypeError",
    message: /empty segment/,
  });
  assert.throws(() => soiree.off("a..b", "id"), TypeError);
  assert.throws(() => soiree.listenerCount("a..b"), TypeError);
  assert.equal(soiree.listenerCount("usr.*"), 0);
  const event = soiree.waitFor("usr.*", { timeout: 1 });
  expectType<Equal<typeof event, Promise<SoireeEvent<unknown, string>>>>(true);
  return assert.rejects(event, { name: "TimeoutError" });
});

test("a pattern known only as a string is not checked and sees every topic", () => {
  const soiree = new Soiree<Events>();
  const pattern: string = "user.*";
  const topics: string[] = [];
  soiree.on(pattern, (event) => {
    expectType<Equal<typeof event, PatternEvent<Events, "**">>>(true);
    topics.push(event.topic);
  });
  const segment: string = "created";
  soiree.on(`user.${segment}`, (event) => {
    expectType<Equal<typeof event.topic, "user.created" | "user.deleted">>(true);
  });
  // @ts-expect-error no topic starts with usr, whatever the string is
  soiree.on(`usr.${segment}`, () => {});
  assert.equal(soiree.listenerCount(pattern), 1);
  soiree.emitSync("user.created", { name: "Ada" });
  assert.deepEqual(topics, ["user.created"]);
});

test("code generic over the event map passes its pattern as a string", () => {
  function subscribe<E extends object>(soiree: Soiree<E>): string {
    // @ts-expect-error with E unknown, the compiler cannot tell whether a topic matches
    soiree.on("user.*", () => {});
    return soiree.on<string>("user.*", () => {}).id;
  }
  assert.equal(typeof subscribe(new Soiree<Events>()), "string");
});

test("a listener typed with PatternPayload and PatternTopic is still accepted", () => {
  const soiree = new Soiree<Events>();
  let calls = 0;
  const listener: Listener<PatternPayload<Events, "user.*">, PatternTopic<Events, "user.*">> = (
    event,
  ) => {
    expectType<Equal<typeof event.topic, "user.created" | "user.deleted">>(true);
    calls++;
  };
  soiree.on("user.*", listener);
  const wide: Listener = () => void calls++;
  soiree.on("user.created", wide);
  const options: WaitForOptions<
    PatternPayload<Events, "user.*">,
    PatternTopic<Events, "user.*">
  > = { filter: (event) => event.topic === "user.created", signal: AbortSignal.abort() };
  soiree.waitFor("user.*", options).catch(() => {});
  // @ts-expect-error a listener of invoice events does not take user events
  soiree.on("user.*", (_event: SoireeEvent<Invoice, "invoice.paid">) => {});
  soiree.emitSync("user.created", { name: "Ada" });
  assert.equal(calls, 2);
});

test("Priority is a type of the five named priorities as well as a value", () => {
  const named: Priority = Priority.High;
  expectType<Equal<Priority, 1 | 2 | 3 | 4 | 5>>(true);
  // @ts-expect-error 3.5 is not a named priority
  const between: Priority = 3.5;
  const soiree = new Soiree();
  const calls: number[] = [];
  soiree.on("tick", () => void calls.push(named), { priority: named });
  // Options still take any finite number.
  soiree.on("tick", () => void calls.push(between), { priority: between });
  soiree.emitSync("tick");
  assert.deepEqual(calls, [4, 3.5]);
});

test("a durable listener sees a DurableEvent per matched topic, and publish() checks payloads", async () => {
  const soiree = new Soiree<Events>({ transport: memoryTransport() });
  soiree.on("user.*", (event) => {
    expectType<Equal<typeof event.attempt, number>>(true);
    expectType<Equal<typeof event.idempotencyKey, string>>(true);
    if (event.topic === "user.created") expectType<Equal<typeof event.payload, User>>(true);
  }, { durable: "audit", retry: { attempts: 3 } });
  soiree.on("user.created", (event) => {
    expectType<Equal<typeof event, SoireeEvent<User, "user.created">>>(true);
  });
  // @ts-expect-error an in-process listener's event has no attempt
  soiree.on("user.created", (event) => event.attempt);
  assert.throws(
    // @ts-expect-error `once` is not an option of a durable listener
    () => soiree.on("user.created", () => {}, { durable: "once", once: true }),
    TypeError,
  );
  const receipt: PublishReceipt = await soiree.publish("user.created", { name: "Ada" });
  expectType<Equal<typeof receipt, PublishReceipt>>(true);
  await soiree.publish("system.tick");
  // @ts-expect-error the payload of user.created is required
  await soiree.publish("user.created");
  // @ts-expect-error a wildcard is not a topic
  assert.throws(() => soiree.publish("user.*", { name: "Ada" }), TypeError);
  const dead: readonly DeadLetter[] = await soiree.deadLetters("audit");
  assert.deepEqual(dead, []);
  await soiree.close();
});

test("broadcast() checks the topic and payload against the event map, as emitSync() does", async () => {
  const soiree = new Soiree<Events>({ transport: memoryTransport() });
  const sent: Promise<void> = soiree.broadcast("user.created", { name: "Ada" });
  await sent;
  await soiree.broadcast("system.tick");
  // @ts-expect-error the payload of user.created is required
  await soiree.broadcast("user.created");
  // @ts-expect-error the payload has the wrong type
  await soiree.broadcast("user.created", { name: 42 });
  // @ts-expect-error a wildcard is not a topic
  assert.throws(() => soiree.broadcast("user.*", { name: "Ada" }), TypeError);
  await soiree.close();
});
