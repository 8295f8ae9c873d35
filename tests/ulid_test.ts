import { test } from "node:test";
import assert from "node:assert/strict";
import { createMonotonicUlid, decodeTime, monotonicUlid, ulid } from "../src/ulid.ts";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const MAX_TIME = 2 ** 48 - 1;

/** Runs `fn` with `crypto.getRandomValues` filling arrays from `bytes`, then restores it. */
function withRandomBytes<T>(bytes: readonly number[], fn: () => T): T {
  const original = Object.getOwnPropertyDescriptor(globalThis.crypto, "getRandomValues");
  Object.defineProperty(globalThis.crypto, "getRandomValues", {
    configurable: true,
    writable: true,
    value: <A extends ArrayBufferView | null>(array: A): A => {
      const view = array as unknown as Uint8Array;
      for (let i = 0; i < view.length; i++) view[i] = bytes[i % bytes.length];
      return array;
    },
  });
  try {
    return fn();
  } finally {
    if (original) Object.defineProperty(globalThis.crypto, "getRandomValues", original);
    else delete (globalThis.crypto as { getRandomValues?: unknown }).getRandomValues;
  }
}

/** The random part of `id` plus one, computed independently of the module under test. */
function nextRandomPart(id: string): string {
  let value = 0n;
  for (const char of id.slice(10)) value = value * 32n + BigInt(ALPHABET.indexOf(char));
  value += 1n;
  let text = "";
  for (let i = 0; i < 16; i++) {
    text = ALPHABET[Number(value % 32n)] + text;
    value /= 32n;
  }
  return text;
}

const INVALID_SEEDS: [string, unknown, typeof TypeError | typeof RangeError, string][] = [
  ["NaN", NaN, RangeError, "received NaN"],
  ["a negative time", -1, RangeError, "received -1"],
  ["a fraction", 1.5, RangeError, "received 1.5"],
  ["2^48", 2 ** 48, RangeError, "received 281474976710656"],
  ["Infinity", Infinity, RangeError, "received Infinity"],
  ["a string", "1", TypeError, 'received string "1"'],
];

test("ulid() encodes the ULID spec's example time as 01ARYZ6S41", () => {
  assert.equal(ulid(1469918176385).slice(0, 10), "01ARYZ6S41");
});

test("ulid() encodes the maximum time as 7ZZZZZZZZZ and the minimum as 0000000000", () => {
  assert.equal(ulid(MAX_TIME).slice(0, 10), "7ZZZZZZZZZ");
  assert.equal(ulid(0).slice(0, 10), "0000000000");
});

test("ulid() returns 26 Crockford base32 characters", () => {
  for (let i = 0; i < 100; i++) assert.match(ulid(), ULID_PATTERN);
});

test("ulid() maps each random byte to a base32 digit with byte & 31", () => {
  const bytes = Array.from({ length: 16 }, (_, i) => i + 32 * (i % 8));
  const id = withRandomBytes(bytes, () => ulid(0));
  assert.equal(id, "00000000000123456789ABCDEF");
  assert.equal(withRandomBytes([255], () => ulid(0)), "0000000000ZZZZZZZZZZZZZZZZ");
});

test("ulid() draws new randomness on every call", () => {
  assert.notEqual(ulid(1000).slice(10), ulid(1000).slice(10));
});

test("ulid() defaults to the current time", () => {
  const before = Date.now();
  const time = decodeTime(ulid());
  assert.ok(time >= before && time <= Date.now(), `${time} is not now`);
});

test("ulid() rejects a seedTime that is not an integer from 0 to 2^48 - 1", () => {
  for (const [name, seed, ErrorClass, received] of INVALID_SEEDS) {
    assert.throws(() => ulid(seed as number), (error: unknown) => {
      assert.ok(error instanceof ErrorClass, `${name}: ${error}`);
      assert.match(error.message, /^Cannot generate a ULID as 'seedTime' must be /);
      assert.ok(error.message.endsWith(received), `${name}: ${error.message}`);
      return true;
    });
  }
});

test("monotonicUlid() returns strictly increasing IDs for 10,000 calls in one millisecond", () => {
  const time = 1469918176385;
  let previous = monotonicUlid(time);
  for (let i = 0; i < 10_000; i++) {
    const id = monotonicUlid(time);
    assert.match(id, ULID_PATTERN);
    assert.ok(id > previous, `${id} is not after ${previous}`);
    assert.equal(decodeTime(id), decodeTime(previous));
    previous = id;
  }
});

test("monotonicUlid() adds one to the random part within a millisecond", () => {
  let previous = monotonicUlid(Date.now() + 60_000);
  // 1,100 steps carry into the second-last digit and at least once into the third-last.
  for (let i = 0; i < 1_100; i++) {
    const id = monotonicUlid(decodeTime(previous));
    assert.equal(id, previous.slice(0, 10) + nextRandomPart(previous));
    previous = id;
  }
});

test("monotonicUlid() accepts a seedTime of 0", () => {
  const id = monotonicUlid(0);
  assert.match(id, ULID_PATTERN);
});

test("monotonicUlid() rejects an invalid seedTime", () => {
  for (const [name, seed, ErrorClass] of INVALID_SEEDS) {
    assert.throws(() => monotonicUlid(seed as number), ErrorClass, name);
  }
});

test("createMonotonicUlid() accepts a seedTime of 0 on a new generator", () => {
  const next = createMonotonicUlid();
  const id = next(0);
  assert.equal(id.slice(0, 10), "0000000000");
  assert.equal(decodeTime(id), 0);
  assert.equal(next(0), id.slice(0, 10) + nextRandomPart(id));
});

