// Bad input at every public entry point: wrong types, null, undefined, NaN, Infinity,
// negative and fractional numbers, 1 MB strings, 10,000-segment topics, Unicode, control
// characters and `__proto__`/`constructor`/`prototype` segments. Each call must throw (or
// reject with) the documented error class with a message naming what failed, or behave
// correctly; after each, no prototype has changed and the shared emitter and pool still
// work and hold exactly what they held before.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeTime,
  EmitterAlreadyClosedError,
  EmitterClosedError,
  ListenerNotFoundError,
  matchTopic,
  monotonicUlid,
  Pool,
  PoolClosedError,
  Soiree,
  type SoireeEvent,
  ulid,
} from "../mod.ts";
import { emitterAccess } from "../src/_internal.ts";
import { EMPTY_INTERNALS, within } from "./_util.ts";

// --- inputs ----------------------------------------------------------------------------------

/** A 1 MB topic of one segment. */
const MB = "t".repeat(2 ** 20);
/** A 1 MB topic of 2^19 one-character segments. */
const MB_DOTTED = "a.".repeat(2 ** 19 - 1) + "a";
/** A topic of 10,000 segments, s0.s1…s9.s0…, ending in "s9". */
const MANY = Array.from({ length: 10_000 }, (_, i) => `s${i % 10}`).join(".");
/** A pattern of 10,000 `*` segments. */
const MANY_STARS = Array.from({ length: 10_000 }, () => "*").join(".");
/** An object that cannot become a string or a number: its conversion throws. */
const HOSTILE = {
  [Symbol.toPrimitive](): never {
    throw new Error("no primitive value");
  },
};
/** Passes a wrongly typed argument past the type checker. */
const bad = (value: unknown): never => value as never;
const noop = (): void => {};

/** Values that are not strings. */
const NOT_STRINGS: [string, unknown][] = [
  ["42", 42],
  ["NaN", NaN],
  ["null", null],
  ["undefined", undefined],
  ["true", true],
  ["{}", {}],
  ["[]", []],
  ['["a"]', ["a"]],
  ['new String("a")', new String("a")],
  ["a symbol", Symbol("topic")],
  ["1n", 1n],
  ["a function", noop],
  ["a null-prototype object", Object.create(null)],
  ["an object whose conversion throws", HOSTILE],
];
/** Values that are not functions. */
const NOT_FUNCTIONS: [string, unknown][] = [
  ["42", 42],
  ['"f"', "f"],
  ["null", null],
  ["undefined", undefined],
  ["{}", {}],
  ["a promise", Promise.resolve()],
];
/** Values that are not options objects. */
const NOT_OBJECTS: [string, unknown][] = [
  ["42", 42],
  ['"x"', "x"],
  ["null", null],
  ["true", true],
  ["a symbol", Symbol("options")],
  ["1n", 1n],
];
/** Numbers no count, bound or duration accepts. */
const NON_FINITE: [string, number][] = [["NaN", NaN], ["Infinity", Infinity], [
  "-Infinity",
  -Infinity,
]];
/** Numbers that no duration option takes: one rule for every `timeout` (Infinity means none). */
const BAD_DURATIONS: [string, number][] = [["0", 0], ["-0", -0], ["-1", -1], ["NaN", NaN], [
  "-Infinity",
  -Infinity,
]];
const DURATION_RANGE =
  /'timeout' must be a positive number of milliseconds, or Infinity for no limit/;
const DURATION_TYPE = /'timeout' must be a number of milliseconds: received/;
/** Values of the wrong type where a number belongs. */
const NOT_NUMBERS: [string, unknown][] = [
  ['"5"', "5"],
  ["null", null],
  ["true", true],
  ["{}", {}],
  ["new Number(5)", new Number(5)],
  ["1n", 1n],
];
/** Topics that are valid however odd: each is delivered to its exact listener. */
const ODD_TOPICS: [string, string][] = [
  ["a 1 MB topic", MB],
  ["a 1 MB topic of 524,288 segments", MB_DOTTED],
  ["a topic of 10,000 segments", MANY],
  ["Japanese", "ユーザー.作成"],
  ["emoji", "😀.🎉"],
  ["a lone surrogate", "\uD800.x"],
  ["a right-to-left override", "\u202Eevil.txt"],
  ["a full-width asterisk (not a wildcard)", "＊.＊＊"],
  ["NUL", "a\u0000b"],
  ["newline and tab", "\n.\t"],
  ["an ANSI escape", "\u001b[31m.red"],
  ["DEL", "\u007f"],
  ["__proto__", "__proto__"],
  ["constructor", "constructor"],
  ["prototype", "prototype"],
  ["__proto__.polluted", "__proto__.polluted"],
  ["constructor.prototype.polluted", "constructor.prototype.polluted"],
  ["hasOwnProperty", "hasOwnProperty"],
  ["toString.valueOf", "toString.valueOf"],
];

// --- the table -------------------------------------------------------------------------------

type ErrorClass = new (...args: never[]) => Error;

/** The shared emitter and pool every row runs against, unless it makes its own. */
interface Context {
  soiree: Soiree;
  pool: Pool;
}

/** One call and what it must do. */
interface Row {
  name: string;
  call: (context: Context) => unknown;
  /** The error it must throw, or reject with when `async`; none: it must succeed. */
  error?: { type: ErrorClass; message: RegExp; async?: boolean };
  /** Checks what a successful call returned (a promise is awaited first). */
  check?: (result: unknown, context: Context) => void | Promise<void>;
}

const throws = (type: ErrorClass, message: RegExp) => ({ error: { type, message } });
const rejects = (type: ErrorClass, message: RegExp) => ({
  error: { type, message, async: true },
});

/**
 * Subscribes `pattern`, emits `topic` both ways and checks it is delivered exactly once each
 * time with the right topic and payload, that `others` are not delivered, then unsubscribes.
 */
