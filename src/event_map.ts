/**
 * Compile-time types for typed emitters: an event map from topic to payload, and the payload
 * a pattern sees (the union of the payloads of the topics it matches).
 *
 * @module
 */

/**
 * The default type argument of `Soiree`: any topic, with an `unknown` payload. A typed
 * emitter takes its own map from topic to payload type instead, as a type literal or an
 * interface (one that does not extend this type, whose index signature would accept every
 * topic again).
 *
 * @example A typed emitter
 * ```ts
 * import { Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * type Events = {
 *   "user.created": { name: string };
 *   "user.deleted": { id: number };
 * };
 * const soiree = new Soiree<Events>();
 * const seen: string[] = [];
 * soiree.on("user.created", (event) => void seen.push(event.payload.name));
 * soiree.emitSync("user.created", { name: "Ada" });
 * assert.deepEqual(seen, ["Ada"]);
 * ```
 */
export type EventMap = { [topic: string]: unknown };

/**
 * Splits a topic or pattern type on ".".
 *
 * @typeParam S The string to split.
 *
 * @example Split a topic type
 * ```ts
 * import type { SplitTopic } from "@x/soiree";
 *
 * const segments: SplitTopic<"user.created"> = ["user", "created"];
 * void segments;
 * ```
 */
export type SplitTopic<S extends string> = S extends `${infer Head}.${infer Rest}`
  ? [Head, ...SplitTopic<Rest>]
  : [S];

/**
 * Whether pattern segments match topic segments, by the README's rules: `*` is exactly one
 * segment, `**` any number (at least one at the end of the pattern).
 *
 * @typeParam P The pattern's segments.
 * @typeParam T The topic's segments.
 *
 * @example Match at the type level
 * ```ts
 * import type { SegmentsMatch } from "@x/soiree";
 *
 * const yes: SegmentsMatch<["user", "*"], ["user", "created"]> = true;
 * const no: SegmentsMatch<["invoice", "**"], ["invoice"]> = false;
 * void yes, no;
 * ```
 */
export type SegmentsMatch<P extends readonly string[], T extends readonly string[]> = P extends
  readonly [infer Head extends string, ...infer Rest extends string[]]
  ? Head extends "**" ? Rest extends [] ? (T extends [] ? false : true)
    : SegmentsMatch<Rest, T> extends true ? true
    : T extends readonly [string, ...infer TopicRest extends string[]] ? SegmentsMatch<P, TopicRest>
    : false
  : T extends readonly [infer TopicHead extends string, ...infer TopicRest extends string[]]
    ? Head extends "*" ? SegmentsMatch<Rest, TopicRest>
    : string extends TopicHead ? SegmentsMatch<Rest, TopicRest>
    : [Head] extends [TopicHead] ? SegmentsMatch<Rest, TopicRest>
    : false
  : false
  : T extends readonly [] ? true
  : false;

/**
 * The topics of an event map that a pattern matches.
 *
 * @typeParam E The event map.
 * @typeParam P The pattern.
 *
 * @example
 * ```ts
 * import type { MatchingTopics } from "@x/soiree";
 *
 * type Events = { "user.created": 1; "user.deleted": 2; "invoice.paid": 3 };
 * const topic: MatchingTopics<Events, "user.*"> = "user.deleted";
 * // @ts-expect-error invoice.paid does not match user.*
 * const wrong: MatchingTopics<Events, "user.*"> = "invoice.paid";
 * void topic, wrong;
 * ```
 */
export type MatchingTopics<E, P extends string> = string extends P ? keyof E & string
  : {
    [K in keyof E & string]: SegmentsMatch<SplitTopic<P>, SplitTopic<K>> extends true ? K
      : never;
  }[keyof E & string];

/**
 * The payload a listener of a pattern receives: the union of the payloads of the topics it
 * matches (`unknown` for an untyped emitter).
 *
 * @typeParam E The event map.
 * @typeParam P The pattern.
 *
 * @example
 * ```ts
 * import type { PatternPayload } from "@x/soiree";
 *
 * type Events = { "user.created": { name: string }; "user.deleted": { id: number } };
 * const payload: PatternPayload<Events, "user.*"> = { id: 1 };
 * void payload;
 * ```
 */
export type PatternPayload<E, P extends string> = string extends keyof E ? E[keyof E]
  : E[MatchingTopics<E, P>];

/**
 * The topic type a listener of a pattern sees: the matching topics of a typed map, or
 * `string` for an untyped emitter.
 *
 * @typeParam E The event map.
 * @typeParam P The pattern.
 *
 * @example
 * ```ts
 * import type { PatternTopic } from "@x/soiree";
 *
 * type Events = { "user.created": 1; "user.deleted": 2 };
 * const topic: PatternTopic<Events, "**"> = "user.created";
 * void topic;
 * ```
 */
export type PatternTopic<E, P extends string> = string extends keyof E ? string
  : MatchingTopics<E, P>;
