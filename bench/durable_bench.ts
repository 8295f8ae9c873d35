// deno-lint-ignore-file no-import-prefix -- the SQLite job queues are bench-only, pinned here and
// nowhere else, so that deno.json's imports stay those of the library.

// Durable delivery: publish events one by one (`await` each), one durable listener on a pool
// of 16 whose body is `await Promise.resolve()`, until every event is acked. Soiree on the
// memory transport and on the SQLite transport, beside the SQLite job queues a user would pick
// instead, doing the same work: plainjob (16 workers of one job type) and liteque (a Runner of
// concurrency 16). The floor is an in-process `emit()` to the same listener on the same pool,
// with no store. Every SQLite side gets a fresh file in a fresh temp directory, in WAL mode.
//
// Neither peer runs on Deno's SQLite driver out of the box: both are written for better-sqlite3,
// a native addon on the legacy V8 ABI that Deno cannot load. plainjob takes a `Connection`
// object (its own adapter interface, made for better-sqlite3 and bun:sqlite), given here over
// `node:sqlite`; liteque takes a drizzle database, made here with drizzle's better-sqlite3
// driver over a small better-sqlite3 facade on `node:sqlite`. So all sides run on one SQLite
// build, in one process. liteque 0.8 needs better-sqlite3 before 12 (12 refuses the promise its
// dequeue transaction returns): the facade behaves as 11 does. Each side keeps the pragmas it
// sets itself (plainjob and liteque set `synchronous = NORMAL`; Soiree, what
// `sqliteTransport()` sets).
//
// The publishing loop awaits each publish but never yields to the event loop: Soiree's consumer
// runs between publishes (its wake-up is a promise), while the peers' idle workers, asleep on a
// timer, start once the loop is over. That is each design's behaviour under a burst.
//
// `deno task bench` runs the `Deno.bench` group below (1,000 events an iteration). Run as a
// program, the file makes the 10,000-event comparison `scripts/bench_report.ts` reports:
// `deno run --allow-env --allow-read --allow-write --allow-sys bench/durable_bench.ts --json`.

import { memoryTransport, Pool, Soiree, type Transport } from "@x/soiree";
import { sqliteTransport } from "@x/soiree/sqlite";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import { type Connection, defineQueue, defineWorker } from "npm:plainjob@0.0.14";
import { migrateDB, Runner, SqliteQueue } from "npm:liteque@0.8.0";
import { drizzle } from "npm:drizzle-orm@0.33.0/better-sqlite3";

/** Events per `Deno.bench` iteration. */
const BENCH_EVENTS = 1_000;
/** Timed iterations of each `Deno.bench`. */
const BENCH_ITERATIONS = 5;
/** Events per run of the comparison. */
export const EVENTS = 10_000;
/** The listener's pool size, the workers of plainjob, the concurrency of liteque's runner. */
export const CONCURRENCY = 16;
/**
 * How long (ms) an idle plainjob worker or liteque runner sleeps before it looks again (their
 * defaults are 1,000 ms). A fresh queue starts idle; a shorter sleep only favours them. Soiree
 * wakes its consumers in-process on `publish()` and needs none.
 */
export const PEER_POLL = 10;
/** Measured rounds of the comparison, the order of the sides alternating between rounds. */
const ROUNDS = 2;
const TOPIC = "bench.event";

/** One side's run: what it did and how long it took. */
export interface DurableRun {
  /** The library and its store. */
  name: string;
  events: number;
  /** First publish to last ack (ms). */
  totalMs: number;
  /** The publishing loop alone (ms). */
  publishMs: number;
  /** Publish → the listener's start (ms): median and 99th percentile. */
  latencyP50: number;
  latencyP99: number;
  /** How long one `await publish()` took (µs): median and 99th percentile. */
  publishP50: number;
  publishP99: number;
}

/** What `--json` prints on its last line. */
export interface DurableReport {
  runtime: string;
  sqlite: string;
  rounds: number;
  /** Each side's fastest round (lowest `totalMs`). */
  runs: DurableRun[];
  /** `PRAGMA synchronous` each SQLite side ran with (0 OFF, 1 NORMAL, 2 FULL). */
  synchronous: Record<string, number>;
}

/** A side, open: publishes event `i` and counts its acks. */
interface Side {
  publish(i: number): unknown;
  acked(): number;
  /** `PRAGMA synchronous` of its connection, for SQLite sides. */
  synchronous?(): number;
  close(): Promise<void>;
}

