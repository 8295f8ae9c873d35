// Broadcasts over Redis Pub/Sub: one channel per key prefix (`{prefix}:broadcast`), each
// message one JSON text with the event's ID, topic, encoded data and time
// (`durable/_broadcast_message.ts`). Nothing is stored, so a process that is not subscribed at
// that moment misses it (at most once). The subscribed connection is the adapter's
// (`RedisConnection.subscribe()`): a duplicate of the user's client, which re-subscribes by
// itself after a reconnect.

import type { StoredMessage } from "../durable/transport.ts";
import { formatBroadcast, receiveText } from "../durable/_broadcast_message.ts";
import type { RedisConnection } from "./adapters.ts";

/** Sends `message` to every subscriber of `channel`. */
export async function sendBroadcast(
  client: RedisConnection,
  channel: string,
  message: StoredMessage,
): Promise<void> {
  await client.command(["PUBLISH", channel, formatBroadcast(message)]);
}

/**
 * Subscribes to `channel` through the connection's `subscribe()`; resolves with the stop, or
 * rejects when `signal` aborts first.
 */
export function receiveBroadcasts(
  client: RedisConnection,
  channel: string,
  handler: (message: StoredMessage) => void,
  onError: (error: unknown) => void,
  signal?: AbortSignal,
): Promise<() => Promise<void>> {
  return client.subscribe!(channel, receiveText(handler, onError), onError, signal);
}
