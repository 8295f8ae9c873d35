/**
 * Soiree: events for services that must bound their workloads, in process and durable across processes.
 *
 * Dot-separated topics with `*` (one segment) and `**` (any depth) patterns, listener
 * priorities and abort, error and panic handlers, ULID listener IDs, compile-time checked
 * topics and payloads, and a semaphore pool that bounds how many listeners of one workload
 * class run at once. `publish()` stores an event through a transport (`memoryTransport()`,
 * or `sqliteTransport()` from `@x/soiree/sqlite`) and delivers it at least once to the
 * durable listeners of every process that shares it, with retries and dead letters. No
 * dependencies; web-standard APIs only, so it runs on Deno, Node and Bun.
 *
 * @example Patterns, priorities and abort
 * ```ts
 * import { Priority, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * const seen: string[] = [];
 * soiree.on("user.*", (event) => {
 *   seen.push(`audit ${event.topic}`);
 *   if (event.payload === "spam") event.abort();
 * }, { priority: Priority.High });
 * soiree.on("user.created", (event) => void seen.push(`welcome ${event.payload}`));
 *
 * await soiree.emit("user.created", "Matty Ice");
 * await soiree.emit("user.created", "spam");
 * assert.deepEqual(seen, ["audit user.created", "welcome Matty Ice", "audit user.created"]);
 * await soiree.close();
 * ```
 *
 * @module
 */

export * from "./src/soiree.ts";
export * from "./src/listener.ts";
export * from "./src/options.ts";
export { SoireeEvent } from "./src/event.ts";
export * from "./src/event_map.ts";
export * from "./src/errors.ts";
export * from "./src/priority.ts";
export * from "./src/topic.ts";
export * from "./src/pool.ts";
export * from "./src/pool_options.ts";
export * from "./src/metrics.ts";
export * from "./src/ulid.ts";
export * from "./src/durable/transport.ts";
export * from "./src/durable/codec.ts";
export * from "./src/durable/memory_transport.ts";
export * from "./src/durable/durable_event.ts";
export * from "./src/durable/durable_options.ts";
export * from "./src/durable/cloud_event.ts";
export * from "./src/tracing.ts";
