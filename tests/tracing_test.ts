// Tracing with the real OpenTelemetry API and SDK (dev-only): the spans of publish() and of
// each delivery, their attributes and outcomes, and the trace context that travels in the
// stored event, within one process and across two (tests/_trace_consumer.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  context,
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { memoryTransport, Soiree, type Transport } from "../mod.ts";
import { sqliteTransport } from "../src/sqlite/mod.ts";
import { memoryTracer, type SpanRecord } from "./_otel.ts";
import { driver, opensPaths } from "./_sqlite.ts";
import { deferred, recording, within } from "./_util.ts";
import { runtimeCommand } from "./_consumer_process.ts";

const LONG = 30_000;
const PARENT = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: 1,
  isRemote: true,
};

/** Runs `fn` with an AsyncLocalStorage context manager, so that spans have an active parent. */
async function withContextManager<T>(fn: () => Promise<T>): Promise<T> {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  try {
    return await fn();
  } finally {
    context.disable();
  }
}

function only(spans: SpanRecord[], name: string): SpanRecord {
  const found = spans.filter((span) => span.name === name);
  assert.equal(found.length, 1, `one span named ${name} in ${JSON.stringify(spans)}`);
  return found[0];
}

test("publish() runs in a PRODUCER span 'publish <topic>' under the caller's active span, with the messaging attributes", async () => {
  const { tracer, spans } = memoryTracer();
  const soiree = new Soiree({ transport: memoryTransport(), tracer });
  const parent = trace.setSpanContext(ROOT_CONTEXT, PARENT);
  const { id } = await withContextManager(() =>
    context.with(parent, () => soiree.publish("order.paid", { id: 8812 }))
  );
  await soiree.close();
  const span = only(spans(), "publish order.paid");
  assert.equal(span.kind, SpanKind.PRODUCER);
  assert.equal(span.traceId, PARENT.traceId);
  assert.equal(span.parentSpanId, PARENT.spanId);
  assert.deepEqual(span.attributes, {
    "messaging.system": "soiree",
    "messaging.operation.name": "publish",
    "messaging.operation.type": "send",
    "messaging.destination.name": "order.paid",
    "messaging.message.id": id,
    "messaging.soiree.transport": "memory",
  });
  assert.equal(span.status.code, SpanStatusCode.UNSET);
});

test("a delivery runs in a CONSUMER span 'process <durable name>' whose parent is the publish span", async () => {
  const { tracer, spans } = memoryTracer();
  const soiree = new Soiree({ transport: memoryTransport(), tracer });
  const done = deferred<void>();
  soiree.on("order.*", () => done.resolve(), { durable: "invoice" });
  const { id } = await soiree.publish("order.paid", { id: 8812 });
  await within(done.promise, LONG, "the delivery");
  await soiree.close();
  const publish = only(spans(), "publish order.paid");
  const process = only(spans(), "process invoice");
  assert.equal(process.kind, SpanKind.CONSUMER);
  assert.equal(process.traceId, publish.traceId);
  assert.equal(process.parentSpanId, publish.spanId);
  assert.deepEqual(process.attributes, {
    "messaging.system": "soiree",
    "messaging.operation.name": "process",
    "messaging.operation.type": "process",
    "messaging.destination.name": "order.paid",
    "messaging.destination.subscription.name": "invoice",
    "messaging.consumer.group.name": "invoice",
    "messaging.message.id": id,
    "messaging.soiree.message.delivery_attempt": 1,
    "messaging.soiree.transport": "memory",
  });
  assert.equal(process.status.code, SpanStatusCode.UNSET);
});

