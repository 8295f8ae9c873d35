/**
 * The one call the Redis transport needs from a Redis client, and one-line adapters for the two
 * common Node clients. Soiree imports no driver: you pass your own client.
 *
 * @module
 */

/**
 * A connection to Redis as the transport uses it: one raw command in, the raw reply out. Any
 * client fits through a one-line adapter ({@linkcode fromNodeRedis}, {@linkcode fromIoredis}),
 * in either protocol (RESP2 or RESP3): the transport reads maps whether they arrive as objects,
 * `Map`s or flat arrays, and strings whether they arrive as strings or bytes.
 *
 * @example A connection over a fake client
 * ```ts
 * import type { RedisConnection } from "@x/soiree/redis";
 * import assert from "node:assert/strict";
 *
 * const connection: RedisConnection = {
 *   command: async (args) => (args[0] === "PING" ? "PONG" : null),
 * };
 * assert.equal(await connection.command(["PING"]), "PONG");
 * ```
 */
export interface RedisConnection {
  /**
   * Sends one command (`["XADD", "key", "*", …]`: the name, then its arguments) and resolves
   * with the server's reply as the client decoded it; rejects with the client's error, whose
   * message starts with the server's error code (`NOSCRIPT …`, `NOGROUP …`).
   */
  command(args: readonly string[]): Promise<unknown>;
}

/**
 * The part of a node-redis client (`redis` 4 to 6, `createClient()`) that
 * {@linkcode fromNodeRedis} uses.
 *
 * @example
 * ```ts
 * import type { NodeRedisClient } from "@x/soiree/redis";
 *
 * const client: NodeRedisClient = { sendCommand: async () => "OK" };
 * void client;
 * ```
 */
export interface NodeRedisClient {
  /** Sends a raw command: node-redis `client.sendCommand(args)`. */
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * The part of an ioredis client (`ioredis` 5 and 6, `new Redis()`) that {@linkcode fromIoredis}
 * uses.
 *
 * @example
 * ```ts
 * import type { IoredisClient } from "@x/soiree/redis";
 *
 * const client: IoredisClient = { call: async () => "OK" };
 * void client;
 * ```
 */
export interface IoredisClient {
  /** Sends a raw command: ioredis `client.call(name, ...args)`. */
  call(command: string, ...args: string[]): Promise<unknown>;
}

/**
 * Adapts a node-redis client (`redis` 4 to 6) to a {@linkcode RedisConnection}: each command goes
 * through `client.sendCommand(args)`. The client stays yours: Soiree never connects, closes or
 * reconfigures it. Both protocols work (`RESP: 2` or `3`).
 *
 * @param client A connected node-redis client (`await createClient({ url }).connect()`).
 * @returns The connection; it holds no state besides the client.
 * @throws {TypeError} When `client` has no `sendCommand` method.
 *
 * @example Over a fake client that records what it was sent
 * ```ts
 * import { fromNodeRedis } from "@x/soiree/redis";
 * import assert from "node:assert/strict";
 *
 * const sent: string[][] = [];
 * const client = { sendCommand: async (args: string[]) => (sent.push(args), "PONG") };
 * const connection = fromNodeRedis(client);
 * assert.equal(await connection.command(["PING"]), "PONG");
 * assert.deepEqual(sent, [["PING"]]);
 * ```
 */
export function fromNodeRedis(client: NodeRedisClient): RedisConnection {
  if (typeof client?.sendCommand !== "function") {
    throw new TypeError(
      "Cannot adapt the node-redis client as it has no sendCommand() method: pass the client createClient() made",
    );
  }
  return { command: (args) => client.sendCommand([...args]) };
}

/**
 * Adapts an ioredis client (`ioredis` 5 and 6) to a {@linkcode RedisConnection}: each command goes
 * through `client.call(name, ...args)`. The client stays yours: Soiree never connects, closes or
 * reconfigures it. Both protocols work (`protocol: 2` or `3`).
 *
 * @param client An ioredis client (`new Redis(url)`).
 * @returns The connection; it holds no state besides the client.
 * @throws {TypeError} When `client` has no `call` method.
 *
 * @example Over a fake client that records what it was sent
 * ```ts
 * import { fromIoredis } from "@x/soiree/redis";
 * import assert from "node:assert/strict";
 *
 * const sent: string[][] = [];
 * const client = {
 *   call: async (command: string, ...args: string[]) => (sent.push([command, ...args]), "OK"),
 * };
 * const connection = fromIoredis(client);
 * assert.equal(await connection.command(["SET", "k", "v"]), "OK");
 * assert.deepEqual(sent, [["SET", "k", "v"]]);
 * ```
 */
export function fromIoredis(client: IoredisClient): RedisConnection {
  if (typeof client?.call !== "function") {
    throw new TypeError(
      "Cannot adapt the ioredis client as it has no call() method: pass the client new Redis() made",
    );
  }
  return { command: ([name, ...args]) => client.call(name, ...args) };
}
