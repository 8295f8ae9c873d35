// An emitter's parts: how they are made from its checked options and wired together, the
// order they close in (the durable consumers stop fetching and broadcasts stop arriving at
// once, the lifecycle drains or gives up on the accepted emissions, then the listeners are
// dropped, the durable side settles and closes its transport, and an emitter's own pool
// closes), and the figures `stats()` reads from them.

import type { CloseOptions, SoireeOptions, SoireeStats } from "./options.ts";
import type { Pool } from "./pool.ts";
import type { Dispatcher } from "./_dispatch.ts";
import { makeDispatcher } from "./_emit_spans.ts";
import { emitAsync } from "./_emission.ts";
import { FailurePath } from "./_failure.ts";
import { Lifecycle } from "./_lifecycle.ts";
import { Registry } from "./_registry.ts";
import type { WaitHost } from "./_waiting.ts";
import { Durability } from "./durable/_durability.ts";
import { readCloseOptions, readEmitterOptions } from "./_options.ts";

/** The parts of an emitter that `close()` and `stats()` reach. */
export interface EmitterParts {
  readonly lifecycle: Lifecycle;
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly failure: FailurePath;
  readonly durability: Durability;
  /** The emitter's pool (the `pool` option), or `undefined`. */
  readonly pool: Pool | undefined;
  /** The emitter's own pool (closed with it), or `undefined`. */
  readonly ownPool: Pool | undefined;
  /** `dispatch: "concurrent"` is the emitter's default. */
  readonly concurrent: boolean;
  readonly waitHost: WaitHost;
}

/**
 * Makes an emitter's parts from its options.
 *
 * @param subscribe `on()` with a priority, for `waitFor()` and `events()`.
 * @throws {TypeError} For a bad option (see `readEmitterOptions()`).
 * @throws {RangeError} For an out-of-range number option.
 */
export function assembleParts(
  options: SoireeOptions,
  subscribe: WaitHost["subscribe"],
): EmitterParts {
  const { errorHandler, panicHandler, maxListeners, durable, ...rest } = readEmitterOptions(
    options,
  );
  const { pool, concurrent } = rest;
  const lifecycle = new Lifecycle();
  const registry = new Registry(rest.idGenerator, maxListeners);
  const failure = new FailurePath(errorHandler, panicHandler);
  const dispatcher = makeDispatcher(registry, failure, lifecycle, rest);
  // A broadcast received runs as an emit() here.
  const emit = (topic: string, payload: unknown) =>
    emitAsync(dispatcher, topic, payload, undefined, undefined, concurrent);
  const durability = new Durability(durable, failure, lifecycle, emit);
  const ownPool = rest.ownsPool ? pool : undefined;
  const waitHost = { lifecycle, subscribe };
  return {
    lifecycle,
    registry,
    dispatcher,
    failure,
    durability,
    pool,
    ownPool,
    concurrent,
    waitHost,
  };
}

/** Closes an emitter's parts in order; rejects for bad options or a second close. */
export function closeEmitter(
  parts: EmitterParts,
  options: CloseOptions | undefined,
): Promise<void> {
  let timeout: number | undefined;
  try {
    timeout = readCloseOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const { lifecycle, registry, durability, ownPool } = parts;
  if (!lifecycle.closed) durability.stopFetching();
  return lifecycle.close(
    options?.signal,
    timeout,
    async (gaveUp) => {
      registry.clear();
      const durable = durability.close(gaveUp);
      if (ownPool !== undefined) {
        // Gave up: the pool's queued tasks are dropped at once too.
        const now = gaveUp && { signal: AbortSignal.abort(gaveUp.reason) };
        await ownPool.close(now).catch(() => {});
      }
      await durable;
    },
    (error) => parts.failure.panic(error),
  );
}

/** The figures of `stats()`, read now. */
export function readStats(parts: EmitterParts): SoireeStats {
  const { dispatcher, failure, lifecycle, registry, durability } = parts;
  return {
    emitted: dispatcher.emitted,
    delivered: dispatcher.delivered,
    failed: failure.failed,
    aborted: dispatcher.aborted,
    inFlight: lifecycle.inFlight,
    listeners: registry.count,
    durable: { ...durability.counters },
  };
}