/** The listener every side runs: reports its start, then a trivial async body. */
type Body = (i: number) => Promise<void>;

/** Opens a side on a fresh file `path` whose listener runs `body`. */
type Open = (path: string, body: Body) => Promise<Side>;

const silent = { error() {}, warn() {}, info() {}, debug() {} };

function pragma(db: DatabaseSync, name: string): number {
  return Number(Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0]);
}

const NORMAL = { synchronous: "normal" } as const;

function soireeSide(name: string, transport: (path: string) => Promise<Transport>): [string, Open] {
  return [name, async (path, body) => {
    const soiree = new Soiree({ transport: await transport(path) });
    soiree.on(TOPIC, (event) => body(event.payload as number), {
      durable: "bench",
      pool: new Pool({ concurrency: CONCURRENCY }),
    });
    return {
      publish: (i) => soiree.publish(TOPIC, i),
      acked: () => soiree.stats().durable.acked,
      close: () => soiree.close(),
    };
  }];
}

/** plainjob's `Connection` over node:sqlite, as its `better()` makes one over better-sqlite3. */
function plainjobConnection(db: DatabaseSync, filename: string): Connection {
  const transaction = (fn: (...args: unknown[]) => unknown) => {
    const run = (begin: string) => (...args: unknown[]) => {
      db.exec(begin);
      try {
        const result = fn(...args);
        db.exec("COMMIT");
        return result;
      } catch (error) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw error;
      }
    };
    return Object.assign(run("BEGIN"), {
      deferred: run("BEGIN DEFERRED"),
      immediate: run("BEGIN IMMEDIATE"),
      exclusive: run("BEGIN EXCLUSIVE"),
      default: run("BEGIN"),
    });
  };
  return {
    driver: "better-sqlite3",
    filename,
    pragma: (statement) => db.exec(`PRAGMA ${statement}`),
    exec: (sql) => db.exec(sql),
    prepare: (sql) => db.prepare(sql) as unknown as ReturnType<Connection["prepare"]>,
    transaction: transaction as unknown as Connection["transaction"],
    close: () => db.close(),
  };
}

const plainjob: [string, Open] = ["plainjob", async (path, body) => {
  const db = new DatabaseSync(path);
  const queue = defineQueue({ connection: plainjobConnection(db, path), logger: silent });
  let acked = 0;
  const workers = Array.from(
    { length: CONCURRENCY },
    () =>
      defineWorker(TOPIC, (job) => body(Number(job.data)), {
        queue,
        logger: silent,
        pollIntervall: PEER_POLL,
        onCompleted: () => acked++,
      }),
  );
  const running = workers.map((worker) => worker.start());
  return {
    publish: (i) => queue.add(TOPIC, i),
    acked: () => acked,
    synchronous: () => pragma(db, "synchronous"),
    async close() {
      await Promise.all(workers.map((worker) => worker.stop()));
      await Promise.all(running);
      queue.close();
    },
  };
}];

/**
 * The part of better-sqlite3 that drizzle's better-sqlite3 driver uses, over node:sqlite:
 * `prepare()` with `run`/`get`/`all` and `raw()` (rows as arrays), and `transaction()`. Its
 * transactions behave as better-sqlite3's before version 12, which liteque 0.8 was written for
 * (12 refuses a transaction function that returns a promise, which liteque's dequeue does).
 */
class BetterSqliteFacade {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }
  prepare(sql: string): unknown {
    const statement = this.#db.prepare(sql);
    let arrays: StatementSync | undefined;
    const raw = () => {
      if (arrays === undefined) {
        arrays = this.#db.prepare(sql);
        // Deno has it (as Node 24 does); the Node types it ships predate it.
        (arrays as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
      }
      return arrays;
    };
    return {
      run: (...params: never[]) => statement.run(...params),
      get: (...params: never[]) => statement.get(...params),
      all: (...params: never[]) => statement.all(...params),
      raw: () => ({
        get: (...params: never[]) => raw().get(...params),
        all: (...params: never[]) => raw().all(...params),
      }),
    };
  }
  transaction(fn: (...args: unknown[]) => unknown): unknown {
    const db = this.#db;
    const run = (begin: string) => (...args: unknown[]) => {
      db.exec(begin);
      try {
        const result = fn(...args);
        db.exec("COMMIT");
        return result;
      } catch (error) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw error;
      }
    };
    return Object.assign(run("BEGIN"), {
      deferred: run("BEGIN DEFERRED"),
      immediate: run("BEGIN IMMEDIATE"),
      exclusive: run("BEGIN EXCLUSIVE"),
    });
  }
}