async function roundTrip(
  soiree: Soiree,
  pattern: string,
  topic: string,
  others: string[] = [],
): Promise<void> {
  const seen: unknown[] = [];
  const subscription = soiree.on(pattern, (event: SoireeEvent) => {
    assert.equal(event.topic, topic);
    seen.push(event.payload);
  });
  assert.ok(soiree.listenerCount(topic) >= 1);
  assert.deepEqual(soiree.emitSync(topic, 1), []);
  assert.deepEqual(await soiree.emit(topic, 2), []);
  for (const other of others) assert.deepEqual(soiree.emitSync(other, 3), []);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(subscription.off(), true);
}

/** Builds rows from lists of bad values. */
function each<T>(
  values: [string, T][],
  row: (label: string, value: T) => Row,
): Row[] {
  return values.map(([label, value]) => row(label, value));
}

const SOIREE_ROWS: Row[] = [
  // new Soiree()
  ...each(NOT_OBJECTS, (label, value) => ({
    name: `new Soiree(${label})`,
    call: () => new Soiree(bad(value)),
    ...throws(TypeError, /'options' must be an object/),
  })),
  ...["errorHandler", "panicHandler", "idGenerator"].flatMap((option) =>
    each(NOT_FUNCTIONS.filter(([, value]) => value !== undefined), (label, value) => ({
      name: `new Soiree({ ${option}: ${label} })`,
      call: () => new Soiree({ [option]: value }),
      ...throws(TypeError, new RegExp(`'${option}' must be a function`)),
    }))
  ),
  ...each([...NON_FINITE, ["-1", -1], ["1.5", 1.5], ...NOT_NUMBERS], (label, value) => ({
    name: `new Soiree({ maxListeners: ${label} })`,
    call: () => new Soiree({ maxListeners: bad(value) }),
    ...throws(RangeError, /'maxListeners' must be an integer from 0 up/),
  })),
  ...each(NOT_OBJECTS, (label, value) => ({
    name: `new Soiree({ pool: ${label} })`,
    call: () => new Soiree({ pool: bad(value) }),
    ...throws(TypeError, /'pool' must be a Pool or pool options/),
  })),
  {
    name: "new Soiree({ pool: { concurrency: 0 } })",
    call: () => new Soiree({ pool: { concurrency: 0 } }),
    ...throws(RangeError, /'concurrency' must be a positive integer/),
  },
  {
    name: "new Soiree({ maxListeners: 0, idGenerator: () => '__proto__' + n })",
    call: () => {
      let n = 0;
      return new Soiree({ maxListeners: 0, idGenerator: () => `__proto__${n++ || ""}` });
    },
    check: async (soiree) => {
      const emitter = soiree as Soiree;
      const { id } = emitter.on("a", noop);
      assert.equal(id, "__proto__");
      emitter.off("a", id);
      await assertWorks(emitter);
      await emitter.close();
    },
  },
  {
    name: "new Soiree(JSON with an own __proto__ key)",
    call: () => new Soiree(JSON.parse('{"__proto__": {"maxListeners": -1}, "maxListeners": 1}')),
    check: async (soiree) => {
      await assertWorks(soiree as Soiree);
      await (soiree as Soiree).close();
    },
  },

  // on()
  ...each(NOT_STRINGS, (label, value) => ({
    name: `on(${label})`,
    call: ({ soiree }) => soiree.on(bad(value), noop),
    ...throws(TypeError, /Cannot subscribe as 'pattern' must be a string/),
  })),
  ...each<string>([["an empty string", ""]], (label, value) => ({
    name: `on(${label})`,
    call: ({ soiree }) => soiree.on(value, noop),
    ...throws(TypeError, /'pattern' is empty: received ""/),
  })),
  ...each<string>([[".", "."], ["a.", "a."], [".a", ".a"], ["a..b", "a..b"]], (label, value) => ({
    name: `on("${label}")`,
    call: ({ soiree }) => soiree.on(value, noop),
    ...throws(TypeError, /'pattern' has an empty segment/),
  })),
  ...each<string>(
    [["a*", "a*"], ["***", "***"], ["a.b*c", "a.b*c"], ["**a", "**a"], ["1 MB then *", `${MB}*`]],
    (label, value) => ({
      name: `on("${label}")`,
      call: ({ soiree }) => soiree.on(value, noop),
      ...throws(TypeError, /'pattern' has a segment that mixes '\*' with other characters/),
    }),
  ),
  ...each(NOT_FUNCTIONS, (label, value) => ({
    name: `on("a", ${label})`,
    call: ({ soiree }) => soiree.on("a", bad(value)),
    ...throws(TypeError, /'listener' must be a function/),
  })),
  ...each(NOT_OBJECTS, (label, value) => ({
    name: `on("a", listener, ${label})`,
    call: ({ soiree }) => soiree.on("a", noop, bad(value)),
    ...throws(TypeError, /Cannot subscribe as 'options' must be an object/),
  })),
  ...each([...NON_FINITE, ...NOT_NUMBERS], (label, value) => ({
    name: `on("a", listener, { priority: ${label} })`,
    call: ({ soiree }) => soiree.on("a", noop, { priority: bad(value) }),
    ...throws(RangeError, /'priority' must be a finite number/),
  })),
  ...each(BAD_DURATIONS, (label, value) => ({
    name: `on("a", listener, { timeout: ${label} })`,
    call: ({ soiree }) => soiree.on("a", noop, { timeout: bad(value) }),
    ...throws(RangeError, DURATION_RANGE),
  })),
  ...each(NOT_NUMBERS, (label, value) => ({
    name: `on("a", listener, { timeout: ${label} })`,
    call: ({ soiree }) => soiree.on("a", noop, { timeout: bad(value) }),
    ...throws(TypeError, DURATION_TYPE),
  })),
  ...each<unknown>([["{}", {}], ["null", null], ['"abort"', "abort"]], (label, value) => ({
    name: `on("a", listener, { signal: ${label} })`,
    call: ({ soiree }) => soiree.on("a", noop, { signal: bad(value) }),
    ...throws(TypeError, /'signal' must be an AbortSignal/),
  })),
  ...each<unknown>([["null", null], ["5", 5], ['"pool"', "pool"]], (label, value) => ({
    name: `on("a", listener, { pool: ${label} })`,
    call: ({ soiree }) => soiree.on("a", noop, { pool: bad(value) }),
    ...throws(TypeError, /'pool' must be a Pool or pool options/),
  })),
  {
    name: 'on("a", listener, { pool: { concurrency: 0 } })',
    call: ({ soiree }) => soiree.on("a", noop, { pool: { concurrency: 0 } }),
    ...throws(RangeError, /concurrency/),
  },
  {
    name: "on() priorities -1e308, -0, 5e-324, 1.5 and 1e308 run highest first",
    call: async ({ soiree }) => {
      const order: number[] = [];
      const priorities = [-1e308, -0, 5e-324, 1.5, 1e308];
      const subscriptions = priorities.map((priority) =>
        soiree.on("prio", () => void order.push(priority), { priority })
      );
      soiree.emitSync("prio");
      assert.deepEqual(order, [...priorities].reverse());
      for (const subscription of subscriptions) subscription.off();
    },
  },
  {
    name: 'on("a", listener, { timeout: 1.5 }) subscribes',
    call: ({ soiree }) => roundTripWith(soiree, { timeout: 1.5 }),
  },
  {
    name: 'on("a", listener, JSON with an own __proto__ key) subscribes, not once',
    call: ({ soiree }) => roundTripWith(soiree, JSON.parse('{"__proto__": {"once": true}}')),
  },
  {
    name: 'on("a", listener, { signal: an aborted signal }) stores nothing',
    call: ({ soiree }) => {
      const subscription = soiree.on("a", noop, { signal: AbortSignal.abort() });
      assert.equal(subscription.active, false);
      assert.equal(subscription.off(), false);
    },
  },
  {
    name: 'on("a", listener, { pool: a closed pool }): the emission reports PoolClosedError',
    call: async ({ soiree }) => {
      const closed = new Pool();
      await closed.close();
      const subscription = soiree.on("a", noop, { pool: closed });
      const [error] = await soiree.emit("a");
      assert.ok(error.cause instanceof PoolClosedError, String(error));
      subscription.off();
    },
  },
  ...each(ODD_TOPICS, (label, topic) => ({
    name: `on() and emit() ${label}`,
    call: ({ soiree }) =>
      roundTrip(soiree, topic, topic, ["a", "constructor", "__proto__"].filter((t) => t !== topic)),
  })),
  ...each<[string, string, string[]]>([
    ["** on a 1 MB topic", ["**", MB, []]],
    ["* on a 1 MB topic", ["*", MB, ["a.b"]]],
    ["** on a 1 MB topic of 524,288 segments", ["**", MB_DOTTED, []]],
    ["10,000 * on 10,000 segments", [MANY_STARS, MANY, ["a", `${MANY}.s0`]]],
    ["s0.** on 10,000 segments", ["s0.**", MANY, ["s0"]]],
    ["**.s9 on 10,000 segments", ["**.s9", MANY, [`${MANY}.s0`]]],
    ["**.s5.** on 10,000 segments", ["**.s5.**", MANY, ["s5", "s4.s6"]]],
    ["__proto__.* on __proto__.polluted", ["__proto__.*", "__proto__.polluted", ["__proto__"]]],
    ["**.prototype on constructor.prototype", ["**.prototype", "constructor.prototype", [
      "prototype.x",
    ]]],
    ["constructor.** on constructor.x", ["constructor.**", "constructor.x", ["constructor"]]],
    ["😀.* on 😀.🎉", ["😀.*", "😀.🎉", ["😀"]]],
  ], (label, [pattern, topic, others]) => ({
    name: `on("${label}")`,
    call: ({ soiree }) => roundTrip(soiree, pattern, topic, others),
  })),

  // off()
  ...each(NOT_STRINGS, (label, value) => ({
    name: `off(${label}, id)`,
    call: ({ soiree }) => soiree.off(bad(value), "id"),
    ...throws(TypeError, /Cannot unsubscribe as 'pattern' must be a string/),
  })),
  ...each(NOT_STRINGS, (label, value) => ({
    name: `off("a", ${label})`,
    call: ({ soiree }) => soiree.off("a", bad(value)),
    ...throws(TypeError, /Cannot unsubscribe as 'id' must be a string/),
  })),
  ...each<string>(
    [['""', ""], ["__proto__", "__proto__"], ["constructor", "constructor"], ["1 MB", MB]],
    (label, id) => ({
      name: `off("a", ${label})`,
      call: ({ soiree }) => soiree.off("a", id),
      ...throws(ListenerNotFoundError, /Cannot remove the listener as none with ID/),
    }),
  ),
  {
    name: "off() with the ID of a listener of another pattern",
    call: ({ soiree }) => {
      const subscription = soiree.on("a.*", noop);
      try {
        soiree.off("a.b", subscription.id);
      } finally {
        subscription.off();
      }
    },
    ...throws(ListenerNotFoundError, /is subscribed to "a.b"/),
  },

  // emit() and emitSync()
  ...(["emit", "emitSync"] as const).flatMap((method): Row[] => [
    ...each(NOT_STRINGS, (label, value) => ({
      name: `${method}(${label})`,
      call: ({ soiree }) => soiree[method](bad(value)),
      ...throws(TypeError, /Cannot emit as 'topic' must be a string/),
    })),
    ...each<string>([['""', ""]], (label, value) => ({
      name: `${method}(${label})`,
      call: ({ soiree }) => soiree[method](value),
      ...throws(TypeError, /'topic' is empty/),
    })),
    ...each<string>([[".", "."], ["a.", "a."], ["a..b", "a..b"]], (label, value) => ({
      name: `${method}("${label}")`,
      call: ({ soiree }) => soiree[method](value),
      ...throws(TypeError, /'topic' has an empty segment/),
    })),
    ...each<string>(
      [["*", "*"], ["**", "**"], ["a.*", "a.*"], ["a*b", "a*b"], ["1 MB then .*", `${MB}.*`]],
      (label, value) => ({
        name: `${method}("${label}")`,
        call: ({ soiree }) => soiree[method](value),
        ...throws(TypeError, /'topic' contains a wildcard, which only patterns may/),
      }),
    ),
  ]),
  ...each(NOT_OBJECTS, (label, value) => ({
    name: `emit("a", payload, ${label})`,
    call: ({ soiree }) => soiree.emit("a", 1, bad(value)),
    ...throws(TypeError, /Cannot emit as 'options' must be an object/),
  })),
  ...each(BAD_DURATIONS, (label, value) => ({
    name: `emit("a", payload, { timeout: ${label} })`,
    call: ({ soiree }) => soiree.emit("a", 1, { timeout: bad(value) }),
    ...throws(RangeError, DURATION_RANGE),
  })),
  ...each(NOT_NUMBERS, (label, value) => ({
    name: `emit("a", payload, { timeout: ${label} })`,
    call: ({ soiree }) => soiree.emit("a", 1, { timeout: bad(value) }),
    ...throws(TypeError, DURATION_TYPE),
  })),
  ...each<unknown>([["{}", {}], ["null", null]], (label, value) => ({
    name: `emit("a", payload, { signal: ${label} })`,
    call: ({ soiree }) => soiree.emit("a", 1, { signal: bad(value) }),
    ...throws(TypeError, /Cannot emit as 'signal' must be an AbortSignal/),
  })),
  {
    name: 'emit("a", payload, { timeout: 1.5 }) delivers',
    call: async ({ soiree }) => {
      let calls = 0;
      const subscription = soiree.on("a", () => void calls++);
      assert.deepEqual(await soiree.emit("a", 1, { timeout: 1.5 }), []);
      assert.equal(calls, 1);
      subscription.off();
    },
  },

  // listenerCount()
  ...each(NOT_STRINGS.filter(([, value]) => value !== undefined), (label, value) => ({
    name: `listenerCount(${label})`,
    call: ({ soiree }) => soiree.listenerCount(bad(value)),
    ...throws(TypeError, /Cannot count listeners as 'pattern' must be a string/),
  })),
  ...each<string>([['""', ""], ["a..b", "a..b"], ["a**", "a**"]], (label, value) => ({
    name: `listenerCount("${label}")`,
    call: ({ soiree }) => soiree.listenerCount(value),
    ...throws(TypeError, /Cannot count listeners as 'pattern'/),
  })),
  ...each<string>(
    [["1 MB", MB], ["10,000 segments", MANY], ["__proto__", "__proto__"], [
      "constructor.**",
      "constructor.**",
    ]],
    (label, value) => ({
      name: `listenerCount(${label}) is 0`,
      call: ({ soiree }) => soiree.listenerCount(value),
      check: (count) => assert.equal(count, 0),
    }),
  ),

  // waitFor()
  ...each(NOT_STRINGS, (label, value) => ({
    name: `waitFor(${label})`,
    call: ({ soiree }) => soiree.waitFor(bad(value)),
    ...throws(TypeError, /Cannot wait for an event as 'pattern' must be a string/),
  })),
  ...each(NOT_OBJECTS, (label, value) => ({
    name: `waitFor("a", ${label})`,
    call: ({ soiree }) => soiree.waitFor("a", bad(value)),
    ...throws(TypeError, /'options' must be an object/),
  })),
  ...each(BAD_DURATIONS, (label, value) => ({
    name: `waitFor("a", { timeout: ${label} })`,
    call: ({ soiree }) => soiree.waitFor("a", { timeout: bad(value) }),
    ...throws(RangeError, DURATION_RANGE),
  })),
  ...each(NOT_NUMBERS, (label, value) => ({
    name: `waitFor("a", { timeout: ${label} })`,
    call: ({ soiree }) => soiree.waitFor("a", { timeout: bad(value) }),
    ...throws(TypeError, DURATION_TYPE),
  })),
  ...each(NOT_FUNCTIONS.filter(([, value]) => value !== undefined), (label, value) => ({
    name: `waitFor("a", { filter: ${label} })`,
    call: ({ soiree }) => soiree.waitFor("a", { filter: bad(value) }),
    ...throws(TypeError, /'filter' must be a function/),
  })),
  ...each([...NON_FINITE, ...NOT_NUMBERS], (label, value) => ({
    name: `waitFor("a", { priority: ${label} })`,
    call: ({ soiree }) => soiree.waitFor("a", { priority: bad(value) }),
    ...throws(RangeError, /'priority' must be a finite number/),
  })),
  {
    name: 'waitFor("a", { signal: {} })',
    call: ({ soiree }) => soiree.waitFor("a", { signal: bad({}) }),
    ...throws(TypeError, /'signal' must be an AbortSignal/),
  },
  {
    name: 'waitFor("a", { signal: an aborted signal }) rejects with its reason',
    call: ({ soiree }) =>
      soiree.waitFor("a", { signal: AbortSignal.abort(new RangeError("gone")) }),
    ...rejects(RangeError, /^gone$/),
  },
  {
    name: 'waitFor("a", { filter: a filter that throws }) rejects with what it threw',
    call: ({ soiree }) => {
      const waiting = soiree.waitFor("a", {
        filter: () => {
          throw new TypeError("filter broke");
        },
      });
      soiree.emitSync("a");
      return waiting;
    },
    ...rejects(TypeError, /^filter broke$/),
  },
  {
    name: 'waitFor("a", { timeout: Infinity }) waits with no limit',
    call: async ({ soiree }) => {
      const waiting = soiree.waitFor("a", { timeout: Infinity });
      soiree.emitSync("a", 1);
      assert.equal((await waiting).payload, 1);
    },
  },
  ...each<string>([["__proto__", "__proto__"], ["constructor.prototype", "constructor.prototype"], [
    "1 MB",
    MB,
  ]], (label, topic) => ({
    name: `waitFor(${label}) resolves with the event`,
    call: ({ soiree }) => {
      const waiting = soiree.waitFor(topic);
      soiree.emitSync("a.b");
      soiree.emitSync(topic, label);
      return waiting;
    },
    check: (event) => {
      assert.equal((event as SoireeEvent).topic, topic);
      assert.equal((event as SoireeEvent).payload, label);
    },
  })),

  // events()
  ...each(NOT_STRINGS, (label, value) => ({
    name: `events(${label})`,
    call: ({ soiree }) => soiree.events(bad(value)),
    ...throws(TypeError, /Cannot iterate events as 'pattern' must be a string/),
  })),
  ...each(NOT_OBJECTS, (label, value) => ({
    name: `events("a", ${label})`,
    call: ({ soiree }) => soiree.events("a", bad(value)),
    ...throws(TypeError, /'options' must be an object/),
  })),
  ...each(
    [
      ["0", 0],
      ["-1", -1],
      ["1.5", 1.5],
      ["NaN", NaN],
      ["-Infinity", -Infinity],
      ...NOT_NUMBERS.filter(([, value]) => value !== null),
    ],
    (label, value) => ({
      name: `events("a", { bufferSize: ${label} })`,
      call: ({ soiree }) => soiree.events("a", { bufferSize: bad(value) }),
      ...throws(RangeError, /'bufferSize' must be a positive integer or Infinity/),
    }),
  ),
  ...each([...NON_FINITE, ...NOT_NUMBERS], (label, value) => ({
    name: `events("a", { priority: ${label} })`,
    call: ({ soiree }) => soiree.events("a", { priority: bad(value) }),
    ...throws(RangeError, /'priority' must be a finite number/),
  })),
  {
    name: 'events("a", { signal: {} })',
    call: ({ soiree }) => soiree.events("a", { signal: bad({}) }),
    ...throws(TypeError, /'signal' must be an AbortSignal/),
  },
  {
    name: 'events("a", { bufferSize: null }) buffers as many as the default',
    call: async ({ soiree }) => {
      const iterator = soiree.events("a", { bufferSize: bad(null) });
      for (let i = 0; i < 1025; i++) soiree.emitSync("a", i);
      assert.equal((await iterator.next()).value?.payload, 0);
      await iterator.return!();
    },
  },
  {
    name: 'events("__proto__.**", { bufferSize: Infinity }) yields the events, then ends',
    call: async ({ soiree }) => {
      const iterator = soiree.events("__proto__.**", { bufferSize: Infinity });
      soiree.emitSync("__proto__.a", 1);
      soiree.emitSync("__proto__", 0);
      soiree.emitSync("__proto__.constructor.prototype", 2);
      const first = await iterator.next();
      const second = await iterator.next();
      assert.deepEqual([first.value?.payload, second.value?.payload], [1, 2]);
      assert.deepEqual(await iterator.return!(), { done: true, value: undefined });
    },
  },

  // close()
  ...each(NOT_OBJECTS, (label, value) => ({
    name: `close(${label}) leaves the emitter open`,
    call: ({ soiree }) => soiree.close(bad(value)),
    ...rejects(TypeError, /Cannot close the emitter as 'options' must be an object/),
  })),
  ...each(BAD_DURATIONS, (label, value) => ({
    name: `close({ timeout: ${label} }) leaves the emitter open`,
    call: ({ soiree }) => soiree.close({ timeout: bad(value) }),
    ...rejects(RangeError, DURATION_RANGE),
  })),
  ...each(NOT_NUMBERS, (label, value) => ({
    name: `close({ timeout: ${label} }) leaves the emitter open`,
    call: ({ soiree }) => soiree.close({ timeout: bad(value) }),
    ...rejects(TypeError, DURATION_TYPE),
  })),
  {
    name: "close({ signal: {} }) leaves the emitter open",
    call: ({ soiree }) => soiree.close({ signal: bad({}) }),
    ...rejects(TypeError, /Cannot close the emitter as 'signal' must be an AbortSignal/),
  },
  {
    name: "close({ timeout: 1.5 }) closes an idle emitter; a second close() rejects",
    call: async () => {
      const soiree = new Soiree();
      soiree.on("a", noop);
      await soiree.close({ timeout: 1.5 });
      assert.equal(soiree.isClosed, true);
      assert.deepEqual(emitterAccess.internals(soiree).listeners, 0);
      await assert.rejects(soiree.close(), EmitterAlreadyClosedError);
      assert.throws(() => soiree.on("a", noop), EmitterClosedError);
    },
  },
];

