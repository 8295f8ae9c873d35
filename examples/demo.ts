/**
 * A simulated service: HTTP requests, emails and bulk uploads are three workload classes.
 *
 * Phase 1 runs every listener on one shared pool of 8, as a naive bus would: a burst of 60 bulk
 * uploads at the start holds every slot for about a second, and the requests and emails sent
 * meanwhile, about half of them, wait behind it. Their p95 latency comes close to a second, while
 * their median stays a few milliseconds, set by those sent after the burst has drained. Phase 2
 * gives each class its own pool (4 requests, 2 emails, 2 uploads): requests and emails keep their
 * latency (p95 6–7 ms and 22–24 ms in eight runs on a 2-core machine), and the uploads pay for
 * it, queuing for their own two slots (p95 about 4.4 s instead of 1.2 s). Work is simulated with
 * timers.
 *
 * A latency is the time from `emit()` until its promise settles, the listener's work included.
 *
 * Phase 3 is durable delivery across processes: this process publishes 500 paid orders to a
 * SQLite file, three worker processes (`_durable_worker.ts`) share the durable listener
 * "invoice" and write an invoice per order, and worker 1 is killed with SIGKILL mid-run. Its
 * orders come back to the other two once its leases run out: every order gets its invoice,
 * and the only ones written twice are among those worker 1 had in flight.
 *
 * Run: `deno task demo`
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { Pool, Priority, Soiree, type SoireeEvent } from "../mod.ts";
import { sqliteTransport } from "../src/sqlite/mod.ts";

type Events = {
  "request.get": { path: string; user: string };
  "email.send": { to: string };
  "upload.chunk": { user: string; part: number };
};

type ClassName = "request" | "email" | "upload";
const CLASSES: ClassName[] = ["request", "email", "upload"];
/** Simulated work per class, in milliseconds. */
const WORK: Record<ClassName, number> = { request: 4, email: 20, upload: 150 };
/** Each class's bound in phase 2; phase 1 shares one pool of the same total size. */
const BOUND: Record<ClassName, number> = { request: 4, email: 2, upload: 2 };
const PHASE_MS = 2_500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Figures {
  running: number;
  peak: number;
  done: number;
  latencies: number[];
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function phase(title: string, separate: boolean): Promise<Record<ClassName, Figures>> {
  const figures = Object.fromEntries(
    CLASSES.map((name) => [name, { running: 0, peak: 0, done: 0, latencies: [] }]),
  ) as unknown as Record<ClassName, Figures>;
  const total = BOUND.request + BOUND.email + BOUND.upload;
  const shared = new Pool({ concurrency: total, name: "shared" });
  const pools: Record<ClassName, Pool> = separate
    ? {
      request: new Pool({ concurrency: BOUND.request, name: "requests" }),
      email: new Pool({ concurrency: BOUND.email, capacity: 500, name: "emails" }),
      upload: new Pool({ concurrency: BOUND.upload, capacity: 500, name: "uploads" }),
    }
    : { request: shared, email: shared, upload: shared };

  const failures: string[] = [];
  let blocked = 0;
  const soiree = new Soiree<Events>({
    errorHandler: (event, error) => {
      failures.push(`${event.topic}: ${(error as Error).message}`);
      return error as Error;
    },
  });

  // One listener per class: it holds a slot of its pool for the simulated work.
  const work = (name: ClassName) => async (event: SoireeEvent): Promise<void> => {
    const f = figures[name];
    f.peak = Math.max(f.peak, ++f.running);
    try {
      await sleep(WORK[name]);
      if (name === "email" && (event.payload as { to: string }).to.endsWith(".invalid")) {
        throw new Error("mailbox unavailable");
      }
    } finally {
      f.running--;
      f.done++;
    }
  };
  soiree.on("request.*", work("request"), { pool: pools.request });
  soiree.on("email.send", work("email"), { pool: pools.email });
  soiree.on("upload.**", work("upload"), { pool: pools.upload });
  // A firewall runs first on every request and aborts the ones from blocked users.
  soiree.on("request.*", (event) => {
    if (event.payload.user === "mallory") {
      blocked++;
      event.abort();
    }
  }, { priority: Priority.Highest });

  const emissions: Promise<unknown>[] = [];
  const track = (name: ClassName, emission: Promise<readonly Error[]>): void => {
    const started = performance.now();
    emissions.push(emission.then(() => figures[name].latencies.push(performance.now() - started)));
  };

  console.log(`\n${title}`);
  const start = performance.now();
  // The burst: one user uploads 60 chunks at once.
  for (let part = 0; part < 60; part++) {
    track("upload", soiree.emit("upload.chunk", { user: "bulk-user", part }));
  }
  let tick = 0;
  while (performance.now() - start < PHASE_MS) {
    const user = tick % 25 === 0 ? "mallory" : `user${tick % 7}`;
    track("request", soiree.emit("request.get", { path: "/home", user }));
    if (tick % 5 === 0) {
      const to = tick % 40 === 0 ? "bounce@example.invalid" : `u${tick}@example.com`;
      track("email", soiree.emit("email.send", { to }));
    }
    if (tick % 50 === 0) {
      const line = CLASSES.map((name) =>
        `${name} ${figures[name].running}/${separate ? BOUND[name] : total} running, ${
          figures[name].done
        } done`
      ).join(" | ");
      console.log(`  t=${((performance.now() - start) / 1000).toFixed(1)}s  ${line}`);
    }
    tick++;
    await sleep(10);
  }
  await Promise.all(emissions);
  await soiree.close();
  for (const pool of new Set(Object.values(pools))) await pool.close();
  const failed = failures.filter((line) => line.includes("mailbox")).length;
  console.log(
    `  firewall aborted ${blocked} requests; ${failed} emails failed and were reported, e.g. ${
      failures[0] ?? "none"
    }`,
  );
  if (failures.some((line) => !line.includes("mailbox"))) {
    throw new Error(`unexpected failures: ${failures.join("; ")}`);
  }
  return figures;
}

const naive = await phase("Phase 1: one shared pool of 8 for everything", false);
const classes = await phase(
  "Phase 2: a pool per workload class (4 requests, 2 emails, 2 uploads)",
  true,
);

console.log(
  "\nLatency from emit() until its promise settles, the listener's work included; " +
    "peak and done are phase 2's.",
);
console.log(
  "class    | bound | peak (own pools) | done | p50 ms shared → own | p95 ms shared → own",
);
console.log(
  "-------- | ----- | ---------------- | ---- | ------------------- | -------------------",
);
for (const name of CLASSES) {
  const a = naive[name];
  const b = classes[name];
  console.log(
    `${name.padEnd(8)} | ${String(BOUND[name]).padStart(5)} | ${String(b.peak).padStart(16)} | ${
      String(b.done).padStart(4)
    } | ${percentile(a.latencies, 50).toFixed(0).padStart(8)} → ${
      percentile(b.latencies, 50).toFixed(0).padEnd(8)
    } | ${percentile(a.latencies, 95).toFixed(0).padStart(8)} → ${
      percentile(b.latencies, 95).toFixed(0)
    }`,
  );
}
const withinBounds = CLASSES.every((name) => classes[name].peak <= BOUND[name]);
const requestsFast = percentile(classes.request.latencies, 95) <
  percentile(naive.request.latencies, 95);
const p95 = (figures: Figures): string => percentile(figures.latencies, 95).toFixed(0);
console.log(
  `\nEach class stayed within its bound: ${withinBounds ? "yes" : "NO"}. ` +
    `Requests kept their latency while uploads queued: ${requestsFast ? "yes" : "NO"} ` +
    `(p95 ${p95(naive.request)} ms shared, ${p95(classes.request)} ms on their own pool). ` +
    `The uploads paid for it on their ${BOUND.upload} slots: p95 ${p95(naive.upload)} → ` +
    `${p95(classes.upload)} ms.`,
);
if (!withinBounds) throw new Error("a workload class exceeded its bound");

// Phase 3: durable delivery across processes. This process publishes paid orders to a SQLite
// file; three worker processes (examples/_durable_worker.ts) share the durable listener
// "invoice" and write an invoice per order; one is killed with SIGKILL mid-run.

const ORDERS = 500;
const WORKERS = 3;
/** Worker 1 is killed once it has started this many orders. */
const KILL_AFTER = 60;
const WORKER_SCRIPT = fileURLToPath(new URL("./_durable_worker.ts", import.meta.url));

/** A worker process and what it reported on stdout. */
interface Worker {
  readonly number: number;
  readonly child: ChildProcess;
  /** Orders it started. */
  started: number;
  /** Deliveries it acknowledged, as last reported. */
  acked: number;
  readonly ready: Promise<void>;
  /** Settles once it exited and its output is read. */
  readonly exited: Promise<void>;
}

/** Starts worker `number`; `onReport` runs after each chunk of its output is read. */
function startWorker(number: number, paths: string[], onReport: (worker: Worker) => void): Worker {
  const [file, args] = "Deno" in globalThis
    ? [process.execPath, ["run", "--allow-read", "--allow-write", WORKER_SCRIPT]]
    : [process.execPath, [WORKER_SCRIPT]];
  const child = spawn(file, [...args, ...paths], { stdio: ["pipe", "pipe", "inherit"] });
  const ready = Promise.withResolvers<void>();
  const worker: Worker = {
    number,
    child,
    started: 0,
    acked: 0,
    ready: ready.promise,
    exited: new Promise((resolve) => child.on("close", () => resolve())),
  };
  let pending = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      const [word, acked] = line.split(" ");
      if (word === "ready") ready.resolve();
      if (word === "started") worker.started++;
      if (acked !== undefined) worker.acked = Math.max(worker.acked, Number(acked));
    }
    onReport(worker);
  });
  child.on("close", (code) => ready.reject(new Error(`worker ${number} exited with ${code}`)));
  return worker;
}

