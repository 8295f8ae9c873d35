/**
 * Serves `soiree.metrics()` on `http://localhost:9464/metrics` for Prometheus to scrape, while a
 * simulated workload runs: orders emitted every 50 ms to listeners on two pools (one fails now
 * and then), and invoices published to a durable listener on the memory transport that fails
 * its first attempt at times (retried after a second) and sends a few to the dead letters.
 *
 * Usage: `deno run --allow-net examples/metrics_server.ts` (Ctrl-C stops it), or with `--print`
 * to print one scrape after a second of work and exit. Runs on Node and Bun as well (node:http).
 *
 * @module
 */

import { createServer } from "node:http";
import process from "node:process";
import { memoryTransport, METRICS_CONTENT_TYPE, PermanentError, Pool, Soiree } from "../mod.ts";

const PORT = 9464;

const soiree = new Soiree({
  transport: memoryTransport(),
  pool: { concurrency: 8, name: "emit" },
  errorHandler: () => {}, // counted in soiree_listener_failures_total
});
const mail = new Pool({ concurrency: 2, name: "mail" });
soiree.on("order.placed", async () => {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
}, { pool: { concurrency: 4, name: "fulfil" } });
soiree.on("order.*", () => {
  if (Math.random() < 0.1) throw new Error("mail server busy");
}, { pool: mail });
soiree.on("invoice.due", async (event) => {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
  if (event.attempt === 1 && Math.random() < 0.2) throw new Error("ledger offline");
  if (Math.random() < 0.02) throw new PermanentError("no such customer");
}, { durable: "ledger", retry: { attempts: 3, delay: () => 1_000 } });

let orders = 0;
const work = setInterval(() => {
  void soiree.emit("order.placed", ++orders);
  void soiree.publish("invoice.due", { order: orders });
}, 50);

if (process.argv.includes("--print")) {
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  clearInterval(work);
  console.log(await soiree.metrics());
  await soiree.close();
  await mail.close();
} else {
  const server = createServer(async (request, response) => {
    if (request.url !== "/metrics") return void response.writeHead(404).end("Not found\n");
    response.writeHead(200, { "content-type": METRICS_CONTENT_TYPE }).end(await soiree.metrics());
  });
  server.listen(PORT, () => console.log(`Serving http://localhost:${PORT}/metrics`));
  process.on("SIGINT", async () => {
    clearInterval(work);
    server.close();
    await soiree.close();
    await mail.close();
    process.exit(0);
  });
}