/** Subscribes "a" with `options`, checks one emission delivers once, and unsubscribes. */
async function roundTripWith(soiree: Soiree, options: object): Promise<void> {
  let calls = 0;
  const subscription = soiree.on("a", () => void calls++, options);
  assert.deepEqual(await soiree.emit("a"), []);
  assert.deepEqual(await soiree.emit("a"), []);
  assert.equal(calls, 2);
  assert.equal(subscription.off(), true);
}

const POOL_ROWS: Row[] = [
  // new Pool()
  ...each([...NOT_OBJECTS.filter(([, value]) => value !== undefined), ["a function", noop]], (
    label,
    value,
  ) => ({
    name: `new Pool(${label})`,
    call: () => new Pool(bad(value)),
    ...throws(TypeError, /Cannot create the pool as 'options' must be an object/),
  })),
  ...each([...NON_FINITE, ["0", 0], ["-1", -1], ["1.5", 1.5]], (label, value) => ({
    name: `new Pool({ concurrency: ${label} })`,
    call: () => new Pool({ concurrency: value }),
    ...throws(RangeError, /'concurrency' must be a positive integer/),
  })),
  ...each([...NOT_NUMBERS, ["1 MB", MB]], (label, value) => ({
    name: `new Pool({ concurrency: ${label} })`,
    call: () => new Pool({ concurrency: bad(value) }),
    ...throws(TypeError, /'concurrency' must be a number/),
  })),
  ...each([["NaN", NaN], ["-Infinity", -Infinity], ["-1", -1], ["1.5", 1.5]], (label, value) => ({
    name: `new Pool({ capacity: ${label} })`,
    call: () => new Pool({ capacity: value }),
    ...throws(RangeError, /'capacity' must be a non-negative integer or Infinity/),
  })),
  ...each(NOT_NUMBERS, (label, value) => ({
    name: `new Pool({ capacity: ${label} })`,
    call: () => new Pool({ capacity: bad(value) }),
    ...throws(TypeError, /'capacity' must be a number/),
  })),
  ...each<unknown>(
    [['"drop"', "drop"], ['""', ""], ["null", null], ["1", 1], ["1 MB", MB]],
    (label, value) => ({
      name: `new Pool({ whenFull: ${label} })`,
      call: () => new Pool({ whenFull: bad(value) }),
      ...throws(TypeError, /'whenFull' must be "wait" or "reject"/),
    }),
  ),
  ...each<unknown>([["5", 5], ["null", null], ["{}", {}]], (label, value) => ({
    name: `new Pool({ name: ${label} })`,
    call: () => new Pool({ name: bad(value) }),
    ...throws(TypeError, /'name' must be a string/),
  })),
  ...each<string>([["__proto__", "__proto__"], ["NUL", "\u0000"], ["1 MB", MB]], (label, name) => ({
    name: `new Pool({ name: ${label}, capacity: 0 }) works`,
    call: () => new Pool({ name, capacity: 0, concurrency: 2 ** 31 }),
    check: async (pool) => {
      await assertPoolWorks(pool as Pool);
      assert.equal((pool as Pool).name, name);
      await (pool as Pool).close();
    },
  })),

  // submit() and trySubmit()
  ...(["submit", "trySubmit"] as const).flatMap((method): Row[] => [
    ...each(NOT_FUNCTIONS, (label, value) => ({
      name: `pool.${method}(${label})`,
      call: ({ pool }) => pool[method](bad(value)),
      ...throws(TypeError, /Cannot submit the task as 'task' must be a function/),
    })),
    ...each<unknown>([["{}", {}], ["null", null], ['"abort"', "abort"]], (label, value) => ({
      name: `pool.${method}(task, { signal: ${label} })`,
      call: ({ pool }) => pool[method](noop, { signal: bad(value) }),
      ...throws(TypeError, /Cannot submit the task as 'signal' must be an AbortSignal/),
    })),
    {
      name: `pool.${method}(task, null) runs the task`,
      call: ({ pool }) => pool[method](() => 7, bad(null)),
      check: (value) => assert.equal(value, 7),
    },
    {
      name: `pool.${method}(task, { signal: an aborted signal }) rejects with its reason`,
      call: ({ pool }) => pool[method](noop, { signal: AbortSignal.abort(new RangeError("gone")) }),
      ...rejects(RangeError, /^gone$/),
    },
    {
      name: `pool.${method}() on a closed pool rejects with PoolClosedError`,
      call: async () => {
        const pool = new Pool({ name: "__proto__" });
        await pool.close();
        return pool[method](noop);
      },
      ...rejects(PoolClosedError, /"__proto__" is closed/),
    },
  ]),

  // map()
  ...each<unknown>(
    [["null", null], ["undefined", undefined], ["42", 42], ["{}", {}], ["a function", noop]],
    (label, value) => ({
      name: `pool.map(${label}, fn)`,
      call: ({ pool }) => pool.map(bad(value), noop),
      ...throws(TypeError, /'iterable' must be iterable or async iterable/),
    }),
  ),
  ...each(NOT_FUNCTIONS, (label, value) => ({
    name: `pool.map([1], ${label})`,
    call: ({ pool }) => pool.map([1], bad(value)),
    ...throws(TypeError, /Cannot map the iterable as 'fn' must be a function/),
  })),
  {
    name: "pool.map([1], fn, { signal: {} })",
    call: ({ pool }) => pool.map([1], noop, { signal: bad({}) }),
    ...throws(TypeError, /Cannot map the iterable as 'signal' must be an AbortSignal/),
  },
  {
    name: 'pool.map("a😀") maps each code point of a string',
    call: async ({ pool }) => {
      const out: string[] = [];
      for await (const item of pool.map("a😀", (c) => c.codePointAt(0)!.toString(16))) {
        out.push(item);
      }
      assert.deepEqual(out, ["61", "1f600"]);
    },
  },
  {
    name: "pool.map() of an iterable whose next() throws rejects with that error",
    call: async ({ pool }) => {
      const broken: Iterable<number> = {
        [Symbol.iterator]: () => ({
          next: () => {
            throw new RangeError("source broke");
          },
        }),
      };
      for await (const _ of pool.map(broken, (n) => n)) {
        assert.fail("nothing to yield");
      }
    },
    ...rejects(RangeError, /^source broke$/),
  },

  // resize()
  ...each([...NON_FINITE, ["0", 0], ["-1", -1], ["1.5", 1.5]], (label, value) => ({
    name: `pool.resize(${label}) keeps the bound`,
    call: ({ pool }) => pool.resize(value),
    ...throws(RangeError, /Cannot resize the pool as 'concurrency' must be a positive integer/),
  })),
  ...each([...NOT_NUMBERS, ["undefined", undefined]], (label, value) => ({
    name: `pool.resize(${label}) keeps the bound`,
    call: ({ pool }) => pool.resize(bad(value)),
    ...throws(TypeError, /Cannot resize the pool as 'concurrency' must be a number/),
  })),
  {
    name: "pool.resize(2^53 - 1) and back",
    call: ({ pool }) => {
      const before = pool.concurrency;
      pool.resize(Number.MAX_SAFE_INTEGER);
      assert.equal(pool.concurrency, Number.MAX_SAFE_INTEGER);
      pool.resize(before);
    },
  },

  // close()
  ...each(BAD_DURATIONS, (label, value) => ({
    name: `pool.close({ timeout: ${label} }) leaves the pool open`,
    call: ({ pool }) => pool.close({ timeout: value }),
    ...throws(RangeError, DURATION_RANGE),
  })),
  ...each(NOT_NUMBERS, (label, value) => ({
    name: `pool.close({ timeout: ${label} }) leaves the pool open`,
    call: ({ pool }) => pool.close({ timeout: bad(value) }),
    ...throws(TypeError, /Cannot close the pool as 'timeout' must be a number of milliseconds/),
  })),
  {
    name: "pool.close({ signal: {} }) leaves the pool open",
    call: ({ pool }) => pool.close({ signal: bad({}) }),
    ...throws(TypeError, /Cannot close the pool as 'signal' must be an AbortSignal/),
  },
  {
    name: "pool.close({ timeout: Infinity }) closes an idle pool",
    call: async () => {
      const pool = new Pool();
      await pool.close({ timeout: Infinity });
      assert.equal(pool.isClosed, true);
    },
  },
];

