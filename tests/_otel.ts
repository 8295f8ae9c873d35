// A real OpenTelemetry SDK for the tracing tests: a tracer whose finished spans land in an
// in-memory exporter, and the spans as plain JSON (what a child process prints).

import type { Tracer } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";

/** A finished span, as plain JSON. */
export interface SpanRecord {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  traceState: string | undefined;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: string[];
}

/** A tracer of the real SDK, and its finished spans. */
export function memoryTracer(): { tracer: Tracer; spans(): SpanRecord[] } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return {
    tracer: provider.getTracer("soiree-test"),
    spans: () => exporter.getFinishedSpans().map(record),
  };
}

/** A span as plain JSON. */
export function record(span: ReadableSpan): SpanRecord {
  const context = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    traceState: context.traceState?.serialize(),
    attributes: { ...span.attributes },
    status: { ...span.status },
    events: span.events.map((event) => event.name),
  };
}
