import { test } from "node:test";
import assert from "node:assert/strict";
import {
  EmitterAlreadyClosedError,
  EmitterClosedError,
  ListenerError,
  ListenerNotFoundError,
  Priority,
  QueueFullError,
  Soiree,
  type SoireeEvent,
} from "../mod.ts";
import { emitterAccess } from "../src/_internal.ts";
import { EMPTY_INTERNALS, gate, ticks } from "./_util.ts";

// --- ordering -------------------------------------------------------------------------------

test("emit() runs higher priorities first, then subscription order, across patterns", async () => {
  const soiree = new Soiree();
  const calls: string[] = [];
  soiree.on("user.created", () => void calls.push("exact normal 1"));
  soiree.on("user.*", () => void calls.push("star low"), { priority: Priority.Low });
  soiree.on("**", () => void calls.push("globstar highest"), { priority: Priority.Highest });
  soiree.on("user.created", () => void calls.push("exact high"), { priority: Priority.High });
  soiree.on("user.*", () => void calls.push("star normal 2"));
  soiree.on("user.**", () => void calls.push("user.** normal 3"));
  soiree.on("*.created", () => void calls.push("custom 4.5"), { priority: 4.5 });
  soiree.on("user.created", () => void calls.push("exact lowest"), { priority: Priority.Lowest });
  assert.deepEqual(await soiree.emit("user.created"), []);
  const expected = [
    "globstar highest",
    "custom 4.5",
    "exact high",
    "exact normal 1",
    "star normal 2",
    "user.** normal 3",
    "star low",
    "exact lowest",
  ];
  assert.deepEqual(calls, expected);
  calls.length = 0;
  soiree.emitSync("user.created");
  assert.deepEqual(calls, expected);
});

test("the Go priority table runs Highest, High, Normal, Low, Lowest", () => {
  const soiree = new Soiree();
  const calls: number[] = [];
  for (
    const p of [Priority.High, Priority.Low, Priority.Normal, Priority.Lowest, Priority.Highest]
  ) {
    soiree.on("testTopic", () => void calls.push(p), { priority: p });
  }
  soiree.emitSync("testTopic");
  assert.deepEqual(calls, [5, 4, 3, 2, 1]);
});

test("equal priorities run in subscription order, not newest first", () => {
  const soiree = new Soiree();
  const calls: string[] = [];
  soiree.on("a", () => void calls.push("A"));
  soiree.on("a", () => void calls.push("B"));
  soiree.on("a", () => void calls.push("C"));
  soiree.emitSync("a");
  assert.deepEqual(calls, ["A", "B", "C"]);
});

test("the Go wildcard subscription table delivers exactly to the matching patterns", () => {
  const soiree = new Soiree();
  const got: Record<string, string[]> = {};
  for (const pattern of ["event.some.*.*", "event.some.*.run", "event.some.**", "**.thing.run"]) {
    got[pattern] = [];
    soiree.on(pattern, (event) => void got[pattern].push(event.topic));
  }
  for (const topic of ["event.some.thing.run", "event.some.thing.do", "event.some.thing"]) {
    soiree.emitSync(topic, topic);
  }
  assert.deepEqual(got, {
    "event.some.*.*": ["event.some.thing.run", "event.some.thing.do"],
    "event.some.*.run": ["event.some.thing.run"],
    "event.some.**": ["event.some.thing.run", "event.some.thing.do", "event.some.thing"],
    "**.thing.run": ["event.some.thing.run"],
  });
});

test("emit() awaits an async listener before starting the next", async () => {
  const soiree = new Soiree();
  const calls: string[] = [];
  const first = gate();
  soiree.on("job", async () => {
    calls.push("first start");
    await first.promise;
    calls.push("first end");
  });
  soiree.on("job", () => void calls.push("second"));
  const done = soiree.emit("job");
  await ticks();
  assert.deepEqual(calls, ["first start"]);
  first.open();
  assert.deepEqual(await done, []);
  assert.deepEqual(calls, ["first start", "first end", "second"]);
});

test("a listener added during an emission is not invoked by it", async () => {
  const soiree = new Soiree();
  const calls: string[] = [];
  soiree.on("a.b", () => {
    calls.push("first");
    soiree.on("a.b", () => void calls.push("added exact"));
    soiree.on("a.*", () => void calls.push("added wildcard"), { priority: Priority.Lowest });
  });
  soiree.emitSync("a.b");
  assert.deepEqual(calls, ["first"]);
  await soiree.emit("a.b");
  assert.deepEqual(calls.slice(1, 3), ["first", "added exact"]);
});

