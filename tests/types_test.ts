// Compile-time checks: `deno check` fails if an `@ts-expect-error` line stops being an error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type PatternPayload, type PatternTopic, Soiree, type SoireeEvent } from "../mod.ts";

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
  soiree.on("*", (event) => {
    expectType<Equal<typeof event.payload, never>>(true);
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
