/**
 * `@x/soiree/redis`: durable delivery on Redis Streams, through your own Redis client. Soiree
 * imports no driver: wrap your node-redis or ioredis client with `fromNodeRedis()` or
 * `fromIoredis()` (either protocol), and give the transport a second connection for blocking
 * reads if you can. Every process that uses the same server and key prefix shares the work.
 *
 * @example Wiring it up with node-redis
 * ```ts ignore
 * import { createClient } from "redis";
 * import { Soiree } from "@x/soiree";
 * import { fromNodeRedis, redisTransport } from "@x/soiree/redis";
 *
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * const blocking = await client.duplicate().connect(); // for blocking reads
 * const soiree = new Soiree({
 *   transport: redisTransport({ client: fromNodeRedis(client), blocking: fromNodeRedis(blocking) }),
 * });
 * soiree.on("user.created", (event) => console.log(event.payload), { durable: "welcome-email" });
 * await soiree.publish("user.created", { email: "ada@example.com" });
 * await soiree.close(); // the clients stay open: they are yours
 * await Promise.all([client.quit(), blocking.quit()]);
 * ```
 *
 * @example The adapters need no server
 * ```ts
 * import { fromIoredis, redisTransport } from "@x/soiree/redis";
 * import assert from "node:assert/strict";
 *
 * const fake = { call: async (command: string) => (command === "PING" ? "PONG" : null) };
 * const transport = redisTransport({ client: fromIoredis(fake) });
 * assert.equal(transport.name, "redis");
 * await transport.close();
 * ```
 *
 * @module
 */

export * from "./adapters.ts";
export * from "./redis_transport.ts";
// The contract's types that the signatures above name, so that this entry point documents
// itself; they are the same types `@x/soiree` exports.
export type {
  Clock,
  Delivery,
  DurableSubscription,
  OutgoingMessage,
  PublishReceipt,
  StoredDeadLetter,
  StoredMessage,
  Transport,
} from "../durable/transport.ts";