test("a listener removed during an emission is not invoked by it", async () => {
  const soiree = new Soiree();
  const calls: string[] = [];
  const release = gate();
  soiree.on("x", async () => {
    calls.push("first");
    await release.promise;
  });
  const second = soiree.on("x", () => void calls.push("second"));
  const done = soiree.emit("x");
  await ticks();
  second.off(); // removed while the emission is waiting on the first listener
  release.open();
  await done;
  assert.deepEqual(calls, ["first"]);
  // and removal by another listener, synchronously
  const soiree2 = new Soiree();
  const order: string[] = [];
  const victim = soiree2.on("t", () => void order.push("victim"), { priority: Priority.Low });
  soiree2.on("t", () => {
    order.push("remover");
    victim.off();
  }, { priority: Priority.High });
  soiree2.emitSync("t");
  assert.deepEqual(order, ["remover"]);
  soiree2.emitSync("t");
  assert.deepEqual(order, ["remover", "remover"]);
});

test("a listener may remove itself during an emission", () => {
  const soiree = new Soiree();
  let calls = 0;
  const subscription = soiree.on("t", () => {
    calls++;
    subscription.off();
  });
  soiree.on("t", () => void calls++);
  soiree.emitSync("t");
  soiree.emitSync("t");
  assert.equal(calls, 3);
  assert.equal(subscription.active, false);
});

test("once listeners run at most once across overlapping emissions", async () => {
  const soiree = new Soiree();
  let calls = 0;
  const release = gate();
  soiree.on("slow", async () => {
    await release.promise;
  });
  soiree.on("slow", () => void calls++, { once: true, priority: Priority.Lowest });
  const emissions = [soiree.emit("slow"), soiree.emit("slow"), soiree.emit("slow")];
  release.open();
  await Promise.all(emissions);
  assert.equal(calls, 1);
  assert.equal(soiree.listenerCount("slow"), 1);
  // and when a once listener re-emits its own topic
  let nested = 0;
  soiree.on("again", () => {
    nested++;
    soiree.emitSync("again");
  }, { once: true });
  soiree.emitSync("again");
  assert.equal(nested, 1);
});

test("listeners may emit recursively", () => {
  const soiree = new Soiree();
  const calls: string[] = [];
  soiree.on("count.*", (event) => {
    const n = Number(event.topic.split(".")[1]);
    calls.push(`enter ${n}`);
    if (n < 3) soiree.emitSync(`count.${n + 1}`);
    calls.push(`leave ${n}`);
  });
  soiree.emitSync("count.1");
  assert.deepEqual(calls, ["enter 1", "enter 2", "enter 3", "leave 3", "leave 2", "leave 1"]);
});

// --- timing ---------------------------------------------------------------------------------

test("emit() calls no listener before it returns", async () => {
  const soiree = new Soiree();
  let called = false;
  soiree.on("a", () => void (called = true));
  const done = soiree.emit("a");
  assert.equal(called, false);
  await done;
  assert.equal(called, true);
});

test("emitSync() runs listeners before it returns and does not await promises", async () => {
  const soiree = new Soiree();
  const calls: string[] = [];
  const release = gate();
  soiree.on("a", async () => {
    calls.push("async start");
    await release.promise;
    calls.push("async end");
  });
  soiree.on("a", () => void calls.push("sync"));
  assert.deepEqual(soiree.emitSync("a"), []);
  assert.deepEqual(calls, ["async start", "sync"]);
  release.open();
  await soiree.close();
  assert.deepEqual(calls, ["async start", "sync", "async end"]);
});

test("emitting a topic nobody listens to returns []", async () => {
  const soiree = new Soiree();
  assert.deepEqual(soiree.emitSync("nobody.home"), []);
  assert.deepEqual(await soiree.emit("nobody.home"), []);
  soiree.on("somebody", () => {});
  assert.deepEqual(soiree.emitSync("nobody.home"), []);
  assert.equal(soiree.stats().delivered, 0);
});

// --- the event ------------------------------------------------------------------------------

test("the event carries topic, payload, properties and a lazily made ID", () => {
  let n = 0;
  const soiree = new Soiree({ idGenerator: () => `id-${n++}` });
  const seen: unknown[] = [];
  soiree.on("user.*", (event) => {
    seen.push(event.topic, event.payload, event.properties.size, event.aborted);
    event.payload = "changed";
    event.properties.set("by", "first");
    seen.push(event.id, event.id);
  }, { priority: Priority.High });
  soiree.on("user.created", (event) => {
    seen.push(event.payload, event.properties.get("by"));
  });
  soiree.emitSync("user.created", "original");
  assert.deepEqual(seen, [
    "user.created",
    "original",
    0,
    false,
    "id-2",
    "id-2",
    "changed",
    "first",
  ]);
});

