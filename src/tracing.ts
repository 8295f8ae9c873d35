/**
 * The shapes Soiree's tracing uses: the part of `@opentelemetry/api`'s `Tracer`, `Span` and
 * `Context` that `new Soiree({ tracer })` calls, so that a tracer of the real API fits without
 * Soiree depending on it.
 *
 * @module
 */

/**
 * The trace-wide flags and identity of a span, as in W3C Trace Context (`traceparent`):
 * `traceId` is 32 lower-case hex digits, `spanId` 16, `traceFlags` a byte (1: sampled).
 *
 * @example
 * ```ts
 * import type { SpanContext } from "@x/soiree";
 *
 * const context: SpanContext = {
 *   traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
 *   spanId: "00f067aa0ba902b7",
 *   traceFlags: 1,
 * };
 * void context;
 * ```
 */
export interface SpanContext {
  /** 32 lower-case hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lower-case hex digits, not all zero. */
  readonly spanId: string;
  /** W3C trace flags: bit 0 is "sampled". */
  readonly traceFlags: number;
  /** Whether the context came from another process. */
  readonly isRemote?: boolean;
  /** Vendor state (W3C `tracestate`); Soiree only serializes it. */
  readonly traceState?: { serialize(): string };
}

/**
 * A span as Soiree uses it: it reads its context (for `traceparent`), sets attributes and the
 * status, records an exception, and ends it. An `@opentelemetry/api` `Span` is one.
 *
 * @example A span that keeps what it is told
 * ```ts
 * import type { Span } from "@x/soiree";
 *
 * const attributes: Record<string, unknown> = {};
 * const span: Span = {
 *   spanContext: () => ({ traceId: "1".repeat(32), spanId: "2".repeat(16), traceFlags: 1 }),
 *   setAttribute(key, value) {
 *     attributes[key] = value;
 *     return this;
 *   },
 *   setStatus() {
 *     return this;
 *   },
 *   recordException() {},
 *   end() {},
 * };
 * span.setAttribute("messaging.system", "soiree");
 * ```
 */
export interface Span {
  /** The span's identity, written into the stored event as `traceparent`. */
  spanContext(): SpanContext;
  /** Sets one attribute. */
  setAttribute(key: string, value: string | number | boolean): unknown;
  /** Sets the status: Soiree sets `{ code: 2 }` (ERROR) with a message when an operation fails. */
  setStatus(status: { code: number; message?: string }): unknown;
  /** Records an error as a span event. */
  recordException(exception: Error | string): void;
  /** Ends the span. */
  end(): void;
}

/**
 * The options Soiree passes to `startSpan()`: the span kind (OpenTelemetry's `SpanKind`
 * numbers: 0 INTERNAL, 3 PRODUCER, 4 CONSUMER) and the attributes known at the start.
 *
 * @example
 * ```ts
 * import type { SpanOptions } from "@x/soiree";
 *
 * const options: SpanOptions = { kind: 3, attributes: { "messaging.system": "soiree" } };
 * void options;
 * ```
 */
export interface SpanOptions {
  /** OpenTelemetry's `SpanKind`: 0 INTERNAL, 3 PRODUCER, 4 CONSUMER. */
  kind?: number;
  /** Attributes known when the span starts. */
  attributes?: Record<string, string | number | boolean>;
}

/**
 * An OpenTelemetry `Context`: an immutable map from symbol keys to values. Soiree makes one to
 * hand a consumer span its parent from another process (see the README's "Tracing").
 *
 * @example The empty context
 * ```ts
 * import type { TraceContext } from "@x/soiree";
 *
 * const empty: TraceContext = {
 *   getValue: () => undefined,
 *   setValue: () => empty,
 *   deleteValue: () => empty,
 * };
 * void empty;
 * ```
 */
export interface TraceContext {
  /** The value under `key`, `undefined` when none. */
  getValue(key: symbol): unknown;
  /** A new context with `key` set to `value`. */
  setValue(key: symbol, value: unknown): TraceContext;
  /** A new context without `key`. */
  deleteValue(key: symbol): TraceContext;
}

/**
 * What `new Soiree({ tracer })` takes: an object with `startSpan()`, as
 * `trace.getTracer(name)` of `@opentelemetry/api` returns. Soiree calls
 * `startSpan(name, options)` for a publish (the parent is the caller's active context, the
 * tracer's default) and `startSpan(name, options, context)` for a delivery, where `context`
 * holds the publisher's span context read from the stored event's `traceparent`.
 *
 * @example With the OpenTelemetry API (a no-op until an SDK is registered)
 * ```ts ignore
 * import { trace } from "@opentelemetry/api";
 * import { memoryTransport, Soiree } from "@x/soiree";
 *
 * const soiree = new Soiree({ transport: memoryTransport(), tracer: trace.getTracer("shop") });
 * ```
 *
 * @example A tracer that only counts spans
 * ```ts
 * import { memoryTransport, Soiree, type Span, type Tracer } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const names: string[] = [];
 * const span: Span = {
 *   spanContext: () => ({ traceId: "1".repeat(32), spanId: "2".repeat(16), traceFlags: 1 }),
 *   setAttribute: () => span,
 *   setStatus: () => span,
 *   recordException: () => {},
 *   end: () => {},
 * };
 * const tracer: Tracer = { startSpan: (name) => (names.push(name), span) };
 * const soiree = new Soiree({ transport: memoryTransport(), tracer });
 * await soiree.publish("order.paid", { id: 1 });
 * assert.deepEqual(names, ["publish order.paid"]);
 * await soiree.close();
 * ```
 */
export interface Tracer {
  /**
   * Starts a span.
   *
   * @param name The span name (`publish <topic>`, `process <durable name>`).
   * @param options The kind and the attributes known at the start.
   * @param context The parent context; absent: the tracer's active context.
   */
  startSpan(name: string, options?: SpanOptions, context?: TraceContext): Span;
}
