import { after, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool, Soiree, type Transport } from "../mod.ts";
import {
  fromIoredis,
  fromNodeRedis,
  type RedisConnection,
  redisTransport,
} from "../src/redis/mod.ts";
import {
  CLIENT_KINDS,
  type ClientKind,
  dropPrefix,
  freshPrefix,
  openClient,
  REDIS_URL,
  redisFixtures,
  SKIP_REASON,
  type TestClient,
} from "./_redis.ts";
import { conformance } from "./_conformance.ts";
import { list, pairs, Scripts, text } from "../src/redis/_reply.ts";
import { CONSUMER_IDLE, FORGET_IDLE, forgetIdleConsumers } from "../src/redis/_consumers.ts";
import { fakeClock } from "./_clock.ts";
import { deferred, gate, within } from "./_util.ts";

// ---------------------------------------------------------------------------------------------
// Without a server: options and adapters.

test("redisTransport() refuses malformed options before sending anything", () => {
  const client: RedisConnection = { command: () => Promise.reject(new Error("not called")) };
  assert.throws(() => redisTransport(undefined as never), {
    name: "TypeError",
    message: /'options' must be an object: received undefined/,
  });
  assert.throws(() => redisTransport({ client: {} as never }), {
    name: "TypeError",
    message: /'client' must be a connection with a command\(\) method/,
  });
  assert.throws(() => redisTransport({ client, blocking: "x" as never }), /'blocking' must be/);
  assert.throws(() => redisTransport({ client, prefix: "a b" }), {
    name: "TypeError",
    message: /'prefix' must be 1 to 64 of A-Z a-z 0-9 _ - .: received "a b"/,
  });
  assert.throws(() => redisTransport({ client, pollInterval: 0 }), RangeError);
  assert.throws(() => redisTransport({ client, pollInterval: "1" as never }), TypeError);
  assert.throws(() => redisTransport({ client, clock: {} as never }), /'clock.now' must be/);
});

test("fromNodeRedis() and fromIoredis() pass the command through and refuse other objects", async () => {
  const sent: unknown[] = [];
  const nodeRedis = fromNodeRedis({ sendCommand: async (args) => (sent.push(args), 1) });
  const ioredis = fromIoredis({ call: async (name, ...args) => (sent.push([name, ...args]), 2) });
  assert.equal(await nodeRedis.command(["GET", "k"]), 1);
  assert.equal(await ioredis.command(["SET", "k", "v"]), 2);
  assert.deepEqual(sent, [["GET", "k"], ["SET", "k", "v"]]);
  assert.throws(() => fromNodeRedis({} as never), { name: "TypeError", message: /sendCommand/ });
  assert.throws(() => fromIoredis({} as never), { name: "TypeError", message: /call\(\)/ });
});

// ---------------------------------------------------------------------------------------------
// Against the server at REDIS_URL.

if (REDIS_URL === undefined) {
  console.log(`skipping the Redis tests: ${SKIP_REASON}`);
  test("the Redis transport passes the conformance suite", { skip: SKIP_REASON }, () => {});
} else {
  for (const kind of CLIENT_KINDS) {
    const { factory, done } = redisFixtures(kind);
    after(done);
    conformance(`redis (${kind.label})`, factory);
  }
  serverTests();
  for (const kind of CLIENT_KINDS) broadcastTest(kind);
}

/** broadcast() over Pub/Sub with one client kind: every emitter on the prefix, no other. */
function broadcastTest(kind: ClientKind): void {
  test(`redis (${kind.label}): broadcast() reaches the plain listeners of every emitter on the prefix, no other prefix`, async () => {
    const clients = await Promise.all([openClient(kind), openClient(kind), openClient(kind)]);
    const [prefix, other] = [freshPrefix(), freshPrefix()];
    const [a, b, c] = clients.map((client, i) =>
      new Soiree({
        transport: redisTransport({ client: client.connection, prefix: i < 2 ? prefix : other }),
      })
    );
    try {
      const got: string[] = [];
      const arrived = { a: deferred<void>(), b: deferred<void>(), c: deferred<void>() };
      a.on("cache.user.*", (event) => (got.push(`a ${event.payload}`), arrived.a.resolve()));
      b.on("cache.**", (event) => (got.push(`b ${event.payload}`), arrived.b.resolve()));
      c.on("cache.**", (event) => (got.push(`c ${event.payload}`), arrived.c.resolve()));
      // Pub/Sub is at most once: a broadcast() resolves once its own emitter is subscribed,
      // so one from each first makes sure all three hear what follows.
      await Promise.all([a, b, c].map((soiree) => soiree.broadcast("warm.up")));
      await a.broadcast("cache.user.invalidate", 42);
      await Promise.all([arrived.a.promise, arrived.b.promise]);
      // Redis delivers a channel's messages in PUBLISH order: had c been subscribed to a's
      // channel, a's message would reach it before its own.
      await c.broadcast("cache.flush", 7);
      await arrived.c.promise;
      assert.deepEqual(got.sort(), ["a 42", "b 42", "c 7"]);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
      await Promise.all(clients.map((client) => client.close()));
    }
  });
}

