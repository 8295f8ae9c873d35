// Crashes on the PostgreSQL transport with real processes and real SIGKILL (DATABASE_URL; skips
// without it): three consumer processes share 2,000 events and one is killed mid-run; a
// publisher is killed with its transaction open; a listener is killed between its transactional
// write plus `event.complete(tx)` and its commit. The children are tests/_postgres_child.ts,
// started with this runtime.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, exec, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Soiree, type Transport } from "../mod.ts";
import { postgresTransport } from "../src/postgres/mod.ts";
import { deferred, within } from "./_util.ts";
import { runtimeCommand } from "./_consumer_process.ts";
import { dropSchema, freshSchema, openPool, type PgPool, SKIP_REASON } from "./_postgres.ts";
import type { PostgresChildConfig } from "./_postgres_child.ts";

const EVENTS = 2_000;
const CONSUMERS = 3;
const KILL_AFTER = 200;
const BATCH = 100;
const DURABLE = "crash";
const LONG = 60_000;
const CHILD = fileURLToPath(new URL("./_postgres_child.ts", import.meta.url));

/** A child process and what it reported. */
interface Child {
  readonly child: ChildProcess;
  started: number;
  acked: number;
  stats?: { leasesLost: number };
  stderr: string;
  /** Resolves with the first line starting with `word` (its rest). */
  line(word: string): Promise<string>;
  reached(count: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

function startChild(config: PostgresChildConfig): Child {
  const [file, args] = runtimeCommand(CHILD);
  const child = spawn(file, [...args, JSON.stringify(config)], { stdio: "pipe" });
  const exited = deferred<number | null>();
  const lines: string[] = [];
  const waiting: { test(line: string): boolean }[] = [];
  const counts: { count: number; resolve(): void }[] = [];
  let pending = "";
  const handle: Child = {
    child,
    started: 0,
    acked: 0,
    stderr: "",
    exited: exited.promise,
    line(word) {
      const found = deferred<string>();
      const test = (line: string) => {
        if (line !== word && !line.startsWith(`${word} `)) return false;
        found.resolve(line.slice(word.length + 1));
        return true;
      };
      if (!lines.some(test)) waiting.push({ test });
      return Promise.race([
        found.promise,
        exited.promise.then((code) => {
          throw new Error(`child ${child.pid} exited with ${code}:\n${handle.stderr}`);
        }),
      ]);
    },
    reached(count) {
      const reached = deferred<void>();
      counts.push({ count, resolve: reached.resolve });
      return reached.promise;
    },
  };
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    const got = (pending + chunk).split("\n");
    pending = got.pop()!;
    for (const line of got) {
      lines.push(line);
      const [word, value] = line.split(" ");
      if (word === "started") handle.started++;
      if (word === "started" || word === "acked") {
        handle.acked = Math.max(handle.acked, Number(value));
      }
      if (word === "closed") handle.stats = JSON.parse(value);
      for (const wait of [...waiting]) {
        if (wait.test(line)) waiting.splice(waiting.indexOf(wait), 1);
      }
    }
    for (const wait of counts) if (handle.started >= wait.count) wait.resolve();
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => void (handle.stderr += chunk));
  child.on("error", (error) => {
    handle.stderr += String(error);
    exited.resolve(null);
  });
  child.on("close", (code) => exited.resolve(code));
  return handle;
}

describe("postgres crashes", { skip: SKIP_REASON }, () => {
  let pool: PgPool | undefined;
  const schemas: string[] = [];
  const children: Child[] = [];
  const closing: (() => Promise<void>)[] = [];
  after(async () => {
    for (const child of children) child.child.kill("SIGKILL");
    await Promise.all(children.map((child) => child.exited));
    for (const close of closing.reverse()) await close();
    if (pool === undefined) return;
    for (const schema of schemas) await dropSchema(pool, schema);
    await pool.end();
  });
  async function setup(): Promise<{ pool: PgPool; schema: string; transport: Transport }> {
    pool ??= await openPool(20);
    const schema = freshSchema();
    schemas.push(schema);
    const transport = await postgresTransport({ client: pool, schema, pollInterval: 20 });
    closing.push(() => transport.close());
    return { pool, schema, transport };
  }
  const base = { durable: DURABLE, pattern: "crash.*", concurrency: 8, lease: 5_000, work: 3 };
  const spawnChild = (config: PostgresChildConfig): Child => {
    const child = startChild(config);
    children.push(child);
    return child;
  };

  test("three consumers, one killed with SIGKILL: no event lost, repeats only from it", async () => {
    const { pool, schema, transport } = await setup();
    await pool.query(`CREATE TABLE "${schema}".effects (key text, n int, pid int, attempt int)`);
    await transport.subscribe({ name: DURABLE, pattern: "crash.*" });
    const publisher = new Soiree({ transport });
    closing.push(() => publisher.close());
    const ids: string[] = [];
    for (let n = 0; n < EVENTS; n += BATCH) {
      const batch = Array.from(
        { length: BATCH },
        (_, i) => publisher.publish("crash.job", { n: n + i }),
      );
      for (const receipt of await Promise.all(batch)) ids.push(receipt.id);
    }
    const consumers = Array.from(
      { length: CONSUMERS },
      () => spawnChild({ ...base, role: "consume", schema }),
    );
    await within(Promise.all(consumers.map((c) => c.line("ready"))), LONG, "start");
    const [victim, ...survivors] = consumers;
    await within(victim.reached(KILL_AFTER), LONG, `${KILL_AFTER} deliveries in the first`);
    victim.child.kill("SIGKILL");
    assert.equal(await within(victim.exited, LONG, "the killed consumer's exit"), null);
    const inFlight = victim.started - victim.acked;
    const count = async () =>
      ((await pool.query(`SELECT count(DISTINCT key)::int AS n FROM "${schema}".effects`))
        .rows[0] as { n: number }).n;
    await within(
      (async () => {
        while (await count() < EVENTS) await new Promise((r) => setTimeout(r, 50));
      })(),
      LONG,
      `${EVENTS} side effects`,
    );
    for (const consumer of survivors) consumer.child.stdin!.write("close\n");
    const codes = await within(Promise.all(survivors.map((c) => c.exited)), LONG, "close");
    assert.deepEqual(codes, survivors.map(() => 0), survivors.map((c) => c.stderr).join("\n"));
    type Row = { key: string; pid: number; attempt: number };
    const { rows } = await pool.query(`SELECT key, pid, attempt FROM "${schema}".effects`);
    const byKey = new Map<string, Row[]>();
    for (const row of rows as Row[]) byKey.set(row.key, [...byKey.get(row.key) ?? [], row]);
    const lost = ids.filter((id) => !byKey.has(`${id}/${DURABLE}`)).length;
    const duplicates = rows.length - byKey.size;
    console.log(
      `postgres crash test: ${EVENTS} events, ${lost} lost, ${duplicates} duplicates (the killed ` +
        `process had ${inFlight} in flight; it started ${victim.started}, the others ` +
        `${survivors.map((c) => c.started).join(" and ")})`,
    );
    assert.equal(lost, 0);
    assert.ok(duplicates <= inFlight, `${duplicates} duplicates, more than ${inFlight} in flight`);
    for (const group of byKey.values()) {
      if (group.length === 1) continue;
      assert.ok(group.some((row) => row.pid === victim.child.pid), JSON.stringify(group));
      assert.ok(group.some((row) => row.attempt > 1), JSON.stringify(group));
    }
  });

  test("a publisher killed with its transaction open delivers nothing", async () => {
    const { pool, schema, transport } = await setup();
    await transport.subscribe({ name: DURABLE, pattern: "crash.*" });
    const publisher = spawnChild({ ...base, role: "publish", schema, count: 5 });
    await within(publisher.line("published"), LONG, "the publishes inside the transaction");
    publisher.child.kill("SIGKILL");
    await within(publisher.exited, LONG, "exit");
    const soiree = new Soiree({ transport });
    closing.push(() => soiree.close());
    const got: unknown[] = [];
    const sentinel = deferred<void>();
    soiree.on("crash.*", (event) => {
      got.push(event.payload);
      if (event.payload === "after") sentinel.resolve();
    }, { durable: DURABLE });
    await soiree.publish("crash.job", "after");
    await within(sentinel.promise, LONG, "the event published after the crash");
    assert.deepEqual(got, ["after"]);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".events`);
    assert.deepEqual(rows, [{ n: 1 }], "only the committed event is stored");
  });

  test("a listener killed between its write with complete(tx) and the commit: the write happens once", async () => {
    const { pool, schema, transport } = await setup();
    await pool.query(`CREATE TABLE "${schema}".credits (event text, pid int)`);
    const victim = spawnChild({ ...base, role: "complete", schema, lease: 500 });
    await within(victim.line("ready"), LONG, "start");
    const soiree = new Soiree({ transport, errorHandler: () => {} });
    closing.push(() => soiree.close());
    const { id } = await soiree.publish("crash.job", { n: 1 });
    assert.equal(await within(victim.line("completed"), LONG, "complete(tx) in the child"), id);
    victim.child.kill("SIGKILL");
    await within(victim.exited, LONG, "exit");
    // Recovery: this process takes the delivery once its lease ends, and commits.
    const recovered = deferred<number>();
    soiree.on("crash.*", async (event) => {
      const tx = await pool.connect();
      try {
        await tx.query("BEGIN");
        await tx.query(`INSERT INTO "${schema}".credits (event, pid) VALUES ($1, $2)`, [
          event.id,
          process.pid,
        ]);
        await event.complete(tx);
        await tx.query("COMMIT");
      } finally {
        tx.release();
      }
      recovered.resolve(event.attempt);
    }, { durable: DURABLE, lease: 500 });
    assert.equal(await within(recovered.promise, LONG, "the redelivery"), 2);
    const { rows } = await pool.query(`SELECT event, pid FROM "${schema}".credits`);
    assert.deepEqual(rows, [{ event: id, pid: process.pid }], "the write exists exactly once");
    const { rows: left } = await pool.query(
      `SELECT count(*)::int AS n FROM "${schema}".deliveries`,
    );
    assert.deepEqual(left, [{ n: 0 }]);
  });
});

/** A shell command that restarts the server at DATABASE_URL (CI sets it), or none. */
const RESTART = process.env.DATABASE_RESTART_COMMAND || undefined;

describe("postgres restart", {
  skip: SKIP_REASON ||
    (RESTART === undefined &&
      "DATABASE_RESTART_COMMAND is not set: give a shell command that restarts the server at DATABASE_URL (pg_ctl restart)"),
}, () => {
  test("a server restart mid-run loses nothing whose publish() resolved, and consumers and broadcasts resume", async () => {
    const pool = await openPool(20);
    const schema = freshSchema();
    const transport = await postgresTransport({ client: pool, schema, pollInterval: 50 });
    const soiree = new Soiree({ transport, errorHandler: () => {}, panicHandler: () => {} });
    try {
      const seen = new Set<string>();
      soiree.on("restart.*", (event) => void seen.add(event.id), {
        durable: "restart",
        pool: { concurrency: 4 },
      });
      const resolved: string[] = [];
      let failed = 0;
      let restarting: Promise<void> | undefined;
      let restarted = false;
      // Publish one event at a time until 200 resolved after the restart.
      let afterRestart = 0;
      while (afterRestart < 200) {
        try {
          resolved.push((await soiree.publish("restart.job", resolved.length)).id);
          if (restarted) afterRestart++;
        } catch {
          failed++;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        if (resolved.length === 200 && restarting === undefined) {
          restarting = new Promise<void>((resolve, reject) => {
            exec(RESTART!, (error) => error ? reject(error) : resolve());
          }).then(() => void (restarted = true));
        }
        if (restarting !== undefined && !restarted) await new Promise((r) => setTimeout(r, 2));
      }
      await restarting;
      const deadline = Date.now() + LONG;
      while (resolved.some((id) => !seen.has(id))) {
        if (Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const missing = resolved.filter((id) => !seen.has(id));
      console.log(
        `postgres restart test: ${resolved.length} publishes resolved, ${failed} rejected while the server was down, ${missing.length} missing`,
      );
      assert.deepEqual(missing, []);
      // The broadcast session reopens after the restart: broadcasts reach the emitter again
      // (at most once: one sent before it listens again is missed, so it sends until one lands).
      let heard = false;
      soiree.on("restart.ping", () => void (heard = true));
      while (!heard && Date.now() < deadline + LONG) {
        await soiree.broadcast("restart.ping").catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(heard, true, "broadcasts resume after a restart");
      assert.ok(soiree.stats().durable.broadcastsReceived >= 1);
    } finally {
      await soiree.close();
      await dropSchema(pool, schema).catch(() => {});
      await pool.end();
    }
  });
});