const FUNCTION_ROWS: Row[] = [
  // matchTopic()
  ...each(NOT_STRINGS, (label, value) => ({
    name: `matchTopic(${label}, "a")`,
    call: () => matchTopic(bad(value), "a"),
    ...throws(TypeError, /Cannot match as 'pattern' must be a string/),
  })),
  ...each(NOT_STRINGS, (label, value) => ({
    name: `matchTopic("a", ${label})`,
    call: () => matchTopic("a", bad(value)),
    ...throws(TypeError, /Cannot match as 'topic' must be a string/),
  })),
  ...each<[string, string, RegExp]>([
    ['"a..b", "a"', ["a..b", "a", /'pattern' has an empty segment/]],
    ['"a*", "a"', ["a*", "a", /'pattern' has a segment that mixes/]],
    ['"a", ""', ["a", "", /'topic' is empty/]],
    ['"a", "a.*"', ["a", "a.*", /'topic' contains a wildcard/]],
    ['"**", 1 MB then ".*"', ["**", `${MB}.*`, /'topic' contains a wildcard/]],
  ], (label, [pattern, topic, message]) => ({
    name: `matchTopic(${label})`,
    call: () => matchTopic(pattern, topic),
    ...throws(TypeError, message),
  })),
  ...each<[string, string, boolean]>([
    ['"**", 1 MB', ["**", MB, true]],
    ['"*", 1 MB of 524,288 segments', ["*", MB_DOTTED, false]],
    ["1 MB, 1 MB", [MB, MB, true]],
    ["10,000 *, 10,000 segments", [MANY_STARS, MANY, true]],
    ['"**.s9", 10,000 segments', ["**.s9", MANY, true]],
    ['"**.x.**", 10,000 segments', ["**.x.**", MANY, false]],
    ['"__proto__.*", "__proto__.x"', ["__proto__.*", "__proto__.x", true]],
    ['"constructor", "prototype"', ["constructor", "prototype", false]],
    ['"＊", "a" (a full-width asterisk)', ["＊", "a", false]],
    ['"😀.*", "😀.🎉"', ["😀.*", "😀.🎉", true]],
    ['"a\\u0000.*", "a\\u0000.b"', ["a\u0000.*", "a\u0000.b", true]],
  ], (label, [pattern, topic, expected]) => ({
    name: `matchTopic(${label}) is ${expected}`,
    call: () => matchTopic(pattern, topic),
    check: (matched) => assert.equal(matched, expected),
  })),

  // ulid() and monotonicUlid()
  ...(["ulid", "monotonicUlid"] as const).flatMap((name): Row[] => {
    const generate = name === "ulid" ? ulid : monotonicUlid;
    return [
      ...each(NOT_STRINGS.filter(([, v]) => typeof v !== "number" && v !== undefined), (
        label,
        value,
      ) => ({
        name: `${name}(${label})`,
        call: () => generate(bad(value)),
        ...throws(TypeError, /Cannot generate a ULID as 'seedTime' must be a number/),
      })),
      ...each([...NON_FINITE, ["-1", -1], ["1.5", 1.5], ["2^48", 2 ** 48]], (label, value) => ({
        name: `${name}(${label})`,
        call: () => generate(value),
        ...throws(RangeError, /'seedTime' must be an integer from 0 to 281474976710655/),
      })),
      {
        name: `${name}(0) and ${name}(-0)`,
        call: () => [generate(0), generate(-0)],
        check: (ids) => {
          for (const id of ids as string[]) {
            assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
            if (name === "ulid") assert.equal(decodeTime(id), 0);
          }
        },
      },
    ];
  }),
  {
    name: "ulid(2^48 - 1)",
    call: () => ulid(2 ** 48 - 1),
    check: (id) => assert.equal(decodeTime(id as string), 2 ** 48 - 1),
  },

  // decodeTime()
  ...each(NOT_STRINGS, (label, value) => ({
    name: `decodeTime(${label})`,
    call: () => decodeTime(bad(value)),
    ...throws(TypeError, /Cannot decode the ULID time as 'id' must be a string/),
  })),
  ...each<string>([
    ['""', ""],
    ["25 characters", "01ARYZ6S41TSV4RRFFQ69G5FA"],
    ["27 characters", "01ARYZ6S41TSV4RRFFQ69G5FAVX"],
    ["25 characters and an emoji", "01ARYZ6S41TSV4RRFFQ69G5FA😀"],
    ["1 MB", MB],
  ], (label, id) => ({
    name: `decodeTime(${label})`,
    call: () => decodeTime(id),
    ...throws(TypeError, /'id' must be 26 characters long/),
  })),
  ...each<string>([
    ["a NUL", "01ARYZ6S41TSV4RRFFQ69G5FA\u0000"],
    ['a "U"', "01ARYZ6S41TSV4RRFFQ69G5FAU"],
    ['an "é"', "01ARYZ6S41TSV4RRFFQ69G5FAé"],
    ["a newline", "01ARYZ6S41\nSV4RRFFQ69G5FAV"],
  ], (label, id) => ({
    name: `decodeTime(26 characters with ${label})`,
    call: () => decodeTime(id),
    ...throws(TypeError, /'id' has an invalid character/),
  })),
  {
    name: "decodeTime() of a time above 2^48 - 1",
    call: () => decodeTime("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"),
    ...throws(RangeError, /exceeds 281474976710655/),
  },
  ...each<[string, number]>([
    ["lower case", ["01aryz6s41tsv4rrffq69g5fav", 1469918176385]],
    ["Crockford's I, L and O", ["0LIOOOOOOOOOOOOOOOOOOOOOOO", 33 * 32 ** 7]],
    ["the largest time", ["7ZZZZZZZZZZZZZZZZZZZZZZZZZ", 2 ** 48 - 1]],
  ], (label, [id, time]) => ({
    name: `decodeTime(${label})`,
    call: () => decodeTime(id),
    check: (decoded) => assert.equal(decoded, time),
  })),
];