test("each failed attempt ends its span with status ERROR and the exception recorded", async () => {
  const { tracer, spans } = memoryTracer();
  const soiree = new Soiree({ transport: memoryTransport(), tracer, errorHandler: () => {} });
  const done = deferred<void>();
  let calls = 0;
  soiree.on("order.paid", () => {
    if (++calls === 2) done.resolve();
    throw new RangeError(`attempt ${calls} refused`);
  }, { durable: "invoice", retry: { attempts: 2, base: 1, cap: 1 } });
  await soiree.publish("order.paid", 1);
  await within(done.promise, LONG, "two attempts");
  await soiree.close();
  const publish = only(spans(), "publish order.paid");
  const attempts = spans().filter((span) => span.name === "process invoice");
  assert.deepEqual(
    attempts.map((span) => [
      span.attributes["messaging.soiree.message.delivery_attempt"],
      span.parentSpanId,
      span.status,
      span.attributes["error.type"],
      span.events,
    ]),
    [1, 2].map((attempt) => [
      attempt,
      publish.spanId,
      { code: SpanStatusCode.ERROR, message: `attempt ${attempt} refused` },
      "RangeError",
      ["exception"],
    ]),
  );
});

test("a delivery whose data does not decode ends its span, under the publish span, with status ERROR", async () => {
  const { tracer, spans } = memoryTracer();
  const panicked = deferred<void>();
  const soiree = new Soiree({
    transport: memoryTransport(),
    tracer,
    panicHandler: () => panicked.resolve(),
    codec: {
      contentType: "application/json",
      encode: JSON.stringify,
      decode: () => {
        throw new SyntaxError("schema 3 payloads are not read here");
      },
    },
  });
  soiree.on("order.paid", () => {}, { durable: "invoice" });
  await soiree.publish("order.paid", 1);
  await within(panicked.promise, LONG, "the dead letter");
  await soiree.close();
  const publish = only(spans(), "publish order.paid");
  const process = only(spans(), "process invoice");
  assert.equal(process.parentSpanId, publish.spanId);
  assert.equal(process.status.code, SpanStatusCode.ERROR);
  assert.match(process.status.message!, /Cannot decode the stored data: schema 3 payloads/);
});

