// Soiree's PostgreSQL transport beside pg-boss and graphile-worker on one server, in one run: a
// Node program (pg-boss needs Node 22.12 or later), not a `deno bench` file. For each system, a
// fresh schema and one durable listener (a worker) running 16 at a time with a trivial async
// body; then
//
// - throughput: EVENTS events published 100 at a time, timed from the first publish until the
//   last one has started, best of ROUNDS rounds;
// - latency: LATENCY_EVENTS events published one at a time at RATE per second, p50 and p99 of
//   the time from the publish call to the start of its handler.
//
// Every system gets its LISTEN/NOTIFY wake-ups on (pg-boss: `useListenNotify` and a `notify`
// queue) and a 500 ms poll, and publishes one event per call (no bulk insert). Prints a Markdown
// table.
//
// ```sh
// npm install --no-save pg-boss@12.38.0 graphile-worker@0.18.0 pg@8.23.1
// DATABASE_URL=postgres://user@127.0.0.1:5432/db npx -y node@22 bench/postgres_peers.ts
// ```

import process from "node:process";
import { Pool, Soiree } from "../mod.ts";
import { postgresTransport } from "../src/postgres/mod.ts";

const URL = process.env.DATABASE_URL;
const EVENTS = Number(process.env.EVENTS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const LATENCY_EVENTS = Number(process.env.LATENCY_EVENTS ?? 1_000);
const RATE = Number(process.env.RATE ?? 100);
const CONCURRENCY = 16;
const BATCH = 100;

/** A system under test: a worker whose body calls `started`, and a way to publish to it. */
interface System {
  readonly name: string;
  publish(sentAt: number): Promise<unknown>;
  stop(): Promise<void>;
}

type Start = (sentAt: number) => void;

/** Imports a module by a name the type checker does not follow (the peers are Node-only). */
function load(specifier: string): Promise<Record<string, unknown>> {
  return import(specifier);
}

interface PgPool {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
  on(event: "error", fn: () => void): void;
}

async function pgPool(max: number): Promise<PgPool> {
  const pg = (await load("pg")).default as { Pool: new (o: unknown) => PgPool };
  const pool = new pg.Pool({ connectionString: URL, max });
  pool.on("error", () => {});
  return pool;
}

async function soiree(started: Start, admin: PgPool): Promise<System> {
  await admin.query("DROP SCHEMA IF EXISTS bench_soiree CASCADE");
  const pool = await pgPool(20);
  const transport = await postgresTransport({
    client: pool,
    schema: "bench_soiree",
    pollInterval: 500,
  });
  const emitter = new Soiree({ transport });
  emitter.on("bench.job", async (event) => {
    started((event.payload as { t: number }).t);
    await Promise.resolve();
  }, { durable: "bench", pool: new Pool({ concurrency: CONCURRENCY }) });
  await transport.subscribe({ name: "bench", pattern: "bench.job" });
  return {
    name: "Soiree (postgres transport)",
    publish: (t) => emitter.publish("bench.job", { t }),
    stop: async () => {
      await emitter.close();
      await pool.end();
    },
  };
}

interface PgBoss {
  start(): Promise<unknown>;
  stop(options?: unknown): Promise<void>;
  createQueue(name: string, options?: unknown): Promise<void>;
  send(name: string, data: unknown): Promise<unknown>;
  work(
    name: string,
    options: unknown,
    fn: (jobs: { data: { t: number } }[]) => Promise<void>,
  ): Promise<string>;
  on(event: string, fn: (error: unknown) => void): void;
}

async function pgBoss(started: Start, admin: PgPool): Promise<System> {
  await admin.query("DROP SCHEMA IF EXISTS bench_pgboss CASCADE");
  const { PgBoss } = await load("pg-boss") as { PgBoss: new (o: unknown) => PgBoss };
  const boss = new PgBoss({
    connectionString: URL,
    schema: "bench_pgboss",
    max: 20,
    useListenNotify: true,
  });
  boss.on("error", () => {});
  boss.on("warning", () => {});
  await boss.start();
  await boss.createQueue("bench", { notify: true });
  // Its fastest shape for 16 at a time: one worker fetching batches of 16, run together, and
  // fetching again at once while batches come back full (16 workers fetching one job each wait
  // out a poll after every job).
  await boss.work("bench", {
    batchSize: CONCURRENCY,
    burstWhenBatchFull: true,
    pollingIntervalSeconds: 0.5,
    notifyPollingIntervalSeconds: 0.5,
  }, async (jobs) => {
    await Promise.all(jobs.map(async (job) => {
      started(job.data.t);
      await Promise.resolve();
    }));
  });
  return {
    name: "pg-boss 12.38.0",
    publish: (t) => boss.send("bench", { t }),
    stop: () => boss.stop({ graceful: true, wait: true }),
  };
}

interface Runner {
  addJob(name: string, payload: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

async function graphileWorker(started: Start, admin: PgPool): Promise<System> {
  await admin.query("DROP SCHEMA IF EXISTS bench_graphile CASCADE");
  const worker = await load("graphile-worker") as {
    run(options: unknown): Promise<Runner>;
    Logger: new (factory: unknown) => unknown;
  };
  const runner = await worker.run({
    connectionString: URL,
    schema: "bench_graphile",
    concurrency: CONCURRENCY,
    maxPoolSize: 20,
    pollInterval: 500,
    noHandleSignals: true,
    logger: new worker.Logger(() => () => {}),
    taskList: {
      bench: async (payload: { t: number }) => {
        started(payload.t);
        await Promise.resolve();
      },
    },
  });
  return {
    name: "graphile-worker 0.18.0",
    publish: (t) => runner.addJob("bench", { t }),
    stop: () => runner.stop(),
  };
}

/** The value at quantile `q` of sorted `values`. */
function quantile(values: number[], q: number): number {
  return values[Math.min(values.length - 1, Math.floor(q * values.length))];
}

async function measure(
  make: (started: Start, admin: PgPool) => Promise<System>,
  admin: PgPool,
): Promise<{ name: string; throughput: number; p50: number; p99: number }> {
  let count = 0;
  let target = Infinity;
  let reached: () => void = () => {};
  const latencies: number[] = [];
  let recording = false;
  const started: Start = (sentAt) => {
    if (recording) latencies.push(performance.now() - sentAt);
    if (++count === target) reached();
  };
  const system = await make(started, admin);
  let best = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      count = 0;
      target = EVENTS;
      const done = new Promise<void>((resolve) => (reached = resolve));
      const begin = performance.now();
      for (let i = 0; i < EVENTS; i += BATCH) {
        const batch = [];
        for (let j = i; j < Math.min(EVENTS, i + BATCH); j++) {
          batch.push(system.publish(performance.now()));
        }
        await Promise.all(batch);
      }
      await done;
      best = Math.max(best, EVENTS / ((performance.now() - begin) / 1_000));
    }
    count = 0;
    target = LATENCY_EVENTS;
    recording = true;
    const done = new Promise<void>((resolve) => (reached = resolve));
    for (let i = 0; i < LATENCY_EVENTS; i++) {
      const due = performance.now() + 1_000 / RATE;
      await system.publish(performance.now());
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await done;
  } finally {
    await system.stop();
  }
  latencies.sort((a, b) => a - b);
  return {
    name: system.name,
    throughput: best,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  };
}

if (URL === undefined) {
  console.error("Set DATABASE_URL to the server to bench on.");
  process.exit(1);
}
const admin = await pgPool(2);
const results = [];
for (const make of [soiree, pgBoss, graphileWorker]) {
  const result = await measure(make, admin);
  console.error(`${result.name}: done`);
  results.push(result);
}
await admin.end();
console.log(
  `\n${
    EVENTS.toLocaleString("en")
  } events, ${CONCURRENCY} at a time, best of ${ROUNDS} rounds; latency over ${LATENCY_EVENTS} events at ${RATE}/s; ${process.version}\n`,
);
console.log("| system | throughput (events/s) | p50 publish→start (ms) | p99 publish→start (ms) |");
console.log("| --- | --- | --- | --- |");
for (const { name, throughput, p50, p99 } of results) {
  console.log(
    `| ${name} | ${Math.round(throughput).toLocaleString("en")} | ${p50.toFixed(1)} | ${
      p99.toFixed(1)
    } |`,
  );
}
