import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  memoryTransport,
  METRICS_CONTENT_TYPE,
  PermanentError,
  Pool,
  Soiree,
  type Transport,
} from "../mod.ts";
import { sqliteTransport } from "../src/sqlite/mod.ts";
import { escapeLabel, formatValue, renderMetrics } from "../src/_metrics.ts";
import { ListenerMetrics } from "../src/durable/_listener_metrics.ts";
import { type FakeClock, fakeClock } from "./_clock.ts";
import { driver, type TestDatabase } from "./_sqlite.ts";
import { gate, within } from "./_util.ts";
import { redisTransport } from "../src/redis/mod.ts";
import {
  CLIENT_KINDS,
  dropPrefix,
  freshPrefix,
  openClient,
  SKIP_REASON,
  type TestClient,
} from "./_redis.ts";

const dir = mkdtempSync(join(tmpdir(), "soiree-metrics-"));
const opened: TestDatabase[] = [];
/** Redis clients and the prefixes they wrote under, dropped at the end. */
const redisOpened: [TestClient, string][] = [];
after(async () => {
  for (const db of opened) db.close();
  rmSync(dir, { recursive: true, force: true });
  for (const [client, prefix] of redisOpened) {
    await dropPrefix(client.connection, prefix);
    await client.close();
  }
});

/** A Redis transport on a fresh prefix through a client of `library` (RESP3). */
async function openRedis(library: "redis" | "ioredis", clock: FakeClock): Promise<Transport> {
  const client = await openClient(CLIENT_KINDS.find((kind) => kind.library === library)!);
  const prefix = freshPrefix();
  redisOpened.push([client, prefix]);
  return redisTransport({ client: client.connection, prefix, clock, pollInterval: 10 });
}

/** Each metric family's name and type, in the order the exposition declares them. */
function families(text: string): [string, string][] {
  return [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1], match[2]]);
}

/** The samples of one metric name (suffix included), as `labels → value`. */
function samples(text: string, name: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const match of text.matchAll(new RegExp(`^${name}(\\{.*\\})? (\\S+)$`, "gm"))) {
    found[match[1] ?? ""] = Number(match[2]);
  }
  return found;
}

