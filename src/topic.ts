/**
 * The topic and pattern rules, as a function: the same matcher the emitter uses.
 *
 * @module
 */

import { assertTopic, checkPattern, splitTopic } from "./_topic.ts";
import { PatternTrie } from "./_trie.ts";

/**
 * Whether a pattern matches a topic, by the rules in the README's "Topics and patterns":
 * segments are separated by `.`, `*` matches exactly one segment, `**` matches any number of
 * segments (at least one when it ends the pattern), everything else matches itself exactly.
 *
 * @param pattern A topic or pattern, as given to `on()`.
 * @param topic A topic, as given to `emit()`.
 * @returns Whether an emission of `topic` reaches listeners of `pattern`.
 * @throws {TypeError} When the pattern or the topic is invalid.
 *
 * @example
 * ```ts
 * import { matchTopic } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * assert.equal(matchTopic("invoice.**", "invoice.paid.late"), true);
 * assert.equal(matchTopic("invoice.**", "invoice"), false);
 * assert.equal(matchTopic("**.completed", "completed"), true);
 * assert.equal(matchTopic("user.*", "user.created.twice"), false);
 * ```
 */
export function matchTopic(pattern: string, topic: string): boolean {
  checkPattern(pattern, "match");
  assertTopic(topic, "match");
  const trie = new PatternTrie<true>();
  trie.set(splitTopic(pattern), true);
  return trie.match(splitTopic(topic), []).length > 0;
}
