// One durable listener's consumer in this process: it registers the durable name with the
// transport, takes free slots of its pool, leases at most that many deliveries, runs each in
// its slot (decode → listener under its timeout, with the lease renewed → ack, retry or dead
// letter), and waits on the transport when nothing is due. The loop never dies: transport
// errors are counted, reported once per streak and retried with backoff; only `stop()` ends
// it. Owns the loop's state and each delivery's run; the slots come from `_slots.ts`.

import type { DurableStats } from "./durable_options.ts";
import type { Delivery, Transport } from "./transport.ts";
import type { Pool } from "../pool.ts";
import type { FailurePath } from "../_failure.ts";
import type { InFlight, Lifecycle } from "../_lifecycle.ts";
import { DurableEvent } from "./durable_event.ts";
import { PermanentError, PoolClosedError } from "../errors.ts";
import { startTimer, timeoutError } from "../_timer.ts";
import { describeError, retryDelay, type RetryPolicy } from "./_retry.ts";
import { brokerOf, type SlotBroker, type SlotTaker } from "./_slots.ts";
import { ListenerMetrics } from "./_listener_metrics.ts";
import { completes } from "./_features.ts";
import { describeValue } from "../_topic.ts";
import { pause } from "./_abort.ts";
import { deliveredFrom, type Envelope } from "./_envelope.ts";
import { endSpan, parentOf, type Tracing } from "../_tracing.ts";
import type { Span } from "../tracing.ts";

/** What every consumer of one emitter shares. */
export interface ConsumerHost {
  readonly transport: Transport;
  /** Reads the stored CloudEvents documents (the codec inside). */
  readonly envelope: Envelope;
  /** Present when the emitter has a tracer. */
  readonly tracing: Tracing | undefined;
  readonly failure: FailurePath;
  readonly lifecycle: Lifecycle;
  readonly counters: DurableStats;
  /** Keeps a settlement under way, so that `close()` awaits it before closing the transport. */
  track(promise: Promise<unknown>): void;
}

/** A durable listener, its options checked. */
export interface ConsumerSpec {
  readonly name: string;
  readonly pattern: string;
  /** The listener's ID, for the error handler. */
  readonly id: string;
  readonly fn: (event: DurableEvent) => unknown;
  readonly pool: Pool;
  readonly priority: number;
  readonly timeout: number | undefined;
  readonly lease: number;
  readonly retry: RetryPolicy;
}

const MAX_BACKOFF = 5_000;

/** One durable listener's consumer. */
export class Consumer implements SlotTaker {
  hungry = false;
  readonly spec: ConsumerSpec;
  /** This listener's settlements and attempt durations, for `Soiree.metrics()`. */
  readonly metrics: ListenerMetrics = new ListenerMetrics();
  readonly #host: ConsumerHost;
  readonly #broker: SlotBroker;
  /** Stops the loop: aborts `wait()` and backoff pauses. */
  readonly #stop = new AbortController();
  /** Slots granted and not yet used or given back. */
  #held = 0;
  #fetchScheduled = false;
  /** The setup, fetch or wait under way; `stop()` awaits it. */
  #busy: Promise<void> | undefined;
  /** Consecutive failed transport calls of the loop. */
  #errors = 0;
  /** The deliveries in flight whose leases the renewal timer extends. */
  readonly #renewals = new Set<{ delivery: Delivery; lost: () => void }>();
  #renewTimer: ReturnType<typeof setInterval> | undefined;
  /**
   * Resolves once the first attempt to store the durable name settled: `publish()` waits for
   * it, so that a listener registered before a publish gets its event, but never hangs on a
   * store that refuses the registration (the loop keeps retrying it).
   */
  readonly ready: Promise<void>;
  #firstAttemptSettled!: () => void;

