// deno-lint-ignore-file no-import-prefix -- BullMQ is bench-only, pinned here and nowhere else,
// so that deno.json's imports stay those of the library and its tests.

// Durable delivery on Redis, Soiree beside BullMQ on the same redis-server (REDIS_URL), in one
// process, each side with its own connections and a fresh key prefix or queue name:
//
// - Throughput: 10,000 events, one durable listener on a pool of 16 whose body is
//   `await Promise.resolve()` (BullMQ: a `Worker` of concurrency 16 with that processor), from
//   the first publish until every event is acked (BullMQ: `completed`). Soiree has no batch
//   publish: the events go out as 10,000 concurrent `publish()` calls, which the client
//   pipelines; BullMQ gets one `addBulk()` of 10,000 jobs.
// - Latency: 200 events a second for 3 seconds, one `publish()` (BullMQ: `add()`) every 5 ms,
//   from just before the call to the listener's first line.
//
// The publisher is a second emitter with its own transport and connection, as another process
// would be, so the consumer learns of new events from Redis (its blocking `XREAD`), not from
// an in-process wake-up; BullMQ's `Queue` and `Worker` are apart in the same way. BullMQ jobs
// are removed once completed (`removeOnComplete: true`), as Soiree trims acked entries.
//
// Run as a program, it prints the table (and `--json` its figures, `--write` the table into
// bench/BENCHMARKS.md between its markers):
// `REDIS_URL=redis://127.0.0.1:6379 deno run --allow-all bench/redis_bench.ts --write`.
// `deno task bench` runs a small `Deno.bench` group (1,000 events) when REDIS_URL is set and
// the network is allowed, and skips it otherwise.

import { Pool, Soiree } from "@x/soiree";
import { fromIoredis, fromNodeRedis, type RedisConnection, redisTransport } from "@x/soiree/redis";
import { createClient } from "redis";
import { Redis } from "ioredis";
import { Queue, Worker } from "npm:bullmq@6.7.0";

/** Events of the throughput run. */
export const EVENTS = 10_000;
/** The listener's pool size and BullMQ's worker concurrency. */
export const CONCURRENCY = 16;
/** Events a second, and seconds, of the latency run. */
export const RATE = 200;
export const SECONDS = 3;
/** Measured rounds, the order of the sides alternating; each figure is the median. */
const ROUNDS = 5;
const TOPIC = "bench.event";
const URL_ = Deno.env.get("REDIS_URL");

/** A side, open: publishes one event or a batch, and counts acks. */
interface Side {
  /** Sends `count` events `0…count-1` as a user would send that many at once. */
  burst(count: number): Promise<void>;
  /** Sends event `i` alone. */
  one(i: number): Promise<unknown>;
  acked(): number;
  close(): Promise<void>;
}

/** The listener every side runs: reports its start, then a trivial async body. */
type Body = (i: number) => Promise<void>;

type Open = (url: string, body: Body) => Promise<Side>;

/** Opens a node-redis or ioredis connection; returns it with the way to close it. */
async function connect(
  url: string,
  library: "redis" | "ioredis",
): Promise<[RedisConnection, () => void]> {
  if (library === "redis") {
    const client = await createClient({ url }).on("error", () => {}).connect();
    return [fromNodeRedis(client), () => client.destroy()];
  }
  const client = new Redis(url, { maxRetriesPerRequest: null });
  await client.ping();
  return [fromIoredis(client), () => client.disconnect()];
}

function soiree(library: "redis" | "ioredis"): Open {
  return async (url, body) => {
    const prefix = `bench-${crypto.randomUUID().slice(0, 8)}`;
    const [client, closeClient] = await connect(url, library);
    const [blocking, closeBlocking] = await connect(url, library);
    const [other, closeOther] = await connect(url, library);
    const transport = redisTransport({ client, blocking, prefix });
    const consumer = new Soiree({ transport });
    const publisher = new Soiree({ transport: redisTransport({ client: other, prefix }) });
    consumer.on(TOPIC, (event) => body(event.payload as number), {
      durable: "bench",
      pool: new Pool({ concurrency: CONCURRENCY }),
    });
    // The name's consumer group exists before the first publish.
    await transport.subscribe({ name: "bench", pattern: TOPIC });
    return {
      async burst(count) {
        await Promise.all(Array.from({ length: count }, (_, i) => publisher.publish(TOPIC, i)));
      },
      one: (i) => publisher.publish(TOPIC, i),
      acked: () => consumer.stats().durable.acked,
      async close() {
        await Promise.all([consumer.close(), publisher.close()]);
        await dropPrefix(client, prefix);
        closeClient();
        closeBlocking();
        closeOther();
      },
    };
  };
}

