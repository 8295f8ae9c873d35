import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "../src/_registry.ts";
import { EXACT, WILDCARD } from "../src/_topic.ts";
import { matchSegments } from "../src/_trie.ts";
import { matchTopic } from "../mod.ts";
import fc from "fast-check";
import { EMPTY_INTERNALS } from "./_util.ts";

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
  const { inFlightLinked: _, ...empty } = EMPTY_INTERNALS;
  assert.deepEqual(registry.sizes(), empty);
  assert.ok(subscriptions.every((subscription) => !subscription.active));
});

test("matchSegments() agrees with matchTopic() on random patterns and topics", () => {
  const segment = fc.constantFrom("a", "b", "c");
  const patternSegment = fc.constantFrom("a", "b", "*", "**");
  fc.assert(
    fc.property(
      fc.array(patternSegment, { minLength: 1, maxLength: 6 }),
      fc.array(segment, { minLength: 1, maxLength: 7 }),
      (pattern, topic) =>
        matchSegments(pattern, topic) === matchTopic(pattern.join("."), topic.join(".")),
    ),
    { numRuns: 5_000 },
  );
  const long = Array.from({ length: 40 }, (_, i) => `s${i}`);
  assert.equal(matchSegments(["s0", "**"], long), true);
  assert.equal(matchSegments(["**", "s39"], long), true);
  assert.equal(matchSegments(["s0", "*"], long), false);
  assert.equal(matchSegments([...long.slice(0, 39), "*"], long), true);
});

test("Registry: a pattern subscribed again after every pattern left reaches the topics cached meanwhile", () => {
  // Emptied entries stay (in the trie too) for reuse: a topic cached while they are empty must
  // still be dropped when they are subscribed again, for exact and wildcard patterns alike.
  for (const [pattern, kind] of [["a.*", WILDCARD], ["**", WILDCARD], ["a.b", EXACT]] as const) {
    const registry = new Registry(undefined, 0);
    registry.add("other", EXACT, listener, OPTIONS);
    const first = registry.add(pattern, kind, listener, OPTIONS);
    assert.deepEqual(registry.lookup("a.b", "emit"), [first], pattern);
    first.off();
    assert.deepEqual(registry.lookup("a.b", "emit"), [], pattern);
    assert.deepEqual(registry.lookup("a.b", "emit"), [], `${pattern}, served from the cache`);
    const again = registry.add(pattern, kind, listener, OPTIONS);
    assert.deepEqual(registry.lookup("a.b", "emit"), [again], pattern);
    again.off();
    assert.deepEqual(registry.lookup("a.b", "emit"), [], pattern);
  }
});

test("Registry: a wildcard change drops only the cached topics it matches", () => {
  const registry = new Registry(undefined, 0);
  registry.add("a.b", EXACT, listener, OPTIONS);
  registry.add("x.y", EXACT, listener, OPTIONS);
  const ab = registry.lookup("a.b", "emit");
  const xy = registry.lookup("x.y", "emit");
  const wildcard = registry.add("a.*", WILDCARD, listener, OPTIONS);
  assert.equal(registry.lookup("x.y", "emit"), xy, "x.y kept its cached list");
  assert.notEqual(registry.lookup("a.b", "emit"), ab);
  assert.deepEqual(registry.lookup("a.b", "emit").map((r) => r.pattern), ["a.b", "a.*"]);
  wildcard.off();
  assert.deepEqual(registry.lookup("a.b", "emit").map((r) => r.pattern), ["a.b"]);
  assert.equal(registry.lookup("x.y", "emit"), xy);
});

test("Registry: topics emitted once stop filling the cache, and caching resumes once topics recur", () => {
  // Admission works in windows of 1,024 misses: a window in which the cache answered fewer
  // than one lookup in 8 misses makes the next one cache a miss one time in 16.
  const registry = new Registry(undefined, 0);
  const paid = registry.add("order.*.paid", WILDCARD, listener, OPTIONS);
  for (let n = 0; n < 1_024; n++) registry.lookup(`order.${n}.paid`, "emit");
  assert.equal(registry.sizes().cacheSize, 1_024, "the first window caches every miss");
  for (let n = 1_024; n < 2_624; n++) {
    assert.deepEqual(registry.lookup(`order.${n}.paid`, "emit"), [paid]);
  }
  assert.equal(registry.sizes().cacheSize, 1_024 + 100, "then one miss in 16");
  // A topic that recurs is cached within 16 misses, and then answered from the cache.
  const hot = ["order.hot.paid", "order.warm.paid"];
  let misses = 0;
  for (let round = 0; round < 1_000; round++) {
    for (const topic of hot) {
      const before = registry.sizes().cacheSize;
      registry.lookup(topic, "emit");
      if (registry.sizes().cacheSize === before && round < 16) misses++;
    }
  }
  assert.ok(misses <= 32, `${misses} lookups of the two recurring topics were not cached`);
  const cached = registry.lookup("order.hot.paid", "emit");
  assert.equal(registry.lookup("order.hot.paid", "emit"), cached, "served from the cache");
  // The window those hits fall in ends with the cache paying: every miss is cached again.
  for (let n = 2_624; n < 3_648; n++) registry.lookup(`order.${n}.paid`, "emit");
  const before = registry.sizes().cacheSize;
  for (let n = 3_648; n < 3_658; n++) registry.lookup(`order.${n}.paid`, "emit");
  assert.equal(registry.sizes().cacheSize, before + 10);
});
