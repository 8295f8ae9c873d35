// Broadcasts over PostgreSQL NOTIFY: one channel per schema (`soiree_<schema>_broadcast`), each
// message one JSON text with the event's ID, topic, encoded data and time
// (`durable/_broadcast_message.ts`), received on a LISTEN session of its own (`_listen.ts`).
// Nothing is stored, so a process that is not listening at that moment misses it (at most
// once). A NOTIFY payload must be shorter than 8,000 bytes: a longer message is refused before
// anything is sent.

import type { StoredMessage } from "../durable/transport.ts";
import { formatBroadcast, receiveText } from "../durable/_broadcast_message.ts";
import { ListenSession } from "./_listen.ts";
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
 * Listens on `channel` in a session of its own; resolves with the stop once the session is
 * listening, or rejects with `signal.reason` when it aborts first (the session is closed). A
 * session that fails or drops goes to `onError` and is opened again.
 */
export function receiveBroadcasts(
  client: ConstructorParameters<typeof ListenSession>[0],
  channel: string,
  handler: (message: StoredMessage) => void,
  onError: (error: unknown) => void,
  signal?: AbortSignal,
): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    let started = false;
    const stop = (): Promise<void> => session.close();
    const onAbort = (): void => {
      if (started) return;
      started = true;
      void stop();
      reject(signal!.reason);
    };
    const session = new ListenSession(
      client,
      channel,
      receiveText(handler, onError),
      1_000,
      {
        opened: () => {
          if (started) return;
          started = true;
          signal?.removeEventListener("abort", onAbort);
          resolve(stop);
        },
        failed: onError,
      },
    );
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
}