const bullmq: Open = async (url, body) => {
  const name = `bench-${crypto.randomUUID().slice(0, 8)}`;
  // BullMQ duplicates the worker's connection for its blocking reads.
  const queueClient = new Redis(url, { maxRetriesPerRequest: null });
  const workerClient = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: queueClient });
  let acked = 0;
  const worker = new Worker(name, (job) => body(job.data as number), {
    connection: workerClient,
    concurrency: CONCURRENCY,
  });
  worker.on("completed", () => void acked++);
  await worker.waitUntilReady();
  const opts = { removeOnComplete: true };
  return {
    async burst(count) {
      await queue.addBulk(
        Array.from({ length: count }, (_, i) => ({ name: TOPIC, data: i, opts })),
      );
    },
    one: (i) => queue.add(TOPIC, i, opts),
    acked: () => acked,
    async close() {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      queueClient.disconnect();
      workerClient.disconnect();
    },
  };
};

/** Deletes every key under a Soiree prefix. */
async function dropPrefix(connection: RedisConnection, prefix: string): Promise<void> {
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

/** Every side, in the order the table lists them. */
export const SIDES: readonly [string, Open][] = [
  ["soiree (node-redis)", soiree("redis")],
  ["soiree (ioredis)", soiree("ioredis")],
  ["bullmq (ioredis)", bullmq],
];

/** One side's figures. */
export interface RedisRun {
  name: string;
  /** First publish to last ack of the throughput run (ms), and the publishing alone (ms). */
  totalMs: number;
  publishMs: number;
  /** Publish → the listener's start at the steady rate (ms): median and 99th percentile. */
  latencyP50: number;
  latencyP99: number;
}

/** What `--json` prints. */
export interface RedisReport {
  redis: string;
  runtime: string;
  cpu: string;
  rounds: number;
  events: number;
  rate: number;
  seconds: number;
  /** Each side's median over the rounds, figure by figure. */
  runs: RedisRun[];
  /** Every round of every side, as measured. */
  rounds_: RedisRun[][];
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `count` events as one burst; returns the total and publishing times (ms). */
async function throughput(url: string, open: Open, count: number): Promise<[number, number]> {
  let finished = 0;
  const all = Promise.withResolvers<void>();
  const side = await open(url, async () => {
    await Promise.resolve();
    if (++finished === count) all.resolve();
  });
  try {
    const start = performance.now();
    await side.burst(count);
    const published = performance.now();
    await all.promise;
    // The last acks settle after their bodies.
    while (side.acked() < count) await tick();
    return [performance.now() - start, published - start];
  } finally {
    await side.close();
  }
}

/** Events sent one by one before the latency run, unmeasured: connections and scripts warm. */
const LATENCY_WARMUP = 20;

/** Sends RATE events a second for SECONDS; returns the latencies (ms), sorted. */
async function latency(url: string, open: Open): Promise<Float64Array> {
  const count = RATE * SECONDS;
  const publishedAt = new Float64Array(count);
  const startedAt = new Float64Array(count + LATENCY_WARMUP);
  let finished = 0;
  const all = Promise.withResolvers<void>();
  const side = await open(url, async (i) => {
    startedAt[i] = performance.now();
    await Promise.resolve();
    if (++finished === count + LATENCY_WARMUP) all.resolve();
  });
  try {
    for (let i = 0; i < LATENCY_WARMUP; i++) {
      await side.one(count + i);
      while (startedAt[count + i] === 0) await tick();
    }
    const start = performance.now();
    const sent: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      publishedAt[i] = performance.now();
      sent.push(side.one(i));
    }
    await Promise.all(sent);
    await all.promise;
    while (side.acked() < count + LATENCY_WARMUP) await tick();
  } finally {
    await side.close();
  }
  const latencies = new Float64Array(count);
  for (let i = 0; i < count; i++) latencies[i] = startedAt[i] - publishedAt[i];
  return latencies.sort();
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The server's version and persistence, from `INFO`: "7.0.15 (no persistence)". */
async function redisVersion(url: string): Promise<string> {
  const [connection, close] = await connect(url, "redis");
  try {
    const info = String(await connection.command(["INFO", "server"]));
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown";
    const persistence = String(await connection.command(["INFO", "persistence"]));
    const aof = /aof_enabled:1/.test(persistence);
    // A map in RESP3 (an object or a Map), a flat array in RESP2; CONFIG may be disabled.
    const reply = await connection.command(["CONFIG", "GET", "save"]).catch(() => undefined);
    const save = Array.isArray(reply)
      ? reply[1]
      : reply instanceof Map
      ? reply.get("save")
      : (reply as Record<string, unknown> | undefined)?.save;
    const saves = typeof save === "string" && save.trim() !== "";
    const kept = [aof ? "append-only file" : "", saves ? "RDB snapshots" : ""].filter(Boolean);
    return `${version} (${kept.length === 0 ? "no persistence" : kept.join(", ")})`;
  } finally {
    close();
  }
}

/** The comparison: a warm-up of each side, then ROUNDS rounds, the order alternating. */
export async function compare(url: string, rounds = ROUNDS): Promise<RedisReport> {
  for (const [, open] of SIDES) await throughput(url, open, 1_000);
  const measured = new Map<string, RedisRun[]>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [...SIDES] : [...SIDES].reverse();
    for (const [name, open] of order) {
      const [totalMs, publishMs] = await throughput(url, open, EVENTS);
      const sorted = await latency(url, open);
      const run = {
        name,
        totalMs,
        publishMs,
        latencyP50: percentile(sorted, 0.5),
        latencyP99: percentile(sorted, 0.99),
      };
      console.error(
        `  round ${round + 1}, ${name}: ${totalMs.toFixed(0)} ms (publish ${
          publishMs.toFixed(0)
        } ms), latency p50 ${run.latencyP50.toFixed(2)} ms, p99 ${run.latencyP99.toFixed(2)} ms`,
      );
      measured.set(name, [...measured.get(name) ?? [], run]);
    }
  }
  const runs = SIDES.map(([name]): RedisRun => {
    const all = measured.get(name)!;
    const of = (key: keyof Omit<RedisRun, "name">) => median(all.map((run) => run[key]));
    return {
      name,
      totalMs: of("totalMs"),
      publishMs: of("publishMs"),
      latencyP50: of("latencyP50"),
      latencyP99: of("latencyP99"),
    };
  });
  let cpu = "unknown";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = `${
      /model name\s*:\s*(.+)/.exec(info)?.[1] ?? "unknown"
    }, ${navigator.hardwareConcurrency} logical cores`;
  } catch {
    // Not Linux, or no permission: the table says less.
  }
  return {
    redis: await redisVersion(url),
    runtime: `Deno ${Deno.version.deno}`,
    cpu,
    rounds,
    events: EVENTS,
    rate: RATE,
    seconds: SECONDS,
    runs,
    rounds_: SIDES.map(([name]) => measured.get(name)!),
  };
}

