/**
 * CloudEvents 1.0 in its structured JSON form: the shape of an event as Soiree stores it, and
 * the conversions to hand an event to another system (a broker, a webhook) and to take one in.
 *
 * @module
 */

import { SoireeEvent } from "../event.ts";
import { DurableEvent } from "./durable_event.ts";
import { checkCloudEvent } from "./_cloud_event_checks.ts";
import { DEFAULT_SOURCE, deliveredFrom } from "./_envelope.ts";
import { describeValue } from "../_topic.ts";

/**
 * A CloudEvents 1.0 event as a JSON object (structured content mode): what `publish()`
 * stores, one document per event, and what `JSON.stringify()` of it sends to another system.
 *
 * Soiree writes `specversion` `"1.0"`, `id` (the event ID), `source` (the emitter's `source`
 * option, `"soiree"` by default), `type` (the topic), `time` (when `publish()` was called, RFC
 * 3339 in UTC), `datacontenttype` (the codec's `contentType`) and `data` (a JSON codec's output
 * as JSON; another codec's text as a JSON string; absent for an `undefined` payload), plus the
 * extensions it has: `traceparent` and `tracestate` (W3C Trace Context, from the CloudEvents
 * distributed tracing extension) when a tracer is set, and `idempotencykey` when `publish()`
 * was given one.
 *
 * @example
 * ```ts
 * import type { CloudEvent } from "@x/soiree";
 *
 * const event: CloudEvent = {
 *   specversion: "1.0",
 *   id: "01JD0000000000000000000000",
 *   source: "/shop",
 *   type: "order.paid",
 *   time: "2026-12-01T07:30:00.000Z",
 *   datacontenttype: "application/json",
 *   data: { id: 8812 },
 * };
 * void event;
 * ```
 */
export interface CloudEvent {
  /** Always `"1.0"`. */
  readonly specversion: "1.0";
  /** Unique for its `source`: a repeated `source` + `id` is the same event sent again. */
  readonly id: string;
  /** Where it happened: a URI-reference. */
  readonly source: string;
  /** What happened: for Soiree, the topic. */
  readonly type: string;
  /** When it happened: an RFC 3339 timestamp. */
  readonly time?: string;
  /** The media type of `data` (`application/json` when absent). */
  readonly datacontenttype?: string;
  /** A URI of the schema `data` follows. */
  readonly dataschema?: string;
  /** What within `source` the event is about. */
  readonly subject?: string;
  /** The payload: any JSON value for a JSON content type, else a string. */
  readonly data?: unknown;
  /** The payload as base64, for binary data (never with `data`). */
  readonly data_base64?: string;
  /**
   * Extension attributes: names of lower-case letters and digits, values strings, integers or
   * booleans (`traceparent`, `tracestate`, `idempotencykey`, …).
   */
  readonly [extension: string]: unknown;
}

/**
 * Options of {@linkcode toCloudEvent}.
 *
 * @example
 * ```ts
 * import type { ToCloudEventOptions } from "@x/soiree";
 *
 * const options: ToCloudEventOptions = { source: "/shop/orders" };
 * void options;
 * ```
 */
export interface ToCloudEventOptions {
  /**
   * The `source` attribute.
   *
   * @default {the stored event's source for a durable event; otherwise `"soiree"`}
   */
  source?: string;
}

/**
 * The CloudEvent of an event, to send it on: `JSON.stringify()` the result for the structured
 * JSON form. For the event of a durable listener, it is the stored document (same `id`,
 * `source`, `time`, `datacontenttype` and extensions such as `traceparent`) with `data` the
 * decoded payload. For an emitted event, it has `id`, `type` (the topic), `source` (`"soiree"`
 * unless given) and `data`, with `datacontenttype` `application/json`; no `time`, as an
 * in-process event has none. An `undefined` payload gives no `data`.
 *
 * @param event A `SoireeEvent` or `DurableEvent` a listener received.
 * @param options `source`.
 * @returns A new plain object; the payload is not copied.
 * @throws {TypeError} When `event` is not a Soiree event or `source` is not a non-empty string.
 *
 * @example Forward a durable event to another broker
 * ```ts
 * import { memoryTransport, Soiree, toCloudEvent } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree({ transport: memoryTransport(), source: "/shop" });
 * const sent = Promise.withResolvers<string>();
 * soiree.on("order.paid", (event) => sent.resolve(JSON.stringify(toCloudEvent(event))), {
 *   durable: "forwarder",
 * });
 * const { id } = await soiree.publish("order.paid", { id: 8812 });
 * const body = JSON.parse(await sent.promise);
 * assert.equal(body.id, id);
 * assert.equal(body.source, "/shop");
 * assert.equal(body.type, "order.paid");
 * assert.deepEqual(body.data, { id: 8812 });
 * await soiree.close();
 * ```
 */
