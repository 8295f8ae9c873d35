// The spans of an emitter with a tracer: checks the `tracer` option, starts the `publish
// <topic>` (PRODUCER) and `process <durable name>` (CONSUMER) spans with the OpenTelemetry
// messaging attributes, ends them with their outcome, writes a span's context as W3C
// `traceparent`/`tracestate`, and reads them back into a parent context. Without importing
// `@opentelemetry/api`: its context keys are `Symbol.for(description)` (`createContextKey`),
// and its tracers find the parent span with `context.getValue(SPAN_KEY).spanContext()`
// (`trace.getSpan`), so a small immutable context holding a remote span is a parent they
// accept. Owns no state beyond the tracer.

import type { Span, SpanContext, TraceContext, Tracer } from "./tracing.ts";
import { describeValue } from "./_topic.ts";

/** The key `@opentelemetry/api` keeps the active span under (`trace/context-utils`). */
const SPAN_KEY = Symbol.for("OpenTelemetry Context Key SPAN");
/** OpenTelemetry `SpanKind` values. */
const PRODUCER = 3;
const CONSUMER = 4;
/** OpenTelemetry `SpanStatusCode.ERROR`. */
const ERROR = 2;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZEROS = /^0+$/;

/** The `tracer` option, checked: an object with a `startSpan()` method. */
export function checkTracer(value: unknown, action: string): Tracer | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== "object" || value === null ||
    typeof (value as Partial<Tracer>).startSpan !== "function"
  ) {
    throw new TypeError(
      `Cannot ${action} as 'tracer' must be an OpenTelemetry Tracer (an object with startSpan(), as trace.getTracer(name) returns): received ${
        describeValue(value)
      }`,
    );
  }
  return value as Tracer;
}

/** The W3C trace context of a span, as the stored event carries it. */
export interface Carrier {
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
}

/** Formats a span's context as `traceparent` and `tracestate`; none for an invalid context. */
export function carrierOf(span: Span): Carrier {
  const context = span.spanContext();
  const { traceId, spanId, traceFlags } = context;
  if (
    typeof traceId !== "string" || typeof spanId !== "string" || traceId.length !== 32 ||
    spanId.length !== 16 || ZEROS.test(traceId) || ZEROS.test(spanId)
  ) return { traceparent: undefined, tracestate: undefined };
  const flags = (traceFlags & 0xff).toString(16).padStart(2, "0");
  const state = context.traceState?.serialize();
  return { traceparent: `00-${traceId}-${spanId}-${flags}`, tracestate: state || undefined };
}

/**
 * The parent context for a span of a delivery: a remote span with the context `traceparent`
 * names, or an empty context when it is absent or invalid (W3C Trace Context: version `ff`
 * and all-zero IDs are), so that the span is a root rather than a child of whatever context
 * the consumer loop happens to run in.
 */
export function parentOf(traceparent?: unknown, tracestate?: unknown): TraceContext {
  if (typeof traceparent !== "string") return ROOT;
  const match = TRACEPARENT.exec(traceparent);
  if (match === null) return ROOT;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return ROOT;
  if (ZEROS.test(traceId) || ZEROS.test(spanId)) return ROOT;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: parseInt(flags, 16) & 1,
    isRemote: true,
    traceState: typeof tracestate === "string" && tracestate !== ""
      ? new TraceState(tracestate)
      : undefined,
  };
  return new ParentContext(new Map([[SPAN_KEY, new RemoteSpan(spanContext)]]));
}

/** An immutable context, as `@opentelemetry/api`'s `BaseContext`. */
class ParentContext implements TraceContext {
  readonly #values: ReadonlyMap<symbol, unknown>;

  constructor(values: ReadonlyMap<symbol, unknown>) {
    this.#values = values;
  }

  getValue(key: symbol): unknown {
    return this.#values.get(key);
  }

  setValue(key: symbol, value: unknown): TraceContext {
    return new ParentContext(new Map(this.#values).set(key, value));
  }

  deleteValue(key: symbol): TraceContext {
    const values = new Map(this.#values);
    values.delete(key);
    return new ParentContext(values);
  }
}

const ROOT: TraceContext = new ParentContext(new Map());

/** The publisher's span, seen from the consumer: its context only (as `NonRecordingSpan`). */
class RemoteSpan {
  readonly #context: SpanContext;

  constructor(context: SpanContext) {
    this.#context = context;
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  isRecording(): boolean {
    return false;
  }

  setAttribute(): this {
    return this;
  }

  setAttributes(): this {
    return this;
  }

  addEvent(): this {
    return this;
  }

  addLink(): this {
    return this;
  }

  addLinks(): this {
    return this;
  }

  setStatus(): this {
    return this;
  }

  updateName(): this {
    return this;
  }

  recordException(): void {}

  end(): void {}
}

/** W3C `tracestate`, kept as its list members (the API's `TraceState` methods). */
class TraceState {
  readonly #members: Map<string, string>;

  constructor(serialized: string | Map<string, string>) {
    this.#members = typeof serialized !== "string" ? serialized : new Map(
      serialized.split(",").map((member) => member.trim()).filter((member) => member.includes("="))
        .map((member) => {
          const at = member.indexOf("=");
          return [member.slice(0, at), member.slice(at + 1)] as [string, string];
        }),
    );
  }

  get(key: string): string | undefined {
    return this.#members.get(key);
  }

  set(key: string, value: string): TraceState {
    const members = new Map([[key, value]]);
    for (const [k, v] of this.#members) if (k !== key) members.set(k, v);
    return new TraceState(members);
  }

  unset(key: string): TraceState {
    const members = new Map(this.#members);
    members.delete(key);
    return new TraceState(members);
  }

  serialize(): string {
    return [...this.#members].map(([key, value]) => `${key}=${value}`).join(",");
  }
}

/** Ends a span: with status ERROR and the exception recorded when `failed`. */
export function endSpan(span: Span, failed: boolean, error?: unknown): void {
  if (failed) {
    if (error instanceof Error) {
      span.recordException(error);
      span.setAttribute("error.type", error.name);
      span.setStatus({ code: ERROR, message: error.message });
    } else {
      span.recordException(String(error));
      span.setStatus({ code: ERROR, message: String(error) });
    }
  }
  span.end();
}

/** The spans of one emitter's durable side. */
export class Tracing {
  readonly #tracer: Tracer;
  readonly #transport: string;

  constructor(tracer: Tracer, transport: string) {
    this.#tracer = tracer;
    this.#transport = transport;
  }

  /** Starts `publish <topic>`: its parent is the caller's active context. */
  publish(topic: string, id: string): Span {
    return this.#tracer.startSpan(`publish ${topic}`, {
      kind: PRODUCER,
      attributes: {
        "messaging.system": "soiree",
        "messaging.operation.name": "publish",
        "messaging.operation.type": "send",
        "messaging.destination.name": topic,
        "messaging.message.id": id,
        "messaging.soiree.transport": this.#transport,
      },
    });
  }

  /** Starts `process <durable name>` under the publisher's span when the event carries one. */
  process(
    name: string,
    topic: string,
    id: string,
    attempt: number,
    parent: TraceContext,
  ): Span {
    const options = {
      kind: CONSUMER,
      attributes: {
        "messaging.system": "soiree",
        "messaging.operation.name": "process",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.destination.subscription.name": name,
        "messaging.consumer.group.name": name,
        "messaging.message.id": id,
        "messaging.soiree.message.delivery_attempt": attempt,
        "messaging.soiree.transport": this.#transport,
      },
    };
    return this.#tracer.startSpan(`process ${name}`, options, parent);
  }
}
