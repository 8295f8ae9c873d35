/**
 * ULIDs: 26-character, lexicographically sortable IDs made of a 48-bit millisecond
 * timestamp and 80 bits of randomness, written in Crockford's base32
 * (see {@link https://github.com/ulid/spec}). Soiree gives every subscription one.
 *
 * {@linkcode monotonicUlid} is the one to use for IDs that must sort in creation order:
 * within a millisecond (or when the clock steps back) it increments the previous ID instead
 * of drawing new randomness.
 *
 * @module
 */

import { describeObject, quote } from "./_describe.ts";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_LENGTH = 10;
const RANDOM_LENGTH = 16;
const ULID_LENGTH = TIME_LENGTH + RANDOM_LENGTH;
const MAX_TIME = 2 ** 48 - 1;
const MAX_DIGIT = 31;
const ZEROS = "0".repeat(RANDOM_LENGTH);

/** Decoded value of each ASCII code, or -1; accepts lowercase and Crockford's I, L, O. */
const DECODE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) {
    table[ALPHABET.charCodeAt(i)] = i;
    table[ALPHABET.toLowerCase().charCodeAt(i)] = i;
  }
  for (const [alias, value] of [["I", 1], ["L", 1], ["O", 0]] as const) {
    table[alias.charCodeAt(0)] = value;
    table[alias.toLowerCase().charCodeAt(0)] = value;
  }
  return table;
})();

/** Reused by {@linkcode ulid}, which fills and reads it synchronously. */
const scratch = new Uint8Array(RANDOM_LENGTH);

/**
 * Generates a ULID: 10 characters of time followed by 16 random characters drawn from
 * `crypto.getRandomValues()`. IDs made in the same millisecond are unique but not ordered
 * among themselves; use {@linkcode monotonicUlid} when order matters.
 *
 * @param seedTime The time to encode, in milliseconds since the Unix epoch. Defaults to
 * `Date.now()`.
 * @returns A 26-character ULID in upper case.
 * @throws {TypeError} If `seedTime` is not a number.
 * @throws {RangeError} If `seedTime` is not an integer from 0 to 2^48 - 1.
 *
 * @example Encode a given time
 * ```ts
 * import { decodeTime, ulid } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const id = ulid(1469918176385);
 * assert.equal(id.length, 26);
 * assert.equal(id.slice(0, 10), "01ARYZ6S41");
 * assert.equal(decodeTime(id), 1469918176385);
 * ```
 */
export function ulid(seedTime?: number): string {
  const time = seedTime === undefined ? Date.now() : checkSeedTime(seedTime);
  fillRandom(scratch);
  return encodeTime(time) + encodeDigits(scratch, RANDOM_LENGTH);
}

/**
 * Creates an independent monotonic ULID generator: each call returns an ID greater than the
 * one before. When `seedTime` is after the last time used, the ID gets that time and fresh
 * randomness; otherwise (the same millisecond, or a clock that stepped back) it keeps the
 * last time and adds one to the random part. {@linkcode monotonicUlid} is such a generator
 * shared by the whole process.
 *
 * @returns A function that takes an optional `seedTime` (default `Date.now()`) and returns
 * the next ULID. It throws a `TypeError` or `RangeError` for a bad `seedTime`, as
 * {@linkcode ulid} does, and an `Error` if the random part would overflow (2^80 IDs in one
 * millisecond); neither changes its state.
 *
 * @example Order survives a clock that steps back
 * ```ts
 * import { createMonotonicUlid, decodeTime } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const next = createMonotonicUlid();
 * const first = next(2000);
 * const second = next(1000);
 * assert.ok(second > first);
 * assert.equal(decodeTime(second), 2000);
 * ```
 */
export function createMonotonicUlid(): (seedTime?: number) => string {
  const last = RANDOM_LENGTH - 1;
  const random = new Uint8Array(RANDOM_LENGTH);
  let lastTime = -1;
  // The ID without its last digit, which is all that changes in 31 of 32 increments.
  let head = "";
  return (seedTime?: number): string => {
    const time = seedTime === undefined ? Date.now() : checkSeedTime(seedTime);
    if (time > lastTime) {
      fillRandom(random);
      lastTime = time;
      head = encodeTime(time) + encodeDigits(random, last);
    } else {
      const changed = increment(random);
      if (changed < 0) {
        throw new Error(
          `Cannot generate a monotonic ULID as the random part overflowed: received more than 2^80 IDs at time ${lastTime}`,
        );
      }
      if (changed < last) {
        head = head.slice(0, TIME_LENGTH + changed) + ALPHABET[random[changed]] +
          ZEROS.slice(changed + 1, last);
      }
    }
    return head + ALPHABET[random[last]];
  };
}

const sharedMonotonicUlid = createMonotonicUlid();

