// What a transport declares beyond the contract (`Transport.features`): the checks of
// `publish()`'s `tx` and `key` options against it, which refuse an option the transport does
// not support before anything is stored. Owns the list of Soiree's transports that support each.

import type { Transport } from "./transport.ts";
import { describeValue } from "../_topic.ts";

/** Soiree's own transports that support each feature, for the error messages. */
const SUPPORTED_BY = {
  transactions: "postgresTransport() from @x/soiree/postgres",
  orderingKeys:
    "memoryTransport(), sqliteTransport() from @x/soiree/sqlite or postgresTransport() from @x/soiree/postgres",
} as const;

/** `publish()`'s `tx` and `key`, checked against the transport. */
export interface Extensions {
  readonly tx: unknown;
  readonly key: string | undefined;
}

/**
 * Checks `publish()`'s `tx` and `key` options.
 *
 * @throws {TypeError} For a `key` that is not a string of 1 to 256 characters, a `tx` that is
 * not an object, or either one on a transport that does not declare it in `features`.
 */
export function checkExtensions(
  transport: Transport,
  options: { tx?: unknown; key?: unknown } | undefined,
  action: string,
): Extensions {
  const key = checkKeyOption(options?.key, "key", action);
  const tx = options?.tx;
  if (tx !== undefined && (typeof tx !== "object" || tx === null)) {
    throw new TypeError(
      `Cannot ${action} as 'tx' must be a transaction of the transport's engine (an object): received ${
        describeValue(tx)
      }`,
    );
  }
  if (key !== undefined) demand(transport, "orderingKeys", "'key' (ordering keys)", action);
  if (tx !== undefined) demand(transport, "transactions", "'tx' (transactions)", action);
  return { tx, key };
}

/** Whether `transport` acks inside a caller's transaction. */
export function completes(transport: Transport): boolean {
  return transport.features?.transactions === true;
}

function demand(
  transport: Transport,
  feature: keyof typeof SUPPORTED_BY,
  option: string,
  action: string,
): void {
  if (transport.features?.[feature] === true) return;
  throw new TypeError(
    `Cannot ${action} as the ${transport.name} transport does not support ${option}: use ${
      SUPPORTED_BY[feature]
    }`,
  );
}

/** Checks a key option (`key`, `idempotencyKey`): `undefined`, or a string of 1 to 256 characters. */
export function checkKeyOption(value: unknown, option: string, action: string): string | undefined {
  if (
    value !== undefined && (typeof value !== "string" || value.length === 0 || value.length > 256)
  ) {
    throw new TypeError(
      `Cannot ${action} as '${option}' must be a string of 1 to 256 characters: received ${
        describeValue(value)
      }`,
    );
  }
  return value as string | undefined;
}
