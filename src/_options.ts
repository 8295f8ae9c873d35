// Reads the options of the emitter and of its methods (an in-process listener's, emit(),
// waitFor(), events(), close()): checks every field (each
// error names the option, what was expected and what arrived) before any side effect, then
// applies the defaults and makes the pools that options ask for. Owns no state.

import type { ListenerOptions } from "./listener.ts";
import type {
  CloseOptions,
  EmitOptions,
  ErrorHandler,
  EventsOptions,
  PanicHandler,
  SoireeOptions,
  WaitForOptions,
} from "./options.ts";
import type { IterateOptions, WaitOptions } from "./_waiting.ts";
import { Pool } from "./pool.ts";
import {
  assertBufferSize,
  assertFunction,
  assertMaxListeners,
  assertOptionsObject,
  assertPoolOption,
  assertPriority,
  assertSignal,
  checkDispatch,
} from "./_checks.ts";
import { checkDuration } from "./_timer.ts";
import type { RegistrationOptions } from "./_registry.ts";
import type { Lifecycle } from "./_lifecycle.ts";
import { describeValue } from "./_topic.ts";
import { Priority } from "./priority.ts";
import { checkDurableSetup, type DurableSetup } from "./durable/_durability.ts";
import { checkTraceEmit } from "./_emit_spans.ts";
import type { Tracer } from "./tracing.ts";

/** The emitter's options, checked, with their defaults. */
export interface EmitterSetup {
  readonly errorHandler: ErrorHandler | undefined;
  readonly panicHandler: PanicHandler | undefined;
  readonly idGenerator: (() => string) | undefined;
  readonly maxListeners: number;
  readonly pool: Pool | undefined;
  readonly ownsPool: boolean;
  readonly concurrent: boolean;
  /** The transport, codec, CloudEvents source and tracer. */
  readonly durable: DurableSetup;
  /** The tracer of emission spans: set only with `traceEmit: true`. */
  readonly emitTracer: Tracer | undefined;
}

/** Checks the options of `new Soiree()`; makes the emitter's own pool if they ask for one. */
export function readEmitterOptions(options: SoireeOptions): EmitterSetup {
  const action = "create the emitter";
  assertOptionsObject(options, action);
  const { errorHandler, panicHandler, idGenerator, maxListeners = 100, pool, dispatch } = options;
  const durable = checkDurableSetup(options, action);
  const traceEmit = checkTraceEmit(options.traceEmit, durable.tracer, action);
  assertFunction(errorHandler, "errorHandler", action);
  assertFunction(panicHandler, "panicHandler", action);
  assertFunction(idGenerator, "idGenerator", action);
  assertMaxListeners(maxListeners, action);
  assertPoolOption(pool, action);
  const concurrent = checkDispatch(dispatch, false, action);
  const ownsPool = pool !== undefined && !(pool instanceof Pool);
  return {
    errorHandler,
    panicHandler,
    idGenerator,
    maxListeners,
    pool: pool === undefined ? undefined : pool instanceof Pool ? pool : new Pool(pool),
    ownsPool,
    concurrent,
    durable,
    emitTracer: traceEmit ? durable.tracer : undefined,
  };
}

/** A listener without options: shared, so that subscribing allocates no options object. */
const NO_OPTIONS: RegistrationOptions = Object.freeze({
  priority: Priority.Normal,
  once: false,
  pool: undefined,
  timeout: 0,
  signal: undefined,
  ownsPool: false,
});

/**
 * Checks the options of `on()` for an in-process listener, then that the emitter is open (an
 * `EmitterClosedError` naming `pattern`), before making the listener's own pool from pool
 * options.
 */
export function readListenerOptions(
  options: ListenerOptions | undefined,
  lifecycle: Lifecycle,
  pattern: string,
): RegistrationOptions {
  if (options === undefined) {
    if (lifecycle.closed) lifecycle.assertOpen(`subscribe to ${describeValue(pattern)}`);
    return NO_OPTIONS;
  }
  const action = "subscribe";
  const priority = assertPriority(options.priority, action);
  const signal = options.signal;
  assertSignal(signal, action);
  const poolOption = options.pool;
  assertPoolOption(poolOption, action);
  const timeout = checkDuration(options.timeout, "timeout", action) ?? 0;
  if (lifecycle.closed) lifecycle.assertOpen(`subscribe to ${describeValue(pattern)}`);
  // Pool options make a workload class of this listener's own, closed when it goes (the
  // constructor checks them; a pool holds nothing until a task is submitted).
  const ownsPool = poolOption !== undefined && !(poolOption instanceof Pool);
  const pool = ownsPool ? new Pool(poolOption) : poolOption as Pool | undefined;
  return { priority, once: options.once === true, pool, timeout, signal, ownsPool };
}

/** Checks the options of `waitFor()`. */
export function readWaitOptions(
  options: WaitForOptions<never, string, never> | undefined,
): WaitOptions {
  const action = "wait for an event";
  assertOptionsObject(options, action);
  const signal = options?.signal;
  const filter = options?.filter;
  assertSignal(signal, action);
  const timeout = checkDuration(options?.timeout, "timeout", action);
  assertFunction(filter, "filter", action);
  const priority = assertPriority(options?.priority, action);
  return { signal, timeout, filter: filter as WaitOptions["filter"], priority };
}

/** Checks the options of `events()`. */
export function readEventsOptions(options: EventsOptions | undefined): IterateOptions {
  const action = "iterate events";
  assertOptionsObject(options, action);
  const signal = options?.signal;
  assertSignal(signal, action);
  const bufferSize = options?.bufferSize ?? 1024;
  assertBufferSize(bufferSize, action);
  const priority = assertPriority(options?.priority, action);
  return { signal, bufferSize, priority };
}

/** Checks the options of `emit()` (present ones only: the hot path skips this). */
export function readEmitOptions(
  options: EmitOptions,
  concurrent: boolean,
): { signal: AbortSignal | undefined; timeout: number | undefined; concurrent: boolean } {
  assertOptionsObject(options, "emit");
  const signal = options.signal;
  assertSignal(signal, "emit");
  const timeout = checkDuration(options.timeout, "timeout", "emit");
  return { signal, timeout, concurrent: checkDispatch(options.dispatch, concurrent, "emit") };
}

/** Checks the options of `close()`: the timeout in ms, `undefined` for none. */
export function readCloseOptions(options: CloseOptions | undefined): number | undefined {
  const action = "close the emitter";
  assertOptionsObject(options, action);
  assertSignal(options?.signal, action);
  return checkDuration(options?.timeout, "timeout", action);
}