// --- abort ----------------------------------------------------------------------------------

test("abort() stops the remaining listeners of every pattern", async () => {
  for (const mode of ["emit", "emitSync"] as const) {
    const soiree = new Soiree();
    const calls: string[] = [];
    soiree.on("order.placed", () => void calls.push("low"), { priority: Priority.Low });
    soiree.on("order.*", (event) => {
      calls.push("normal aborts");
      event.abort();
    });
    soiree.on("**", () => void calls.push("high"), { priority: Priority.High });
    soiree.on("order.**", () => void calls.push("lowest"), { priority: Priority.Lowest });
    const errors = mode === "emit"
      ? await soiree.emit("order.placed")
      : soiree.emitSync("order.placed");
    assert.deepEqual(errors, [], mode);
    assert.deepEqual(calls, ["high", "normal aborts"], mode);
    assert.equal(soiree.stats().aborted, 1);
  }
});

test("setAborted() aborts like abort(), and an async listener can abort", async () => {
  const soiree = new Soiree();
  const calls: string[] = [];
  soiree.on("a", async (event) => {
    await Promise.resolve();
    event.setAborted(true);
    calls.push(`aborted ${event.aborted}`);
  });
  soiree.on("a", () => void calls.push("never"));
  await soiree.emit("a");
  assert.deepEqual(calls, ["aborted true"]);
  const event = { aborted: false } as unknown as SoireeEvent;
  void event;
});

test("abort() never touches another emission", async () => {
  const soiree = new Soiree();
  const calls: unknown[] = [];
  const release = gate();
  soiree.on("a", async (event) => {
    if (event.payload === 1) {
      await release.promise;
      event.abort();
    }
  });
  soiree.on("a", (event) => void calls.push(event.payload));
  const first = soiree.emit("a", 1);
  const second = soiree.emit("a", 2);
  await second;
  release.open();
  await first;
  soiree.emitSync("a", 3);
  assert.deepEqual(calls, [2, 3]);
});

// --- failures -------------------------------------------------------------------------------

test("a failing listener does not stop the others", async () => {
  const panics: unknown[] = [];
  const soiree = new Soiree({ panicHandler: (value) => void panics.push(value) });
  const calls: string[] = [];
  soiree.on("a", () => {
    calls.push("throws");
    throw new Error("thrown");
  });
  soiree.on("a", async () => {
    calls.push("rejects");
    throw new Error("rejected");
  });
  soiree.on("a", () => {
    calls.push("returns");
    return new Error("returned");
  });
  soiree.on("a", async () => {
    calls.push("resolves");
    return new Error("resolved");
  });
  soiree.on("a", () => void calls.push("fine"));
  const errors = await soiree.emit("a");
  assert.deepEqual(calls, ["throws", "rejects", "returns", "resolves", "fine"]);
  assert.deepEqual(
    errors.map((error) => (error.cause as Error).message),
    ["thrown", "rejected", "returned", "resolved"],
  );
  assert.ok(errors.every((error) => error instanceof ListenerError));
  const sync = soiree.emitSync("a");
  assert.deepEqual(sync.map((error) => (error.cause as Error).message), ["thrown", "returned"]);
  await soiree.close();
  // emitSync() did not await the async ones: their failures arrived late, at the panic handler
  assert.deepEqual(
    panics.map((error) => ((error as Error).cause as Error).message),
    ["rejected", "resolved"],
  );
});

test("the default error handler names the topic, pattern and listener", () => {
  const soiree = new Soiree({ panicHandler: () => {} });
  const { id } = soiree.on("user.*", () => {
    throw "a string";
  });
  const [error] = soiree.emitSync("user.created") as ListenerError[];
  assert.ok(error instanceof ListenerError);
  assert.equal(error.name, "ListenerError");
  assert.equal(error.topic, "user.created");
  assert.equal(error.pattern, "user.*");
  assert.equal(error.listenerId, id);
  assert.equal(error.cause, "a string");
  assert.match(error.message, /user\.\*.*user\.created.*a string/);
});

test("the error handler decides what is reported", async () => {
  const handled: unknown[] = [];
  const soiree = new Soiree({
    errorHandler: (event, error, listener) => {
      handled.push([event.topic, (error as Error).message, listener?.pattern]);
      if ((error as Error).message === "swallow") return;
      return new Error(`mapped ${(error as Error).message}`);
    },
  });
  soiree.on("a.*", () => {
    throw new Error("swallow");
  });
  soiree.on("a.b", async () => {
    throw new Error("keep");
  });
  const errors = await soiree.emit("a.b");
  assert.deepEqual(errors.map((error) => error.message), ["mapped keep"]);
  assert.deepEqual(handled, [["a.b", "swallow", "a.*"], ["a.b", "keep", "a.b"]]);
});

