/**
 * `@x/soiree/postgres`: durable delivery on PostgreSQL through your own client (`pg`, or
 * `postgres` and PGlite through an adapter), with the transactional outbox: `publish(…, { tx })`
 * stores the event in your transaction, and `event.complete(tx)` acks a delivery in the
 * listener's. Tables live in a schema of their own (`soiree` by default), created on open.
 *
 * @example A durable listener on PostgreSQL (runs where DATABASE_URL is set)
 * ```ts
 * import pg from "pg";
 * import process from "node:process";
 * import assert from "node:assert/strict";
 * import { Soiree } from "@x/soiree";
 * import { postgresTransport } from "@x/soiree/postgres";
 *
 * const url = process.env.DATABASE_URL;
 * if (url !== undefined) {
 *   const db = new pg.Pool({ connectionString: url });
 *   const schema = `doc_${crypto.randomUUID().slice(0, 8)}`; // "soiree" unless you say
 *   const soiree = new Soiree({ transport: await postgresTransport({ client: db, schema }) });
 *   const sent = Promise.withResolvers<unknown>();
 *   soiree.on("user.created", (event) => sent.resolve(event.payload), {
 *     durable: "welcome-email",
 *   });
 *   await soiree.publish("user.created", { email: "ada@example.com" });
 *   assert.deepEqual(await sent.promise, { email: "ada@example.com" });
 *   await soiree.close();
 *   await db.query(`DROP SCHEMA ${schema} CASCADE`);
 *   await db.end();
 * }
 * ```
 *
 * @module
 */

export * from "./postgres_transport.ts";
export * from "./adapters.ts";
// The contract's types that the signatures above name, so that this entry point documents
// itself; they are the same types `@x/soiree` exports.
export type {
  Clock,
  Delivery,
  DurableSubscription,
  OutgoingMessage,
  PublishReceipt,
  QueueState,
  StoredDeadLetter,
  StoredMessage,
  Transport,
  TransportFeatures,
} from "../durable/transport.ts";