  constructor(host: ConsumerHost, spec: ConsumerSpec) {
    this.#host = host;
    this.spec = spec;
    this.#broker = brokerOf(spec.pool);
    this.#broker.add(this);
    // Not Promise.withResolvers(): Node 20 has none.
    this.ready = new Promise((resolve) => (this.#firstAttemptSettled = resolve));
    this.#busy = this.#setup();
  }

  get priority(): number {
    return this.spec.priority;
  }

  get stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Stops fetching; resolves once no transport call of the loop is under way. Runs go on. */
  stop(): Promise<void> {
    if (!this.stopped) {
      this.#firstAttemptSettled();
      this.#stop.abort();
      this.hungry = false;
      this.#broker.remove(this);
      this.#giveBack();
    }
    return this.#busy ?? Promise.resolve();
  }

  grant(): void {
    this.#held++;
    this.#scheduleFetch();
  }

  #scheduleFetch(): void {
    if (this.#fetchScheduled || this.#busy !== undefined) return;
    this.#fetchScheduled = true;
    // Slots freed in the same turn arrive together: fetch once for all of them.
    queueMicrotask(() => {
      this.#fetchScheduled = false;
      if (this.#busy === undefined) this.#busy = this.#fetch();
    });
  }

  refused(reason: unknown): void {
    if (reason instanceof PoolClosedError) {
      this.#host.failure.panic(
        new Error(
          `The durable listener "${this.spec.name}" stopped fetching as its pool is closed`,
          { cause: reason },
        ),
      );
      void this.stop();
      return;
    }
    // A full queue that rejects: try again shortly.
    this.hungry = false;
    this.#busy ??= this.#backoff(reason, "take a slot");
  }

  async #setup(): Promise<void> {
    const { transport } = this.#host;
    while (!this.stopped) {
      try {
        await transport.subscribe({ name: this.spec.name, pattern: this.spec.pattern });
        this.#errors = 0;
        break;
      } catch (error) {
        this.#firstAttemptSettled();
        await this.#failed(error, "register");
      }
    }
    this.#firstAttemptSettled();
    this.#busy = undefined;
    this.#hunger();
  }

  /** Wants slots again, unless stopped or already waiting for some. */
  #hunger(): void {
    if (this.stopped) return;
    this.hungry = true;
    if (this.#held > 0) this.#scheduleFetch();
    this.#broker.want();
  }

  async #fetch(): Promise<void> {
    const max = this.#held;
    if (this.stopped || max === 0) {
      this.#busy = undefined;
      return this.#giveBack();
    }
    this.hungry = false;
    let deliveries: readonly Delivery[];
    try {
      deliveries = await this.#host.transport.receive(this.spec.name, max, this.spec.lease);
      this.#errors = 0;
    } catch (error) {
      this.#giveBack();
      await this.#failed(error, "receive deliveries");
      this.#busy = undefined;
      return this.#hunger();
    }
    const counters = this.#host.counters;
    counters.received += deliveries.length;
    if (this.stopped) {
      this.#busy = undefined;
      for (const delivery of deliveries) this.#release(delivery, false);
      return this.#giveBack();
    }
    // Hungry again before the runs start, so that a slot one of them frees at once goes by
    // priority among the takers of the pool, this one included.
    const more = deliveries.length >= max;
    if (more) this.hungry = true;
    for (const delivery of deliveries) {
      this.#held--;
      void this.#run(delivery);
    }
    if (more) {
      this.#busy = undefined;
      return this.#hunger();
    }
    // Nothing more is due: give back what is left and wait for news.
    this.#giveBack();
    this.#busy = this.#idle();
  }