test("a publish the transport refuses ends its span with status ERROR", async () => {
  const { tracer, spans } = memoryTracer();
  const inner = memoryTransport();
  const failing: Transport = new Proxy(inner, {
    get(target, key) {
      if (key === "publish") return () => Promise.reject(new Error("disk full"));
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const soiree = new Soiree({ transport: failing, tracer });
  await assert.rejects(soiree.publish("order.paid", 1), { name: "PublishError" });
  await soiree.close();
  const span = only(spans(), "publish order.paid");
  assert.equal(span.status.code, SpanStatusCode.ERROR);
  assert.equal(span.attributes["error.type"], "PublishError");
  assert.deepEqual(span.events, ["exception"]);
});

test("the stored event carries traceparent and tracestate; the consumer span continues the trace state", async () => {
  const { tracer, spans } = memoryTracer();
  const { transport, stored } = recording();
  const soiree = new Soiree({ transport, tracer });
  const done = deferred<void>();
  soiree.on("order.paid", () => done.resolve(), { durable: "invoice" });
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    ...PARENT,
    traceState: createTraceState("vendor=a1,other=b2"),
  });
  await withContextManager(() => context.with(parent, () => soiree.publish("order.paid", 1)));
  await within(done.promise, LONG, "the delivery");
  await soiree.close();
  const publish = only(spans(), "publish order.paid");
  const document = JSON.parse(stored[0]);
  assert.equal(document.traceparent, `00-${PARENT.traceId}-${publish.spanId}-01`);
  assert.equal(document.tracestate, "vendor=a1,other=b2");
  const process = only(spans(), "process invoice");
  assert.equal(process.traceState, "vendor=a1,other=b2");
  assert.equal(process.parentSpanId, publish.spanId);
});

test("without a tracer the stored event has no trace context, and a delivery of an event without one starts a root span", async () => {
  const { transport, stored } = recording();
  const plain = new Soiree({ transport });
  await plain.publish("order.paid", 1);
  await plain.close();
  const document = JSON.parse(stored[0]);
  assert.equal("traceparent" in document, false);
  assert.equal("tracestate" in document, false);

  const { tracer, spans } = memoryTracer();
  const inner = memoryTransport();
  const traced = new Soiree({ transport: inner, tracer });
  const done = deferred<void>();
  traced.on("order.paid", () => done.resolve(), { durable: "invoice" });
  await withContextManager(() =>
    context.with(trace.setSpanContext(ROOT_CONTEXT, PARENT), async () => {
      await inner.publish({
        id: "01JD0000000000000000000001",
        topic: "order.paid",
        data: stored[0],
        publishedAt: Date.now(),
        idempotencyKey: undefined,
        dedupeWindow: 1,
      });
      await within(done.promise, LONG, "the delivery");
    })
  );
  await traced.close();
  const process = only(spans(), "process invoice");
  assert.equal(process.parentSpanId, undefined, "not a child of the loop's ambient context");
  assert.notEqual(process.traceId, PARENT.traceId);
});

test("a tracer whose span.end() throws (a failing span processor) settles the publish and the delivery, and goes to the panic handler", async () => {
  const broken = new BasicTracerProvider({
    spanProcessors: [{
      onStart: () => {},
      onEnd: () => {
        throw new Error("the export queue is full");
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    }],
  });
  const panics: unknown[] = [];
  const soiree = new Soiree({
    transport: memoryTransport(),
    tracer: broken.getTracer("broken"),
    panicHandler: (value) => void panics.push(value),
  });
  const done = deferred<void>();
  soiree.on("order.paid", () => done.resolve(), { durable: "invoice" });
  const receipt = await soiree.publish("order.paid", 1); // stored: it must not reject
  assert.equal(receipt.duplicate, false);
  await within(done.promise, LONG, "the delivery");
  await within(soiree.close(), LONG, "close()");
  assert.equal(soiree.stats().durable.acked, 1);
  assert.equal(panics.length, 2);
  for (const panic of panics) {
    assert.match(String((panic as Error).message), /tracer failed to end the span/);
    assert.equal(((panic as Error).cause as Error).message, "the export queue is full");
  }
});

test("new Soiree() refuses a tracer without startSpan(), naming the option", () => {
  for (const tracer of [{}, "tracer", { startSpan: "no" }, null]) {
    assert.throws(
      () => new Soiree({ tracer: tracer as never }),
      (error: Error) =>
        error instanceof TypeError &&
        /Cannot create the emitter as 'tracer' must be an OpenTelemetry Tracer \(an object with startSpan\(\)/
          .test(error.message),
    );
  }
});

test("with traceEmit, emit() and emitSync() run in INTERNAL spans 'emit <topic>', ERROR when they report errors", async () => {
  const { tracer, spans } = memoryTracer();
  const soiree = new Soiree({
    tracer,
    traceEmit: true,
    errorHandler: (_event, error) => error as Error,
  });
  soiree.on("user.created", () => {});
  soiree.on("user.deleted", () => new TypeError("audit log offline"));
  assert.deepEqual(await soiree.emit("user.created", 1), []);
  assert.equal(soiree.emitSync("user.deleted", 2).length, 1);
  assert.equal(soiree.emitSync("nobody.listens", 3).length, 0);
  await soiree.close();
  const created = only(spans(), "emit user.created");
  assert.equal(created.kind, SpanKind.INTERNAL);
  assert.deepEqual(created.attributes, {
    "messaging.system": "soiree",
    "messaging.operation.name": "emit",
    "messaging.destination.name": "user.created",
  });
  assert.equal(created.status.code, SpanStatusCode.UNSET);
  const deleted = only(spans(), "emit user.deleted");
  assert.deepEqual(deleted.status, { code: SpanStatusCode.ERROR, message: "audit log offline" });
  assert.equal(deleted.attributes["messaging.soiree.errors"], 1);
  assert.equal(deleted.attributes["error.type"], "TypeError");
  assert.deepEqual(deleted.events, ["exception"]);
  assert.equal(spans().length, 2, "an emission without listeners has no span");
});

test("with traceEmit, a span.end() that throws reaches the panic handler: emit() still resolves, emitSync() returns, a received broadcast runs", async () => {
  const broken = new BasicTracerProvider({
    spanProcessors: [{
      onStart: () => {},
      onEnd: () => {
        throw new Error("the export queue is full");
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    }],
  });
  const panics: unknown[] = [];
  const soiree = new Soiree({
    transport: memoryTransport(),
    tracer: broken.getTracer("broken"),
    traceEmit: true,
    panicHandler: (value) => void panics.push(value),
  });
  let runs = 0;
  const broadcastRan = deferred<void>();
  soiree.on("cache.flush", () => void runs++);
  soiree.on("cache.flush", () => broadcastRan.resolve(), { priority: -1 });
  assert.deepEqual(soiree.emitSync("cache.flush"), []);
  assert.deepEqual(await soiree.emit("cache.flush"), []);
  await soiree.broadcast("cache.flush");
  await within(broadcastRan.promise, LONG, "the broadcast");
  await soiree.close();
  assert.equal(runs, 3);
  assert.equal(panics.length, 3);
  for (const panic of panics) {
    assert.match(String((panic as Error).message), /tracer failed to end the span/);
    assert.equal(((panic as Error).cause as Error).message, "the export queue is full");
  }
});

test("without traceEmit, a tracer traces no emission", async () => {
  const { tracer, spans } = memoryTracer();
  const soiree = new Soiree({ tracer });
  soiree.on("a", () => {});
  soiree.emitSync("a");
  await soiree.emit("a");
  await soiree.close();
  assert.deepEqual(spans(), []);
});

test("new Soiree() refuses traceEmit without a tracer, or that is not a boolean", () => {
  assert.throws(
    () => new Soiree({ traceEmit: true }),
    /Cannot create the emitter as 'traceEmit' needs a 'tracer' to start spans with/,
  );
  assert.throws(
    () => new Soiree({ tracer: memoryTracer().tracer, traceEmit: "yes" as never }),
    /Cannot create the emitter as 'traceEmit' must be a boolean: received "yes"/,
  );
});

/** Runs the consumer process to its end; resolves with the spans it printed. */
function runConsumer(config: object): Promise<SpanRecord[]> {
  const script = fileURLToPath(new URL("./_trace_consumer.ts", import.meta.url));
  const [file, args] = runtimeCommand(script);
  const child = spawn(file, [...args, JSON.stringify(config)], { stdio: "pipe" });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`the consumer exited with ${code}:\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop()!));
    });
  });
}

test("across two processes, the consumer's span is a child of the publisher's span", async () => {
  const dir = mkdtempSync(join(tmpdir(), "soiree-trace-"));
  const events = join(dir, "events.db");
  const durable = "invoice";
  const pattern = "order.*";
  try {
    const { tracer, spans } = memoryTracer();
    const store = opensPaths ? events : driver.open(events);
    const transport = await sqliteTransport(store);
    await transport.subscribe({ name: durable, pattern });
    const soiree = new Soiree({ transport, tracer });
    const parent = trace.setSpanContext(ROOT_CONTEXT, PARENT);
    const receipts = await withContextManager(() =>
      context.with(parent, async () => [
        await soiree.publish("order.paid", { id: 1 }),
        await soiree.publish("order.refused", { id: 2, fail: true }),
      ])
    );
    await soiree.close();
    if (typeof store !== "string") store.close();

    const consumed = await within(
      runConsumer({ events, durable, pattern, expected: 2 }),
      LONG,
      "the consumer process",
    );
    for (
      const [topic, receipt, failed] of [
        ["order.paid", receipts[0], false],
        ["order.refused", receipts[1], true],
      ] as const
    ) {
      const publish = only(spans(), `publish ${topic}`);
      const process = consumed.find((span) =>
        span.attributes["messaging.message.id"] === receipt.id
      );
      assert.ok(process, `a process span for ${topic} in ${JSON.stringify(consumed)}`);
      assert.equal(process.name, `process ${durable}`);
      assert.equal(process.kind, SpanKind.CONSUMER);
      assert.equal(process.traceId, PARENT.traceId);
      assert.equal(publish.traceId, PARENT.traceId);
      assert.equal(process.parentSpanId, publish.spanId);
      assert.equal(process.attributes["messaging.soiree.transport"], "sqlite");
      assert.equal(process.status.code, failed ? SpanStatusCode.ERROR : SpanStatusCode.UNSET);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
