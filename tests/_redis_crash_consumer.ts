// A consumer process of redis_crash_test.ts, run under Deno, Node or Bun: it opens its own
// client (node-redis or ioredis, in the protocol asked) with a second connection for blocking
// reads, runs one durable listener on the shared stream, and reports each delivery it starts
// (`started <acked> <event id> <attempt>`, before its simulated work) and its acknowledgements
// as they are stored (`acked <n>`), on stdout (tests/_consumer_process.ts). On the line `close`
// on stdin, or at the end of stdin, it closes the emitter and its clients, prints
// `closed <durable stats>` and exits.
//
// Usage: <runtime> _redis_crash_consumer.ts '<RedisCrashConsumerConfig as JSON>'

import process from "node:process";
import { Soiree } from "../mod.ts";
import { redisTransport } from "../src/redis/mod.ts";
import { type ClientKind, openClient } from "./_redis.ts";
import { report } from "./_consumer_process.ts";

/** What redis_crash_test.ts passes as the one argument, as JSON. */
export interface RedisCrashConsumerConfig {
  /** The client library, protocol, server and where the library is installed. */
  client: ClientKind;
  /** The transport's key prefix. */
  prefix: string;
  /** The durable name and its pattern. */
  durable: string;
  pattern: string;
  /** The listener's pool size and lease (ms). */
  concurrency: number;
  lease: number;
  /** Simulated work (ms, on average) in each delivery. */
  work: number;
}

const config: RedisCrashConsumerConfig = JSON.parse(process.argv[process.argv.length - 1]);

const [client, blocking] = await Promise.all([
  openClient(config.client),
  openClient(config.client),
]);
const soiree = new Soiree({
  transport: redisTransport({
    client: client.connection,
    blocking: blocking.connection,
    prefix: config.prefix,
    pollInterval: 50,
  }),
});

/** Simulated work: 0 to twice `config.work` ms at random, so that the deliveries drift apart. */
const work = (): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * config.work));

soiree.on(config.pattern, async (event) => {
  report(`started ${soiree.stats().durable.acked} ${event.id} ${event.attempt}`);
  await work();
}, {
  durable: config.durable,
  pool: { concurrency: config.concurrency },
  lease: config.lease,
});

// Acknowledgements are stored after the listener returns: report each new count once it is.
let reported = 0;
const acks = setInterval(() => {
  const acked = soiree.stats().durable.acked;
  if (acked !== reported) report(`acked ${reported = acked}`);
}, 5);

let closing: Promise<void> | undefined;
function close(): Promise<void> {
  return closing ??= (async () => {
    await soiree.close();
    clearInterval(acks);
    report(`acked ${soiree.stats().durable.acked}`);
    report(`closed ${JSON.stringify(soiree.stats().durable)}`);
    await Promise.all([client.close(), blocking.close()]);
    process.exit(0);
  })();
}
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  if (chunk.includes("close")) void close();
});
process.stdin.on("end", () => void close());
report("ready");