test("emit() resolves, never rejects, whatever the listeners do", async () => {
  const soiree = new Soiree({
    errorHandler: () => {
      throw new Error("handler broken");
    },
    panicHandler: () => {
      throw new Error("panic handler broken too");
    },
  });
  soiree.on("a", () => Promise.reject(undefined));
  soiree.on("a", () => {
    throw null;
  });
  soiree.on(
    "a",
    () => ({ then: (_: unknown, reject: (e: unknown) => void) => reject("thenable") }),
  );
  const originalError = console.error;
  const logged: unknown[][] = [];
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    const errors = await soiree.emit("a");
    assert.equal(errors.length, 3);
    assert.ok(errors.every((error) => error instanceof ListenerError));
    assert.equal(logged.length, 3, "each broken panic handler call is logged");
  } finally {
    console.error = originalError;
  }
});

test("an error handler that throws goes to the panic handler", () => {
  const panics: unknown[] = [];
  const broken = new Error("handler broken");
  const soiree = new Soiree({
    errorHandler: () => {
      throw broken;
    },
    panicHandler: (value) => void panics.push(value),
  });
  soiree.on("a", () => {
    throw new Error("original");
  });
  const errors = soiree.emitSync("a");
  assert.deepEqual(panics, [broken]);
  assert.equal(errors.length, 1, "the original failure is still reported");
  assert.equal((errors[0].cause as Error).message, "original");
});

test("a rejection after emitSync() returned goes through the error handler to the panic handler", async () => {
  const panics: unknown[] = [];
  const handled: unknown[] = [];
  const soiree = new Soiree({
    errorHandler: (_event, error) => {
      handled.push(error);
      return error as Error;
    },
    panicHandler: (value) => void panics.push(value),
  });
  const late = new Error("late");
  const release = gate();
  soiree.on("a", async () => {
    await release.promise;
    throw late;
  });
  assert.deepEqual(soiree.emitSync("a"), []);
  release.open();
  await soiree.close();
  assert.deepEqual(handled, [late]);
  assert.deepEqual(panics, [late]);
});

test("the default panic handler logs with console.error", async () => {
  const soiree = new Soiree();
  soiree.on("a", () => Promise.reject(new Error("late")));
  const originalError = console.error;
  const logged: unknown[][] = [];
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    soiree.emitSync("a");
    await soiree.close();
  } finally {
    console.error = originalError;
  }
  assert.equal(logged.length, 1);
  assert.equal(logged[0][0], "Soiree panic:");
  assert.ok(logged[0][1] instanceof ListenerError);
});

// --- subscriptions --------------------------------------------------------------------------

test("on() returns a subscription with the ID, off() and Symbol.dispose", () => {
  const soiree = new Soiree();
  let calls = 0;
  const subscription = soiree.on("a", () => void calls++);
  assert.equal(typeof subscription.id, "string");
  assert.equal(subscription.id.length, 26);
  assert.equal(subscription.pattern, "a");
  assert.equal(subscription.active, true);
  soiree.emitSync("a");
  assert.equal(subscription.off(), true);
  assert.equal(subscription.off(), false);
  soiree.emitSync("a");
  assert.equal(calls, 1);
  {
    using _disposable = soiree.on("a", () => void calls++);
    soiree.emitSync("a");
  }
  soiree.emitSync("a");
  assert.equal(calls, 2);
});

test("default listener IDs are increasing ULIDs", () => {
  const soiree = new Soiree();
  const ids = Array.from({ length: 100 }, () => soiree.on("a", () => {}).id);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, 100);
  assert.ok(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)));
});

test("off(pattern, id) removes one listener and throws ListenerNotFoundError otherwise", () => {
  const soiree = new Soiree();
  const calls: string[] = [];
  const a = soiree.on("user.*", () => void calls.push("a"));
  soiree.on("user.*", () => void calls.push("b"));
  assert.throws(() => soiree.off("user.created", a.id), ListenerNotFoundError);
  assert.throws(() => soiree.off("user.*", "nope"), (error: ListenerNotFoundError) => {
    assert.ok(error instanceof ListenerNotFoundError);
    assert.equal(error.pattern, "user.*");
    assert.equal(error.id, "nope");
    assert.match(error.message, /"nope".*"user\.\*"/);
    return true;
  });
  soiree.off("user.*", a.id);
  soiree.emitSync("user.created");
  assert.deepEqual(calls, ["b"]);
  assert.throws(() => soiree.off("user.*", a.id), ListenerNotFoundError);
  assert.throws(() => soiree.off("a..b", a.id), TypeError);
});

