// The stored form of a published event (a CloudEvents 1.0 JSON document), and
// toCloudEvent()/fromCloudEvent(): what is written, round trips, and the errors that name the
// bad member.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type CloudEvent,
  type Codec,
  DurableEvent,
  fromCloudEvent,
  memoryTransport,
  Soiree,
  SoireeEvent,
  toCloudEvent,
} from "../mod.ts";
import { rfc3339 } from "../src/durable/_envelope.ts";
import { deferred, recording, within } from "./_util.ts";

const LONG = 30_000;

/** The payload a durable listener of `soiree` gets for one publish, and its event. */
async function deliver(
  soiree: Soiree,
  topic: string,
  payload: unknown,
): Promise<DurableEvent> {
  const got = deferred<DurableEvent>();
  const subscription = soiree.on(topic, (event) => got.resolve(event), { durable: "probe" });
  await soiree.publish(topic, payload);
  const event = await within(got.promise, LONG, "the delivery");
  subscription.off();
  return event;
}

test("publish() stores a CloudEvents 1.0 JSON document: attributes, JSON data, the key extension", async () => {
  const { transport, stored } = recording();
  const soiree = new Soiree({ transport, source: "/shop/orders" });
  const before = Date.now();
  const { id } = await soiree.publish("order.paid", { id: 8812, lines: [1, 2] }, {
    idempotencyKey: "order-8812",
  });
  await soiree.close();
  const document = JSON.parse(stored[0]);
  const time = Date.parse(document.time);
  assert.ok(time >= before && time <= Date.now());
  assert.deepEqual(document, {
    specversion: "1.0",
    id,
    source: "/shop/orders",
    type: "order.paid",
    time: new Date(time).toISOString(),
    datacontenttype: "application/json",
    idempotencykey: "order-8812",
    data: { id: 8812, lines: [1, 2] },
  });
  assert.match(stored[0], /"data":\{"id":8812,"lines":\[1,2\]\}\}$/, "the codec's text as is");
});

test("the default source is 'soiree'; an undefined payload is stored without data and arrives as undefined", async () => {
  const { transport, stored } = recording();
  const soiree = new Soiree({ transport });
  const event = await deliver(soiree, "tick", undefined);
  await soiree.close();
  const document = JSON.parse(stored[0]);
  assert.equal(document.source, "soiree");
  assert.equal("data" in document, false);
  assert.equal(event.payload, undefined);
});

test("a null payload is stored as data null and arrives as null", async () => {
  const { transport, stored } = recording();
  const soiree = new Soiree({ transport });
  const event = await deliver(soiree, "tick", null);
  await soiree.close();
  assert.equal(JSON.parse(stored[0]).data, null);
  assert.equal(event.payload, null);
});

test("a non-JSON codec's text is stored as a JSON string and decoded by the codec", async () => {
  const csv: Codec = {
    contentType: "text/csv",
    encode: (payload) => (payload as string[]).join(","),
    decode: (data) => data.split(","),
  };
  const { transport, stored } = recording();
  const soiree = new Soiree({ transport, codec: csv });
  const event = await deliver(soiree, "rows", ["a", 'b"c']);
  await soiree.close();
  const document = JSON.parse(stored[0]);
  assert.equal(document.datacontenttype, "text/csv");
  assert.equal(document.data, 'a,b"c');
  assert.deepEqual(event.payload, ["a", 'b"c']);
});

test("a custom JSON codec's output goes in as JSON and comes back through the codec", async () => {
  const dates: Codec = {
    contentType: "application/cloudevents-payload+json",
    encode: (payload) => JSON.stringify(payload),
    decode: (data) =>
      JSON.parse(
        data,
        (_key, value) =>
          typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value) ? new Date(value) : value,
      ),
  };
  const { transport, stored } = recording();
  const soiree = new Soiree({ transport, codec: dates });
  const when = new Date(Date.UTC(2026, 11, 1));
  const event = await deliver(soiree, "due", { when });
  await soiree.close();
  assert.deepEqual(JSON.parse(stored[0]).data, { when: when.toISOString() });
  assert.deepEqual(event.payload, { when });
});

test("publish() refuses a payload whose JSON codec returns text that is not JSON, storing nothing", async () => {
  const broken: Codec = {
    contentType: "application/json",
    encode: () => "{oops",
    decode: JSON.parse,
  };
  const { transport, stored } = recording();
  const soiree = new Soiree({ transport, codec: broken });
  assert.throws(
    () => soiree.publish("a", 1),
    (error: Error) =>
      error instanceof TypeError &&
      /Cannot publish "a" as its payload cannot be encoded with application\/json: the codec declares application\/json but returned text that is not JSON/
        .test(error.message),
  );
  await soiree.close();
  assert.deepEqual(stored, []);
});

test("new Soiree() refuses a source that is not a non-empty string, naming the option", () => {
  for (const source of ["", 42, null, {}]) {
    assert.throws(
      () => new Soiree({ source: source as never }),
      (error: Error) =>
        error instanceof TypeError &&
        /Cannot create the emitter as 'source' must be a non-empty string/.test(error.message),
    );
  }
});

