/**
 * Compile-time types for typed emitters: an event map from topic to payload, the event a
 * pattern's listener sees (one event type per topic the pattern matches, so checking
 * `event.topic` narrows `event.payload`), and the check that rejects a pattern no topic of the
 * map matches.
 *
 * @module
 */

import type { SoireeEvent } from "./event.ts";
import type { DurableEvent } from "./durable/durable_event.ts";

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
 * A segment that is not one literal (a `string` in a topic of the map, or a pattern built from
 * a `string` such as `` `user.${string}` ``) is read as whatever it may be at run time, so the
 * answer never says "no" where a run-time match is possible: a pattern segment that may be
 * `**` (plain `string`) counts as `**`, one that may be `*` as `*`, and other segments match
 * when every value of one is a value of the other (`"created"` and `` `${string}ed` ``).
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
 * const unknownSegment: SegmentsMatch<["user", string], ["user", "created", "late"]> = true;
 * void yes, no, unknownSegment;
 * ```
 */
export type SegmentsMatch<P extends readonly string[], T extends readonly string[]> = P extends
  readonly [infer Head extends string, ...infer Rest extends string[]]
  ? "**" extends Head ? Rest extends [] ? (T extends [] ? false : true)
    : SegmentsMatch<Rest, T> extends true ? true
    : T extends readonly [string, ...infer TopicRest extends string[]] ? SegmentsMatch<P, TopicRest>
    : false
  : T extends readonly [infer TopicHead extends string, ...infer TopicRest extends string[]]
    ? "*" extends Head ? SegmentsMatch<Rest, TopicRest>
    : string extends TopicHead ? SegmentsMatch<Rest, TopicRest>
    : [Head] extends [TopicHead] ? SegmentsMatch<Rest, TopicRest>
    : [TopicHead] extends [Head] ? SegmentsMatch<Rest, TopicRest>
    : false
  : false
  : T extends readonly [] ? true
  : false;

/**
 * The topics of an event map that a pattern matches. A union of patterns matches the topics
 * any of them matches; a plain `string` (a pattern not known at compile time) every topic.
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
 * const either: MatchingTopics<Events, "user.created" | "invoice.*"> = "invoice.paid";
 * void topic, wrong, either;
 * ```
 */
export type MatchingTopics<E, P extends string> = string extends P ? keyof E & string
  : P extends string ? {
      [K in keyof E & string]: SegmentsMatch<SplitTopic<P>, SplitTopic<K>> extends true ? K
        : never;
    }[keyof E & string]
  : never;

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

/**
 * The event a listener of a pattern receives: a union with one `SoireeEvent` per topic the
 * pattern matches, each with that topic's payload, so checking `event.topic` narrows
 * `event.payload`. For an untyped emitter (a map with a string index signature, such as the
 * default {@linkcode EventMap}) it is `SoireeEvent<unknown, string>`.
 *
 * `SoireeEvent<PatternPayload<E, P>, PatternTopic<E, P>>` is the same events as one type, with
 * the pairing of topic and payload lost; a listener typed that way is still accepted.
 *
 * @typeParam E The event map.
 * @typeParam P The pattern.
 *
 * @example Narrow the payload by the topic
 * ```ts
 * import { type PatternEvent, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * type Events = { "user.created": { name: string }; "user.deleted": { id: number } };
 * function describe(event: PatternEvent<Events, "user.*">): string {
 *   if (event.topic === "user.created") return `created ${event.payload.name}`;
 *   return `deleted ${event.payload.id}`;
 * }
 *
 * const soiree = new Soiree<Events>();
 * const log: string[] = [];
 * soiree.on("user.*", (event) => void log.push(describe(event)));
 * soiree.emitSync("user.created", { name: "Ada" });
 * soiree.emitSync("user.deleted", { id: 7 });
 * assert.deepEqual(log, ["created Ada", "deleted 7"]);
 * ```
 */
export type PatternEvent<E, P extends string> = string extends keyof E
  ? SoireeEvent<E[keyof E], string>
  : { [K in MatchingTopics<E, P>]: SoireeEvent<E[K], K> }[MatchingTopics<E, P>];

/**
 * The event a durable listener of pattern `P` sees on an emitter typed with event map `E`:
 * as {@linkcode PatternEvent}, with a {@linkcode DurableEvent} per matched topic.
 *
 * @typeParam E The event map.
 * @typeParam P The pattern.
 *
 * @example
 * ```ts
 * import { type DurablePatternEvent, memoryTransport, Soiree } from "@x/soiree";
 *
 * type Events = { "user.created": { email: string }; "user.deleted": { id: number } };
 * function keyOf(event: DurablePatternEvent<Events, "user.*">): string {
 *   return event.topic === "user.created" ? event.payload.email : `${event.payload.id}`;
 * }
 * const soiree = new Soiree<Events>({ transport: memoryTransport() });
 * soiree.on("user.*", (event) => void keyOf(event), { durable: "audit" });
 * await soiree.close();
 * ```
 */
export type DurablePatternEvent<E, P extends string> = string extends keyof E
  ? DurableEvent<E[keyof E], string>
  : { [K in MatchingTopics<E, P>]: DurableEvent<E[K], K> }[MatchingTopics<E, P>];

/**
 * The pattern argument a typed emitter accepts: `P` itself when some topic of the map matches
 * it, else the message `No topic of the event map matches the pattern "…"`, which the compiler
 * shows as the type the argument fails to match, so a typo (`on("usr.*")`) does not compile.
 * `on()`, `off()`, `waitFor()`, `events()` and `listenerCount()` take it; a union of
 * patterns passes when each of them does.
 *
 * What is not checked: an untyped emitter (any string is a topic; invalid patterns such as
 * `"a..b"` still throw a `TypeError` at run time), and a plain `string` pattern, whose value is
 * not known at compile time (its listener sees the events of every topic). A pattern built
 * from a `string` (`` `user.${string}` ``) is accepted when some topic may match it. In code
 * generic over the map, where the matching topics are not known yet, pass the pattern as a
 * `string`: `soiree.on<string>("user.*", listener)`.
 *
 * @typeParam E The event map.
 * @typeParam P The pattern.
 *
 * @example A typo in a pattern is a compile error
 * ```ts
 * import type { CheckedPattern } from "@x/soiree";
 *
 * type Events = { "user.created": { name: string }; "user.deleted": { id: number } };
 * const ok: CheckedPattern<Events, "user.*"> = "user.*";
 * // @ts-expect-error no topic of Events matches usr.*
 * const typo: CheckedPattern<Events, "usr.*"> = "usr.*";
 * const unchecked: CheckedPattern<Events, string> = "anything";
 * void ok, typo, unchecked;
 * ```
 */
export type CheckedPattern<E, P extends string> = string extends P ? P
  : string extends keyof E ? P
  : P extends string
    ? [MatchingTopics<E, P>] extends [never]
      ? `No topic of the event map matches the pattern "${P}"`
    : P
  : never;