// --- the checker -----------------------------------------------------------------------------

const PROTOTYPES: object[] = [
  Object.prototype,
  Array.prototype,
  Function.prototype,
  String.prototype,
  Number.prototype,
  Map.prototype,
  Set.prototype,
  Promise.prototype,
  Error.prototype,
  TypeError.prototype,
  RangeError.prototype,
];

/** The own keys of every built-in prototype a polluted key would land on. */
function prototypeKeys(): string[] {
  return PROTOTYPES.map((prototype) => Reflect.ownKeys(prototype).map(String).sort().join(","));
}

/** The emitter's sizes that a call which changed nothing leaves alone (the cache may grow). */
function sizes(soiree: Soiree): object {
  const { cacheSize: _, ...rest } = emitterAccess.internals(soiree);
  return rest;
}

/** The emitter subscribes, emits in priority order both ways, unsubscribes. */
async function assertWorks(soiree: Soiree): Promise<void> {
  const before = sizes(soiree);
  const count = soiree.listenerCount();
  const calls: string[] = [];
  const exact = soiree.on("health.check", (event) => void calls.push(`exact ${event.payload}`));
  const wildcard = soiree.on("health.*", (event) => void calls.push(`wild ${event.payload}`), {
    priority: 10,
  });
  assert.equal(soiree.listenerCount(), count + 2);
  assert.deepEqual(soiree.emitSync("health.check", 1), []);
  assert.deepEqual(await within(soiree.emit("health.check", 2), 5_000, "emit()"), []);
  assert.deepEqual(calls, ["wild 1", "exact 1", "wild 2", "exact 2"]);
  assert.equal(exact.off(), true);
  assert.equal(wildcard.off(), true);
  assert.deepEqual(sizes(soiree), before);
}