test("toCloudEvent() of a durable event is its stored document with the decoded payload", async () => {
  const soiree = new Soiree({ transport: memoryTransport(), source: "/shop" });
  const event = await deliver(soiree, "order.paid", { id: 1 });
  await soiree.close();
  const cloudEvent = toCloudEvent(event);
  assert.deepEqual(cloudEvent, {
    specversion: "1.0",
    id: event.id,
    source: "/shop",
    type: "order.paid",
    time: event.publishedAt.toISOString(),
    datacontenttype: "application/json",
    data: { id: 1 },
  });
  assert.equal(toCloudEvent(event, { source: "/elsewhere" }).source, "/elsewhere");
});

test("toCloudEvent() of a durable event with a non-JSON codec keeps the codec's text as data, as stored", async () => {
  // A codec for what JSON cannot hold: the decoded payload has a BigInt.
  const big: Codec = {
    contentType: "application/x-bigint",
    encode: (payload) => String(payload),
    decode: (data) => BigInt(data),
  };
  const soiree = new Soiree({ transport: memoryTransport(), codec: big, source: "/ledger" });
  const event = await deliver(soiree, "balance", 12345678901234567890n);
  await soiree.close();
  assert.equal(event.payload, 12345678901234567890n);
  const cloudEvent = toCloudEvent(event);
  assert.equal(cloudEvent.datacontenttype, "application/x-bigint");
  assert.equal(cloudEvent.data, "12345678901234567890");
  const back = fromCloudEvent(JSON.stringify(cloudEvent));
  assert.equal(big.decode(back.data as string), event.payload);
});

test("toCloudEvent() of an emitted event has its ID, topic, payload and no time", () => {
  const soiree = new Soiree();
  let cloudEvent: CloudEvent | undefined;
  soiree.on("user.created", (event) => void (cloudEvent = toCloudEvent(event)));
  soiree.emitSync("user.created", { name: "Ada" });
  assert.ok(cloudEvent);
  assert.equal(cloudEvent.specversion, "1.0");
  assert.equal(cloudEvent.source, "soiree");
  assert.equal(cloudEvent.type, "user.created");
  assert.equal(typeof cloudEvent.id, "string");
  assert.equal(cloudEvent.time, undefined);
  assert.deepEqual(cloudEvent.data, { name: "Ada" });
  assert.deepEqual(fromCloudEvent(JSON.stringify(cloudEvent)), cloudEvent);
});

test("toCloudEvent() of a DurableEvent made by hand takes its time from publishedAt", () => {
  const event = new DurableEvent("a.b", 1, {
    id: "01JD0000000000000000000000",
    listener: "l",
    attempt: 1,
    publishedAt: Date.UTC(2026, 11, 1),
  });
  assert.equal(toCloudEvent(event).time, "2026-12-01T00:00:00.000Z");
});

test("toCloudEvent() refuses what is not a Soiree event, and a bad source", () => {
  assert.throws(
    () => toCloudEvent({ topic: "a", payload: 1, id: "x" } as never),
    /Cannot make a CloudEvent as 'event' must be a SoireeEvent or DurableEvent: received/,
  );
  assert.throws(
    () => toCloudEvent(new SoireeEvent("a", 1), { source: "" }),
    /Cannot make a CloudEvent as 'source' must be a non-empty string: received ""/,
  );
});

test("the stored time is toISOString() of the publish time, for every time of years 0 to 9999", () => {
  const ms = fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 });
  fc.assert(
    fc.property(ms, fc.integer({ min: 0, max: 2_000 }), (time, later) => {
      // The second call may reuse the text up to the second of the first.
      for (const at of [time, Math.min(time + later, 253_402_300_799_999)]) {
        assert.equal(rfc3339(at), new Date(at).toISOString());
      }
    }),
    { numRuns: 2_000 },
  );
});

// --- fromCloudEvent(): round trips and bad input ------------------------------------------------

const KNOWN = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "datacontenttype",
  "dataschema",
  "subject",
  "data",
]);
const nonEmpty = fc.string({ minLength: 1, maxLength: 30 });
const extensionArb = fc.dictionary(
  fc.stringMatching(/^[a-z][a-z0-9]{0,19}$/).filter((name) => !KNOWN.has(name)),
  fc.oneof(fc.string(), fc.integer(), fc.boolean()),
  { maxKeys: 4 },
);
const cloudEventArb = fc.record({
  specversion: fc.constant("1.0" as const),
  id: nonEmpty,
  source: nonEmpty,
  type: nonEmpty,
  time: fc.date({
    min: new Date(Date.UTC(1970, 0, 1)),
    max: new Date(Date.UTC(9999, 11, 31)),
    noInvalidDate: true,
  }).map((date) => date.toISOString()),
  datacontenttype: fc.constantFrom("application/json", "application/vnd.shop+json"),
  subject: nonEmpty,
  data: fc.jsonValue(),
}, { requiredKeys: ["specversion", "id", "source", "type"] }).chain((event) =>
  extensionArb.map((extensions) => ({ ...extensions, ...event }))
);