function serverTests(): void {
  let opened: Promise<TestClient> | undefined;
  const client = async (): Promise<RedisConnection> =>
    (await (opened ??= openClient(CLIENT_KINDS[0]))).connection;
  after(async () => void (await opened)?.close());

  /** A transport on a fresh prefix, with `body`; the prefix's keys are dropped after. */
  const withPrefix = (
    body: (transport: Transport, redis: RedisConnection, prefix: string) => Promise<void>,
    clock = fakeClock(),
  ) =>
  async () => {
    const redis = await client();
    const prefix = freshPrefix();
    const transport = redisTransport({ client: redis, prefix, clock });
    try {
      await body(transport, redis, prefix);
    } finally {
      await transport.close();
      await dropPrefix(redis, prefix);
    }
  };

  const message = (topic: string, id = crypto.randomUUID()) => ({
    id,
    topic,
    data: "1",
    publishedAt: 0,
    idempotencyKey: undefined,
    dedupeWindow: 60_000,
  });

  /** The stream's delivery count of the name's only pending entry. */
  const deliveryCount = async (redis: RedisConnection, prefix: string, name: string) => {
    const pending = await redis.command(["XPENDING", `{${prefix}}:events`, name, "-", "+", "10"]);
    return Number((pending as unknown[][])[0][3]);
  };

  test(
    "redis: extend() renews a lease with XCLAIM JUSTID, which counts no delivery",
    withPrefix(async (transport, redis, prefix) => {
      await transport.subscribe({ name: "n", pattern: "a" });
      await transport.publish(message("a"));
      const [delivery] = await transport.receive("n", 1, 1_000);
      for (let i = 0; i < 3; i++) assert.equal(await delivery.extend(1_000), true);
      assert.equal(await deliveryCount(redis, prefix, "n"), 1);
      assert.deepEqual(await transport.receive("n", 1, 1_000), [], "the lease holds");
    }),
  );

  test(
    "redis: release(false) gives the delivery back without counting its attempt",
    withPrefix(async (transport) => {
      await transport.subscribe({ name: "n", pattern: "a" });
      await transport.publish(message("a"));
      const [first] = await transport.receive("n", 1, 60_000);
      assert.equal(await first.release(false), true);
      assert.equal(await first.ack(), false, "a settled delivery settles nothing more");
      const [again] = await transport.receive("n", 1, 60_000);
      assert.equal(again.attempt, 1);
      assert.equal(await again.release(true), true);
      assert.equal((await transport.receive("n", 1, 60_000))[0].attempt, 2);
    }),
  );

  test(
    "redis: entries the name's pattern does not match are acked at once",
    withPrefix(async (transport, redis, prefix) => {
      await transport.subscribe({ name: "n", pattern: "order.*" });
      for (let i = 0; i < 20; i++) await transport.publish(message(`user.${i}`));
      await transport.publish(message("order.placed"));
      const deliveries = await transport.receive("n", 5, 60_000);
      assert.deepEqual(deliveries.map((d) => d.message.topic), ["order.placed"]);
      const pending = await redis.command(["XPENDING", `{${prefix}}:events`, "n"]);
      assert.equal(Number((pending as unknown[])[0]), 1, "only the matching entry is pending");
    }),
  );

  test(
    "redis: idempotency keys expire on the server with their window",
    withPrefix(async (transport, redis, prefix) => {
      await transport.publish({ ...message("a"), idempotencyKey: "k", dedupeWindow: 5_000 });
      const ttl = Number(await redis.command(["PTTL", `{${prefix}}:key:k`]));
      assert.ok(ttl > 0 && ttl <= 5_000, `PTTL ${ttl}`);
    }),
  );

  test(
    "redis: trimming keeps what a name still has pending or has not read",
    withPrefix(async (transport, redis, prefix) => {
      await transport.subscribe({ name: "fast", pattern: "a" });
      await transport.subscribe({ name: "slow", pattern: "a" });
      for (let i = 0; i < 150; i++) await transport.publish(message("a"));
      const [held] = await transport.receive("slow", 1, 60_000); // the oldest, kept pending
      for (;;) {
        const batch = await transport.receive("fast", 50, 60_000);
        if (batch.length === 0) break;
        await Promise.all(batch.map((delivery) => delivery.ack()));
      }
      await transport.receive("fast", 1, 60_000); // lets the last trim finish
      const length = () => redis.command(["XLEN", `{${prefix}}:events`]).then(Number);
      assert.equal(await length(), 150, "slow has read one entry and holds it");
      assert.equal(await held.ack(), true);
      const rest = await transport.receive("slow", 200, 60_000);
      assert.equal(rest.length, 149);
      await Promise.all(rest.map((delivery) => delivery.ack()));
      await transport.publish(message("a")); // a round trip after the trims
      assert.ok(await length() <= 2, `${await length()} entries left`);
    }),
  );

  test(
    "redis: warns once when maxmemory-policy is not noeviction",
    async () => {
      const redis = await client();
      const policy = await redis.command(["CONFIG", "GET", "maxmemory-policy"]);
      const before = JSON.stringify(policy).includes("noeviction") ? "noeviction" : undefined;
      const warnings: unknown[] = [];
      const warn = console.warn;
      console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
      const prefix = freshPrefix();
      const transport = redisTransport({ client: redis, prefix });
      try {
        await redis.command(["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        await transport.subscribe({ name: "a", pattern: "a" });
        await transport.subscribe({ name: "b", pattern: "b" });
      } finally {
        console.warn = warn;
        await redis.command(["CONFIG", "SET", "maxmemory-policy", before ?? "noeviction"]);
        await transport.close();
        await dropPrefix(redis, prefix);
      }
      assert.equal(warnings.length, 1);
      assert.match(String(warnings[0]), /maxmemory-policy is "allkeys-lru"/);
    },
  );

  for (const kind of CLIENT_KINDS) {
    test(
      `redis (${kind.label}): registering a name sweeps away consumers that hold nothing and have idled, never one with pending entries`,
      async () => {
        const opened = await openClient(kind);
        const redis = opened.connection;
        const prefix = freshPrefix();
        const stream = `{${prefix}}:events`;
        // The transport's commands go to the server as they are; the sweep's are noted.
        const sweep = await redis.command(["SCRIPT", "LOAD", FORGET_IDLE]).then(text);
        const swept = deferred<readonly string[]>();
        const client: RedisConnection = {
          command: (args) => {
            if (args[0] === "EVALSHA" && args[1] === sweep) swept.resolve(args);
            return redis.command(args);
          },
        };
        const transport = redisTransport({ client, prefix, clock: fakeClock() });
        const consumers = async (name: string) =>
          Object.fromEntries(
            list(await redis.command(["XINFO", "CONSUMERS", stream, name])).map((consumer) => {
              const info = Object.fromEntries(pairs(consumer));
              return [text(info.name), Number(text(info.pending))];
            }),
          );
        try {
          for (const name of ["a", "b"]) await transport.subscribe({ name, pattern: "job" });
          const args = await within(swept.promise, 5_000, "the sweep at registration");
          assert.deepEqual(args.slice(2), ["1", stream, String(CONSUMER_IDLE)]);
          await transport.publish(message("job"));
          // Two processes that died without close(): one holds an entry, one holds nothing.
          await redis.command(["XGROUP", "CREATECONSUMER", stream, "a", "gone-empty"]);
          await redis.command(["XGROUP", "CREATECONSUMER", stream, "b", "gone-empty"]);
          await redis.command([
            ...["XREADGROUP", "GROUP", "a", "gone-holding", "COUNT", "1"],
            ...["STREAMS", stream, ">"],
          ]);
          const scripts = new Scripts(redis);
          assert.equal(await forgetIdleConsumers(scripts, stream), 0, "none idle for an hour");
          assert.deepEqual(await consumers("a"), { "gone-empty": 0, "gone-holding": 1 });
          assert.equal(await forgetIdleConsumers(scripts, stream, 0), 2);
          assert.deepEqual(await consumers("a"), { "gone-holding": 1 }, "its entry stays held");
          assert.deepEqual(await consumers("b"), {});
        } finally {
          await transport.close();
          await dropPrefix(redis, prefix);
          await opened.close();
        }
      },
    );
  }

  // 100,000 events under Deno; 10,000 on the other runtimes to keep CI short.
  const events = Number(
    process.env.SOIREE_REDIS_EVENTS ?? ("Deno" in globalThis ? 100_000 : 10_000),
  );
  test(
    `redis: memory stays bounded: ${
      events.toLocaleString("en")
    } events published and acked leave a few entries`,
    async () => {
      const redis = await client();
      const prefix = freshPrefix();
      const memory = async () => {
        const info = String(await redis.command(["INFO", "memory"]));
        return Number(/used_memory:(\d+)/.exec(info)![1]);
      };
      const soiree = new Soiree({ transport: redisTransport({ client: redis, prefix }) });
      try {
        const all = gate();
        let handled = 0;
        soiree.on("load.*", () => void (++handled === events && all.open()), {
          durable: "load",
          pool: new Pool({ concurrency: 64 }),
        });
        await soiree.publish("load.warm", 0);
        const before = await memory();
        const started = Date.now();
        for (let i = 1; i < events; i += 500) {
          const batch = [];
          for (let j = i; j < Math.min(i + 500, events); j++) {
            batch.push(soiree.publish("load.x", j));
          }
          await Promise.all(batch);
        }
        await all.promise;
        await soiree.close();
        const length = Number(await redis.command(["XLEN", `{${prefix}}:events`]));
        const after = await memory();
        const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
        console.log(
          `redis memory: ${events} events in ${Date.now() - started} ms; used_memory ${
            mb(before)
          } MB before, ${mb(after)} MB after; ${length} stream entries left`,
        );
        assert.ok(length <= 200, `${length} entries left`);
        assert.ok(after - before < 4 * 1024 * 1024, `grew by ${mb(after - before)} MB`);
      } finally {
        if (!soiree.isClosed) await soiree.close();
        await dropPrefix(redis, prefix);
      }
    },
  );
}

/** A free loopback port, from the OS. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a redis-server that syncs its append-only file on every write, in `dir`. */
function startRedis(port: number, dir: string): ChildProcess {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
  return spawn("redis-server", [...args, "--appendonly", "yes", "--appendfsync", "always"], {
    stdio: "ignore",
  });
}

/** Why the restart test skips: it starts servers of its own, so it needs redis-server here. */
const RESTART_SKIP = SKIP_REASON ||
  (spawnSync("redis-server", ["--version"]).error ? "redis-server is not on the PATH" : false);

test(
  "redis: a server killed and restarted mid-run loses nothing whose publish() resolved",
  { skip: RESTART_SKIP },
  async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "soiree-redis-"));
    let server = startRedis(port, dir);
    const kind = { ...CLIENT_KINDS[0], url: `redis://127.0.0.1:${port}` };
    const [client, blocking] = [await openClient(kind), await openClient(kind)];
    const soiree = new Soiree({
      transport: redisTransport({ client: client.connection, blocking: blocking.connection }),
      errorHandler: () => {},
      panicHandler: () => {},
    });
    // Another process's emitter, on ioredis: broadcasts reach each side again after the restart.
    const peerClient = await openClient({ ...CLIENT_KINDS[2], url: kind.url });
    const peer = new Soiree({
      transport: redisTransport({ client: peerClient.connection }),
      panicHandler: () => {},
    });
    try {
      const seen = new Set<string>();
      soiree.on("job.*", (event) => void seen.add(event.id), { durable: "jobs" });
      const stored: string[] = [];
      let refused = 0;
      for (let i = 0; i < 600; i++) {
        if (i === 200) {
          server.kill("SIGKILL");
          await new Promise((resolve) => server.once("exit", resolve));
          server = startRedis(port, dir);
        }
        try {
          stored.push((await soiree.publish("job.run", i)).id);
        } catch {
          refused++; // while the server is down: the caller knows it was not stored
        }
      }
      const deadline = Date.now() + 30_000;
      while (stored.some((id) => !seen.has(id)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const lost = stored.filter((id) => !seen.has(id));
      console.log(
        `redis restart: ${stored.length} stored, ${refused} refused, ${lost.length} lost`,
      );
      assert.deepEqual(lost, []);
      // Pub/Sub is at most once: a broadcast sent before a connection has subscribed again is
      // missed, so each side sends until the other's listener has one.
      const heard = { soiree: false, peer: false };
      soiree.on("ping.peer", () => void (heard.soiree = true));
      peer.on("ping.soiree", () => void (heard.peer = true));
      while (!(heard.soiree && heard.peer) && Date.now() < deadline + 10_000) {
        await Promise.allSettled([soiree.broadcast("ping.soiree"), peer.broadcast("ping.peer")]);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.deepEqual(heard, { soiree: true, peer: true }, "broadcasts resume after a restart");
    } finally {
      await soiree.close().catch(() => {});
      await peer.close().catch(() => {});
      await Promise.all([client.close(), blocking.close(), peerClient.close()]);
      server.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/** A redis-server of the test's own on a free port, and a client of `kind` connected to it. */
async function ownServer(kind: ClientKind) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "soiree-redis-"));
  const server = startRedis(port, dir);
  const client = await openClient({ ...kind, url: `redis://127.0.0.1:${port}` });
  return { port, dir, server, client };
}

for (const kind of [CLIENT_KINDS[0], CLIENT_KINDS[2]]) {
  test(
    `redis (${kind.label}): close() does not wait for a server that is down, whether the Pub/Sub connection is subscribed or still connecting`,
    { skip: RESTART_SKIP },
    async () => {
      const { dir, server, client } = await ownServer(kind);
      const options = { errorHandler: () => {}, panicHandler: () => {} };
      const subscribed = new Soiree({
        transport: redisTransport({ client: client.connection }),
        ...options,
      });
      try {
        const heard = deferred<void>();
        subscribed.on("ping", () => heard.resolve());
        await subscribed.broadcast("ping"); // resolves once its own connection is subscribed
        await heard.promise;
        server.kill("SIGKILL");
        await new Promise((resolve) => server.once("exit", resolve));
        // Made with the server down: its connection keeps trying to connect.
        const connecting = new Soiree({
          transport: redisTransport({ client: client.connection }),
          ...options,
        });
        // The transport's own housekeeping gives up after 1 s; the Pub/Sub side must not hang.
        await within(
          Promise.all([subscribed.close(), connecting.close()]),
          10_000,
          "close() with the server down",
        );
      } finally {
        await subscribed.close().catch(() => {});
        await client.close();
        server.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

for (const kind of [CLIENT_KINDS[0], CLIENT_KINDS[2]]) {
  test(
    `redis (${kind.label}): close({ timeout }) with a publish in flight to a server that is down rejects in time, and the publish is stored once the server is back`,
    { skip: RESTART_SKIP },
    async () => {
      const { port, dir, server, client } = await ownServer(kind);
      const soiree = new Soiree({
        transport: redisTransport({ client: client.connection }),
        errorHandler: () => {},
        panicHandler: () => {},
      });
      let restarted: ChildProcess | undefined;
      try {
        await soiree.publish("warm.up", 0);
        server.kill("SIGKILL");
        await new Promise((resolve) => server.once("exit", resolve));
        // The client queues the command until it reconnects: the publish waits.
        const outcome = soiree.publish("order.paid", 1).then(() => "stored", () => "refused");
        await within(
          assert.rejects(soiree.close({ timeout: 50 }), { name: "TimeoutError" }),
          10_000,
          "close({ timeout }) with a publish waiting for the server",
        );
        // The publish is still the caller's: once the server is back, it is stored.
        restarted = startRedis(port, dir);
        assert.equal(await within(outcome, 20_000, "the publish settles"), "stored");
      } finally {
        await client.close().catch(() => {});
        server.kill("SIGKILL");
        restarted?.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