test("on() validates the listener and options before subscribing", () => {
  const soiree = new Soiree();
  assert.throws(() => soiree.on("a", null as never), {
    name: "TypeError",
    message: /'listener' must be a function: received null/,
  });
  assert.throws(() => soiree.on("a", "x" as never), /received "x"/);
  for (const priority of [NaN, Infinity, -Infinity, "1", null]) {
    assert.throws(() => soiree.on("a", () => {}, { priority: priority as number }), {
      name: "RangeError",
      message: /'priority' must be a finite number/,
    });
  }
  assert.throws(() => soiree.on("a", () => {}, { signal: {} as AbortSignal }), TypeError);
  assert.throws(() => soiree.on("a", () => {}, { timeout: -1 }), RangeError);
  assert.throws(() => soiree.on("a", () => {}, { pool: 5 as never }), TypeError);
  assert.throws(() => soiree.on("a", () => {}, { pool: { concurrency: 0 } }), RangeError);
  assert.throws(() => soiree.on("a", () => {}, 5 as never), TypeError);
  assert.equal(soiree.listenerCount(), 0);
  soiree.on("a", () => {}, { priority: -7.5 });
  assert.equal(soiree.listenerCount(), 1);
});

test("a signal unsubscribes the listener", () => {
  const soiree = new Soiree();
  let calls = 0;
  const controller = new AbortController();
  const subscription = soiree.on("a", () => void calls++, { signal: controller.signal });
  soiree.emitSync("a");
  controller.abort();
  soiree.emitSync("a");
  assert.equal(calls, 1);
  assert.equal(subscription.active, false);
  const aborted = soiree.on("a", () => void calls++, { signal: AbortSignal.abort() });
  assert.equal(aborted.active, false);
  soiree.emitSync("a");
  assert.equal(calls, 1);
  assert.equal(soiree.listenerCount(), 0);
});

test("listenerCount() counts all, per topic through patterns, and per pattern", () => {
  const soiree = new Soiree();
  soiree.on("user.created", () => {});
  soiree.on("user.*", () => {});
  soiree.on("user.*", () => {});
  soiree.on("**", () => {});
  soiree.on("invoice.**", () => {});
  assert.equal(soiree.listenerCount(), 5);
  assert.equal(soiree.listenerCount("user.created"), 4);
  assert.equal(soiree.listenerCount("user.deleted"), 3);
  assert.equal(soiree.listenerCount("user.*"), 2);
  assert.equal(soiree.listenerCount("invoice.**"), 1);
  assert.equal(soiree.listenerCount("nothing.*"), 0);
  assert.throws(() => soiree.listenerCount("a..b"), TypeError);
});

test("a custom ID generator that repeats an ID is refused, not corrupting the list", () => {
  const soiree = new Soiree({ idGenerator: () => "customID" });
  const calls: string[] = [];
  assert.equal(soiree.on("t", () => void calls.push("first")).id, "customID");
  assert.throws(() => soiree.on("t", () => void calls.push("second")), {
    message: /ID generator returned an ID already in use: received "customID"/,
  });
  soiree.emitSync("t");
  assert.deepEqual(calls, ["first"]);
  assert.equal(soiree.listenerCount(), 1);
});

test("an ID generator that throws or returns a non-string fails on() cleanly", () => {
  let mode = "throw";
  const soiree = new Soiree({
    idGenerator: () => {
      if (mode === "throw") throw new Error("no entropy");
      return (mode === "number" ? 42 : "") as string;
    },
  });
  assert.throws(() => soiree.on("a", () => {}), (error: Error) => {
    assert.match(error.message, /ID generator threw/);
    assert.equal((error.cause as Error).message, "no entropy");
    return true;
  });
  mode = "number";
  assert.throws(() => soiree.on("a", () => {}), { name: "TypeError", message: /received 42/ });
  mode = "empty";
  assert.throws(() => soiree.on("a", () => {}), TypeError);
  assert.equal(soiree.listenerCount(), 0);
});

test("an ID generator that throws while making an event ID goes to the panic handler", () => {
  const panics: unknown[] = [];
  let fail = false;
  let n = 0;
  const soiree = new Soiree({
    idGenerator: () => {
      if (fail) throw new Error("generator down");
      return `id-${n++}`;
    },
    panicHandler: (value) => void panics.push(value),
  });
  let eventId = "";
  soiree.on("a", (event) => void (eventId = event.id));
  fail = true;
  assert.deepEqual(soiree.emitSync("a"), []);
  assert.equal((panics[0] as Error).message, "generator down");
  assert.equal(eventId.length, 26, "falls back to a ULID");
});

