// Reading replies of any Redis client in either protocol, and running the transport's scripts.
// RESP2 and RESP3 differ only in maps (an object, a Map, a flat [k, v, …] array or an array of
// pairs) and in how strings and integers arrive (string, Buffer/Uint8Array, number, bigint);
// the scripts' replies are arrays of those. Owns the normalisation and the script-SHA cache.

import type { RedisConnection } from "./adapters.ts";

const decoder = new TextDecoder();

/** A bulk or simple string, a number or a byte array, as a string. */
export function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return decoder.decode(value);
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  throw new TypeError(`Cannot read a Redis reply as text: received ${typeof value}`);
}

/** An integer reply, as a number. */
export function int(value: unknown): number {
  const number = Number(typeof value === "number" ? value : text(value));
  if (!Number.isFinite(number)) {
    throw new TypeError(`Cannot read a Redis reply as a number: received ${String(value)}`);
  }
  return number;
}

/** An array reply (`null` as empty). */
export function list(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value;
  throw new TypeError(`Cannot read a Redis reply as an array: received ${typeof value}`);
}

/**
 * A map reply in any of its shapes, as [key, value] pairs: a RESP3 map read as an object or a
 * `Map`, a flat `[k, v, k, v]` array, or an array of `[k, v]` pairs (RESP2 `XREAD`).
 */
export function pairs(value: unknown): [string, unknown][] {
  if (value === null || value === undefined) return [];
  if (value instanceof Map) return [...value].map(([k, v]) => [text(k), v]);
  if (!Array.isArray(value)) {
    if (typeof value === "object") return Object.entries(value);
    throw new TypeError(`Cannot read a Redis reply as a map: received ${typeof value}`);
  }
  if (value.every((item) => Array.isArray(item) && item.length === 2)) {
    return value.map(([k, v]) => [text(k), v]);
  }
  const found: [string, unknown][] = [];
  for (let i = 0; i + 1 < value.length; i += 2) found.push([text(value[i]), value[i + 1]]);
  return found;
}

/** A flat `[field, value, …]` list of a stream entry, as an object of strings. */
export function fields(value: unknown): Record<string, string> {
  const found: Record<string, string> = {};
  const items = list(value);
  for (let i = 0; i + 1 < items.length; i += 2) found[text(items[i])] = text(items[i + 1]);
  return found;
}

/** The newest entry ID in an `XREAD` reply, or `undefined` when it has none. */
export function newestId(reply: unknown): string | undefined {
  let newest: string | undefined;
  for (const [, entries] of pairs(reply)) {
    for (const entry of list(entries)) {
      const id = text(list(entry)[0]);
      if (newest === undefined || compareIds(id, newest) > 0) newest = id;
    }
  }
  return newest;
}

/** Orders two stream IDs (`<ms>-<seq>`). */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am !== bm ? am - bm : (as ?? 0) - (bs ?? 0);
}

/** Whether an error is the server's reply starting with `code` (`NOSCRIPT`, `NOGROUP`). */
export function isReplyError(error: unknown, code: string): boolean {
  return error instanceof Error && error.message.startsWith(code);
}

/**
 * Runs the transport's scripts by SHA (`EVALSHA`), loading each once per connection and again
 * after the server forgot it (a restart, `SCRIPT FLUSH`).
 */
export class Scripts {
  readonly #connection: RedisConnection;
  readonly #shas = new Map<string, Promise<string>>();

  constructor(connection: RedisConnection) {
    this.#connection = connection;
  }

  /** Runs `script` with `keys` and `args`; rejects with the server's error as it is. */
  async run(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const call = async (): Promise<unknown> => {
      const sha = await this.#sha(script);
      return this.#connection.command(["EVALSHA", sha, String(keys.length), ...keys, ...args]);
    };
    try {
      return await call();
    } catch (error) {
      if (!isReplyError(error, "NOSCRIPT")) throw error;
      this.#shas.delete(script);
      return await call();
    }
  }

  #sha(script: string): Promise<string> {
    let sha = this.#shas.get(script);
    if (sha === undefined) {
      sha = this.#connection.command(["SCRIPT", "LOAD", script]).then(text);
      sha.catch(() => this.#shas.delete(script));
      this.#shas.set(script, sha);
    }
    return sha;
  }
}
