// What makes a CloudEvents 1.0 document valid in its structured JSON form: the context
// attributes (required and optional), extension names and values, `data` against
// `data_base64`, and which content types carry `data` as JSON. Each error names the bad member
// and what arrived. Owns no state; used by `fromCloudEvent()` and by the envelope of stored
// events.

import { describeValue } from "../_topic.ts";

/** RFC 3339 `date-time`: full date, `T`, full time, optional fraction, `Z` or an offset. */
const RFC_3339 =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
/** Extension attribute names: lower-case ASCII letters and digits (CloudEvents 1.0 §3.1.1). */
const EXTENSION_NAME = /^[a-z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** `application/json` and any `…/…+json` media type, parameters allowed. */
const JSON_TYPE = /^[a-z0-9!#$&^_.-]+\/(?:[a-z0-9!#$&^_.+-]*\+)?json\s*(?:;|$)/i;

const REQUIRED = ["id", "source", "type"] as const;
const OPTIONAL_STRINGS = ["datacontenttype", "dataschema", "subject"] as const;
const KNOWN = new Set([
  "specversion",
  ...REQUIRED,
  "time",
  ...OPTIONAL_STRINGS,
  "data",
  "data_base64",
]);

/** Whether data of this content type is embedded in the document as JSON (absent: JSON). */
export function isJsonContentType(contentType: string | undefined): boolean {
  return contentType === undefined || contentType === "application/json" ||
    JSON_TYPE.test(contentType);
}

/** Whether `value` is an RFC 3339 timestamp of a real date (no February 30). */
export function isTimestamp(value: string): boolean {
  if (!RFC_3339.test(value)) return false;
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const last = new Date(0);
  last.setUTCFullYear(year, month, 0); // day 0 of the next month: the last of this one
  return day <= last.getUTCDate();
}

function fail(action: string, name: string, expected: string, value: unknown): never {
  throw new TypeError(
    `Cannot ${action} as '${name}' must be ${expected}: received ${describeValue(value)}`,
  );
}

/**
 * Checks a parsed CloudEvents JSON document and returns a copy holding its members (attributes
 * that are `null` are left out, as the JSON format treats them as absent; `data: null` stays).
 *
 * @throws {TypeError} Naming the first bad member and what arrived.
 */
export function checkCloudEvent(value: unknown, action: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(action, "event", "a JSON object", value);
  }
  const input = value as Record<string, unknown>;
  if (input.specversion !== "1.0") fail(action, "specversion", '"1.0"', input.specversion);
  for (const name of REQUIRED) {
    const member = input[name];
    if (typeof member !== "string" || member.length === 0) {
      fail(action, name, "a non-empty string", member);
    }
  }
  const time = input.time;
  if (time !== undefined && time !== null && (typeof time !== "string" || !isTimestamp(time))) {
    fail(action, "time", "an RFC 3339 timestamp (2026-12-01T07:30:00Z)", time);
  }
  for (const name of OPTIONAL_STRINGS) {
    const member = input[name];
    if (member !== undefined && member !== null && (typeof member !== "string" || !member)) {
      fail(action, name, "a non-empty string when present", member);
    }
  }
  const data = input.data;
  const base64 = input.data_base64;
  if (base64 !== undefined && base64 !== null) {
    if (data !== undefined && data !== null) {
      fail(action, "data_base64", "absent when 'data' is present (one or the other)", base64);
    }
    if (typeof base64 !== "string" || !BASE64.test(base64)) {
      fail(action, "data_base64", "a base64 string", base64);
    }
  }
  const event: Record<string, unknown> = {};
  for (const name in input) {
    const member = input[name];
    // A null attribute is absent; null data is the JSON value null.
    if (member === undefined || (member === null && name !== "data")) continue;
    if (!KNOWN.has(name)) {
      if (!EXTENSION_NAME.test(name)) {
        throw new TypeError(
          `Cannot ${action} as the extension attribute name ${
            describeValue(name)
          } must be lower-case letters and digits (a-z, 0-9)`,
        );
      }
      if (
        typeof member !== "string" && typeof member !== "boolean" &&
        !(typeof member === "number" && Number.isInteger(member))
      ) {
        fail(action, name, "a string, an integer or a boolean (an extension attribute)", member);
      }
    }
    event[name] = member;
  }
  return event;
}