test("maxListeners warns once per pattern, and 0 turns it off", () => {
  const originalWarn = console.warn;
  const warnings: string[] = [];
  console.warn = (message: string) => void warnings.push(message);
  try {
    const soiree = new Soiree({ maxListeners: 2 });
    for (let i = 0; i < 5; i++) soiree.on("a.*", () => {});
    for (let i = 0; i < 2; i++) soiree.on("b", () => {});
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /3 listeners are subscribed to "a\.\*", more than maxListeners \(2\)/,
    );
    const quiet = new Soiree({ maxListeners: 0 });
    for (let i = 0; i < 500; i++) quiet.on("a", () => {});
    assert.equal(warnings.length, 1);
  } finally {
    console.warn = originalWarn;
  }
});

test("new Soiree() validates its options", () => {
  assert.throws(() => new Soiree({ maxListeners: -1 }), RangeError);
  assert.throws(() => new Soiree({ maxListeners: 1.5 }), RangeError);
  assert.throws(() => new Soiree({ errorHandler: 1 as never }), {
    name: "TypeError",
    message: /'errorHandler' must be a function: received 1 \(number\)/,
  });
  assert.throws(() => new Soiree({ panicHandler: "x" as never }), TypeError);
  assert.throws(() => new Soiree({ idGenerator: {} as never }), TypeError);
  assert.throws(() => new Soiree(null as never), TypeError);
  assert.throws(() => new Soiree({ pool: 3 as never }), TypeError);
});

// --- close ----------------------------------------------------------------------------------

test("close() runs every accepted emission before dropping listeners", async () => {
  const soiree = new Soiree();
  const calls: number[] = [];
  const release = gate();
  soiree.on("job", async (event) => {
    await release.promise;
    calls.push(event.payload as number);
  });
  const accepted = [soiree.emit("job", 1), soiree.emit("job", 2), soiree.emit("job", 3)];
  const closing = soiree.close();
  const refused = await soiree.emit("job", 4);
  assert.ok(refused[0] instanceof EmitterClosedError);
  assert.ok(soiree.emitSync("job", 5)[0] instanceof EmitterClosedError);
  assert.throws(() => soiree.on("job", () => {}), EmitterClosedError);
  assert.equal(soiree.listenerCount(), 1, "listeners stay until accepted emissions finish");
  release.open();
  await closing;
  assert.deepEqual(calls, [1, 2, 3]);
  for (const result of await Promise.all(accepted)) assert.deepEqual(result, []);
  assert.equal(soiree.listenerCount(), 0);
  assert.equal(soiree.isClosed, true);
});

test("close() twice rejects with EmitterAlreadyClosedError", async () => {
  const soiree = new Soiree();
  await soiree.close();
  await assert.rejects(soiree.close(), EmitterAlreadyClosedError);
  await assert.rejects(soiree.close(), EmitterClosedError);
  await soiree[Symbol.asyncDispose]();
  await soiree[Symbol.asyncDispose]();
  const other = new Soiree();
  await other[Symbol.asyncDispose]();
  await other[Symbol.asyncDispose]();
  await assert.rejects(other.close(), EmitterAlreadyClosedError);
});

test("a listener may close the emitter; the rest of its emission still runs", async () => {
  for (const mode of ["emit", "emitSync"] as const) {
    const soiree = new Soiree();
    const calls: string[] = [];
    let closing: Promise<void> | undefined;
    soiree.on("a", () => {
      calls.push("closer");
      closing = soiree.close();
    });
    soiree.on("a", () => void calls.push("after"));
    const result = mode === "emit" ? await soiree.emit("a") : soiree.emitSync("a");
    await closing;
    assert.deepEqual(result, [], mode);
    assert.deepEqual(calls, ["closer", "after"], mode);
    assert.ok((await soiree.emit("a"))[0] instanceof EmitterClosedError, mode);
  }
});

test("close({ timeout }) stops waiting for a stuck listener and settles its emission", async () => {
  const soiree = new Soiree();
  let signal: AbortSignal | undefined;
  soiree.on("stuck", (event) => {
    signal = event.signal;
    return new Promise(() => {});
  });
  soiree.on("stuck", () => assert.fail("must not run after close gave up"));
  const emission = soiree.emit("stuck");
  await ticks();
  await assert.rejects(soiree.close({ timeout: 5 }), { name: "TimeoutError" });
  const errors = await emission;
  assert.equal(errors.length, 1);
  assert.equal(((errors[0] as ListenerError).cause as DOMException).name, "TimeoutError");
  assert.equal(signal?.aborted, true);
  assert.equal(soiree.stats().inFlight, 0);
  assert.equal(soiree.listenerCount(), 0);
});

