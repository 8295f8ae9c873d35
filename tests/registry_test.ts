import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "../src/_registry.ts";
import { EXACT, WILDCARD } from "../src/_topic.ts";

const OPTIONS = {
  priority: 3,
  once: false,
  pool: undefined,
  timeout: 0,
  signal: undefined,
  ownsPool: false,
};
const listener = (): void => {};

test("Registry.lookup() caches a topic's list and adding to that topic replaces it", () => {
  const registry = new Registry(undefined, 0);
  const first = registry.add("a.b", EXACT, listener, OPTIONS);
  const list = registry.lookup("a.b", "emit");
  assert.deepEqual(list, [first]);
  assert.equal(registry.lookup("a.b", "emit"), list, "served from the cache");
  const second = registry.add("a.b", EXACT, listener, OPTIONS);
  assert.deepEqual(registry.lookup("a.b", "emit"), [first, second]);
});

test("Registry: an exact subscription invalidates only its own topic", () => {
  const registry = new Registry(undefined, 0);
  registry.add("x", EXACT, listener, OPTIONS);
  const x = registry.lookup("x", "emit");
  registry.lookup("y", "emit");
  registry.add("y", EXACT, listener, OPTIONS);
  assert.equal(registry.lookup("x", "emit"), x, "x kept its cached list");
  assert.equal(registry.lookup("y", "emit").length, 1);
});

test("Registry: a wildcard subscription or removal clears every cached topic", () => {
  const registry = new Registry(undefined, 0);
  const exact = registry.add("a.b", EXACT, listener, OPTIONS);
  assert.equal(registry.lookup("a.b", "emit").length, 1);
  const wildcard = registry.add("a.*", WILDCARD, listener, { ...OPTIONS, priority: 5 });
  assert.deepEqual(registry.lookup("a.b", "emit"), [wildcard, exact], "higher priority first");
  assert.equal(registry.remove(wildcard), true);
  assert.deepEqual(registry.lookup("a.b", "emit"), [exact]);
  assert.equal(registry.remove(wildcard), false, "a second removal changes nothing");
});

test("Registry.clear() leaves nothing behind", () => {
  const registry = new Registry(undefined, 0);
  const subscriptions = [
    registry.add("a.b", EXACT, listener, OPTIONS),
    registry.add("a.**", WILDCARD, listener, OPTIONS),
  ];
  registry.lookup("a.b", "emit");
  assert.equal(registry.find("a.b", EXACT, subscriptions[0].id), subscriptions[0]);
  registry.clear();
  assert.deepEqual(registry.sizes(), {
    trieNodes: 0,
    wildcardPatterns: 0,
    exactPatterns: 0,
    cacheSize: 0,
    listeners: 0,
    indexedIds: 0,
  });
  assert.ok(subscriptions.every((subscription) => !subscription.active));
});
