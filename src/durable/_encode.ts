// Turning a payload into stored text with the emitter's codec, for `publish()` and
// `broadcast()`: a codec that throws or returns something else than a string becomes a
// `TypeError` that says which payload could not be encoded and why, before anything is sent.

import type { Codec } from "./codec.ts";
import { describeValue } from "../_topic.ts";

/** Encodes a payload with the codec, or throws a `TypeError` saying why it cannot. */
export function encode(codec: Codec, payload: unknown, action: string): string {
  try {
    const data = codec.encode(payload);
    if (typeof data !== "string") {
      throw new TypeError(`the codec returned ${describeValue(data)} instead of a string`);
    }
    return data;
  } catch (error) {
    throw new TypeError(
      `Cannot ${action} as its payload cannot be encoded with ${codec.contentType}: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
}
