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
  /**
   * Optional, for `Soiree.broadcast()`: subscribes to a Pub/Sub channel on a connection of its
   * own (a subscribed connection can send nothing else), calling `onMessage` with each
   * message's text and `onError` with each error of that connection, and re-subscribing by
   * itself after a reconnect. Resolves once subscribed, with a function that unsubscribes and
   * closes that connection. The adapters make that connection with the client's `duplicate()`.
   */
  subscribe?(
    channel: string,
    onMessage: (message: string) => void,
    onError: (error: unknown) => void,
  ): Promise<() => Promise<void>>;
}

/**
 * The part of a node-redis client that a Pub/Sub subscription uses: what `client.duplicate()`
 * returns (`redis` 4 to 6).
 *
 * @example
 * ```ts
 * import type { NodeRedisSubscriber } from "@x/soiree/redis";
 *
 * const subscriber: NodeRedisSubscriber = {
 *   connect: async () => {},
 *   subscribe: async () => {},
 *   unsubscribe: async () => {},
 *   on: () => {},
 *   close: async () => {},
 * };
 * void subscriber;
 * ```
 */
export interface NodeRedisSubscriber {
  /** Opens the connection. */
  connect(): Promise<unknown>;
  /** Subscribes `listener(message, channel)` to `channel`. */
  subscribe(
    channel: string,
    listener: (message: string, channel: string) => void,
  ): Promise<unknown>;
  /** Unsubscribes from `channel`. */
  unsubscribe(channel: string): Promise<unknown>;
  /** Listens to the connection's `"error"` events (reconnects included). */
  on(event: "error", listener: (error: unknown) => void): unknown;
  /** Closes the connection (`redis` 5 and 6). */
  close?(): Promise<unknown>;
  /** Closes the connection (`redis` 4). */
  quit?(): Promise<unknown>;
}

/**
 * The part of an ioredis client that a Pub/Sub subscription uses: what `client.duplicate()`
 * returns (`ioredis` 5 and 6).
 *
 * @example
 * ```ts
 * import type { IoredisSubscriber } from "@x/soiree/redis";
 *
 * const subscriber: IoredisSubscriber = {
 *   subscribe: async () => 1,
 *   unsubscribe: async () => 0,
 *   on: () => {},
 *   quit: async () => "OK",
 * };
 * void subscriber;
 * ```
 */
export interface IoredisSubscriber {
  /** Subscribes to `channel`; messages arrive as `"message"` events. */
  subscribe(channel: string): Promise<unknown>;
  /** Unsubscribes from `channel`. */
  unsubscribe(channel: string): Promise<unknown>;
  /** Listens to `"message"` (channel, message) and `"error"` events. */
  on(event: string, listener: (...args: never[]) => void): unknown;
  /** Closes the connection. */
  quit(): Promise<unknown>;
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
  /** A new client with the same options, for a Pub/Sub subscription (`broadcast()`). */
  duplicate?(): NodeRedisSubscriber;
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
  /** A new client with the same options, for a Pub/Sub subscription (`broadcast()`). */
  duplicate?(): IoredisSubscriber;
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
  const connection: RedisConnection = { command: (args) => client.sendCommand([...args]) };
  if (typeof client.duplicate !== "function") return connection;
  connection.subscribe = async (channel, onMessage, onError) => {
    const subscriber = client.duplicate!();
    subscriber.on("error", onError);
    const close = async (): Promise<void> => {
      await (subscriber.close ?? subscriber.quit)?.call(subscriber);
    };
    try {
      await subscriber.connect();
      await subscriber.subscribe(channel, (message) => onMessage(message));
    } catch (error) {
      await close().catch(() => {});
      throw error;
    }
    return async () => {
      try {
        await subscriber.unsubscribe(channel);
      } finally {
        await close();
      }
    };
  };
  return connection;
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
  const connection: RedisConnection = {
    command: ([name, ...args]) => client.call(name, ...args),
  };
  if (typeof client.duplicate !== "function") return connection;
  connection.subscribe = async (wanted, onMessage, onError) => {
    const subscriber = client.duplicate!();
    subscriber.on("error", onError as (...args: never[]) => void);
    subscriber.on(
      "message",
      ((channel: string, message: string) => {
        if (channel === wanted) onMessage(message);
      }) as (...args: never[]) => void,
    );
    try {
      // ioredis connects on its own and subscribes again after each reconnect.
      await subscriber.subscribe(wanted);
    } catch (error) {
      await subscriber.quit().catch(() => {});
      throw error;
    }
    return async () => {
      try {
        await subscriber.unsubscribe(wanted);
      } finally {
        await subscriber.quit();
      }
    };
  };
  return connection;
}
