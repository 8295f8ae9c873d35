import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { matchTopic, Soiree } from "../mod.ts";
import { PatternTrie } from "../src/_trie.ts";
import { checkPattern, splitTopic } from "../src/_topic.ts";
import fc from "fast-check";

// The Go library's TestMatchTopicPattern table, all rows that still apply (rows 18, 23 and
// 30 emit the empty topic, which is invalid here).
const GO_ROWS: [number, string, string, boolean][] = [
  [1, "event.some.thing.run", "event.some.thing.run", true],
  [2, "event.some.*.*", "event.some.thing.run", true],
  [3, "event.some.*.*", "event.some.thing.meow", true],
  [4, "event.*", "event.some", true],
  [5, "event.*", "event.some.thing", false],
  [6, "event.some.*.run", "event.some.thing.run", true],
  [7, "event.some.*.run", "event.some.thing.meow", false],
  [8, "event.*.thing.run", "event.some.thing.meow", false],
  [9, "*.some.thing.run", "event.some.thing.meow", false],
  [10, "event.some.*.run", "event.some.thing", false],
  [11, "event.some.**", "event.some.thing.run", true],
  [12, "event.some.**", "event.some.thing.meow", true],
  [13, "**.thing.run", "event.some.thing.run", true],
  [14, "event.**", "event.some.thing.run", true],
  [15, "event.**.run", "event.some.thing.run", true],
  [16, "**", "event.some.thing.run", true],
  [17, "**", "event", true],
  [19, "event.**", "event", false],
  [20, "event.**.run", "event.some.thing.meow", false],
  [21, "event.some.thing.**", "event.some.other.thing.run", false],
  [22, "**.thing.run", "event.some.thing.meow", false],
  [24, "*", "event", true],
  [25, "*", "event.some", false],
  [26, "*", "event.some.thing", false],
  [27, "event.*", "event", false],
  [28, "event.*", "event.some", true],
  [29, "event.*", "event.some.thing", false],
  [31, "**", "event.some", true],
  [32, "**", "event.some.thing", true],
  [33, "**", "event.some.thing.meow", true],
  [34, "**", "event", true],
  [35, "event.**", "event.some", true],
  [36, "event.**", "event.some.thing", true],
];

/** The rows of the README's "Topics and patterns" table: | `pattern` | `topic` | yes/no | */
function readmeRows(): [string, string, boolean][] {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.split("## Topics and patterns")[1]?.split("\n## ")[0] ?? "";
  const rows: [string, string, boolean][] = [];
  for (const line of section.split("\n")) {
    const match = /^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|\s*(yes|no)\s*\|/.exec(line);
    if (match) rows.push([match[1], match[2], match[3] === "yes"]);
  }
  return rows;
}

/** Whether an emission of `topic` reaches a listener of `pattern`, through the emitter. */
function delivered(pattern: string, topic: string): boolean {
  const soiree = new Soiree();
  let hit = false;
  soiree.on(pattern, () => void (hit = true));
  soiree.emitSync(topic);
  return hit;
}

test("matchTopic() agrees with every applicable row of the Go library's table", () => {
  for (const [row, pattern, topic, expected] of GO_ROWS) {
    assert.equal(matchTopic(pattern, topic), expected, `row ${row}: ${pattern} ~ ${topic}`);
    assert.equal(delivered(pattern, topic), expected, `row ${row} via emit: ${pattern} ~ ${topic}`);
  }
});

test("the README's pattern table has rows and every row holds", () => {
  const rows = readmeRows();
  assert.ok(rows.length >= 20, `expected at least 20 rows, found ${rows.length}`);
  for (const [pattern, topic, expected] of rows) {
    assert.equal(matchTopic(pattern, topic), expected, `${pattern} ~ ${topic}`);
    assert.equal(delivered(pattern, topic), expected, `via emit: ${pattern} ~ ${topic}`);
  }
});

test("a trailing ** needs at least one segment, a leading or inner one takes zero", () => {
  assert.equal(matchTopic("invoice.**", "invoice"), false);
  assert.equal(matchTopic("invoice.**", "invoice.paid"), true);
  assert.equal(matchTopic("invoice.**", "invoice.paid.late"), true);
  assert.equal(matchTopic("**.completed", "completed"), true);
  assert.equal(matchTopic("**.completed", "job.step.completed"), true);
  assert.equal(matchTopic("a.**.z", "a.z"), true);
  assert.equal(matchTopic("a.**.z", "a.b.c.z"), true);
  assert.equal(matchTopic("a.b.**", "a.b"), false);
  assert.equal(matchTopic("**.a.**", "a"), false);
  assert.equal(matchTopic("*.**", "a"), false);
});

test("matching is exact and case-sensitive", () => {
  assert.equal(matchTopic("User.created", "user.created"), false);
  assert.equal(matchTopic("user.created", "user.created "), false);
  assert.equal(matchTopic("user", "username"), false);
});