  async #idle(): Promise<void> {
    try {
      await this.#host.transport.wait(this.spec.name, this.#stop.signal);
    } catch (error) {
      await this.#failed(error, "wait for deliveries");
    }
    this.#busy = undefined;
    this.#hunger();
  }

  async #backoff(reason: unknown, operation: string): Promise<void> {
    await this.#failed(reason, operation);
    this.#busy = undefined;
    this.#hunger();
  }

  /** Counts a failed transport call, reports the first of a streak, and pauses. */
  async #failed(error: unknown, operation: string): Promise<void> {
    this.#host.counters.transportErrors++;
    if (this.#errors++ === 0) {
      this.#host.failure.panic(
        new Error(
          `The durable listener "${this.spec.name}" could not ${operation} with the ${this.#host.transport.name} transport; retrying with backoff`,
          { cause: error },
        ),
      );
    }
    const bound = Math.min(MAX_BACKOFF, 100 * 2 ** Math.min(this.#errors, 16));
    await pause(bound / 2 + Math.random() * bound / 2, this.#stop.signal);
  }

  #giveBack(): void {
    while (this.#held > 0) {
      this.#held--;
      this.#broker.release();
    }
  }

  #release(delivery: Delivery, started: boolean): void {
    const { counters } = this.#host;
    this.#settle(() => delivery.release(started), () => {
      counters.released++;
      this.metrics.released++;
    });
  }

  /** Tracks a settlement: counts it when it applied, a lost lease when not, an error else. */
  #settle(call: () => Promise<boolean>, applied: () => void): void {
    const { counters, failure, transport } = this.#host;
    let operation: Promise<boolean>;
    try {
      operation = Promise.resolve(call());
    } catch (error) {
      operation = Promise.reject(error);
    }
    this.#host.track(operation.then((ok) => {
      if (ok) applied();
      else counters.leasesLost++;
    }, (error) => {
      counters.transportErrors++;
      failure.panic(
        new Error(
          `The durable listener "${this.spec.name}" could not settle a delivery with the ${transport.name} transport; it comes back once its lease ends`,
          { cause: error },
        ),
      );
    }));
  }

  /** Runs one delivery in a slot this consumer holds, and gives the slot back at the end. */
  async #run(delivery: Delivery): Promise<void> {
    const { spec, metrics } = this;
    const { lifecycle, counters, envelope, tracing } = this.#host;
    const { message, attempt } = delivery;
    const start = performance.now();
    const controller = new AbortController();
    let decided = false;
    let stopTimers = (): void => {};
    let span: Span | undefined;
    const item: InFlight = {
      prev: undefined,
      next: undefined,
      cancel: (reason) => {
        // `close()` gave up waiting: give the lease back so another process can take it now.
        if (decided) return;
        decide(true, reason);
        controller.abort(reason);
        this.#release(delivery, true);
      },
    };
    const decide = (failed = false, error?: unknown): boolean => {
      if (decided) return false;
      decided = true;
      if (span !== undefined) {
        endSpan(
          span,
          (value) => this.#host.failure.panic(value),
          failed,
          error,
        );
      }
      metrics.observe((performance.now() - start) / 1_000);
      stopTimers();
      lifecycle.unlink(item);
      lifecycle.checkIdle();
      return true;
    };
    lifecycle.link(item);
    let event: DurableEvent | undefined;
    const completion = this.#completion(delivery, () => decided, () => stopTimers());
    const settle = (error: unknown, ok: boolean): void => {
      completion.returned = true;
      if (!decide(!ok, error)) return;
      if (completion.done) {
        // Acked inside the listener's transaction: nothing is left to settle here. If that
        // transaction rolled back, the lease ends and the delivery comes again.
        if (ok) return void (counters.acked++, metrics.acked++);
        if (event !== undefined) {
          this.#host.failure.fail(undefined, event, { id: spec.id, pattern: spec.pattern }, error);
        }
        return;
      }
      if (ok) return this.#settle(() => delivery.ack(), () => (counters.acked++, metrics.acked++));
      const permanent = error instanceof PermanentError || event === undefined ||
        attempt >= spec.retry.attempts;
      if (event !== undefined) {
        this.#host.failure.fail(undefined, event, { id: spec.id, pattern: spec.pattern }, error);
      }
      const text = describeError(error);
      if (permanent) {
        return this.#settle(
          () => delivery.deadLetter(text),
          () => (counters.deadLettered++, metrics.deadLettered++),
        );
      }
      const delay = retryDelay(spec.retry, attempt, error, (reason) => {
        this.#host.failure.panic(reason);
      });
      this.#settle(
        () => delivery.retry(delay, text),
        () => (counters.retried++, metrics.retried++),
      );
    };
    try {
      const unreadable = (error: unknown): void => {
        this.#host.failure.panic(
          new Error(
            `The durable listener "${spec.name}" dead-lettered event ${message.id} as its stored document cannot be read`,
            { cause: error },
          ),
        );
        settle(error, false);
      };
      let attributes: Readonly<Record<string, unknown>>;
      try {
        attributes = envelope.parse(message.data);
      } catch (error) {
        span = tracing?.process(spec.name, message.topic, message.id, attempt, parentOf());
        return unreadable(error);
      }
      const parent = parentOf(attributes.traceparent, attributes.tracestate);
      span = tracing?.process(spec.name, message.topic, message.id, attempt, parent);
      let payload: unknown;
      try {
        payload = envelope.payload(attributes);
      } catch (error) {
        return unreadable(error);
      }
      stopTimers = this.#timers(delivery, () => {
        counters.leasesLost++;
        const lost = new Error(
          `The lease of event ${message.id} for "${spec.name}" was lost: another process may be running it`,
        );
        if (decide(true, lost)) controller.abort(lost);
      }, (reason) => {
        controller.abort(reason);
        settle(reason, false);
      });
      event = new DurableEvent(message.topic, payload, {
        id: message.id,
        listener: spec.name,
        attempt,
        publishedAt: message.publishedAt,
        signal: controller.signal,
        complete: completion.complete,
      });
      deliveredFrom.set(event, attributes);
      let result = spec.fn(event);
      if (
        result !== null && (typeof result === "object" || typeof result === "function") &&
        typeof (result as PromiseLike<unknown>).then === "function"
      ) result = await result;
      if (result instanceof Error) settle(result, false);
      else settle(undefined, true);
    } catch (error) {
      settle(error, false);
    } finally {
      stopTimers();
      this.#broker.release();
    }
  }

  /**
   * `event.complete(tx)` for one delivery: acks it inside the listener's transaction, once,
   * while the listener runs; then the lease is no longer renewed (the transaction holds the row)
   * and `done` tells the run to settle nothing itself.
   */
  #completion(
    delivery: Delivery,
    decided: () => boolean,
    stopTimers: () => void,
  ): { done: boolean; returned: boolean; complete: (tx: unknown) => Promise<void> } {
    const { transport } = this.#host;
    const { name } = this.spec;
    const id = delivery.message.id;
    let called = false;
    const state = {
      done: false,
      returned: false,
      complete: async (tx: unknown): Promise<void> => {
        const cannot = (why: string) =>
          new TypeError(`Cannot complete event ${id} for "${name}" ${why}`);
        if (!completes(transport) || typeof delivery.complete !== "function") {
          throw cannot(
            `inside a transaction as the ${transport.name} transport does not support transactions: use postgresTransport() from @x/soiree/postgres`,
          );
        }
        if (state.returned) throw cannot("as its listener has already returned");
        if (called) throw cannot("as complete() was already called for it");
        if (decided()) throw cannot("as its attempt is over (timed out, lease lost or closing)");
        if (typeof tx !== "object" || tx === null) {
          throw cannot(`as 'tx' must be a transaction (an object): received ${describeValue(tx)}`);
        }
        called = true;
        if (!await delivery.complete(tx)) {
          throw new Error(
            `Cannot complete event ${id} for "${name}" as its lease was lost: another process may be running it; roll the transaction back`,
          );
        }
        state.done = true;
        stopTimers();
      },
    };
    return state;
  }

  /**
   * Starts the attempt's timeout and renews its lease with the others in flight (one timer per
   * consumer, every third of a lease); returns the way to stop both.
   */
  #timers(delivery: Delivery, lost: () => void, timedOut: (reason: unknown) => void): () => void {
    const { spec } = this;
    const renewal = { delivery, lost };
    this.#renewals.add(renewal);
    this.#renewTimer ??= setInterval(() => this.#renew(), Math.max(1, Math.floor(spec.lease / 3)));
    const timeout = spec.timeout;
    const cancelTimeout = timeout === undefined ? undefined : startTimer(timeout, () => {
      timedOut(timeoutError(`The durable listener "${spec.name}"`, timeout));
    });
    return () => {
      cancelTimeout?.();
      if (!this.#renewals.delete(renewal) || this.#renewals.size > 0) return;
      clearInterval(this.#renewTimer);
      this.#renewTimer = undefined;
    };
  }

  /** Extends the lease of every delivery in flight; a refusal means the lease was lost. */
  #renew(): void {
    const { counters } = this.#host;
    const unreachable = (): void => {
      // The store is unreachable: keep trying; if the lease ends, another process takes it.
      counters.transportErrors++;
    };
    for (const renewal of this.#renewals) {
      try {
        renewal.delivery.extend(this.spec.lease).then((ok) => {
          if (!ok && this.#renewals.has(renewal)) renewal.lost();
        }, unreachable);
      } catch {
        unreachable();
      }
    }
  }
}