/** liteque's queue, counting the jobs it finalized (deleted once completed). */
class CountingQueue<T> extends SqliteQueue<T> {
  completed = 0;
  override async finalize(...args: Parameters<SqliteQueue<T>["finalize"]>): Promise<void> {
    await super.finalize(...args);
    if (args[2] === "completed") this.completed++;
  }
}

const liteque: [string, Open] = ["liteque", async (path, body) => {
  const sqlite = new DatabaseSync(path);
  // The pragmas liteque's buildDBClient() sets, which needs better-sqlite3 itself.
  sqlite.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;
    PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;`);
  const db = drizzle(new BetterSqliteFacade(sqlite) as never) as unknown as ConstructorParameters<
    typeof SqliteQueue<number>
  >[1];
  migrateDB(db);
  const queue = new CountingQueue<number>(TOPIC, db, {
    defaultJobArgs: { numRetries: 0 },
    keepFailedJobs: false,
  });
  const runner = new Runner<number>(queue, { run: (job) => body(job.data) }, {
    concurrency: CONCURRENCY,
    pollIntervalMs: PEER_POLL,
    timeoutSecs: 60,
  });
  const running = runner.run();
  return {
    publish: (i) => queue.enqueue(i),
    acked: () => queue.completed,
    synchronous: () => pragma(sqlite, "synchronous"),
    async close() {
      runner.stop();
      await running;
      sqlite.close();
    },
  };
}];

/** The floor: the same listener on the same pool through an in-process `emit()`, no store. */
const floor: [string, Open] = ["floor: emit(), no store", async (_path, body) => {
  const soiree = new Soiree();
  soiree.on(TOPIC, (event) => body(event.payload as number), {
    pool: new Pool({ concurrency: CONCURRENCY }),
  });
  let acked = 0;
  const count = () => acked++;
  return {
    publish: (i) => void soiree.emit(TOPIC, i).then(count),
    acked: () => acked,
    close: () => soiree.close(),
  };
}];

/** Publishes in flight at once in the `… in flight` sides: a service serving 16 requests. */
export const IN_FLIGHT = 16;

/**
 * Every side, in the order the tables list them, with how many publishes it keeps in flight.
 * plainjob's `add()` and liteque's `enqueue()` are one at a time by nature; Soiree's are also
 * measured 16 at a time, where its writes of one turn share a commit.
 */
export const SIDES: readonly [string, Open, number][] = [
  [...soireeSide("soiree", (path) => sqliteTransport(path)), 1],
  [...soireeSide("soiree sqlite normal", (path) => sqliteTransport(path, NORMAL)), 1],
  [...soireeSide("soiree, 16 in flight", (path) => sqliteTransport(path)), IN_FLIGHT],
  [
    ...soireeSide("soiree sqlite normal, 16 in flight", (path) => sqliteTransport(path, NORMAL)),
    IN_FLIGHT,
  ],
  [...soireeSide("soiree memory", async () => memoryTransport()), 1],
  [...plainjob, 1],
  [...liteque, 1],
  [...floor, 1],
];

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Timings of one run, in the caller's buffers. */
interface Timings {
  publishedAt: Float64Array;
  startedAt: Float64Array;
  publishTook: Float64Array;
}

function timings(count: number): Timings {
  return {
    publishedAt: new Float64Array(count),
    startedAt: new Float64Array(count),
    publishTook: new Float64Array(count),
  };
}

/**
 * Opens `open` on a fresh file, publishes `count` events and waits until all are acked;
 * `mark` is called with "start" before the first publish and "end" after the last ack.
 */
async function runSide(
  open: Open,
  count: number,
  times: Timings,
  window: number,
  mark: (at: "start" | "end") => void = () => {},
): Promise<{ totalMs: number; publishMs: number; synchronous?: number }> {
  const dir = await Deno.makeTempDir({ prefix: "soiree_durable_bench_" });
  const path = `${dir}/queue.db`;
  const { publishedAt, startedAt, publishTook } = times;
  let finished = 0;
  const allFinished = Promise.withResolvers<void>();
  const body: Body = async (i) => {
    startedAt[i] = performance.now();
    await Promise.resolve();
    if (++finished === count) allFinished.resolve();
  };
  const side = await open(path, body);
  try {
    mark("start");
    const start = performance.now();
    const publishOne = async (i: number): Promise<void> => {
      const before = performance.now();
      publishedAt[i] = before;
      await side.publish(i);
      publishTook[i] = performance.now() - before;
    };
    if (window === 1) { for (let i = 0; i < count; i++) await publishOne(i); }
    else {
      // `window` publishes in flight at once, a new one as soon as one resolves.
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < count) await publishOne(next++);
      };
      await Promise.all(Array.from({ length: window }, lane));
    }
    const published = performance.now();
    await allFinished.promise;
    // The acks of the last few events settle after their bodies: look at every turn.
    while (side.acked() < count) await immediate();
    const end = performance.now();
    mark("end");
    return {
      totalMs: end - start,
      publishMs: published - start,
      synchronous: side.synchronous?.(),
    };
  } finally {
    await side.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function summarise(
  name: string,
  count: number,
  times: Timings,
  totalMs: number,
  publishMs: number,
): DurableRun {
  const latency = new Float64Array(count);
  for (let i = 0; i < count; i++) latency[i] = times.startedAt[i] - times.publishedAt[i];
  latency.sort();
  const publish = times.publishTook.slice().sort();
  return {
    name,
    events: count,
    totalMs,
    publishMs,
    latencyP50: percentile(latency, 0.5),
    latencyP99: percentile(latency, 0.99),
    publishP50: percentile(publish, 0.5) * 1000,
    publishP99: percentile(publish, 0.99) * 1000,
  };
}

/**
 * The comparison: a warm-up run of each side (1,000 events), then ROUNDS rounds of `count`
 * events per side, the order alternating; each side keeps its fastest round.
 */
export async function compare(count = EVENTS, rounds = ROUNDS): Promise<DurableReport> {
  const best = new Map<string, DurableRun>();
  const synchronous: Record<string, number> = {};
  for (const [, open, window] of SIDES) {
    await runSide(open, BENCH_EVENTS, timings(BENCH_EVENTS), window);
  }
  const times = timings(count);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [...SIDES] : [...SIDES].reverse();
    for (const [name, open, window] of order) {
      const { totalMs, publishMs, synchronous: sync } = await runSide(open, count, times, window);
      if (sync !== undefined) synchronous[name] = sync;
      const run = summarise(name, count, times, totalMs, publishMs);
      console.error(
        `  round ${round + 1}, ${name}: ${totalMs.toFixed(0)} ms, p50 ${
          run.latencyP50.toFixed(2)
        } ms, p99 ${run.latencyP99.toFixed(2)} ms`,
      );
      const kept = best.get(name);
      if (kept === undefined || totalMs < kept.totalMs) best.set(name, run);
    }
  }
  const db = new DatabaseSync(":memory:");
  const sqlite = String(Object.values(db.prepare("SELECT sqlite_version()").get() ?? {})[0]);
  db.close();
  return {
    runtime: `Deno ${Deno.version.deno}`,
    sqlite,
    rounds,
    runs: SIDES.map(([name]) => best.get(name)!),
    synchronous,
  };
}

// The Deno.bench group: needs --allow-write for the temp files; without it the group is skipped.
{
  const group = `durable: publish + ack, pool of ${CONCURRENCY} (×${BENCH_EVENTS})`;
  const writable = Deno.permissions.querySync?.({ name: "write" }).state === "granted";
  const times = timings(BENCH_EVENTS);
  for (const [name, open, window] of SIDES) {
    Deno.bench({
      name,
      group,
      baseline: name === "soiree",
      ignore: !writable,
      // An iteration takes from milliseconds (memory) to seconds (SQLite on a full fsync).
      n: BENCH_ITERATIONS,
      warmup: 1,
      async fn(b) {
        await runSide(
          open,
          BENCH_EVENTS,
          times,
          window,
          (at) => at === "start" ? b.start() : b.end(),
        );
      },
    });
  }
}

if (import.meta.main) {
  const report = await compare();
  console.log(JSON.stringify(report));
  // liteque leaves a timeout timer per job (60 s); do not wait for them.
  Deno.exit(0);
}