/** The pool runs a task, keeps its counters consistent, and is idle. */
async function assertPoolWorks(pool: Pool): Promise<void> {
  assert.equal(pool.isClosed, false);
  assert.equal(await within(pool.submit(() => "ran"), 5_000, "submit()"), "ran");
  const stats = pool.stats();
  assert.equal(stats.submitted, stats.completed + stats.running + stats.waiting + stats.dropped);
  assert.equal(stats.running + stats.waiting, 0);
}

/** Runs one row against the shared emitter and pool and checks everything it must leave alone. */
async function runRow(row: Row, context: Context): Promise<void> {
  const { soiree, pool } = context;
  const keys = prototypeKeys();
  const before = sizes(soiree);
  const concurrency = pool.concurrency;
  let outcome: { threw: boolean; async: boolean; value: unknown };
  try {
    const result = row.call(context);
    if (result instanceof Promise) {
      try {
        outcome = { threw: false, async: true, value: await within(result, 5_000, row.name) };
      } catch (error) {
        outcome = { threw: true, async: true, value: error };
      }
    } else outcome = { threw: false, async: false, value: result };
  } catch (error) {
    outcome = { threw: true, async: false, value: error };
  }
  const expected = row.error;
  if (expected === undefined) {
    if (outcome.threw) throw outcome.value;
    await row.check?.(outcome.value, context);
  } else {
    assert.ok(outcome.threw, `expected ${expected.type.name}, got ${String(outcome.value)}`);
    assert.equal(outcome.async, expected.async === true, "thrown, not rejected (or the reverse)");
    const error = outcome.value as Error;
    assert.ok(error instanceof expected.type, `expected ${expected.type.name}, got ${error}`);
    assert.match(error.message, expected.message);
    // Clear: short however long the argument, and printable whatever it held.
    assert.ok(error.message.length <= 500, `a message of ${error.message.length} characters`);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(error.message, /[\u0000-\u001f]/, "a raw control character");
  }
  assert.deepEqual(prototypeKeys(), keys, "a prototype changed");
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(sizes(soiree), before, "the emitter's contents changed");
  assert.equal(soiree.isClosed, false);
  assert.equal(pool.concurrency, concurrency);
  await assertWorks(soiree);
  await assertPoolWorks(pool);
}

