// Topic and pattern validation, and splitting them into segments. Rules are in the README,
// "Topics and patterns".

import { describeObject, quote } from "./_describe.ts";

const DOT = 46; // "."
const STAR = 42; // "*"

/** How a string was classified by {@linkcode checkPattern}. */
export const EXACT = 0;
/** The pattern has at least one `*` or `**` segment. */
export const WILDCARD = 1;

/** Describes a value for an error message, std style: strings quoted and cut short. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return quote(value);
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return `${String(value)} (symbol)`;
  if (typeof value === "object") return describeObject(value);
  return `${String(value)} (${typeof value})`;
}

/**
 * Checks an emitted topic: a non-empty string of non-empty dot-separated segments without
 * wildcards. One pass over the characters, no allocation when valid.
 *
 * @throws {TypeError} naming the topic and what is wrong with it.
 */
export function assertTopic(topic: unknown, action: string): asserts topic is string {
  if (typeof topic !== "string") {
    throw new TypeError(
      `Cannot ${action} as 'topic' must be a string: received ${describeValue(topic)}`,
    );
  }
  const length = topic.length;
  if (length === 0) {
    throw new TypeError(`Cannot ${action} as 'topic' is empty: received ""`);
  }
  let segmentStart = 0;
  for (let i = 0; i < length; i++) {
    const code = topic.charCodeAt(i);
    if (code === DOT) {
      if (i === segmentStart) {
        throw new TypeError(
          `Cannot ${action} as 'topic' has an empty segment: received ${quote(topic)}`,
        );
      }
      segmentStart = i + 1;
    } else if (code === STAR) {
      throw new TypeError(
        `Cannot ${action} as 'topic' contains a wildcard, which only patterns may: received ${
          quote(topic)
        }`,
      );
    }
  }
  if (segmentStart === length) {
    throw new TypeError(
      `Cannot ${action} as 'topic' has an empty segment: received ${quote(topic)}`,
    );
  }
}

/**
 * Checks a subscription pattern: like a topic, but a segment may be `*` (exactly one
 * segment) or `**` (any number); a segment may not mix `*` with other characters.
 *
 * @returns {@linkcode EXACT} or {@linkcode WILDCARD}.
 * @throws {TypeError} naming the pattern and what is wrong with it.
 */
export function checkPattern(pattern: unknown, action: string): typeof EXACT | typeof WILDCARD {
  if (typeof pattern !== "string") {
    throw new TypeError(
      `Cannot ${action} as 'pattern' must be a string: received ${describeValue(pattern)}`,
    );
  }
  // A pattern subscribed again and again (a `waitFor()` per request) is checked once.
  if (pattern === lastPattern) return lastKind;
  const length = pattern.length;
  if (length === 0) {
    throw new TypeError(`Cannot ${action} as 'pattern' is empty: received ""`);
  }
  let kind: typeof EXACT | typeof WILDCARD = EXACT;
  let segmentStart = 0;
  let stars = 0;
  for (let i = 0; i <= length; i++) {
    const code = i === length ? DOT : pattern.charCodeAt(i);
    if (code === DOT) {
      const size = i - segmentStart;
      if (size === 0) {
        throw new TypeError(
          `Cannot ${action} as 'pattern' has an empty segment: received ${quote(pattern)}`,
        );
      }
      if (stars > 0) {
        if (stars !== size || size > 2) {
          throw new TypeError(
            `Cannot ${action} as 'pattern' has a segment that mixes '*' with other characters (a wildcard segment is exactly '*' or '**'): received ${
              quote(pattern)
            }`,
          );
        }
        kind = WILDCARD;
      }
      segmentStart = i + 1;
      stars = 0;
    } else if (code === STAR) {
      stars++;
    }
  }
  lastPattern = pattern;
  lastKind = kind;
  return kind;
}

/** The last pattern {@linkcode checkPattern} accepted, and its kind. */
let lastPattern = "";
let lastKind: typeof EXACT | typeof WILDCARD = EXACT;

/**
 * Splits a checked topic or pattern on ".". `String.prototype.split()` is fast only for
 * strings V8 has interned (literals): on a topic built at run time (`order.${id}.paid`) it
 * costs over a microsecond, ten times this loop.
 */
export function splitTopic(topic: string): string[] {
  const segments: string[] = [];
  let start = 0;
  for (let dot = topic.indexOf("."); dot !== -1; dot = topic.indexOf(".", start)) {
    segments.push(topic.slice(start, dot));
    start = dot + 1;
  }
  segments.push(topic.slice(start));
  return segments;
}
