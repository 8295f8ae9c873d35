// A consumer process of crash_test.ts: it opens the shared SQLite store, runs one durable
// listener, and records each delivery's side effect (a row keyed by `event.idempotencyKey`, in a
// SQLite file of its own) before the listener returns, between two spells of simulated work.
//
// It reports on stdout, one line each, written synchronously so that a SIGKILL cannot drop a
// line already reported: `ready` once it listens; `started <n>` as a delivery starts, before
// its side effect; `acked <n>` after deliveries finish. `n` is the acknowledgements this process
// has made so far, counted after they commit, so never more than the truth. On the line `close`
// on stdin, or at the end of stdin, it closes the emitter, prints `closed <durable stats>` and
// exits.
//
// Usage: <runtime> _crash_consumer.ts '<CrashConsumerConfig as JSON>'

import process from "node:process";
import { Soiree } from "../mod.ts";
import { sqliteTransport } from "../src/sqlite/mod.ts";
import { driver, opensPaths } from "./_sqlite.ts";
import { report } from "./_consumer_process.ts";

/** What crash_test.ts passes as the one argument, as JSON. */
export interface CrashConsumerConfig {
  /** The store's file. */
  events: string;
  /** The file with the `effects (key, n, pid, attempt)` table. */
  effects: string;
  /** The durable name and its pattern. */
  durable: string;
  pattern: string;
  /** The listener's pool size and lease (ms). */
  concurrency: number;
  lease: number;
  /** Simulated work (ms, on average) before the side effect, and again after it. */
  work: number;
}

const config: CrashConsumerConfig = JSON.parse(process.argv[process.argv.length - 1]);

/** Simulated work: 0 to twice `config.work` ms at random, so that the deliveries drift apart. */
const work = (): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * config.work));

// node:sqlite opens the path itself; on Node 20 the tests' driver (better-sqlite3) opens it.
const store = opensPaths ? config.events : driver.open(config.events);
const soiree = new Soiree({ transport: await sqliteTransport(store, { pollInterval: 20 }) });
const effects = driver.open(config.effects);
effects.exec("PRAGMA busy_timeout = 10000");
const record = effects.prepare("INSERT INTO effects (key, n, pid, attempt) VALUES (?, ?, ?, ?)");

let reportScheduled = false;
/** Reports the acknowledgements made so far, once the ones of this turn have committed. */
function reportAcks(): void {
  if (reportScheduled) return;
  reportScheduled = true;
  setTimeout(() => {
    reportScheduled = false;
    report(`acked ${soiree.stats().durable.acked}`);
  }, 0);
}

soiree.on(config.pattern, async (event) => {
  report(`started ${soiree.stats().durable.acked}`);
  try {
    await work();
    const { n } = event.payload as { n: number };
    record.run(event.idempotencyKey, n, process.pid, event.attempt);
    // A kill from here until the acknowledgement commits repeats the side effect.
    await work();
  } finally {
    reportAcks();
  }
}, {
  durable: config.durable,
  pool: { concurrency: config.concurrency },
  lease: config.lease,
});

let closing: Promise<void> | undefined;
function close(): Promise<void> {
  return closing ??= (async () => {
    await soiree.close();
    report(`closed ${JSON.stringify(soiree.stats().durable)}`);
    effects.close();
    process.exit(0);
  })();
}
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  if (chunk.includes("close")) void close();
});
process.stdin.on("end", () => void close());
report("ready");