/** Polls a condition across macrotasks: for outcomes reached through the consumer's loop. */
async function until(condition: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition still false after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * An emitter with pools, a failing listener and a durable backlog on `transport`: one dead
 * letter, one retry waiting 60 s, one delivery in flight, two ready for 2.5 s (fake clock).
 */
async function backlog(transport: Transport, clock: FakeClock) {
  const soiree = new Soiree({
    transport,
    pool: { concurrency: 2, name: "emit" },
    errorHandler: () => {},
    panicHandler: () => {},
  });
  soiree.on("report.*", () => {
    throw new Error("renderer crashed");
  }, { pool: { concurrency: 1, name: "reports" } });
  const started = gate();
  const slow = gate();
  soiree.on("job.*", async (event) => {
    if (event.payload === "bad") throw new PermanentError("bad input");
    if (event.payload === "flaky") throw new Error("try later");
    started.open();
    await slow.promise;
  }, { durable: "jobs", retry: { attempts: 3, delay: () => 60_000 } });
  await soiree.emit("report.daily");
  await soiree.publish("job.run", "bad");
  await until(() => soiree.stats().durable.deadLettered === 1);
  await soiree.publish("job.run", "flaky");
  await until(() => soiree.stats().durable.retried === 1);
  await soiree.publish("job.run", "slow");
  await within(started.promise, 20_000, "the slow delivery");
  await soiree.publish("job.run", "queued 1");
  await soiree.publish("job.run", "queued 2");
  clock.advance(2_500);
  return { soiree, release: slow.open };
}

test("metrics() declares each family once with its type, and a pool shared by listeners once", async () => {
  const soiree = new Soiree({ pool: { concurrency: 4, name: "emit" }, errorHandler: () => {} });
  const mail = new Pool({ concurrency: 2, name: "mail" });
  soiree.on("mail.send", () => {}, { pool: mail });
  soiree.on("mail.*", () => {
    throw new Error("smtp down");
  }, { pool: mail });
  await soiree.emit("mail.send");
  const text = await soiree.metrics();
  assert.deepEqual(families(text), [
    ["soiree_events_emitted_total", "counter"],
    ["soiree_listener_failures_total", "counter"],
    ["soiree_emissions_aborted_total", "counter"],
    ["soiree_emissions_in_flight", "gauge"],
    ["soiree_listeners", "gauge"],
    ["soiree_pool_tasks_submitted_total", "counter"],
    ["soiree_pool_tasks_started_total", "counter"],
    ["soiree_pool_tasks_completed_total", "counter"],
    ["soiree_pool_tasks_failed_total", "counter"],
    ["soiree_pool_tasks_dropped_total", "counter"],
    ["soiree_pool_tasks_running", "gauge"],
    ["soiree_pool_tasks_queued", "gauge"],
    ["soiree_pool_concurrency", "gauge"],
  ]);
  assert.equal(text.match(/^# HELP /gm)?.length, 13);
  assert.deepEqual(samples(text, "soiree_events_emitted_total"), { "": 1 });
  assert.deepEqual(samples(text, "soiree_listener_failures_total"), { "": 1 });
  assert.deepEqual(samples(text, "soiree_listeners"), { "": 2 });
  assert.deepEqual(samples(text, "soiree_pool_tasks_submitted_total"), {
    '{pool="emit"}': 1,
    '{pool="mail"}': 2,
  });
  assert.deepEqual(samples(text, "soiree_pool_tasks_failed_total"), {
    '{pool="emit"}': 0,
    '{pool="mail"}': 1,
  });
  assert.deepEqual(samples(text, "soiree_pool_concurrency"), {
    '{pool="emit"}': 4,
    '{pool="mail"}': 2,
  });
  assert.ok(text.endsWith("\n"));
  await soiree.close();
  await mail.close();
});

test("metrics() labels a pool made without a name pool-<n>, and drops it with its listener", async () => {
  const soiree = new Soiree();
  const subscription = soiree.on("a", () => {}, { pool: { concurrency: 3 } });
  const [label] = Object.keys(samples(await soiree.metrics(), "soiree_pool_concurrency"));
  assert.match(label, /^\{pool="pool-\d+"\}$/);
  subscription.off();
  assert.doesNotMatch(await soiree.metrics(), /soiree_pool_/);
  await soiree.close();
});

test("metrics() escapes backslashes, quotes and line feeds in label values", async () => {
  assert.equal(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const soiree = new Soiree();
  const pool = new Pool({ name: 'eu "west"\\1\n' });
  soiree.on("a", () => {}, { pool });
  const text = await soiree.metrics();
  assert.ok(text.includes('soiree_pool_concurrency{pool="eu \\"west\\"\\\\1\\n"} 16\n'), text);
  await soiree.close();
});

test("metrics() formats values as Prometheus parses them", () => {
  assert.deepEqual([Infinity, -Infinity, NaN, 0.0005, 2.5, 1e21, -0].map(formatValue), [
    "+Inf",
    "-Inf",
    "NaN",
    "0.0005",
    "2.5",
    "1e+21",
    "0",
  ]);
});

test("metrics() renders each durable listener's attempt durations as a cumulative histogram", async () => {
  const metrics = new ListenerMetrics();
  for (const seconds of [0.0002, 0.0005, 0.003, 20]) metrics.observe(seconds);
  const transport = memoryTransport();
  const scrape = { transport, listeners: [{ name: "h", pool: new Pool(), metrics }], failed() {} };
  const text = await renderMetrics(new Soiree().stats(), [], scrape);
  const buckets = samples(text, "soiree_listener_duration_seconds_bucket");
  const at = (le: string) => buckets[`{transport="memory",listener="h",le="${le}"}`];
  assert.deepEqual(
    ["0.0005", "0.001", "0.0025", "0.005", "1", "10", "+Inf"].map(at),
    [2, 2, 2, 3, 3, 3, 4],
  );
  const counts = Object.values(buckets);
  assert.equal(counts.length, 15);
  assert.ok(counts.every((count, i) => i === 0 || count >= counts[i - 1]), "cumulative");
  assert.deepEqual(samples(text, "soiree_listener_duration_seconds_count"), {
    '{transport="memory",listener="h"}': 4,
  });
  const [sum] = Object.values(samples(text, "soiree_listener_duration_seconds_sum"));
  assert.ok(Math.abs(sum - 20.0037) < 1e-9);
  assert.match(text, /^# TYPE soiree_listener_duration_seconds histogram$/m);
  await transport.close();
});

for (
  const [label, open, client] of [
    ["memory", (clock: FakeClock) => Promise.resolve(memoryTransport({ clock })), ""],
    ["sqlite", (clock: FakeClock) => {
      const db = driver.open(join(dir, `metrics-${opened.length}.db`));
      opened.push(db);
      return sqliteTransport(db, { clock, pollInterval: 10 });
    }, ""],
    ["redis", (clock: FakeClock) => openRedis("redis", clock), " (node-redis)"],
    ["redis", (clock: FakeClock) => openRedis("ioredis", clock), " (ioredis)"],
  ] as const
) {
  const skip = label === "redis" ? SKIP_REASON : false;
  test(`metrics() reads the durable queue from the ${label} engine${client} at scrape time`, {
    skip,
  }, async () => {
    const clock = fakeClock();
    const { soiree, release } = await backlog(await open(clock), clock);
    const text = await soiree.metrics();
    const engine = `transport="${label}",listener="jobs"`;
    assert.deepEqual(samples(text, "soiree_queue_messages"), {
      [`{${engine},state="ready"}`]: 2,
      [`{${engine},state="delayed"}`]: 1,
      [`{${engine},state="in_flight"}`]: 1,
      [`{${engine},state="dead"}`]: 1,
    });
    assert.deepEqual(samples(text, "soiree_delivery_lag_seconds"), { [`{${engine}}`]: 2.5 });
    assert.deepEqual(samples(text, "soiree_deliveries_total"), {
      [`{${engine},outcome="acked"}`]: 0,
      [`{${engine},outcome="retried"}`]: 1,
      [`{${engine},outcome="dead_lettered"}`]: 1,
      [`{${engine},outcome="released"}`]: 0,
    });
    assert.deepEqual(samples(text, "soiree_events_published_total"), {
      [`{transport="${label}"}`]: 5,
    });
    release();
    await soiree.close();
  });
}

test("metrics() leaves out the queue of a listener whose store cannot be read, and counts it", async () => {
  const base = memoryTransport();
  const methods = ["subscribe", "publish", "receive", "wait", "deadLetters", "redrive", "close"];
  const broken = Object.fromEntries(
    methods.map((
      name,
    ) => [name, (base as unknown as Record<string, () => unknown>)[name].bind(base)]),
  ) as unknown as Transport;
  Object.assign(broken, { name: "memory", inspect: () => Promise.reject(new Error("down")) });
  const soiree = new Soiree({ transport: broken });
  soiree.on("a", () => {}, { durable: "audit" });
  const text = await soiree.metrics();
  assert.match(text, /^soiree_deliveries_total\{transport="memory",listener="audit",/m);
  assert.doesNotMatch(text, /soiree_queue_messages|soiree_delivery_lag_seconds/);
  assert.equal(soiree.stats().durable.transportErrors, 1);
  await soiree.close();
});

test("metrics() on a closed emitter resolves with the final counters and no queue", async () => {
  const soiree = new Soiree({ transport: memoryTransport() });
  soiree.on("a", () => {}, { durable: "audit" });
  soiree.emitSync("b");
  await soiree.close();
  const text = await soiree.metrics();
  assert.deepEqual(samples(text, "soiree_events_emitted_total"), { "": 1 });
  assert.doesNotMatch(text, /soiree_queue_messages/);
});

test("METRICS_CONTENT_TYPE is the text exposition format 0.0.4", () => {
  assert.equal(METRICS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

const promtool = spawnSync("promtool", ["--version"], { encoding: "utf8" });
const noPromtool = promtool.error === undefined && promtool.status === 0
  ? undefined
  : "promtool is not on PATH (CI installs it: apt-get install prometheus)";
if (noPromtool !== undefined) {
  console.log(`metrics_test: skipping the promtool check: ${noPromtool}`);
}

test(
  "promtool check metrics accepts an emitter with pools, failures and a durable backlog",
  { skip: noPromtool ?? false },
  async () => {
    const clock = fakeClock();
    const { soiree, release } = await backlog(memoryTransport({ clock }), clock);
    await soiree.broadcast("cache.flush");
    const text = await soiree.metrics();
    assert.match(text, /^soiree_broadcasts_sent_total\{transport="memory"\} 1$/m);
    const checked = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    assert.equal(checked.status, 0, `${checked.stdout}${checked.stderr}\n${text}`);
    assert.equal(`${checked.stdout}${checked.stderr}`.trim(), "");
    release();
    await soiree.close();
  },
);