/**
 * Generates a ULID greater than every ULID this function returned before in this process,
 * even for many calls in one millisecond or when the clock steps back. A new millisecond
 * gets fresh randomness; otherwise the last time is kept and the random part is incremented
 * by one, as the ULID spec describes.
 *
 * @param seedTime The time to encode, in milliseconds since the Unix epoch. A time at or
 * before the last one used keeps the last one. Defaults to `Date.now()`.
 * @returns A 26-character ULID in upper case.
 * @throws {TypeError} If `seedTime` is not a number.
 * @throws {RangeError} If `seedTime` is not an integer from 0 to 2^48 - 1.
 * @throws {Error} If the random part would overflow (2^80 IDs in one millisecond).
 *
 * @example IDs from one millisecond sort in call order
 * ```ts
 * import { decodeTime, monotonicUlid } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const time = Date.now();
 * const first = monotonicUlid(time);
 * const second = monotonicUlid(time);
 * assert.ok(second > first);
 * assert.equal(decodeTime(second), decodeTime(first));
 * ```
 */
export function monotonicUlid(seedTime?: number): string {
  return sharedMonotonicUlid(seedTime);
}

/**
 * Reads the time out of a ULID. Decoding is case-insensitive and accepts Crockford's
 * aliases (`I` and `L` for `1`, `O` for `0`); every character is checked, not only the
 * time part.
 *
 * @param id The ULID to decode.
 * @returns The time, in milliseconds since the Unix epoch.
 * @throws {TypeError} If `id` is not a string of 26 Crockford base32 characters.
 * @throws {RangeError} If the time is above 2^48 - 1 (the first character is above `7`).
 *
 * @example Decode the time of a ULID
 * ```ts
 * import { decodeTime } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeTime("01ARYZ6S41TSV4RRFFQ69G5FAV"), 1469918176385);
 * assert.equal(decodeTime("01aryz6s41tsv4rrffq69g5fav"), 1469918176385);
 * ```
 */
export function decodeTime(id: string): number {
  if (typeof id !== "string") {
    throw new TypeError(
      `Cannot decode the ULID time as 'id' must be a string: received ${describe(id)}`,
    );
  }
  if (id.length !== ULID_LENGTH) {
    throw new TypeError(
      `Cannot decode the ULID time as 'id' must be ${ULID_LENGTH} characters long: received ${id.length} (${
        quote(id)
      })`,
    );
  }
  let time = 0;
  for (let i = 0; i < ULID_LENGTH; i++) {
    const code = id.charCodeAt(i);
    const value = code < 128 ? DECODE[code] : -1;
    if (value === -1) {
      throw new TypeError(
        `Cannot decode the ULID time as 'id' has an invalid character ${
          JSON.stringify(id[i])
        } at index ${i}: received ${quote(id)}`,
      );
    }
    if (i < TIME_LENGTH) time = time * 32 + value;
  }
  if (time > MAX_TIME) {
    throw new RangeError(
      `Cannot decode the ULID time as it exceeds ${MAX_TIME} (the first character must be 0 to 7): received ${
        quote(id)
      }`,
    );
  }
  return time;
}

function checkSeedTime(seedTime: number): number {
  if (typeof seedTime !== "number") {
    throw new TypeError(
      `Cannot generate a ULID as 'seedTime' must be a number: received ${describe(seedTime)}`,
    );
  }
  if (!Number.isInteger(seedTime) || seedTime < 0 || seedTime > MAX_TIME) {
    throw new RangeError(
      `Cannot generate a ULID as 'seedTime' must be an integer from 0 to ${MAX_TIME}: received ${seedTime}`,
    );
  }
  return seedTime;
}

/** Fills `digits` with unbiased base32 digits (32 divides 256, so `byte & 31` is uniform). */
function fillRandom(digits: Uint8Array<ArrayBuffer>): void {
  globalThis.crypto.getRandomValues(digits);
  for (let i = 0; i < digits.length; i++) digits[i] &= MAX_DIGIT;
}

/**
 * Adds one to base32 `digits` in place, carrying; the digits after the returned index become
 * zero. Returns -1, changing nothing, on overflow.
 */
function increment(digits: Uint8Array): number {
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === MAX_DIGIT) i--;
  if (i < 0) return -1;
  digits[i]++;
  for (let j = i + 1; j < digits.length; j++) digits[j] = 0;
  return i;
}

function encodeTime(time: number): string {
  let text = "";
  for (let i = 0; i < TIME_LENGTH; i++) {
    text = ALPHABET[time % 32] + text;
    time = Math.floor(time / 32);
  }
  return text;
}

function encodeDigits(digits: Uint8Array, end: number): string {
  let text = "";
  for (let i = 0; i < end; i++) text += ALPHABET[digits[i]];
  return text;
}

function describe(value: unknown): string {
  if (typeof value === "string") return `string ${quote(value)}`;
  if (typeof value === "function") return "a function";
  if (typeof value === "object") return value === null ? "object null" : describeObject(value);
  return `${typeof value} ${String(value)}`;
}