test("fromCloudEvent(JSON.stringify(event)) gives back every valid event", () => {
  fc.assert(
    fc.property(cloudEventArb, (event) => {
      const normalized = JSON.parse(JSON.stringify(event));
      assert.deepEqual(fromCloudEvent(JSON.stringify(event)), normalized);
      assert.deepEqual(fromCloudEvent(normalized), normalized);
    }),
    { numRuns: 500 },
  );
});

test("publish() → toCloudEvent() → JSON → fromCloudEvent() keeps id, source, type, time and data", async () => {
  const soiree = new Soiree({ transport: memoryTransport(), source: "urn:shop" });
  await fc.assert(
    fc.asyncProperty(fc.jsonValue(), async (payload) => {
      const event = await deliver(soiree, "round.trip", payload);
      const back = fromCloudEvent(JSON.stringify(toCloudEvent(event)));
      assert.equal(back.id, event.id);
      assert.equal(back.source, "urn:shop");
      assert.equal(back.type, "round.trip");
      assert.equal(back.time, event.publishedAt.toISOString());
      assert.deepEqual(back.data, JSON.parse(JSON.stringify(payload)));
    }),
    { numRuns: 50 },
  );
  await soiree.close();
});

const VALID = { specversion: "1.0", id: "A-1", source: "/billing", type: "invoice.paid" };

const BAD: [string, unknown, RegExp][] = [
  ["text that is not JSON", "{nope", /as it is not JSON \(.*\): received "\{nope"/],
  ["an array", [], /'event' must be a JSON object: received/],
  ["null", null, /'event' must be a JSON object: received null/],
  [
    "no specversion",
    { ...VALID, specversion: undefined },
    /'specversion' must be "1.0": received undefined/,
  ],
  [
    "specversion 0.3",
    { ...VALID, specversion: "0.3" },
    /'specversion' must be "1.0": received "0.3"/,
  ],
  ["no id", { ...VALID, id: undefined }, /'id' must be a non-empty string: received undefined/],
  ["an empty id", { ...VALID, id: "" }, /'id' must be a non-empty string: received ""/],
  ["a numeric id", { ...VALID, id: 7 }, /'id' must be a non-empty string: received 7 \(number\)/],
  [
    "no source",
    { ...VALID, source: undefined },
    /'source' must be a non-empty string: received undefined/,
  ],
  ["no type", { ...VALID, type: null }, /'type' must be a non-empty string: received null/],
  [
    "a time that is not RFC 3339",
    { ...VALID, time: "yesterday" },
    /'time' must be an RFC 3339 timestamp .*: received "yesterday"/,
  ],
  [
    "month 13",
    { ...VALID, time: "2026-13-01T00:00:00Z" },
    /'time' must be an RFC 3339 timestamp .*: received "2026-13-01T00:00:00Z"/,
  ],
  ["a time without zone", { ...VALID, time: "2026-12-01T07:30:00" }, /'time' must be an RFC 3339/],
  ["February 30", { ...VALID, time: "2026-02-30T00:00:00Z" }, /'time' must be an RFC 3339/],
  [
    "a numeric time",
    { ...VALID, time: 1 },
    /'time' must be an RFC 3339 timestamp .*: received 1 \(number\)/,
  ],
  [
    "an empty datacontenttype",
    { ...VALID, datacontenttype: "" },
    /'datacontenttype' must be a non-empty string when present: received ""/,
  ],
  [
    "a numeric subject",
    { ...VALID, subject: 5 },
    /'subject' must be a non-empty string when present: received 5 \(number\)/,
  ],
  [
    "an upper-case extension name",
    { ...VALID, TraceParent: "x" },
    /the extension attribute name "TraceParent" must be lower-case letters and digits/,
  ],
  [
    "an extension name with _",
    { ...VALID, trace_id: "x" },
    /the extension attribute name "trace_id" must be lower-case/,
  ],
  [
    "an object extension",
    { ...VALID, region: { eu: 1 } },
    /'region' must be a string, an integer or a boolean .*: received/,
  ],
  [
    "a fractional extension",
    { ...VALID, weight: 1.5 },
    /'weight' must be a string, an integer or a boolean .*: received 1.5 \(number\)/,
  ],
  [
    "data and data_base64",
    { ...VALID, data: 1, data_base64: "AQ==" },
    /'data_base64' must be absent when 'data' is present/,
  ],
  [
    "data_base64 that is not base64",
    { ...VALID, data_base64: "***" },
    /'data_base64' must be a base64 string: received "\*\*\*"/,
  ],
];

for (const [what, input, message] of BAD) {
  test(`fromCloudEvent() refuses ${what}, naming the member and what arrived`, () => {
    const json = typeof input === "string" ? input : JSON.stringify(input);
    assert.throws(
      () => fromCloudEvent(json),
      (error: Error) =>
        error instanceof TypeError && error.message.startsWith("Cannot read the CloudEvent") &&
        message.test(error.message),
    );
  });
}

test("fromCloudEvent() treats null attributes as absent and keeps data_base64", () => {
  assert.deepEqual(
    fromCloudEvent({ ...VALID, subject: null, time: null, data_base64: "AQI=" }),
    { ...VALID, data_base64: "AQI=" },
  );
});