test("createMonotonicUlid() keeps the later time when the clock steps back", () => {
  const next = createMonotonicUlid();
  const first = next(2000);
  const second = next(1000);
  assert.ok(second > first);
  assert.equal(decodeTime(second), 2000);
  assert.equal(second, first.slice(0, 10) + nextRandomPart(first));
});

test("createMonotonicUlid() draws new randomness in a later millisecond", () => {
  const next = createMonotonicUlid();
  withRandomBytes([31], () => next(1000));
  const later = withRandomBytes([0], () => next(1001));
  assert.equal(later.slice(10), "0".repeat(16));
  assert.equal(decodeTime(later), 1001);
});

test("createMonotonicUlid() carries when incrementing the random part", () => {
  const next = createMonotonicUlid();
  const bytes = [...Array(13).fill(0), 31, 31, 31];
  assert.equal(withRandomBytes(bytes, () => next(0)), "0000000000" + "0000000000000ZZZ");
  assert.equal(next(0), "0000000000" + "0000000000001000");
});

test("createMonotonicUlid() throws when the random part overflows and keeps its state", () => {
  const next = createMonotonicUlid();
  const last = withRandomBytes([255], () => next(5000));
  assert.equal(last.slice(10), "ZZZZZZZZZZZZZZZZ");
  for (let i = 0; i < 2; i++) {
    assert.throws(() => next(5000), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal(error.constructor, Error);
      assert.match(error.message, /random part overflowed/);
      assert.match(error.message, /at time 5000$/);
      return true;
    });
  }
  assert.throws(() => next(4000), /random part overflowed/);
  const later = next(5001);
  assert.equal(decodeTime(later), 5001);
  assert.ok(later > last);
});

test("createMonotonicUlid() validates seedTime before changing its state", () => {
  const next = createMonotonicUlid();
  let previous = next(1000);
  for (const [name, seed, ErrorClass] of INVALID_SEEDS) {
    assert.throws(() => next(seed as number), ErrorClass, name);
    const id = next(1000);
    assert.equal(id, previous.slice(0, 10) + nextRandomPart(previous), name);
    previous = id;
  }
});

test("createMonotonicUlid() generators keep separate state", () => {
  const a = createMonotonicUlid();
  const b = createMonotonicUlid();
  a(9000);
  assert.equal(decodeTime(b(1000)), 1000);
});

test("decodeTime() decodes the ULID spec's example", () => {
  assert.equal(decodeTime("01ARYZ6S41TSV4RRFFQ69G5FAV"), 1469918176385);
});

test("decodeTime() decodes the maximum and minimum times", () => {
  assert.equal(decodeTime("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"), MAX_TIME);
  assert.equal(decodeTime("00000000000000000000000000"), 0);
});

test("decodeTime() returns the time ulid() encoded", () => {
  for (const time of [0, 1, 31, 32, 1469918176385, 2 ** 32, MAX_TIME - 1, MAX_TIME]) {
    assert.equal(decodeTime(ulid(time)), time);
    assert.equal(decodeTime(createMonotonicUlid()(time)), time);
  }
});

test("decodeTime() accepts lowercase and Crockford's I, L and O aliases", () => {
  for (
    const id of [
      "01aryz6s41tsv4rrffq69g5fav",
      "0IARYZ6S41TSV4RRFFQ69G5FAV",
      "OLARYZ6S41TSV4RRFFQ69G5FAV",
      "oiaRYZ6S41TSV4RRFFQ69G5FAV",
      "0lARYZ6S41TSV4RRFFQ69G5FAV",
    ]
  ) {
    assert.equal(decodeTime(id), 1469918176385, id);
  }
});

test("decodeTime() rejects an invalid character, naming it and its index", () => {
  const cases: [string, string, number][] = [
    ["01ARYU6S41TSV4RRFFQ69G5FAV", "U", 5],
    ["01ARYZ6S41TSV4RRFFQ69G5FA-", "-", 25],
    ["01ARYZ6S41TSV4RRFFQ69G5FAé", "é", 25],
    [" 1ARYZ6S41TSV4RRFFQ69G5FAV", " ", 0],
  ];
  for (const [id, char, index] of cases) {
    assert.throws(() => decodeTime(id), (error: unknown) => {
      assert.ok(error instanceof TypeError, id);
      assert.ok(
        error.message.includes(`invalid character ${JSON.stringify(char)} at index ${index}`),
        error.message,
      );
      return true;
    });
  }
});

test("decodeTime() rejects an ID that is not 26 characters long", () => {
  for (const id of ["", "01ARYZ6S41TSV4RRFFQ69G5FA", "01ARYZ6S41TSV4RRFFQ69G5FAVV"]) {
    assert.throws(() => decodeTime(id), {
      name: "TypeError",
      message: new RegExp(`must be 26 characters long: received ${id.length} `),
    });
  }
});

test("decodeTime() rejects a value that is not a string", () => {
  for (const value of [undefined, null, 1469918176385, {}]) {
    assert.throws(() => decodeTime(value as string), {
      name: "TypeError",
      message: /'id' must be a string: received /,
    });
  }
});

test("decodeTime() rejects a time above 2^48 - 1", () => {
  for (const id of ["80000000000000000000000000", "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"]) {
    assert.throws(() => decodeTime(id), {
      name: "RangeError",
      message: /exceeds 281474976710655/,
    });
  }
});
