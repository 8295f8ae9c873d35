/**
 * `@x/soiree/sqlite`: durable delivery on SQLite, with no server and no dependency. Events and
 * their deliveries live in one database file, so they survive restarts, and every process on
 * the machine that opens the file shares the work. Open it from a path with `node:sqlite`
 * (Node 22.13+, Deno, Bun), or pass a database you opened yourself (bun:sqlite, or
 * better-sqlite3 on Node 20).
 *
 * @example A durable listener whose events survive restarts
 * ```ts
 * import { Soiree } from "@x/soiree";
 * import { sqliteTransport } from "@x/soiree/sqlite";
 * import assert from "node:assert/strict";
 *
 * // A file path in production: "./events.db".
 * const soiree = new Soiree({ transport: await sqliteTransport(":memory:") });
 * const sent = Promise.withResolvers<unknown>();
 * soiree.on("user.created", (event) => sent.resolve(event.payload), { durable: "welcome-email" });
 *
 * const receipt = await soiree.publish("user.created", { email: "ada@example.com" }, {
 *   idempotencyKey: "signup:ada",
 * });
 * assert.deepEqual(await sent.promise, { email: "ada@example.com" });
 * const again = await soiree.publish("user.created", {}, { idempotencyKey: "signup:ada" });
 * assert.deepEqual(again, { id: receipt.id, duplicate: true });
 * await soiree.close(); // closes the transport, which closes the file it opened
 * ```
 *
 * @module
 */

export * from "./sqlite_transport.ts";
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
