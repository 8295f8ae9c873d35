// The spans of in-process emissions, for an emitter made with `tracer` and `traceEmit: true`:
// one INTERNAL span `emit <topic>` per `emit()` or `emitSync()` that has listeners, ended when
// the emission is over, with status ERROR when it reported errors. Makes the emitter's
// dispatcher: the plain one when emissions are not traced, so that their path is the same code
// as with no tracer; a subclass that wraps `emitSync()` when they are (`emit()` asks the
// dispatcher's `emitSpans`, see `_emission.ts`).

import { Dispatcher } from "./_dispatch.ts";
import type { FailurePath } from "./_failure.ts";
import type { Lifecycle } from "./_lifecycle.ts";
import type { Registry } from "./_registry.ts";
import type { Pool } from "./pool.ts";
import type { Span, Tracer } from "./tracing.ts";
import { describeValue } from "./_topic.ts";

/** OpenTelemetry `SpanKind.INTERNAL` and `SpanStatusCode.ERROR`. */
const INTERNAL = 0;
const ERROR = 2;
/** At most this many of an emission's errors are recorded as span events. */
const RECORDED = 8;

/** Checks the `traceEmit` option: a boolean, `true` only with a tracer. */
export function checkTraceEmit(
  value: unknown,
  tracer: Tracer | undefined,
  action: string,
): boolean {
  if (value === undefined || value === false) return false;
  if (value !== true) {
    throw new TypeError(
      `Cannot ${action} as 'traceEmit' must be a boolean: received ${describeValue(value)}`,
    );
  }
  if (tracer === undefined) {
    throw new TypeError(`Cannot ${action} as 'traceEmit' needs a 'tracer' to start spans with`);
  }
  return true;
}

/** Starts and ends the span of one emission. */
export class EmitSpans {
  readonly #tracer: Tracer;

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  /** Starts the span of an emission of `topic`. */
  start(topic: string): Span {
    return this.#tracer.startSpan(`emit ${topic}`, {
      kind: INTERNAL,
      attributes: {
        "messaging.system": "soiree",
        "messaging.operation.name": "emit",
        "messaging.destination.name": topic,
      },
    });
  }

  /** Ends it with the errors the emission reported. */
  end(span: Span, errors: readonly Error[]): readonly Error[] {
    if (errors.length > 0) {
      span.setAttribute("messaging.soiree.errors", errors.length);
      for (let i = 0; i < errors.length && i < RECORDED; i++) span.recordException(errors[i]);
      span.setAttribute("error.type", errors[0].name);
      span.setStatus({ code: ERROR, message: errors[0].message });
    }
    span.end();
    return errors;
  }

  /** The span of an `emit()`: started now, ended when `emission` settles. */
  wrap(topic: string, emission: Promise<readonly Error[]>): Promise<readonly Error[]> {
    const span = this.start(topic);
    return emission.then((errors) => this.end(span, errors));
  }
}

/** A dispatcher whose `emitSync()` runs in a span. */
class TracedDispatcher extends Dispatcher {
  readonly #spans: EmitSpans;

  constructor(
    registry: Registry,
    failure: FailurePath,
    lifecycle: Lifecycle,
    setup: DispatchSetup,
    spans: EmitSpans,
  ) {
    super(registry, failure, lifecycle, setup.pool, setup.idGenerator);
    this.#spans = spans;
    this.emitSpans = spans;
  }

  override emitSync(topic: string, payload: unknown): readonly Error[] {
    const spans = this.#spans;
    const registry = this.registry;
    const list = registry.cache.get(topic) ?? registry.lookup(topic, "emit");
    if (list.length === 0) return super.emitSync(topic, payload);
    const span = spans.start(topic);
    let errors: readonly Error[] = [];
    try {
      errors = super.emitSync(topic, payload);
    } finally {
      spans.end(span, errors);
    }
    return errors;
  }
}

/** What the emitter's dispatcher is made of, from its checked options. */
export interface DispatchSetup {
  readonly pool: Pool | undefined;
  readonly idGenerator: (() => string) | undefined;
  /** The tracer of emission spans: set only with `traceEmit: true`. */
  readonly emitTracer: Tracer | undefined;
}

/** The emitter's dispatcher: a traced one only when emissions are traced. */
export function makeDispatcher(
  registry: Registry,
  failure: FailurePath,
  lifecycle: Lifecycle,
  setup: DispatchSetup,
): Dispatcher {
  const tracer = setup.emitTracer;
  if (tracer === undefined) {
    return new Dispatcher(registry, failure, lifecycle, setup.pool, setup.idGenerator);
  }
  return new TracedDispatcher(registry, failure, lifecycle, setup, new EmitSpans(tracer));
}