async function durable(): Promise<void> {
  console.log(`\nPhase 3: durable delivery, ${WORKERS} worker processes on one SQLite file`);
  const dir = mkdtempSync(join(tmpdir(), "soiree-demo-"));
  const paths = [join(dir, "events.db"), join(dir, "invoices.db")];
  const invoices = new DatabaseSync(paths[1]);
  invoices.exec("PRAGMA journal_mode = WAL");
  invoices.exec(
    "CREATE TABLE invoices (key TEXT, order_no INTEGER, worker INTEGER, attempt INTEGER)",
  );
  const transport = await sqliteTransport(paths[0]);
  const publisher = new Soiree({ transport });
  const workers: Worker[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the durable phase took over 15 s")), 15_000);
  });
  deadline.catch(() => {});
  const start = performance.now();
  const at = (): string => `t=${((performance.now() - start) / 1000).toFixed(1)}s`;
  try {
    // The store keeps a durable name's events from its first registration on.
    await transport.subscribe({ name: "invoice", pattern: "order.paid" });
    const ids: string[] = [];
    for (let order = 0; order < ORDERS; order++) {
      ids.push((await publisher.publish("order.paid", { order })).id);
    }

    // Every invoice is written once the last acknowledgement is reported: count at each report.
    const count = invoices.prepare("SELECT COUNT(DISTINCT key) AS keys FROM invoices");
    const allWritten = Promise.withResolvers<void>();
    const killed = Promise.withResolvers<Worker>();
    const onReport = (worker: Worker): void => {
      if (worker.number === 1 && worker.started >= KILL_AFTER && !worker.child.killed) {
        worker.child.kill("SIGKILL");
        killed.resolve(worker);
      }
      if ((count.get() as { keys: number }).keys >= ORDERS) allWritten.resolve();
    };
    for (let number = 1; number <= WORKERS; number++) {
      workers.push(startWorker(number, paths, onReport));
    }
    await Promise.race([Promise.all(workers.map((worker) => worker.ready)), deadline]);
    console.log(
      `  ${at()}  published ${ORDERS} order.paid events; workers ${
        workers.map((w) => `${w.number} (pid ${w.child.pid})`).join(", ")
      } share the durable listener "invoice"`,
    );
    const victim = await Promise.race([killed.promise, deadline]);
    await victim.exited; // its last lines read: what it started and had not acknowledged
    const inFlight = victim.started - victim.acked;
    console.log(
      `  ${at()}  worker 1 killed with SIGKILL after starting ${victim.started} orders, ${inFlight} in flight`,
    );
    await Promise.race([allWritten.promise, deadline]);
    for (const worker of workers.slice(1)) worker.child.stdin!.write("close\n");
    await Promise.all(workers.map((worker) => worker.exited));

    type Row = { key: string; worker: number; attempt: number };
    const rows = invoices.prepare("SELECT key, worker, attempt FROM invoices").all() as Row[];
    const keys = new Set(rows.map((row) => row.key));
    const written = workers.map((w) => rows.filter((row) => row.worker === w.child.pid).length);
    const redelivered = rows.filter((row) => row.attempt > 1).length;
    console.log(
      `  ${at()}  all ${keys.size} invoices written: ${
        written.map((n, i) => `worker ${i + 1} wrote ${n}`).join(", ")
      }`,
    );
    console.log(
      `          ${redelivered} orders came back with attempt 2 once worker 1's leases (2 s) ran out`,
    );
    const lost = ids.filter((id) => !keys.has(`${id}/invoice`)).length;
    console.log(
      `durable: ${ORDERS} published, ${keys.size} handled, ${lost} lost, ${
        rows.length - keys.size
      } handled twice (the killed worker had ${inFlight} in flight), ${redelivered} redelivered with attempt 2`,
    );
    if (lost > 0) throw new Error(`${lost} orders lost`);
  } finally {
    clearTimeout(timer);
    for (const worker of workers) worker.child.kill("SIGKILL");
    await Promise.all(workers.map((worker) => worker.exited));
    if (!publisher.isClosed) await publisher.close();
    invoices.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await durable();
