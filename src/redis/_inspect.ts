// A durable name's queue state for `Transport.inspect()` (the queue gauges of
// `Soiree.metrics()`), read from the server at scrape time by one script (INSPECT in
// _scripts.ts). Owns turning its reply into a `QueueState`, nothing else.

import type { QueueState } from "../durable/transport.ts";
import { int, list, type Scripts, text } from "./_reply.ts";
import { INSPECT } from "./_scripts.ts";

/**
 * Counts the deliveries of `name` by state, with how long (ms) the oldest ready one has waited.
 *
 * @param keys The stream, the name's due set and its dead-letter stream.
 * @param now The scripts' time argument ("" for the server's clock).
 */
export async function inspectQueue(
  scripts: Scripts,
  keys: readonly [string, string, string],
  now: string,
  name: string,
): Promise<QueueState> {
  const reply = list(await scripts.run(INSPECT, keys, [now, name]));
  const oldest = reply[4];
  const lag = oldest === null || oldest === false || oldest === undefined
    ? 0
    : Math.max(0, Number(text(reply[5])) - Number(text(oldest)));
  return {
    ready: int(reply[0]),
    delayed: int(reply[1]),
    inFlight: int(reply[2]),
    dead: int(reply[3]),
    lag,
  };
}