export function toCloudEvent(event: SoireeEvent, options?: ToCloudEventOptions): CloudEvent {
  const action = "make a CloudEvent";
  if (!(event instanceof SoireeEvent)) {
    throw new TypeError(
      `Cannot ${action} as 'event' must be a SoireeEvent or DurableEvent: received ${
        describeValue(event)
      }`,
    );
  }
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: received ${describeValue(options)}`,
    );
  }
  const source = options?.source;
  if (source !== undefined && (typeof source !== "string" || source.length === 0)) {
    throw new TypeError(
      `Cannot ${action} as 'source' must be a non-empty string: received ${describeValue(source)}`,
    );
  }
  const stored = deliveredFrom.get(event);
  const result: Record<string, unknown> = stored === undefined
    ? { specversion: "1.0", id: event.id, source: DEFAULT_SOURCE, type: event.topic }
    : { ...stored, id: event.id, type: event.topic };
  delete result.data;
  delete result.data_base64;
  if (source !== undefined) result.source = source;
  if (stored === undefined && event instanceof DurableEvent) {
    result.time = event.publishedAt.toISOString();
  }
  if (event.payload !== undefined) {
    if (stored === undefined || stored.datacontenttype === undefined) {
      result.datacontenttype = "application/json";
    }
    result.data = event.payload;
  }
  return result as unknown as CloudEvent;
}

/**
 * Reads and checks a CloudEvent in the structured JSON form, to take in an event from another
 * system (a webhook's body, another broker's message) and, say, `publish()` it.
 *
 * Checks: `specversion` is `"1.0"`; `id`, `source` and `type` are non-empty strings; `time`,
 * when present, is an RFC 3339 timestamp; `datacontenttype`, `dataschema` and `subject`, when
 * present, are non-empty strings; at most one of `data` and `data_base64`, the latter base64;
 * every other member is an extension whose name is lower-case letters and digits and whose
 * value is a string, an integer or a boolean. Attributes that are `null` are treated as
 * absent, as the JSON format says.
 *
 * @param json The document: its JSON text, or the parsed object.
 * @returns A new object with the document's members (`data` as parsed, not copied).
 * @throws {TypeError} When the text is not JSON or a member is invalid: the message names the
 * member, what was expected and what arrived.
 *
 * @example A webhook in, published
 * ```ts
 * import { fromCloudEvent, memoryTransport, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const body =
 *   '{"specversion":"1.0","id":"A-1","source":"/billing","type":"invoice.paid","data":{"total":42}}';
 * const event = fromCloudEvent(body);
 * const soiree = new Soiree({ transport: memoryTransport() });
 * // The same source + id is the same event: let a redelivered webhook store nothing new.
 * const options = { idempotencyKey: `${event.source}/${event.id}` };
 * await soiree.publish(event.type, event.data, options);
 * assert.equal((await soiree.publish(event.type, event.data, options)).duplicate, true);
 * assert.throws(() => fromCloudEvent('{"specversion":"0.3"}'), /'specversion' must be "1.0"/);
 * await soiree.close();
 * ```
 */
export function fromCloudEvent(json: string | object): CloudEvent {
  const action = "read the CloudEvent";
  let value: unknown = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new TypeError(
        `Cannot ${action} as it is not JSON (${(error as Error).message}): received ${
          describeValue(json.length > 80 ? `${json.slice(0, 80)}…` : json)
        }`,
        { cause: error },
      );
    }
  }
  return checkCloudEvent(value, action) as unknown as CloudEvent;
}