test("prototype-named topics work like any other", () => {
  for (const topic of ["__proto__", "constructor", "hasOwnProperty", "toString", "prototype"]) {
    const soiree = new Soiree();
    const seen: string[] = [];
    soiree.on(topic, (event) => void seen.push(`exact ${event.topic}`));
    soiree.on(`${topic}.*`, (event) => void seen.push(`child ${event.topic}`));
    assert.deepEqual(soiree.emitSync(topic), []);
    soiree.emitSync(`${topic}.x`);
    soiree.emitSync("other");
    assert.deepEqual(seen, [`exact ${topic}`, `child ${topic}.x`]);
    assert.equal(soiree.listenerCount(topic), 1);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

const INVALID_TOPICS: [unknown, RegExp][] = [
  ["", /'topic' is empty: received ""/],
  ["a..b", /'topic' has an empty segment: received "a\.\.b"/],
  [".a", /'topic' has an empty segment: received "\.a"/],
  ["a.", /'topic' has an empty segment: received "a\."/],
  ["user.*", /'topic' contains a wildcard, which only patterns may: received "user\.\*"/],
  ["**", /'topic' contains a wildcard/],
  ["user*", /'topic' contains a wildcard/],
  [42, /'topic' must be a string: received 42 \(number\)/],
  [undefined, /'topic' must be a string: received undefined \(undefined\)/],
  [null, /'topic' must be a string: received null/],
];

test("emit() and emitSync() throw a TypeError naming an invalid topic and what is wrong", () => {
  const soiree = new Soiree();
  soiree.on("**", () => {});
  for (const [topic, message] of INVALID_TOPICS) {
    assert.throws(() => soiree.emitSync(topic as string), { name: "TypeError", message });
    assert.throws(() => soiree.emit(topic as string), { name: "TypeError", message });
  }
  assert.equal(soiree.stats().emitted, 0);
});

const INVALID_PATTERNS: [unknown, RegExp][] = [
  ["", /'pattern' is empty/],
  ["a..b", /'pattern' has an empty segment: received "a\.\.b"/],
  [".a", /'pattern' has an empty segment/],
  ["a.", /'pattern' has an empty segment/],
  ["user*", /mixes '\*' with other characters.*received "user\*"/],
  ["a.***", /mixes '\*'/],
  ["*a.b", /mixes '\*'/],
  [7, /'pattern' must be a string: received 7 \(number\)/],
];

test("on() throws a TypeError naming an invalid pattern and what is wrong", () => {
  const soiree = new Soiree();
  for (const [pattern, message] of INVALID_PATTERNS) {
    assert.throws(() => soiree.on(pattern as string, () => {}), { name: "TypeError", message });
  }
  assert.equal(soiree.listenerCount(), 0);
});

test("a pattern checked again gets the same answer, whatever was checked in between", () => {
  // checkPattern() remembers the last pattern it accepted: a repeat must not skip a check.
  const pieces = fc.array(fc.constantFrom("a", "order", "*", "**", "", ".", "*x", "x.y"), {
    maxLength: 6,
  });
  const outcome = (pattern: string): string => {
    try {
      return `kind ${checkPattern(pattern, "subscribe")}`;
    } catch (error) {
      return (error as Error).message;
    }
  };
  const seen = new Map<string, string>();
  fc.assert(
    fc.property(fc.array(pieces, { minLength: 1, maxLength: 4 }), (list) => {
      for (const parts of list) {
        const pattern = parts.join("");
        const first = seen.get(pattern) ?? outcome(pattern);
        seen.set(pattern, first);
        assert.equal(outcome(pattern), first, pattern);
        assert.equal(outcome(pattern), first, `${pattern}, checked twice in a row`);
      }
    }),
    { numRuns: 1_000 },
  );
});

test("error messages cut a huge topic short", () => {
  const huge = `${"a".repeat(1_000_000)}..b`;
  assert.throws(() => new Soiree().emitSync(huge), (error: Error) => {
    assert.ok(error instanceof TypeError);
    assert.ok(error.message.length < 300, `message has ${error.message.length} characters`);
    return true;
  });
});

test("the matcher's work stays polynomial for adversarial ** patterns", () => {
  const trie = new PatternTrie<string>();
  const patterns = ["**.a.**.b.**.c", "**.**.**.**.z", "**.*.**.*.**.*.**", "a.**.a.**.a.**.a"];
  for (const pattern of patterns) trie.set(pattern.split("."), pattern);
  let nodes = 0;
  for (const pattern of patterns) nodes += pattern.split(".").length;
  const topic = Array.from({ length: 64 }, (_, i) => (i % 2 ? "a" : "x")).join(".").split(".");
  const work = { steps: 0 };
  const out = trie.match(topic, [], work);
  // Each (node, position) state is visited at most once.
  assert.ok(work.steps <= (nodes + 1) * (topic.length + 1), `took ${work.steps} steps`);
  assert.deepEqual(out, ["**.*.**.*.**.*.**"]);
});

test("a 10,000-segment topic matches without exhausting the stack", () => {
  const topic = Array.from({ length: 10_000 }, () => "s").join(".");
  assert.equal(matchTopic("**.s", topic), true);
  assert.equal(matchTopic("s.**.t", topic), false);
  const soiree = new Soiree();
  let calls = 0;
  soiree.on("s.**", () => void calls++);
  soiree.emitSync(topic);
  assert.equal(calls, 1);
});

test("splitTopic() splits on dots exactly as String.prototype.split() does, for strings made at run time", () => {
  const pieces = fc.array(fc.constantFrom("a", "order", "*", "**", "", ".", "é", "x.y"), {
    maxLength: 8,
  });
  fc.assert(
    fc.property(pieces, (parts) => {
      const topic = parts.join(""); // built at run time, as a topic with an ID in it is
      assert.deepEqual(splitTopic(topic), topic.split("."));
    }),
    { numRuns: 2_000 },
  );
});
