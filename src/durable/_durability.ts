// An emitter's durable side: its transport, its envelope (the stored CloudEvents document,
// codec inside) and its spans, the consumers of its durable listeners (one per durable name),
// `publish()`, dead letters and redrive, the durable counters (and what `metrics()` reads of this
// side), and the order of a close (stop fetching → the lifecycle drains the runs → release →
// close the transport, once no other open emitter uses it). Checks the durable options of `on()`
// and `publish()`. Never touches in-process listeners or emissions.

import type { Codec } from "./codec.ts";
import type {
  DeadLetter,
  DurableListenerOptions,
  DurableStats,
  PublishOptions,
} from "./durable_options.ts";
import type { DurableEvent } from "./durable_event.ts";
import type { PublishReceipt, StoredDeadLetter, Transport } from "./transport.ts";
import type { Subscription } from "../listener.ts";
import type { FailurePath } from "../_failure.ts";
import type { Lifecycle } from "../_lifecycle.ts";
import { EmitterClosedError, PublishError } from "../errors.ts";
import { Pool } from "../pool.ts";
import { assertPoolOption, assertPriority, assertSignal } from "../_checks.ts";
import { checkDuration } from "../_timer.ts";
import { describeValue } from "../_topic.ts";
import { Consumer, type ConsumerHost } from "./_consumer.ts";
import { checkRetry } from "./_retry.ts";
import { Broadcaster, type LocalEmit } from "./_broadcast.ts";
import type { ListenerMetrics } from "./_listener_metrics.ts";
import { checkExtensions, checkKeyOption } from "./_features.ts";
import type { Span, Tracer } from "../tracing.ts";
import { jsonCodec } from "./codec.ts";
import { checkSource, DEFAULT_SOURCE, encodePayload, Envelope } from "./_envelope.ts";
import { carrierOf, checkTracer, endSpan, Tracing } from "../_tracing.ts";

