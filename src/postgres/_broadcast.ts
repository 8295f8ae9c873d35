// Broadcasts over PostgreSQL NOTIFY: one channel per schema (`soireebroadcast_<schema>`), each
// message one JSON text with the event's ID, topic, encoded data and time
// (`durable/_broadcast_message.ts`), received on the transport's LISTEN session (`_listen.ts`).
// Nothing is stored, so a process that is not listening at that moment misses it (at most
// once). A NOTIFY payload must be shorter than 8,000 bytes: a longer message is refused before
// anything is sent. Also opens that session for the transport, on both channels.

import type { StoredMessage, Transport } from "../durable/transport.ts";
import { formatBroadcast, receiveText } from "../durable/_broadcast_message.ts";
import { channelName, ListenSession } from "./_listen.ts";
import type { Queryable } from "./_schema.ts";

/** The longest NOTIFY payload PostgreSQL takes, in bytes (it must be shorter than 8,000). */
export const NOTIFY_LIMIT = 7_999;

const encoder = new TextEncoder();

/**
 * Sends `message` to every session listening on `channel`.
 *
 * @throws {RangeError} When the message's text is over {@linkcode NOTIFY_LIMIT} bytes.
 */
export async function sendBroadcast(
  client: Queryable,
  channel: string,
  message: StoredMessage,
): Promise<void> {
  const text = formatBroadcast(message);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count only when it might be too long.
  const bytes = text.length * 3 > NOTIFY_LIMIT ? encoder.encode(text).length : text.length;
  if (bytes > NOTIFY_LIMIT) {
    throw new RangeError(
      `Cannot broadcast ${
        JSON.stringify(message.topic)
      } on PostgreSQL as its message is ${bytes} bytes and a NOTIFY payload must be under 8000: send a smaller payload (an ID to fetch), or publish() it`,
    );
  }
  await client.query("SELECT pg_notify($1, $2)", [channel, text]);
}

/**
 * The broadcast receivers of one transport: its LISTEN session (`_listen.ts`) carries the
 * broadcast channel beside the wake-ups, so receiving costs no connection of its own. A receiver
 * starts once the session has first opened or failed, and hears of each failure of it.
 */
export class BroadcastReceivers {
  readonly #receivers = new Set<Receiver>();
  /**
   * Whether the session has opened or failed at least once. Until then a receiver waits for it;
   * after, it starts at once: a session that is down does not hold a `broadcast()`, which goes
   * ahead and reports what the store says, and the receiver hears the messages once the session
   * listens again.
   */
  #tried = false;
  /** Receivers waiting for the session's first outcome. */
  #waiting = new Set<() => void>();

  /** A text arrived on the broadcast channel. */
  deliver(text: string): void {
    for (const receiver of this.#receivers) receiver.text(text);
  }

  /** The session listens, first or again. */
  opened(): void {
    this.#startWaiting();
  }

  /**
   * The session failed to open, or dropped: every receiver hears of it, and the ones waiting
   * for it start now.
   */
  failed(error: unknown): void {
    this.#startWaiting();
    for (const receiver of this.#receivers) receiver.onError(error);
  }

  #startWaiting(): void {
    this.#tried = true;
    const waiting = this.#waiting;
    this.#waiting = new Set();
    for (const start of waiting) start();
  }

  /**
   * Adds a receiver; resolves with its stop once the session has opened or failed (see
   * `#tried`), or rejects with `signal.reason` when it aborts first.
   */
  add(
    handler: (message: StoredMessage) => void,
    onError: (error: unknown) => void,
    signal?: AbortSignal,
  ): Promise<() => Promise<void>> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const receiver: Receiver = { text: receiveText(handler, onError), onError };
    const stop = (): Promise<void> => {
      this.#receivers.delete(receiver);
      return Promise.resolve();
    };
    this.#receivers.add(receiver);
    if (this.#tried) return Promise.resolve(stop);
    return new Promise((resolve, reject) => {
      const start = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve(stop);
      };
      const onAbort = (): void => {
        this.#waiting.delete(start);
        this.#receivers.delete(receiver);
        reject(signal!.reason);
      };
      this.#waiting.add(start);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** One receiver: its text handler and where its failures go. */
interface Receiver {
  text(text: string): void;
  onError(error: unknown): void;
}

/** The transport's LISTEN session, with the broadcast side that rides it. */
export interface Listening {
  session: ListenSession;
  broadcast: NonNullable<Transport["broadcast"]>;
  onBroadcast: NonNullable<Transport["onBroadcast"]>;
}

/**
 * Opens the transport's LISTEN session on the schema's wake-up channel and its broadcast one:
 * `wake` gets each wake-up payload, and `"*"` whenever the session opens (whatever was
 * published while it was down); `checkOpen` throws once the transport is closed.
 */
export function listen(
  client: ConstructorParameters<typeof ListenSession>[0] & Queryable,
  schema: string,
  wake: (payload: string) => void,
  checkOpen: (action: string) => void,
): Listening {
  const wakeChannel = channelName(schema);
  const broadcastChannel = channelName(schema, "broadcast");
  const receivers = new BroadcastReceivers();
  const session = new ListenSession(
    client,
    [wakeChannel, broadcastChannel],
    (channel, payload) => channel === broadcastChannel ? receivers.deliver(payload) : wake(payload),
    1_000,
    {
      opened: () => {
        wake("*");
        receivers.opened();
      },
      // Wake-ups need nothing (polling covers the time it is down); broadcasts are missed then.
      failed: (error) => receivers.failed(error),
    },
  );
  return {
    session,
    broadcast: (message) => {
      checkOpen("broadcast");
      return sendBroadcast(client, broadcastChannel, message);
    },
    onBroadcast: (handler, onError, signal) => {
      checkOpen("receive broadcasts");
      return receivers.add(handler, onError, signal);
    },
  };
}