/** Runs rows on a fresh shared emitter and pool; returns every failure, named. */
async function runRows(rows: Row[]): Promise<string[]> {
  const context = { soiree: new Soiree(), pool: new Pool({ concurrency: 2 }) };
  const failures: string[] = [];
  for (const row of rows) {
    try {
      await runRow(row, context);
    } catch (error) {
      failures.push(`${row.name}: ${String((error as Error)?.message ?? error).slice(0, 300)}`);
    }
  }
  await context.soiree.close();
  await context.pool.close();
  assert.deepEqual(emitterAccess.internals(context.soiree), EMPTY_INTERNALS);
  return failures;
}

const ALL_ROWS = [...SOIREE_ROWS, ...POOL_ROWS, ...FUNCTION_ROWS];
const isProtoRow = (row: Row): boolean => /__proto__|constructor|prototype/.test(row.name);

test("Soiree answers bad arguments with a TypeError or RangeError before any side effect and keeps working", async () => {
  const rows = SOIREE_ROWS.filter((row) => row.error !== undefined);
  assert.ok(rows.length > 250, `${rows.length} rows`);
  assert.deepEqual(await runRows(rows), []);
});

test("Pool answers bad arguments with a TypeError or RangeError before any side effect and keeps working", async () => {
  const rows = POOL_ROWS.filter((row) => row.error !== undefined);
  assert.ok(rows.length > 60, `${rows.length} rows`);
  assert.deepEqual(await runRows(rows), []);
});

test("matchTopic(), ulid(), monotonicUlid() and decodeTime() answer bad arguments with a TypeError or RangeError", async () => {
  const rows = FUNCTION_ROWS.filter((row) => row.error !== undefined);
  assert.ok(rows.length > 60, `${rows.length} rows`);
  assert.deepEqual(await runRows(rows), []);
});

test("odd but valid arguments work: 1 MB and 10,000-segment topics, Unicode, control characters, extreme numbers", async () => {
  const rows = ALL_ROWS.filter((row) => row.error === undefined && !isProtoRow(row));
  assert.ok(rows.length > 40, `${rows.length} rows`);
  assert.deepEqual(await runRows(rows), []);
});

test("__proto__, constructor and prototype as segments, IDs, names and option keys pollute nothing and match only themselves", async () => {
  const rows = ALL_ROWS.filter((row) => isProtoRow(row));
  assert.ok(rows.length > 20, `${rows.length} rows`);
  assert.deepEqual(await runRows(rows), []);
});

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
