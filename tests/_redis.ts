// Redis for the tests: the server at REDIS_URL (CI starts one; locally the Redis tests skip
// without it), the four clients (node-redis and ioredis, each in RESP2 and RESP3), loaded by
// name at run time so that nothing else needs them, and a conformance fixture per client: a
// fresh key prefix per test instead of FLUSHALL, and blocking connections kept in a pool.

import { createRequire } from "node:module";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import type { Clock } from "../mod.ts";
import {
  fromIoredis,
  fromNodeRedis,
  type RedisConnection,
  redisTransport,
} from "../src/redis/mod.ts";
import type { FixtureFactory } from "./_conformance.ts";

/** The server the tests use, or `undefined` to skip them. */
export const REDIS_URL: string | undefined = process.env.REDIS_URL || undefined;

/** Why the Redis tests skip, when they do. */
export const SKIP_REASON: string | false = REDIS_URL === undefined
  ? "REDIS_URL is not set: start a redis-server and run with REDIS_URL=redis://127.0.0.1:<port>"
  : false;

/** A client library and protocol. */
export interface ClientKind {
  readonly label: string;
  readonly library: "redis" | "ioredis";
  readonly resp: 2 | 3;
  /** Another server than {@linkcode REDIS_URL}. */
  readonly url?: string;
  /**
   * A folder whose `node_modules` holds the client libraries: for a Node or Bun process that a
   * Deno test starts, which has no import map. @default {resolved as the importer's imports}
   */
  readonly modules?: string;
}

/** Every client and protocol the transport is tested with. */
export const CLIENT_KINDS: readonly ClientKind[] = [
  { label: "node-redis RESP3", library: "redis", resp: 3 },
  { label: "node-redis RESP2", library: "redis", resp: 2 },
  { label: "ioredis RESP3", library: "ioredis", resp: 3 },
  { label: "ioredis RESP2", library: "ioredis", resp: 2 },
];

/** An open client: its connection for the transport, and the way to close it. */
export interface TestClient {
  readonly connection: RedisConnection;
  close(): Promise<void>;
}

/** Imports a module by a name the type checker does not follow, from `modules` if given. */
function load(specifier: string, modules?: string): Promise<Record<string, unknown>> {
  if (modules === undefined) return import(specifier);
  const path = createRequire(join(modules, "index.js")).resolve(specifier);
  return import(pathToFileURL(path).href);
}

interface NodeRedis {
  connect(): Promise<NodeRedis>;
  on(event: "error", listener: (error: unknown) => void): NodeRedis;
  sendCommand(args: string[]): Promise<unknown>;
  destroy(): void;
}

interface Ioredis {
  call(command: string, ...args: string[]): Promise<unknown>;
  disconnect(): void;
}

/** Opens a client of `kind` to {@linkcode REDIS_URL}. */
export async function openClient(kind: ClientKind): Promise<TestClient> {
  const url = kind.url ?? REDIS_URL!;
  if (kind.library === "redis") {
    const createClient = (await load("redis", kind.modules)).createClient as (
      o: unknown,
    ) => NodeRedis;
    // A connection error is an event: without a listener it would end the process.
    const client = await createClient({ url, RESP: kind.resp }).on("error", () => {}).connect();
    return { connection: fromNodeRedis(client), close: async () => client.destroy() };
  }
  const Redis = (await load("ioredis", kind.modules)).default as new (
    url: string,
    o: unknown,
  ) => Ioredis;
  const client = new Redis(url, { protocol: kind.resp, maxRetriesPerRequest: null });
  await client.call("PING");
  return { connection: fromIoredis(client), close: async () => client.disconnect() };
}

/** A new key prefix: one per test, so that tests never see each other's keys. */
export function freshPrefix(): string {
  return `test-${crypto.randomUUID().slice(0, 8)}`;
}

/** Deletes every key under `prefix` (its hash tag). */
export async function dropPrefix(connection: RedisConnection, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const reply = await connection.command([
      ...["SCAN", cursor, "MATCH", `{${prefix}}:*`, "COUNT", "1000"],
    ]) as [unknown, unknown[]];
    cursor = String(reply[0]);
    const keys = reply[1].map(String);
    if (keys.length > 0) await connection.command(["UNLINK", ...keys]);
  } while (cursor !== "0");
}

/** Blocking connections opened ahead, so that opening a transport does no I/O. */
const SPARE_BLOCKING = 4;

/**
 * A conformance fixture factory for one client kind: one command connection shared by every
 * transport, a blocking connection of its own for each (from a pool), and a fresh prefix per
 * test. `done()` closes every connection it opened.
 */
export function redisFixtures(kind: ClientKind): {
  factory: FixtureFactory;
  done: () => Promise<void>;
} {
  let shared: Promise<TestClient> | undefined;
  const spare: TestClient[] = [];
  const all: TestClient[] = [];
  const more = async (): Promise<void> => {
    while (spare.length < SPARE_BLOCKING) {
      const client = await openClient(kind);
      all.push(client);
      spare.push(client);
    }
  };
  const factory: FixtureFactory = async (clock: Clock | undefined) => {
    shared ??= openClient(kind).then((client) => (all.push(client), client));
    const client = await shared;
    await more();
    const prefix = freshPrefix();
    const lent: TestClient[] = [];
    return {
      open: () => {
        const blocking = spare.pop();
        if (blocking !== undefined) lent.push(blocking);
        return Promise.resolve(redisTransport({
          // Without subscribe(): no Pub/Sub connection per emitter, which the conformance
          // suite (durable delivery only) does not use; broadcasts have tests of their own.
          client: { command: client.connection.command },
          blocking: blocking?.connection,
          prefix,
          pollInterval: 100,
          clock,
        }));
      },
      cleanup: async () => {
        spare.push(...lent);
        await dropPrefix(client.connection, prefix);
      },
    };
  };
  const done = async (): Promise<void> => {
    await Promise.all(all.map((client) => client.close()));
  };
  return { factory, done };
}
