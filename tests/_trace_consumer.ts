// A consumer process of tracing_test.ts: it opens the shared SQLite store with a tracer of its
// own (the real OpenTelemetry SDK, spans kept in memory), runs one durable listener until it has
// settled `expected` deliveries, closes the emitter, and prints its finished spans as one JSON
// line on stdout.
//
// Usage: <runtime> _trace_consumer.ts '{"events": <path>, "durable": <name>, "pattern": <p>,
// "expected": <n>}'

import process from "node:process";
import { Soiree } from "../mod.ts";
import { sqliteTransport } from "../src/sqlite/mod.ts";
import { driver, opensPaths } from "./_sqlite.ts";
import { memoryTracer } from "./_otel.ts";
import { deferred } from "./_util.ts";

const config: { events: string; durable: string; pattern: string; expected: number } = JSON
  .parse(process.argv[process.argv.length - 1]);

const { tracer, spans } = memoryTracer();
// node:sqlite opens the path itself; on Node 20 the tests' driver (better-sqlite3) opens it.
const store = opensPaths ? config.events : driver.open(config.events);
const soiree = new Soiree({
  transport: await sqliteTransport(store, { pollInterval: 20 }),
  tracer,
  errorHandler: () => {},
});
let settled = 0;
const done = deferred<void>();
soiree.on(config.pattern, (event) => {
  if (++settled === config.expected) done.resolve();
  if ((event.payload as { fail?: boolean }).fail) throw new Error("refused by the consumer");
}, { durable: config.durable, retry: { attempts: 1 } });
await done.promise;
await soiree.close();
process.stdout.write(`${JSON.stringify(spans())}\n`);
process.exit(0);