const MARK_START = "<!-- redis-bench:start -->";
const MARK_END = "<!-- redis-bench:end -->";

/** The section of BENCHMARKS.md, between its markers. */
export function markdown(report: RedisReport): string {
  const ms = (value: number) =>
    value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toPrecision(3);
  const peer = report.runs.find((run) => run.name.startsWith("bullmq"))!;
  const lines = [
    MARK_START,
    "## Durable delivery on Redis, beside BullMQ",
    "",
    `Generated by \`bench/redis_bench.ts --write\` on ${
      new Date().toISOString().slice(0, 16).replace("T", " ")
    } UTC: Redis ${report.redis}, ${report.runtime}, ${report.cpu}; BullMQ`,
    "6.7.0 over ioredis 6.0.0, node-redis 6.3.1. Command:",
    "`REDIS_URL=redis://127.0.0.1:<port> deno run --allow-all bench/redis_bench.ts --write`.",
    "",
    `**Throughput**: ${
      report.events.toLocaleString("en-US")
    } events, one durable listener on a pool of 16 whose body is`,
    "`await Promise.resolve()` (BullMQ: a `Worker` of concurrency 16), from the first publish to",
    "the last ack (BullMQ: `completed`). Soiree has no batch publish: it gets 10,000 concurrent",
    "`publish()` calls, which the client pipelines; BullMQ one `addBulk()`. **Latency**: one",
    `event every ${
      1000 / report.rate
    } ms (${report.rate}/s) for ${report.seconds} s, from just before`,
    "`publish()` (`add()`) to the listener's first line. The publisher is a second emitter with",
    "its own connection, as another process would be (BullMQ: `Queue` and `Worker` apart), and",
    "the consumer has a blocking connection (BullMQ's worker makes its own). BullMQ jobs are",
    "removed on completion, as Soiree trims acked entries. Sides alternate; a warm-up of 1,000",
    "events each comes first, and 20 events one by one open each latency run, unmeasured; each",
    `figure is the median of ${report.rounds} rounds. The machine is shared: rerun before quoting`,
    "a figure.",
    "",
    "| side | ms for 10,000 | events/s | publishing (ms) | latency p50 | latency p99 | time ÷ BullMQ's |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const run of report.runs) {
    const cells = [
      run.name,
      ms(run.totalMs),
      Math.round((report.events * 1000) / run.totalMs).toLocaleString("en-US"),
      ms(run.publishMs),
      `${ms(run.latencyP50)} ms`,
      `${ms(run.latencyP99)} ms`,
      `${(run.totalMs / peer.totalMs).toFixed(2)}×`,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  const ours = report.runs[0];
  const met = (yes: boolean) => (yes ? "met" : "**not met**");
  lines.push(
    "",
    `Targets (the issue's), ${ours.name} against ${peer.name}: end to end at most BullMQ's time, ${
      met(ours.totalMs <= peer.totalMs)
    } (${(ours.totalMs / peer.totalMs).toFixed(2)}×; goal 0.5×, ${
      met(ours.totalMs <= peer.totalMs / 2)
    }); latency p50 at most BullMQ's, ${met(ours.latencyP50 <= peer.latencyP50)}; p99, ${
      met(ours.latencyP99 <= peer.latencyP99)
    }.`,
    "",
    "Every round, as measured (ms for 10,000 / latency p50 / p99):",
    "",
  );
  for (const runs of report.rounds_) {
    lines.push(
      `- ${runs[0].name}: ${
        runs.map((run) => `${ms(run.totalMs)} / ${ms(run.latencyP50)} / ${ms(run.latencyP99)}`)
          .join("; ")
      }`,
    );
  }
  lines.push(MARK_END);
  return lines.join("\n");
}

/** Replaces the section between the markers of `path`, or appends it. */
export async function writeSection(path: URL, section: string): Promise<void> {
  const text = await Deno.readTextFile(path);
  const start = text.indexOf(MARK_START);
  const end = text.indexOf(MARK_END);
  const next = start >= 0 && end > start
    ? text.slice(0, start) + section + text.slice(end + MARK_END.length)
    : `${text.trimEnd()}\n\n${section}\n`;
  await Deno.writeTextFile(path, next);
  // Align the tables as `deno fmt --check` expects.
  const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path.pathname] })
    .output();
  if (!fmt.success) throw new Error(`deno fmt ${path.pathname} failed`);
}

// The Deno.bench group: registered only with REDIS_URL and the network (`deno task bench` and
// scripts/bench_report.ts allow no network: this file's figures come from running it as a
// program).
if (
  URL_ !== undefined && Deno.permissions.querySync?.({ name: "net" }).state === "granted"
) {
  const group = `redis: publish + ack, pool of ${CONCURRENCY} (×1000)`;
  for (const [name, open] of SIDES) {
    Deno.bench({
      name,
      group,
      baseline: name === SIDES[0][0],
      n: 5,
      warmup: 1,
      async fn() {
        await throughput(URL_!, open, 1_000);
      },
    });
  }
}

if (import.meta.main) {
  if (URL_ === undefined) {
    console.error("Set REDIS_URL to a redis-server of your own: the bench creates and drops keys");
    Deno.exit(2);
  }
  const report = await compare(URL_);
  const section = markdown(report);
  if (Deno.args.includes("--json")) console.log(JSON.stringify(report));
  else console.log(section);
  if (Deno.args.includes("--write")) {
    await writeSection(new URL("./BENCHMARKS.md", import.meta.url), section);
  }
  Deno.exit(0);
}