test("close({ signal }) gives up when the signal aborts", async () => {
  const soiree = new Soiree();
  soiree.on("stuck", () => new Promise(() => {}));
  const emission = soiree.emit("stuck");
  await ticks();
  const controller = new AbortController();
  const closing = soiree.close({ signal: controller.signal });
  controller.abort(new Error("shutdown now"));
  await assert.rejects(closing, /shutdown now/);
  const [error] = await emission;
  assert.match(error.message, /shutdown now/);
});

// --- waitFor and events ---------------------------------------------------------------------

test("waitFor() resolves with the next matching event and unsubscribes", async () => {
  const soiree = new Soiree();
  const waiting = soiree.waitFor("order.*");
  assert.equal(soiree.listenerCount(), 1);
  soiree.emitSync("user.created");
  soiree.emitSync("order.placed", 7);
  const event = await waiting;
  assert.equal(event.topic, "order.placed");
  assert.equal(event.payload, 7);
  assert.equal(soiree.listenerCount(), 0);
});

test("waitFor() applies the filter and rejects with what the filter throws", async () => {
  const soiree = new Soiree();
  const even = soiree.waitFor("n", { filter: (event) => (event.payload as number) % 2 === 0 });
  soiree.emitSync("n", 1);
  soiree.emitSync("n", 4);
  assert.equal((await even).payload, 4);
  const broken = soiree.waitFor("n", {
    filter: () => {
      throw new Error("bad filter");
    },
  });
  soiree.emitSync("n", 1);
  await assert.rejects(broken, /bad filter/);
  assert.equal(soiree.listenerCount(), 0);
});

test("waitFor() rejects with the signal's reason or a TimeoutError", async () => {
  const soiree = new Soiree();
  const controller = new AbortController();
  const aborted = soiree.waitFor("a", { signal: controller.signal });
  controller.abort(new Error("cancelled"));
  await assert.rejects(aborted, /cancelled/);
  await assert.rejects(
    soiree.waitFor("a", { signal: AbortSignal.abort(new Error("early")) }),
    /early/,
  );
  await assert.rejects(soiree.waitFor("a", { timeout: 1 }), { name: "TimeoutError" });
  assert.equal(soiree.listenerCount(), 0);
  assert.throws(() => soiree.waitFor("a", { timeout: NaN }), RangeError);
  assert.throws(() => soiree.waitFor("a", { filter: 1 as never }), TypeError);
});

test("waitFor() rejects when the emitter closes", async () => {
  const soiree = new Soiree();
  const waiting = soiree.waitFor("never");
  await soiree.close();
  await assert.rejects(waiting, EmitterClosedError);
  await assert.rejects(soiree.waitFor("never"), EmitterClosedError);
});

test("events() yields matching events in order and unsubscribes when the loop ends", async () => {
  const soiree = new Soiree();
  const iterator = soiree.events("tick.*");
  soiree.emitSync("tick.a", 1);
  soiree.emitSync("tock", 0);
  soiree.emitSync("tick.b", 2);
  const seen: unknown[] = [];
  for await (const event of iterator) {
    seen.push(event.payload);
    if (seen.length === 2) break;
  }
  assert.deepEqual(seen, [1, 2]);
  assert.equal(soiree.listenerCount(), 0);
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});

test("events() reports a QueueFullError when its buffer is full", async () => {
  const soiree = new Soiree();
  const iterator = soiree.events("e", { bufferSize: 2 });
  assert.deepEqual(soiree.emitSync("e", 1), []);
  assert.deepEqual(soiree.emitSync("e", 2), []);
  const [error] = soiree.emitSync("e", 3);
  assert.ok((error as ListenerError).cause instanceof QueueFullError);
  assert.equal((await iterator.next()).value?.payload, 1);
  assert.deepEqual(soiree.emitSync("e", 4), []);
  assert.equal((await iterator.next()).value?.payload, 2);
  assert.equal((await iterator.next()).value?.payload, 4);
  await iterator.return!();
  assert.throws(() => soiree.events("e", { bufferSize: 0 }), RangeError);
});

test("events() ends after close() once its buffer drains, and rejects on its signal", async () => {
  const soiree = new Soiree();
  const iterator = soiree.events("e");
  soiree.emitSync("e", 1);
  const pending = soiree.events("e");
  const next = pending.next();
  await soiree.close();
  assert.equal((await iterator.next()).value?.payload, 1);
  assert.equal((await iterator.next()).done, true);
  assert.equal((await next).done, true);

  const other = new Soiree();
  const controller = new AbortController();
  const aborted = other.events("e", { signal: controller.signal });
  const waiting = aborted.next();
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  assert.equal((await aborted.next()).done, true);
  assert.equal(other.listenerCount(), 0);
});

