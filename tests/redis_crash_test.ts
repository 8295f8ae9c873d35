// At-least-once delivery on Redis across three runtimes: a Deno, a Node and a Bun process share
// one durable name (one consumer group) on one stream, each with its own client (node-redis or
// ioredis, RESP2 or RESP3); this process publishes 5,000 events while they run, and the Node
// consumer is killed with SIGKILL once it has started a few hundred deliveries. Every event must
// be started and acked, and the events started twice must be ones the killed process had
// started and not acked: its leases end, and the others take those entries over.
//
// It runs once, from the Deno suite (it starts the three runtimes itself): Node 24 and Bun come
// through `npx`, at the versions scripts/_tools.ts pins, and the client libraries at the
// versions deno.json pins are installed once into a folder under the temp directory, as Node
// and Bun have no import map.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Soiree } from "../mod.ts";
import { redisTransport } from "../src/redis/mod.ts";
import {
  dropPrefix,
  freshPrefix,
  openClient,
  REDIS_URL,
  SKIP_REASON,
  type TestClient,
} from "./_redis.ts";
import { type Consumer, startConsumer } from "./_consumer_process.ts";
import { deferred, within } from "./_util.ts";
import type { RedisCrashConsumerConfig } from "./_redis_crash_consumer.ts";

const EVENTS = 5_000;
/** Events published at once. */
const BATCH = 100;
/** The Node consumer is killed once it has started this many deliveries. */
const KILL_AFTER = 400;
/** Short, so that the killed process's entries come back soon. */
const LEASE = 2_000;
const DURABLE = "crash";
const TOPIC = "crash.job";
/** Guards against a hang; the run takes about ten seconds. */
const LONG = 60_000;

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CONSUMER_SCRIPT = fileURLToPath(new URL("./_redis_crash_consumer.ts", import.meta.url));

/** The three consumers: runtime, client and protocol. */
const CONSUMERS = [
  { runtime: "deno", library: "redis", resp: 3 },
  { runtime: "node", library: "ioredis", resp: 2 },
  { runtime: "bun", library: "redis", resp: 2 },
] as const;
const VICTIM = "node";

type Runtime = (typeof CONSUMERS)[number]["runtime"];

/** How each runtime runs a script, or why one cannot. */
interface Setup {
  commands: Record<Runtime, (script: string) => [string, string[]]>;
  /** The folder whose node_modules holds the client libraries, for Node and Bun. */
  modules: string;
}

/** Runs a command, returning its trimmed stdout, or throws with its output. */
function output(file: string, args: string[], cwd?: string): string {
  const result = spawnSync(file, args, { encoding: "utf8", cwd });
  if (result.status !== 0) {
    throw new Error(
      `${file} ${args.join(" ")} failed: ${result.error ?? ""}${result.stderr ?? ""}`.trim(),
    );
  }
  return result.stdout.trim();
}

/** Finds the runtimes and installs the client libraries; a string says why it cannot. */
async function setup(): Promise<Setup | string> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno === undefined) {
    return "it runs once, from the Deno suite, which starts the Deno, Node and Bun processes";
  }
  if (SKIP_REASON) return SKIP_REASON;
  // Read at run time: the tarball legs do not ship scripts/.
  const tools: { RUNTIMES: { bun: string; node: readonly string[] } } = await import(
    new URL("../scripts/_tools.ts", import.meta.url).href
  );
  const node = `node@${tools.RUNTIMES.node.at(-1)}`;
  const bun = `bun@${tools.RUNTIMES.bun}`;
  const imports: Record<string, string> = JSON.parse(
    readFileSync(join(ROOT, "deno.json"), "utf8"),
  ).imports;
  const drivers = ["redis", "ioredis"].map((name) => imports[name].replace(/^npm:/, ""));
  const modules = join(tmpdir(), `soiree-test-drivers-${drivers.join("-")}`);
  try {
    const nodePath = output("npx", ["-y", node, "-p", "process.execPath"]);
    const bunPath = output("npx", ["-y", bun, "-e", "console.log(process.execPath)"]);
    if (!drivers.every((spec) => existsSync(join(modules, "node_modules", spec.split("@")[0])))) {
      output("npm", [
        ...["install", "--prefix", modules, "--no-save", "--no-package-lock"],
        ...["--no-audit", "--no-fund", "--loglevel=error", ...drivers],
      ]);
    }
    return {
      modules,
      commands: {
        deno: (script) => [deno.execPath(), ["run", "--allow-all", script]],
        node: (script) => [nodePath, [script]],
        bun: (script) => [bunPath, [script]],
      },
    };
  } catch (error) {
    return `cannot start ${node} and ${bun} through npx, or install ${drivers.join(" and ")}: ${
      (error as Error).message
    }`;
  }
}

const ready = await setup();

