// The text of a broadcast on the wire, shared by the transports that send broadcasts through a
// channel of their engine (Redis Pub/Sub, PostgreSQL NOTIFY): one JSON object with the event's
// ID, topic, encoded data and time. Writing it, and reading it back with a clear error for a
// text another program put on the channel, which goes to the receiver's `onError`.

import type { StoredMessage } from "./transport.ts";
import { describeValue } from "../_topic.ts";

/** The text that carries `message` on a channel. */
export function formatBroadcast(message: StoredMessage): string {
  const { id, topic, data, publishedAt } = message;
  return JSON.stringify({ id, topic, data, publishedAt });
}

/**
 * Reads a text {@linkcode formatBroadcast} wrote.
 *
 * @throws {SyntaxError} When it is not JSON.
 * @throws {TypeError} When it is not an object with a string `id`, `topic` and `data` and a
 * finite `publishedAt`, naming the field.
 */
export function parseBroadcast(text: string): StoredMessage {
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

/**
 * What a transport calls with each text its channel delivers: `handler` with the message, or
 * `onError` with why the text is not one.
 */
export function receiveText(
  handler: (message: StoredMessage) => void,
  onError: (error: unknown) => void,
): (text: string) => void {
  return (text) => {
    let message: StoredMessage;
    try {
      message = parseBroadcast(text);
    } catch (error) {
      return onError(error);
    }
    handler(message);
  };
}
