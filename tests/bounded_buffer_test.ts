import { test } from "node:test";
import assert from "node:assert/strict";
import { BoundedBuffer } from "../src/_bounded_buffer.ts";

test("BoundedBuffer hands values to waiting readers first, in order", async () => {
  const buffer = new BoundedBuffer<number>(2);
  const first = buffer.next();
  const second = buffer.next();
  assert.equal(buffer.push(1), true);
  assert.equal(buffer.push(2), true);
  assert.deepEqual(await first, { done: false, value: 1 });
  assert.deepEqual(await second, { done: false, value: 2 });
  assert.equal(buffer.size, 0);
});

test("BoundedBuffer.push() refuses a value when full and keeps what it has", async () => {
  const buffer = new BoundedBuffer<string>(2);
  assert.equal(buffer.push("a"), true);
  assert.equal(buffer.push("b"), true);
  assert.equal(buffer.push("c"), false);
  assert.equal(buffer.size, 2);
  assert.deepEqual(await buffer.next(), { done: false, value: "a" });
  assert.equal(buffer.push("c"), true);
  assert.deepEqual(await buffer.next(), { done: false, value: "b" });
  assert.deepEqual(await buffer.next(), { done: false, value: "c" });
});

test("BoundedBuffer.end() lets the buffer drain, then reads are done", async () => {
  const buffer = new BoundedBuffer<number>(Infinity);
  buffer.push(1);
  buffer.end();
  assert.equal(buffer.ended, true);
  assert.deepEqual(await buffer.next(), { done: false, value: 1 });
  assert.deepEqual(await buffer.next(), { done: true, value: undefined });
});

test("BoundedBuffer.end() finishes the readers that wait", async () => {
  const buffer = new BoundedBuffer<number>(1);
  const waiting = buffer.next();
  buffer.end();
  assert.deepEqual(await waiting, { done: true, value: undefined });
});

test("BoundedBuffer.fail() drops the buffer and rejects waiting readers with the reason", async () => {
  const buffer = new BoundedBuffer<number>(4);
  const waiting = buffer.next();
  buffer.fail(new Error("stop"));
  await assert.rejects(waiting, { message: "stop" });
  assert.deepEqual(await buffer.next(), { done: true, value: undefined });
});

test("BoundedBuffer.fail() with no reader waiting rejects the next read once", async () => {
  const buffer = new BoundedBuffer<number>(4);
  buffer.push(1);
  buffer.fail(new Error("stop"));
  assert.equal(buffer.size, 0);
  await assert.rejects(buffer.next(), { message: "stop" });
  assert.deepEqual(await buffer.next(), { done: true, value: undefined });
});

test("BoundedBuffer.clear() drops values and a pending failure, and finishes readers", async () => {
  const failed = new BoundedBuffer<number>(4);
  failed.fail(new Error("stop"));
  failed.clear();
  assert.deepEqual(await failed.next(), { done: true, value: undefined });
  const buffered = new BoundedBuffer<number>(4);
  buffered.push(1);
  buffered.clear();
  assert.deepEqual(await buffered.next(), { done: true, value: undefined });
});

test("BoundedBuffer compacts after many reads without losing order", async () => {
  const buffer = new BoundedBuffer<number>(Infinity);
  const count = 5_000;
  for (let i = 0; i < count; i++) buffer.push(i);
  for (let i = 0; i < count; i++) {
    assert.deepEqual(await buffer.next(), { done: false, value: i });
    if (i % 3 === 0) buffer.push(count + i);
  }
  assert.equal(buffer.size, Math.ceil(count / 3));
  assert.deepEqual(await buffer.next(), { done: false, value: count });
});