test(
  "redis: consumers under Deno, Node and Bun lose nothing when one is killed with SIGKILL, and repeat only what it had in flight",
  { skip: typeof ready === "string" ? ready : false },
  async () => {
    const { commands, modules } = ready as Setup;
    const started = performance.now();
    const prefix = freshPrefix();
    const consumers = new Map<Runtime, Consumer>();
    const admin: TestClient = await openClient({ label: "", library: "redis", resp: 2 });
    const publisherClient = await openClient({ label: "", library: "redis", resp: 3 });
    const transport = redisTransport({ client: publisherClient.connection, prefix });
    const publisher = new Soiree({ transport });
    const stream = `{${prefix}}:events`;
    try {
      // The group exists before the first publish: every event is kept for the name.
      await transport.subscribe({ name: DURABLE, pattern: "crash.*" });

      // Done once the group has read the whole stream and holds nothing pending.
      const published = deferred<void>();
      const allAcked = deferred<void>();
      let checking = false;
      let again = false;
      const check = async (): Promise<void> => {
        if (checking) return void (again = true);
        checking = true;
        try {
          do {
            again = false;
            const groups = await admin.connection.command(["XINFO", "GROUPS", stream]);
            const info = Object.fromEntries(
              pairsOf((groups as unknown[][]).find((group) => group[1] === DURABLE)!),
            );
            const last = await admin.connection.command(["XINFO", "STREAM", stream]);
            const tip = Object.fromEntries(pairsOf(last as unknown[]))["last-generated-id"];
            if (
              publishedAll && Number(info.pending) === 0 && info["last-delivered-id"] === tip
            ) allAcked.resolve();
          } while (again);
        } finally {
          checking = false;
        }
      };
      let publishedAll = false;
      const onReport = (): void => void check().catch(() => {});

      for (const { runtime, library, resp } of CONSUMERS) {
        const config: RedisCrashConsumerConfig = {
          client: { label: runtime, library, resp, url: REDIS_URL, modules },
          prefix,
          durable: DURABLE,
          pattern: "crash.*",
          concurrency: 8,
          lease: LEASE,
          work: 3,
        };
        // Deno reads the client libraries through deno.json's imports.
        if (runtime === "deno") delete (config.client as { modules?: string }).modules;
        consumers.set(
          runtime,
          startConsumer(commands[runtime](CONSUMER_SCRIPT), config, onReport, { cwd: ROOT }),
        );
      }
      await within(Promise.all([...consumers.values()].map((c) => c.ready)), LONG, "start");

      const victim = consumers.get(VICTIM)!;
      const killed = victim.reached(KILL_AFTER).then(() => victim.child.kill("SIGKILL"));
      const ids: string[] = [];
      const publishing = (async () => {
        for (let n = 0; n < EVENTS; n += BATCH) {
          const batch = Array.from({ length: BATCH }, (_, i) => publisher.publish(TOPIC, n + i));
          for (const receipt of await Promise.all(batch)) ids.push(receipt.id);
        }
        publishedAll = true;
        published.resolve();
      })();
      await within(killed, LONG, `${KILL_AFTER} deliveries started in the ${VICTIM} consumer`);
      // Its last lines are read once it has exited: what it started and had not acked.
      assert.equal(await within(victim.exited, LONG, "the killed consumer's exit"), null);
      const inFlight = victim.started - victim.acked;
      await within(publishing, LONG, `${EVENTS} events published`);
      await published.promise;
      onReport();
      await within(allAcked.promise, LONG, `${EVENTS} events acked`);

      const survivors = [...consumers.values()].filter((c) => c !== victim);
      for (const consumer of survivors) consumer.child.stdin!.write("close\n");
      const codes = await within(Promise.all(survivors.map((c) => c.exited)), LONG, "close");
      assert.deepEqual(codes, survivors.map(() => 0), survivors.map((c) => c.stderr).join("\n"));

      const starts = new Map<string, { runtime: Runtime; attempt: number }[]>();
      for (const [runtime, consumer] of consumers) {
        for (const { id, attempt } of consumer.starts) {
          starts.set(id, [...starts.get(id) ?? [], { runtime, attempt }]);
        }
      }
      const total = [...consumers.values()].reduce((sum, c) => sum + c.starts.length, 0);
      const lost = ids.filter((id) => !starts.has(id)).length;
      const duplicates = total - starts.size;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `redis crash test: ${EVENTS} events, ${lost} lost, ${duplicates} duplicates (the killed ` +
          `${VICTIM} process had ${inFlight} in flight: it started ${victim.started} and acked ` +
          `${victim.acked}); started ${
            [...consumers].map(([runtime, c]) => `${c.started} under ${runtime}`).join(", ")
          }; ${seconds} s`,
      );
      assert.equal(lost, 0);
      assert.equal(starts.size, EVENTS);
      assert.ok(
        duplicates <= inFlight,
        `${duplicates} duplicates, more than the ${inFlight} in flight; leases the survivors ` +
          `lost: ${survivors.map((c) => c.stats?.leasesLost).join(" and ")}`,
      );
      // Each repeat is a delivery the killed process started, done again in a later attempt.
      for (const group of starts.values()) {
        if (group.length === 1) continue;
        assert.ok(group.some((start) => start.runtime === VICTIM), JSON.stringify(group));
        assert.ok(group.some((start) => start.attempt > 1), JSON.stringify(group));
      }
    } finally {
      for (const consumer of consumers.values()) consumer.child.kill("SIGKILL");
      await Promise.all([...consumers.values()].map((consumer) => consumer.exited));
      if (!publisher.isClosed) await publisher.close();
      await dropPrefix(admin.connection, prefix);
      await Promise.all([admin.close(), publisherClient.close()]);
    }
  },
);

/** A flat RESP2 `[key, value, …]` reply as pairs. */
function pairsOf(reply: unknown[]): [string, unknown][] {
  const found: [string, unknown][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) found.push([String(reply[i]), reply[i + 1]]);
  return found;
}
