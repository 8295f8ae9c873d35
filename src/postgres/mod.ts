/**
 * `@x/soiree/postgres`: durable delivery on PostgreSQL through your own client (`pg`, or
 * `postgres` and PGlite through an adapter), with the transactional outbox: `publish(…, { tx })`
 * stores the event in your transaction, and `event.complete(tx)` acks a delivery in the
 * listener's. Tables live in a schema of their own (`soiree` by default), created on open.
 *
 * @example The outbox: the user row and its event commit together
 * ```ts ignore
 * import pg from "pg";
 * import { Soiree } from "@x/soiree";
 * import { postgresTransport } from "@x/soiree/postgres";
 *
 * const db = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const soiree = new Soiree({ transport: await postgresTransport({ client: db }) });
 * const tx = await db.connect();
 * await tx.query("BEGIN");
 * const { rows: [user] } = await tx.query(
 *   "INSERT INTO users (email) VALUES ($1) RETURNING id",
 *   ["ada@example.com"],
 * );
 * await soiree.publish("user.created", user, { tx }); // exists if and only if this commits
 * await tx.query("COMMIT");
 * tx.release();
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
