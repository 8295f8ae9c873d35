// What tracing and the CloudEvents envelope cost. `publish()` to a transport that stores nothing
// (its publish resolves at once), so that the figure is the core's work: encode, envelope,
// counters, promises; without a tracer, and with a tracer of the real OpenTelemetry SDK whose
// provider has no span processor (spans are made, sampled and ended, then dropped). Then
// `emitSync()` and `emit()` to one listener: without a tracer, with a tracer but `traceEmit`
// off (the same path), and with `traceEmit: true`. A tracer that returns one constant span
// shows what Soiree adds around the SDK's own cost.
//
// Each iteration is OPS calls (µs per iteration read as ns per call), ASYNC_OPS for `emit()`.

import { Soiree, type SoireeEvent, type Span, type Tracer, type Transport } from "@x/soiree";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { ASYNC_OPS, bench, OPS, sink, warmUp } from "./_peers.ts";

/** A transport that stores nothing: every method resolves at once. */
function nullTransport(): Transport {
  return {
    name: "null",
    subscribe: () => Promise.resolve(),
    publish: (message) => Promise.resolve({ id: message.id, duplicate: false }),
    receive: () => Promise.resolve([]),
    wait: (_name, signal) =>
      new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })),
    deadLetters: () => Promise.resolve([]),
    redrive: () => Promise.resolve(0),
    close: () => Promise.resolve(),
  };
}

const tracer = new BasicTracerProvider().getTracer("bench");
/** A tracer that makes no span (one constant object): what Soiree itself adds around spans. */
const SPAN: Span = {
  spanContext: () => ({
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: 1,
  }),
  setAttribute: () => SPAN,
  setStatus: () => SPAN,
  recordException: () => {},
  end: () => {},
};
const constant: Tracer = { startSpan: () => SPAN };
const PAYLOAD = { id: 8812, email: "ada@example.com", lines: [1, 2, 3] };

const plain = new Soiree({ transport: nullTransport() });
const traced = new Soiree({ transport: nullTransport(), tracer });
const constantTraced = new Soiree({ transport: nullTransport(), tracer: constant });

bench({
  name: "publish, no tracer",
  group: "publish (null transport)",
  baseline: true,
  async fn() {
    for (let i = 0; i < OPS; i++) {
      sink.value += (await plain.publish("order.paid", PAYLOAD)).id.length;
    }
  },
});

bench({
  name: "publish, tracer (SDK, no processor)",
  group: "publish (null transport)",
  async fn() {
    for (let i = 0; i < OPS; i++) {
      sink.value += (await traced.publish("order.paid", PAYLOAD)).id.length;
    }
  },
});

bench({
  name: "publish, constant-span tracer",
  group: "publish (null transport)",
  async fn() {
    for (let i = 0; i < OPS; i++) {
      sink.value += (await constantTraced.publish("order.paid", PAYLOAD)).id.length;
    }
  },
});

const listener = (event: SoireeEvent): void => void (sink.value += event.payload as number);
const emitters = {
  "no tracer": new Soiree(),
  "tracer, traceEmit off": new Soiree({ tracer }),
  "traceEmit (SDK, no processor)": new Soiree({ tracer, traceEmit: true }),
  "traceEmit (constant-span tracer)": new Soiree({ tracer: constant, traceEmit: true }),
};
for (const soiree of Object.values(emitters)) soiree.on("a", listener);

for (const [name, soiree] of Object.entries(emitters)) {
  bench({
    name: `emitSync, ${name}`,
    group: "emitSync, 1 listener",
    baseline: name === "no tracer",
    fn() {
      for (let i = 0; i < OPS; i++) sink.value += soiree.emitSync("a", i).length;
    },
  });
}

for (const [name, soiree] of Object.entries(emitters)) {
  bench({
    name: `emit, ${name}`,
    group: "emit, 1 listener",
    baseline: name === "no tracer",
    async fn() {
      for (let i = 0; i < ASYNC_OPS; i++) sink.value += (await soiree.emit("a", i)).length;
    },
  });
}

await warmUp();
