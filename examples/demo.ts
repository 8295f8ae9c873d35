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
 * Run: `deno task demo`
 *
 * @module
 */

import { Pool, Priority, Soiree, type SoireeEvent } from "../mod.ts";

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
