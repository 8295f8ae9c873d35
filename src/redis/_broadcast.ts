// Broadcasts over Redis Pub/Sub: one channel per key prefix (`{prefix}:broadcast`), each
// message one JSON text with the event's ID, topic, encoded data and time. Nothing is stored,
// so a process that is not subscribed at that moment misses it (at most once). The subscribed
// connection is the adapter's (`RedisConnection.subscribe()`): a duplicate of the user's
// client, which re-subscribes by itself after a reconnect.

import type { StoredMessage } from "../durable/transport.ts";
import type { RedisConnection } from "./adapters.ts";
import { describeValue } from "../_topic.ts";

/** Sends `message` to every subscriber of `channel`. */
export async function sendBroadcast(
  client: RedisConnection,
  channel: string,
  message: StoredMessage,
): Promise<void> {
  const { id, topic, data, publishedAt } = message;
  await client.command(["PUBLISH", channel, JSON.stringify({ id, topic, data, publishedAt })]);
}

/** Subscribes to `channel` through the connection's `subscribe()`; resolves with the stop. */
export function receiveBroadcasts(
  client: RedisConnection,
  channel: string,
  handler: (message: StoredMessage) => void,
  onError: (error: unknown) => void,
): Promise<() => Promise<void>> {
  return client.subscribe!(channel, (text) => {
    let message: StoredMessage;
    try {
      message = parseBroadcast(text);
    } catch (error) {
      return onError(error);
    }
    handler(message);
  }, onError);
}

/** Reads a message `sendBroadcast()` sent, or throws a `TypeError` naming the bad field. */
function parseBroadcast(text: string): StoredMessage {
  const fields = JSON.parse(text) as Record<string, unknown> | null;
  if (typeof fields !== "object" || fields === null) {
    throw new TypeError(`A broadcast must be a JSON object: received ${describeValue(text)}`);
  }
  for (const field of ["id", "topic", "data"]) {
    if (typeof fields[field] !== "string") {
      throw new TypeError(
        `A broadcast's '${field}' must be a string: received ${describeValue(fields[field])}`,
      );
    }
  }
  if (!Number.isFinite(fields.publishedAt)) {
    throw new TypeError(
      `A broadcast's 'publishedAt' must be a number: received ${describeValue(fields.publishedAt)}`,
    );
  }
  return fields as unknown as StoredMessage;
}
