// Broadcasts: `Soiree.broadcast()` sends an event to the plain listeners of every process that
// shares the transport, this one included, through the transport's optional `broadcast()` and
// `onBroadcast()`. Owns the receiving side too: it starts when the emitter is made, turns each
// message received into an `emit()` here, reports what it cannot deliver (a message that does
// not decode, listener failures nobody awaits, the transport's receiving errors) to the panic
// handler, and stops first when the emitter closes. At most once: nothing is stored.

import type { DurableStats } from "./durable_options.ts";
import type { StoredMessage, Transport } from "./transport.ts";
import type { FailurePath } from "../_failure.ts";
import type { Lifecycle } from "../_lifecycle.ts";
import { assertTopic, describeValue } from "../_topic.ts";
import { encodePayload, type Envelope } from "./_envelope.ts";
import { pause } from "./_abort.ts";

/** Runs an in-process emission of a received broadcast: `Soiree.emit()`. */
export type LocalEmit = (topic: string, payload: unknown) => Promise<readonly Error[]>;

const MAX_BACKOFF = 5_000;

/** An emitter's broadcasts, on a transport that has `broadcast()` and `onBroadcast()`. */
export class Broadcaster {
  readonly #transport: Transport;
  readonly #envelope: Envelope;
  readonly #failure: FailurePath;
  readonly #lifecycle: Lifecycle;
  readonly #counters: DurableStats;
  readonly #emit: LocalEmit;
  /** Settles once the first attempt to start receiving settled. */
  readonly #firstAttempt: Promise<void>;
  /** Settles once receiving started for good, or `stop()` ended the attempts. */
  readonly #started: Promise<void>;
  readonly #stopped = new AbortController();
  #stopReceiving: (() => Promise<void>) | undefined;
  #stopping: Promise<void> | undefined;
  /** Receiving errors since the last message received: only the first is reported. */
  #errors = 0;

  constructor(
    transport: Transport,
    envelope: Envelope,
    failure: FailurePath,
    lifecycle: Lifecycle,
    counters: DurableStats,
    emit: LocalEmit,
  ) {
    this.#transport = transport;
    this.#envelope = envelope;
    this.#failure = failure;
    this.#lifecycle = lifecycle;
    this.#counters = counters;
    this.#emit = emit;
    let attempted!: () => void;
    this.#firstAttempt = new Promise((resolve) => (attempted = resolve));
    this.#started = this.#start(attempted);
  }

  /** Starts receiving, again and again with backoff until it works or `stop()` is called. */
  async #start(attempted: () => void): Promise<void> {
    for (let failures = 0; !this.#stopped.signal.aborted; failures++) {
      try {
        const stop = await this.#transport.onBroadcast!(
          (message) => this.#receive(message),
          (error) => this.#failed("failed receiving broadcasts", error),
        );
        if (this.#stopped.signal.aborted) await stop();
        else this.#stopReceiving = stop;
        return attempted();
      } catch (error) {
        this.#failed("could not start receiving broadcasts; retrying with backoff", error);
      }
      attempted();
      const bound = Math.min(MAX_BACKOFF, 100 * 2 ** Math.min(failures, 16));
      await pause(bound / 2 + Math.random() * bound / 2, this.#stopped.signal);
    }
  }

  /**
   * Sends an event, once this emitter receives broadcasts (so its own listeners get it too).
   *
   * @throws {TypeError} When the payload cannot be encoded (before anything is sent).
   */
  send(topic: string, payload: unknown, id: string): Promise<void> {
    const action = `broadcast ${describeValue(topic)}`;
    const text = encodePayload(this.#envelope, payload, action);
    const publishedAt = Date.now();
    // The same CloudEvents document as a published event's (see _envelope.ts).
    const data = this.#envelope.wrap(id, topic, text, publishedAt, undefined, undefined);
    return this.#send({ id, topic, data, publishedAt }, action);
  }

  async #send(message: StoredMessage, action: string): Promise<void> {
    await this.#firstAttempt;
    try {
      await this.#transport.broadcast!(message);
      this.#counters.broadcastsSent++;
    } catch (error) {
      throw new Error(
        `Cannot ${action} as the ${this.#transport.name} transport failed to send it`,
        {
          cause: error,
        },
      );
    }
  }

  #receive(message: StoredMessage): void {
    this.#errors = 0;
    // At most once: an emitter that is closing takes no more broadcasts.
    if (this.#lifecycle.closed) return;
    let payload: unknown;
    try {
      assertTopic(message?.topic, "receive a broadcast");
      payload = this.#envelope.payload(this.#envelope.parse(message.data));
    } catch (error) {
      return this.#report(`dropped broadcast ${describeValue(message?.id)}`, error);
    }
    this.#counters.broadcastsReceived++;
    void this.#emit(message.topic, payload).then((errors) => {
      for (const error of errors) {
        this.#report(`ran broadcast ${describeValue(message.topic)} and a listener failed`, error);
      }
    });
  }

  /** Counts a failure of the receiving side and reports the first of a streak. */
  #failed(what: string, error: unknown): void {
    this.#counters.transportErrors++;
    if (this.#errors++ === 0) this.#report(what, error);
  }

  #report(what: string, error: unknown): void {
    this.#failure.panic(
      new Error(`Soiree ${what} (${this.#transport.name} transport)`, { cause: error }),
    );
  }

  /** Stops receiving, once: `close()` has begun. */
  stop(): Promise<void> {
    this.#stopped.abort();
    this.#stopping ??= this.#started.then(async () => {
      try {
        await this.#stopReceiving?.();
      } catch (error) {
        this.#report("could not stop receiving broadcasts", error);
      }
    });
    return this.#stopping;
  }
}