// --- emit options ---------------------------------------------------------------------------

test("emit({ timeout }) cancels a slow listener and skips the rest", async () => {
  const soiree = new Soiree();
  let signal: AbortSignal | undefined;
  soiree.on("slow", (event) => {
    signal = event.signal;
    return new Promise(() => {});
  });
  soiree.on("slow", () => assert.fail("must not run"));
  const errors = await soiree.emit("slow", undefined, { timeout: 5 });
  assert.equal(errors.length, 1);
  assert.equal(((errors[0] as ListenerError).cause as DOMException).name, "TimeoutError");
  assert.equal(signal?.aborted, true);
  assert.equal((signal?.reason as DOMException).name, "TimeoutError");
});

test("emit({ signal }) cancels the emission with the signal's reason", async () => {
  const soiree = new Soiree();
  const controller = new AbortController();
  soiree.on("a", () => new Promise(() => {}));
  const emission = soiree.emit("a", 1, { signal: controller.signal });
  await ticks();
  controller.abort(new Error("client went away"));
  const [error] = await emission;
  assert.match(error.message, /client went away/);
  const [early] = await soiree.emit("a", 1, { signal: AbortSignal.abort(new Error("early")) });
  assert.match(early.message, /early/);
});

test("on({ timeout }) fails a slow listener with a TimeoutError and moves on", async () => {
  const soiree = new Soiree();
  const calls: string[] = [];
  soiree.on("a", (event) => {
    calls.push("slow");
    return new Promise<void>((resolve) => event.signal.addEventListener("abort", () => resolve()));
  }, { timeout: 5 });
  soiree.on("a", (event) => void calls.push(`next sees aborted=${event.signal.aborted}`));
  const errors = await soiree.emit("a");
  assert.deepEqual(calls, ["slow", "next sees aborted=false"]);
  assert.equal(errors.length, 1);
  assert.equal(((errors[0] as ListenerError).cause as DOMException).name, "TimeoutError");
});

test("removing every listener leaves no trie node, pattern or cache entry behind", () => {
  const soiree = new Soiree({ maxListeners: 0 });
  const subscriptions = [];
  for (let i = 0; i < 200; i++) {
    subscriptions.push(soiree.on(`a.${i}.**`, () => {}));
    subscriptions.push(soiree.on(`*.${i}`, () => {}));
    subscriptions.push(soiree.on(`exact.${i}`, () => {}));
    soiree.emitSync(`a.${i}.x`);
    soiree.emitSync(`exact.${i}`);
  }
  const before = emitterAccess.internals(soiree);
  assert.ok(before.trieNodes > 400 && before.cacheSize > 0 && before.listeners === 600);
  for (const subscription of subscriptions) subscription.off();
  assert.deepEqual(emitterAccess.internals(soiree), EMPTY_INTERNALS);
});

test("a cancel that arrives while a listener runs does not wait for the promise it returns", async () => {
  const soiree = new Soiree();
  const controller = new AbortController();
  soiree.on("a", () => {
    controller.abort(new Error("cancelled"));
    return new Promise(() => {});
  });
  soiree.on("a", () => assert.fail("must not run"));
  const [error] = await soiree.emit("a", undefined, { signal: controller.signal });
  assert.match(error.message, /cancelled/);
  assert.equal(soiree.stats().inFlight, 0);
});

test("a thrown value that cannot be described is still reported, never thrown", async () => {
  const soiree = new Soiree({ panicHandler: () => {} });
  const hostile: Record<string, unknown> = Object.create(null);
  hostile.self = hostile;
  soiree.on("a", () => {
    throw hostile;
  });
  const [syncError] = soiree.emitSync("a");
  assert.equal(syncError.cause, hostile);
  const [asyncError] = await soiree.emit("a");
  assert.equal(asyncError.cause, hostile);
});

test("events() frees the events its consumer has taken", async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    console.log("events() memory check skipped: no forced GC (run with --expose-gc)");
    return;
  }
  const soiree = new Soiree();
  const iterator = soiree.events("e", { bufferSize: Infinity });
  const taken: WeakRef<object>[] = [];
  for (let i = 0; i < 200; i++) soiree.emitSync("e", { i });
  // Stay one event behind, so the buffer never drains completely.
  for (let i = 0; i < 199; i++) {
    taken.push(new WeakRef((await iterator.next()).value!.payload as object));
  }
  // WeakRef targets stay alive until the current job ends: let it end, then collect.
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
  assert.equal(taken.filter((ref) => ref.deref() !== undefined).length, 0);
  assert.deepEqual((await iterator.next()).value?.payload, { i: 199 });
  await iterator.return!();
});