/** What `Soiree.metrics()` reads of the durable side. */
export interface DurableScrape {
  readonly transport: Transport | undefined;
  /** The durable listeners of this process. */
  readonly listeners: readonly { name: string; pool: Pool; metrics: ListenerMetrics }[];
  /** Counts a transport error (a failed `inspect()`). */
  failed(): void;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const DAY = 86_400_000;

/** Checks a durable name. */
export function checkDurableName(value: unknown, action: string): string {
  if (typeof value !== "string") {
    throw new TypeError(
      `Cannot ${action} as the durable name must be a string: received ${describeValue(value)}`,
    );
  }
  if (!NAME.test(value)) {
    throw new TypeError(
      `Cannot ${action} as the durable name must be 1 to 64 of A-Z a-z 0-9 _ -: received ${
        describeValue(value)
      }`,
    );
  }
  return value;
}

/** Checks a `limit` option: a positive integer, 100 when absent. */
export function checkLimit(options: unknown, action: string): number {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: received ${describeValue(options)}`,
    );
  }
  const limit = (options as { limit?: unknown } | undefined)?.limit ?? 100;
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1) {
    throw new (typeof limit === "number" ? RangeError : TypeError)(
      `Cannot ${action} as 'limit' must be a positive integer: received ${describeValue(limit)}`,
    );
  }
  return limit;
}

/** The `transport` option, checked: an object with every method of the contract. */
export function checkTransport(value: unknown, action: string): Transport | undefined {
  if (value === undefined) return undefined;
  const methods = ["subscribe", "publish", "receive", "wait", "deadLetters", "redrive", "close"];
  const missing = typeof value !== "object" || value === null
    ? methods
    : methods.filter((method) => typeof (value as Record<string, unknown>)[method] !== "function");
  if (missing.length > 0) {
    throw new TypeError(
      `Cannot ${action} as 'transport' must implement the Transport contract (missing ${
        missing.join(", ")
      }): received ${describeValue(value)}`,
    );
  }
  return value as Transport;
}

/** The `codec` option, checked. */
export function checkCodec(value: unknown, action: string): Codec | undefined {
  if (value === undefined) return undefined;
  const codec = value as Partial<Codec> | null;
  if (
    typeof codec !== "object" || codec === null || typeof codec.encode !== "function" ||
    typeof codec.decode !== "function" || typeof codec.contentType !== "string"
  ) {
    throw new TypeError(
      `Cannot ${action} as 'codec' must have encode(), decode() and a contentType string: received ${
        describeValue(value)
      }`,
    );
  }
  return codec as Codec;
}

/** The emitter's options for its durable side, checked, with their defaults. */
export interface DurableSetup {
  readonly transport: Transport | undefined;
  readonly codec: Codec;
  /** The CloudEvents `source` of stored events. */
  readonly source: string;
  readonly tracer: Tracer | undefined;
}

/** Checks the `transport`, `codec`, `source` and `tracer` options of `new Soiree()`. */
export function checkDurableSetup(
  options: { transport?: unknown; codec?: unknown; source?: unknown; tracer?: unknown },
  action: string,
): DurableSetup {
  return {
    transport: checkTransport(options.transport, action),
    codec: checkCodec(options.codec, action) ?? jsonCodec,
    source: checkSource(options.source, action) ?? DEFAULT_SOURCE,
    tracer: checkTracer(options.tracer, action),
  };
}

/**
 * The open emitters of each transport. Emitters in one process may share a transport, as
 * processes share a store: an emitter's `close()` closes the transport only when it is the last.
 */
const users = new WeakMap<Transport, number>();

/** An emitter's durable side. */
export class Durability {
  readonly counters: DurableStats = {
    listeners: 0,
    published: 0,
    duplicates: 0,
    received: 0,
    acked: 0,
    retried: 0,
    deadLettered: 0,
    released: 0,
    leasesLost: 0,
    transportErrors: 0,
    broadcastsSent: 0,
    broadcastsReceived: 0,
  };
  readonly #transport: Transport | undefined;
  /** Writes and reads the stored CloudEvents documents. */
  readonly #envelope: Envelope;
  readonly #tracing: Tracing | undefined;
  readonly #host: ConsumerHost | undefined;
  readonly #lifecycle: Lifecycle;
  readonly #consumers = new Map<string, { consumer: Consumer; ownsPool: boolean }>();
  /** Publishes, settlements and releases under way: the transport closes after them. */
  #pending = 0;
  /** Wakes `close()` once nothing is pending. */
  #settled: (() => void) | undefined;
  /** Consumers whose first registration attempt has not settled: `publish()` waits for them. */
  readonly #registering = new Set<Promise<void>>();
  /** Broadcasts, on a transport that has them. */
  readonly #broadcaster: Broadcaster | undefined;
  /** The panic handler, for what the tracer throws. */
  readonly #panic: (value: unknown) => void;

  constructor(
    { transport, codec, source, tracer }: DurableSetup,
    failure: FailurePath,
    lifecycle: Lifecycle,
    emit: LocalEmit,
  ) {
    this.#transport = transport;
    this.#panic = (value) => failure.panic(value);
    this.#envelope = new Envelope(source, codec);
    if (
      typeof transport?.broadcast === "function" && typeof transport.onBroadcast === "function"
    ) {
      this.#broadcaster = new Broadcaster(
        transport,
        this.#envelope,
        failure,
        lifecycle,
        this.counters,
        emit,
      );
    }
    this.#tracing = tracer && transport && new Tracing(tracer, transport.name);
    this.#lifecycle = lifecycle;
    if (transport !== undefined) users.set(transport, (users.get(transport) ?? 0) + 1);
    this.#host = transport === undefined ? undefined : {
      transport,
      envelope: this.#envelope,
      tracing: this.#tracing,
      failure,
      lifecycle,
      counters: this.counters,
      track: (promise) => this.#track(promise),
    };
  }

  /**
   * Registers a durable listener, once its options are checked.
   *
   * @throws {TypeError} For no transport, a bad name or option, or a name already registered.
   * @throws {RangeError} For an out-of-range priority, timeout, lease or retry option.
   */
  add(
    pattern: string,
    id: () => string,
    fn: (event: DurableEvent) => unknown,
    options: DurableListenerOptions,
  ): Subscription {
    const action = "subscribe a durable listener";
    const name = checkDurableName(options.durable, action);
    if ((options as { once?: unknown }).once !== undefined) {
      throw new TypeError(
        `Cannot ${action} as 'once' does not apply to a durable listener: each delivery is acked once`,
      );
    }
    const priority = assertPriority(options.priority, action);
    assertSignal(options.signal, action);
    assertPoolOption(options.pool, action);
    const timeout = checkDuration(options.timeout, "timeout", action);
    const lease = checkDuration(options.lease, "lease", action) ??
      (timeout === undefined ? 30_000 : timeout + 5_000);
    if (lease === Infinity || options.lease === Infinity) {
      throw new RangeError(`Cannot ${action} as 'lease' must be finite: received Infinity`);
    }
    const retry = checkRetry(options.retry, action);
    const host = this.#requireHost(action);
    const taken = this.#consumers.get(name);
    if (taken !== undefined) {
      throw new TypeError(
        `Cannot ${action} as the durable name ${
          describeValue(name)
        } is already registered in this process (pattern ${
          describeValue(taken.consumer.spec.pattern)
        }): one listener per durable name per process; use its pool's concurrency to run more at once`,
      );
    }
    if (options.signal?.aborted) return inactive(id(), pattern);
    const ownsPool = !(options.pool instanceof Pool);
    const pool = options.pool instanceof Pool
      ? options.pool
      : new Pool({ concurrency: 1, name, ...options.pool });
    const consumer = new Consumer(host, {
      name,
      pattern,
      id: id(),
      fn,
      pool,
      priority,
      timeout,
      lease,
      retry,
    });
    const entry = { consumer, ownsPool };
    this.#consumers.set(name, entry);
    const ready = consumer.ready;
    this.#registering.add(ready);
    void ready.then(() => this.#registering.delete(ready));
    this.counters.listeners++;
    const off = (): boolean => {
      if (this.#consumers.get(name) !== entry) return false;
      this.#consumers.delete(name);
      this.counters.listeners--;
      options.signal?.removeEventListener("abort", off);
      this.#track(this.#stopConsumer(entry));
      return true;
    };
    options.signal?.addEventListener("abort", off, { once: true });
    return {
      id: consumer.spec.id,
      pattern,
      get active() {
        return !consumer.stopped;
      },
      off,
      [Symbol.dispose]: off,
    };
  }

  /**
   * Stores an event for the durable listeners of every process: the payload is encoded now.
   * Rejects with `EmitterClosedError` once the emitter is closed.
   *
   * @throws {TypeError} For no transport, bad options, or a payload the codec cannot encode.
   */
  publish(
    topic: string,
    payload: unknown,
    options: PublishOptions | undefined,
    eventId: () => string,
  ): Promise<PublishReceipt> {
    if (this.#lifecycle.closed) {
      return Promise.reject(
        new EmitterClosedError(`Cannot publish ${describeValue(topic)} as the emitter is closed`),
      );
    }
    const action = `publish ${describeValue(topic)}`;
    const transport = this.#requireHost(action).transport;
    const key = checkKeyOption(options?.idempotencyKey, "idempotencyKey", action);
    const dedupeWindow = checkDuration(options?.dedupeWindow, "dedupeWindow", action) ?? DAY;
    const extensions = checkExtensions(transport, options, action);
    const text = encodePayload(this.#envelope, payload, action);
    const id = eventId();
    const publishedAt = Date.now();
    const span = this.#tracing?.publish(topic, id);
    const message = {
      id,
      topic,
      // The whole CloudEvents document, the codec's text inside (see _envelope.ts).
      data: this.#envelope.wrap(id, topic, text, publishedAt, key, span && carrierOf(span)),
      publishedAt,
      idempotencyKey: key,
      dedupeWindow: dedupeWindow === Infinity ? Number.MAX_SAFE_INTEGER : dedupeWindow,
      ...(extensions.key === undefined ? {} : { key: extensions.key }),
    };
    const stored = this.#store(transport, message, span, extensions.tx);
    this.#track(stored);
    return stored;
  }

  async #store(
    transport: Transport,
    message: Parameters<Transport["publish"]>[0],
    span: Span | undefined,
    tx: unknown,
  ): Promise<PublishReceipt> {
    // A durable listener registered in this process before this call gets this event.
    if (this.#registering.size > 0) await Promise.all(this.#registering);
    let receipt: PublishReceipt;
    try {
      receipt =
        await (tx === undefined ? transport.publish(message) : transport.publish(message, tx));
    } catch (error) {
      const failure = new PublishError(message.topic, transport.name, error);
      if (span !== undefined) endSpan(span, this.#panic, true, failure);
      throw failure;
    }
    if (span !== undefined) {
      if (receipt.duplicate) span.setAttribute("messaging.soiree.duplicate", true);
      endSpan(span, this.#panic, false);
    }
    if (receipt.duplicate) this.counters.duplicates++;
    else this.counters.published++;
    return { id: receipt.id, duplicate: receipt.duplicate };
  }

  /**
   * Sends an event to the plain listeners of every process sharing the transport.
   *
   * @throws {TypeError} For no transport, one without broadcasts, or a payload the codec
   * cannot encode.
   */
  broadcast(topic: string, payload: unknown, eventId: () => string): Promise<void> {
    const action = `broadcast ${describeValue(topic)}`;
    if (this.#lifecycle.closed) {
      return Promise.reject(new EmitterClosedError(`Cannot ${action} as the emitter is closed`));
    }
    const transport = this.#requireHost(action).transport;
    if (this.#broadcaster === undefined) {
      throw new TypeError(
        `Cannot ${action} as the ${transport.name} transport cannot broadcast (it has no broadcast() and onBroadcast()): redisTransport() from @x/soiree/redis on a connection that can subscribe (fromNodeRedis(client) or fromIoredis(client)) or postgresTransport() from @x/soiree/postgres with a LISTEN session reaches every process, memoryTransport() the emitters sharing it in this one`,
      );
    }
    const sent = this.#broadcaster.send(topic, payload, eventId());
    this.#track(sent);
    return sent;
  }

  /** The dead letters of `name`, decoded. */
  deadLetters(name: string, limit: number): Promise<DeadLetter[]> {
    const transport = this.#requireHost("list dead letters").transport;
    return this.#decodeDeadLetters(transport.deadLetters(name, limit));
  }

  async #decodeDeadLetters(
    pending: Promise<readonly StoredDeadLetter[]>,
  ): Promise<DeadLetter[]> {
    const stored = await pending;
    return stored.map(({ message, attempts, error, deadAt }) => {
      let payload: unknown;
      try {
        payload = this.#envelope.payload(this.#envelope.parse(message.data));
      } catch {
        payload = undefined;
      }
      return {
        id: message.id,
        topic: message.topic,
        payload,
        data: message.data,
        attempts,
        error,
        publishedAt: new Date(message.publishedAt),
        deadAt: new Date(deadAt),
      };
    });
  }

  /** Puts dead letters of `name` back, attempts reset. */
  redrive(name: string, limit: number): Promise<number> {
    return this.#requireHost("redrive dead letters").transport.redrive(name, limit);
  }

  /** The transport and this process's durable listeners, for `Soiree.metrics()`. */
  scrape(): DurableScrape {
    const listeners = [...this.#consumers.values()].map(({ consumer }) => ({
      name: consumer.spec.name,
      pool: consumer.spec.pool,
      metrics: consumer.metrics,
    }));
    const failed = (): void => void this.counters.transportErrors++;
    return { transport: this.#transport, listeners, failed };
  }

  /** Stops every consumer's fetching at once: `close()` has begun. */
  stopFetching(): void {
    if (this.#broadcaster !== undefined) this.#track(this.#broadcaster.stop());
    for (const { consumer } of this.#consumers.values()) void consumer.stop();
  }

  /**
   * Once the lifecycle drained (or cancelled) the runs: waits for the consumers' last calls,
   * the settlements and releases, closes the pools made for durable listeners, then the
   * transport.
   */
  async close(gaveUp: { reason: unknown } | undefined): Promise<void> {
    const entries = [...this.#consumers.values()];
    this.#consumers.clear();
    this.counters.listeners = 0;
    await Promise.all(entries.map((entry) => this.#stopConsumer(entry, gaveUp)));
    while (this.#pending > 0) await new Promise<void>((resolve) => (this.#settled = resolve));
    const transport = this.#transport;
    if (transport === undefined) return;
    const left = (users.get(transport) ?? 1) - 1;
    if (left > 0) return void users.set(transport, left);
    users.delete(transport);
    await transport.close();
  }

  async #stopConsumer(
    entry: { consumer: Consumer; ownsPool: boolean },
    gaveUp?: { reason: unknown },
  ): Promise<void> {
    await entry.consumer.stop();
    if (!entry.ownsPool) return;
    // When close() gave up, it does not wait for listeners that ignore their signal either.
    const now = gaveUp && { signal: AbortSignal.abort(gaveUp.reason) };
    await entry.consumer.spec.pool.close(now).catch(() => {});
  }

  #track(promise: Promise<unknown>): void {
    this.#pending++;
    const done = (): void => {
      if (--this.#pending === 0 && this.#settled !== undefined) {
        this.#settled();
        this.#settled = undefined;
      }
    };
    promise.then(done, done);
  }

  #requireHost(action: string): ConsumerHost {
    if (this.#host === undefined) {
      throw new TypeError(
        `Cannot ${action} as the emitter has no transport: pass one as new Soiree({ transport }), memoryTransport() for tests and one process, or sqliteTransport(path) from @x/soiree/sqlite to survive restarts and share work between processes, or redisTransport() from @x/soiree/redis to share it between machines`,
      );
    }
    return this.#host;
  }
}

/** The subscription of a listener whose signal had already aborted. */
function inactive(id: string, pattern: string): Subscription {
  return { id, pattern, active: false, off: () => false, [Symbol.dispose]: () => {} };
}
