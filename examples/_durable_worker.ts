/**
 * A worker process of the demo's durable part: `examples/demo.ts` starts three. Each opens the
 * shared SQLite file and registers the same durable listener, "invoice", so the three share its
 * deliveries. For each paid order it writes an invoice (a row keyed by `event.idempotencyKey`,
 * in a file of its own) between two spells of simulated work, so a worker killed at the wrong
 * moment has written an invoice it never acknowledged: the order comes back, and its invoice is
 * written twice.
 *
 * It tells the demo what it does on stdout, one line each: `ready`; `started <acked>` as an
 * order starts; `acked <acked>` after orders finish, where `<acked>` counts the deliveries this
 * worker has acknowledged so far. `close` on stdin, or the end of stdin, closes it.
 *
 * Usage: `deno run --allow-read --allow-write examples/_durable_worker.ts <events.db> <invoices.db>`
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import process from "node:process";
import { Soiree } from "../mod.ts";
import { sqliteTransport } from "../src/sqlite/mod.ts";

const [events, invoicesPath] = process.argv.slice(-2);
/** Simulated work before the invoice and after it: 0 to 20 ms each, at random. */
const work = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * 20));

const soiree = new Soiree({ transport: await sqliteTransport(events, { pollInterval: 20 }) });
const invoices = new DatabaseSync(invoicesPath);
invoices.exec("PRAGMA busy_timeout = 10000");
const write = invoices.prepare(
  "INSERT INTO invoices (key, order_no, worker, attempt) VALUES (?, ?, ?, ?)",
);

// Deno's console.log writes synchronously: a line printed is out before the next step.
let reportScheduled = false;
const reportAcks = (): void => {
  if (reportScheduled) return;
  reportScheduled = true;
  // After the acknowledgements of this turn have committed.
  setTimeout(() => {
    reportScheduled = false;
    console.log(`acked ${soiree.stats().durable.acked}`);
  }, 0);
};

soiree.on("order.paid", async (event) => {
  console.log(`started ${soiree.stats().durable.acked}`);
  try {
    await work();
    const { order } = event.payload as { order: number };
    write.run(event.idempotencyKey, order, process.pid, event.attempt);
    // Killed from here until the acknowledgement commits, the invoice is written twice.
    await work();
  } finally {
    reportAcks();
  }
}, { durable: "invoice", pool: { concurrency: 4 }, lease: 2_000 });

let closing: Promise<void> | undefined;
const close = (): Promise<void> =>
  closing ??= soiree.close().then(() => {
    invoices.close();
    process.exit(0);
  });
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => void (chunk.includes("close") && close()));
process.stdin.on("end", () => void close());
console.log("ready");
