// A child process of postgres_crash_test.ts, on the PostgreSQL transport (DATABASE_URL), in one
// of three roles given as JSON in its one argument:
//
// - `consume`: runs one durable listener that records each delivery's side effect (a row of
//   `<schema>.effects` keyed by `event.idempotencyKey`, outside any transaction) between two
//   spells of simulated work, as tests/_crash_consumer.ts does for SQLite.
// - `publish`: opens a transaction, publishes `count` events through it, reports `published`
//   and waits, never committing: the test kills it there.
// - `complete`: runs one durable listener that, in one transaction, writes a row to
//   `<schema>.credits` and calls `event.complete(tx)`, reports `completed <event id>` and
//   waits, never committing: the test kills it there.
//
// It reports on stdout, one line each, written synchronously: `ready` once it listens, then
// `started <acked so far>` and `acked <n>` (consume), `published`, or `completed <id>`. On the
// line `close` on stdin it closes the emitter, prints `closed <durable stats>` and exits.
//
// Usage: <runtime> _postgres_child.ts '<PostgresChildConfig as JSON>'

import { writeSync } from "node:fs";
import process from "node:process";
import { Soiree } from "../mod.ts";
import { postgresTransport } from "../src/postgres/mod.ts";
import { openPool } from "./_postgres.ts";

/** What the test passes as the one argument, as JSON. */
export interface PostgresChildConfig {
  role: "consume" | "publish" | "complete";
  schema: string;
  durable: string;
  pattern: string;
  /** The listener's pool size and lease (ms). */
  concurrency: number;
  lease: number;
  /** Simulated work (ms, on average) before the side effect, and again after it. */
  work: number;
  /** Events to publish (role `publish`). */
  count?: number;
}

const config: PostgresChildConfig = JSON.parse(process.argv[process.argv.length - 1]);
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** Writes a line to stdout before it returns (see tests/_crash_consumer.ts). */
function report(line: string): void {
  const bytes = new TextEncoder().encode(`${line}\n`);
  for (let written = 0; written < bytes.length;) {
    try {
      written += writeSync(1, bytes, written);
    } catch (error) {
      if ((error as { code?: string }).code !== "EAGAIN") throw error;
      Atomics.wait(PAUSE, 0, 0, 1);
    }
  }
}

const work = (): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * config.work));

const pool = await openPool(config.concurrency + 4);
const transport = await postgresTransport({
  client: pool,
  schema: config.schema,
  pollInterval: 20,
});
const soiree = new Soiree({ transport, errorHandler: () => {} });
const s = `"${config.schema}"`;
const forever = new Promise<never>(() => {});

if (config.role === "publish") {
  const tx = await pool.connect();
  await tx.query("BEGIN");
  for (let n = 0; n < (config.count ?? 1); n++) {
    await soiree.publish("crash.job", { n }, { tx });
  }
  report("published");
  await forever;
}

let reportScheduled = false;
function reportAcks(): void {
  if (reportScheduled) return;
  reportScheduled = true;
  setTimeout(() => {
    reportScheduled = false;
    report(`acked ${soiree.stats().durable.acked}`);
  }, 0);
}

if (config.role === "consume") {
  soiree.on(config.pattern, async (event) => {
    report(`started ${soiree.stats().durable.acked}`);
    try {
      await work();
      const { n } = event.payload as { n: number };
      await pool.query(`INSERT INTO ${s}.effects (key, n, pid, attempt) VALUES ($1, $2, $3, $4)`, [
        event.idempotencyKey,
        n,
        process.pid,
        event.attempt,
      ]);
      // A kill from here until the acknowledgement commits repeats the side effect.
      await work();
    } finally {
      reportAcks();
    }
  }, { durable: config.durable, pool: { concurrency: config.concurrency }, lease: config.lease });
}

if (config.role === "complete") {
  soiree.on(config.pattern, async (event) => {
    const tx = await pool.connect();
    await tx.query("BEGIN");
    await tx.query(`INSERT INTO ${s}.credits (event, pid) VALUES ($1, $2)`, [
      event.id,
      process.pid,
    ]);
    await event.complete(tx);
    report(`completed ${event.id}`);
    await forever; // killed here: the write and the ack are neither committed
  }, { durable: config.durable, lease: config.lease });
}

let closing: Promise<void> | undefined;
function close(): Promise<void> {
  return closing ??= (async () => {
    await soiree.close();
    report(`closed ${JSON.stringify(soiree.stats().durable)}`);
    await pool.end();
    process.exit(0);
  })();
}
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  if (chunk.includes("close")) void close();
});
process.stdin.on("end", () => void close());
// Published before `ready`, so that the registration is stored when the test sees it.
await transport.subscribe({ name: config.durable, pattern: config.pattern });
report("ready");
