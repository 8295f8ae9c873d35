// `Soiree.metrics()`'s rendering: the Prometheus text exposition format (0.0.4) written by
// hand, no client library. Owns the metric names, their HELP text, label escaping, number
// formatting and the scrape-time reads of the engine (`Transport.inspect()`); the figures
// themselves live where they are counted (see the README's "Architecture").

import type { SoireeStats } from "./options.ts";
import type { Pool } from "./pool.ts";
import type { DurableScrape } from "./durable/_durability.ts";
import type { QueueState } from "./durable/transport.ts";
import { DURATION_BUCKETS } from "./durable/_listener_metrics.ts";

/** A sample: the name's suffix (`""`, `_bucket`, …), label pairs, and the value. */
type Sample = readonly [suffix: string, labels: readonly (readonly [string, string])[], number];

/** A label value with `\`, `"` and line feeds escaped. */
export function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** A sample value as Prometheus parses it (Go's ParseFloat): `+Inf`, `-Inf`, `NaN`, or JS's. */
export function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}

/** The exposition being written: one HELP and TYPE line per family, then its samples. */
class Exposition {
  readonly #lines: string[] = [];

  family(name: string, type: "counter" | "gauge" | "histogram", help: string, samples: Sample[]) {
    if (samples.length === 0) return;
    this.#lines.push(`# HELP ${name} ${help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}`);
    this.#lines.push(`# TYPE ${name} ${type}`);
    for (const [suffix, labels, value] of samples) {
      const set = labels.map(([key, text]) => `${key}="${escapeLabel(text)}"`).join(",");
      this.#lines.push(`${name}${suffix}${set === "" ? "" : `{${set}}`} ${formatValue(value)}`);
    }
  }

  toString(): string {
    return this.#lines.length === 0 ? "" : `${this.#lines.join("\n")}\n`;
  }
}

/** Each pool's figures by name; distinct pools that share a name are added together. */
function poolFigures(pools: Iterable<Pool | undefined>): Map<string, number[]> {
  const byName = new Map<string, number[]>();
  for (const pool of new Set(pools)) {
    if (pool === undefined) continue;
    const s = pool.stats();
    const row = [s.submitted, s.started, s.completed, s.failed, s.dropped, s.running, s.waiting];
    row.push(pool.concurrency);
    const sum = byName.get(pool.name);
    byName.set(pool.name, sum === undefined ? row : sum.map((value, i) => value + row[i]));
  }
  return byName;
}

const POOL_FAMILIES = [
  ["soiree_pool_tasks_submitted_total", "counter", "Tasks the pool accepted."],
  ["soiree_pool_tasks_started_total", "counter", "Tasks that got a slot of the pool."],
  ["soiree_pool_tasks_completed_total", "counter", "Tasks that finished, failed ones included."],
  ["soiree_pool_tasks_failed_total", "counter", "Tasks that threw or rejected."],
  ["soiree_pool_tasks_dropped_total", "counter", "Accepted tasks that will never run."],
  ["soiree_pool_tasks_running", "gauge", "Tasks holding a slot of the pool now."],
  ["soiree_pool_tasks_queued", "gauge", "Accepted tasks waiting for a slot now."],
  ["soiree_pool_concurrency", "gauge", "How many tasks the pool runs at once at most."],
] as const;

/**
 * Renders the exposition: the emitter's figures, its pools' (each once), and with a transport
 * the durable figures, reading each durable listener's queue from the engine now. A failed
 * read leaves that listener's queue gauges out and counts a transport error.
 */
export async function renderMetrics(
  stats: SoireeStats,
  pools: Iterable<Pool | undefined>,
  durable: DurableScrape,
): Promise<string> {
  const out = new Exposition();
  const none: Sample[1] = [];
  out.family("soiree_events_emitted_total", "counter", "Events emitted (emit() and emitSync()).", [
    ["", none, stats.emitted],
  ]);
  out.family(
    "soiree_listener_failures_total",
    "counter",
    "Failures handed to the error handler: listeners, refused or cancelled emissions.",
    [["", none, stats.failed]],
  );
  out.family(
    "soiree_emissions_aborted_total",
    "counter",
    "Emissions stopped early by abort(), a signal or a timeout.",
    [["", none, stats.aborted]],
  );
  out.family("soiree_emissions_in_flight", "gauge", "emit() emissions not finished yet.", [
    ["", none, stats.inFlight],
  ]);
  out.family("soiree_listeners", "gauge", "Listeners subscribed now, durable ones included.", [
    ["", none, stats.listeners + stats.durable.listeners],
  ]);
  const figures = poolFigures([...pools, ...durable.listeners.map(({ pool }) => pool)]);
  POOL_FAMILIES.forEach(([name, type, help], i) => {
    const samples: Sample[] = [];
    for (const [pool, row] of figures) samples.push(["", [["pool", pool]], row[i]]);
    out.family(name, type, help, samples);
  });
  const { transport } = durable;
  if (transport === undefined) return out.toString();
  const engine = [["transport", transport.name]] as const;
  out.family("soiree_events_published_total", "counter", "Events publish() stored.", [
    ["", engine, stats.durable.published],
  ]);
  out.family(
    "soiree_events_publish_duplicates_total",
    "counter",
    "Publishes whose idempotency key was seen within its window: nothing new was stored.",
    [["", engine, stats.durable.duplicates]],
  );
  if (typeof transport.broadcast === "function") {
    out.family("soiree_broadcasts_sent_total", "counter", "Events broadcast() sent.", [
      ["", engine, stats.durable.broadcastsSent],
    ]);
    out.family(
      "soiree_broadcasts_received_total",
      "counter",
      "Broadcasts received from every process, this one included, and emitted here.",
      [["", engine, stats.durable.broadcastsReceived]],
    );
  }
  const listeners = durable.listeners.map(({ name, metrics }) => ({
    labels: [...engine, ["listener", name]] as const,
    metrics,
  }));
  const deliveries: Sample[] = [];
  const durations: Sample[] = [];
  for (const { labels, metrics } of listeners) {
    const outcomes = [
      ["acked", metrics.acked],
      ["retried", metrics.retried],
      ["dead_lettered", metrics.deadLettered],
      ["released", metrics.released],
    ] as const;
    for (const [outcome, count] of outcomes) {
      deliveries.push(["", [...labels, ["outcome", outcome]], count]);
    }
    let cumulative = 0;
    DURATION_BUCKETS.forEach((bound, i) => {
      cumulative += metrics.buckets[i];
      durations.push(["_bucket", [...labels, ["le", formatValue(bound)]], cumulative]);
    });
    durations.push(["_bucket", [...labels, ["le", "+Inf"]], metrics.count]);
    durations.push(["_sum", labels, metrics.sum], ["_count", labels, metrics.count]);
  }
  out.family(
    "soiree_deliveries_total",
    "counter",
    "Deliveries this process settled, by outcome.",
    deliveries,
  );
  out.family(
    "soiree_listener_duration_seconds",
    "histogram",
    "How long durable listeners' attempts took in this process.",
    durations,
  );
  const inspect = transport.inspect?.bind(transport);
  if (inspect === undefined) return out.toString();
  const states = await Promise.all(
    durable.listeners.map(({ name }) =>
      inspect(name).then((state): QueueState | undefined => state, () => {
        durable.failed();
        return undefined;
      })
    ),
  );
  const queue: Sample[] = [];
  const lag: Sample[] = [];
  listeners.forEach(({ labels }, i) => {
    const state = states[i];
    if (state === undefined) return;
    const counts = [
      ["ready", state.ready],
      ["delayed", state.delayed],
      ["in_flight", state.inFlight],
      ["dead", state.dead],
    ] as const;
    for (const [name, count] of counts) queue.push(["", [...labels, ["state", name]], count]);
    lag.push(["", labels, Math.max(0, state.lag) / 1_000]);
  });
  out.family(
    "soiree_queue_messages",
    "gauge",
    "Deliveries of each durable listener in the store now (every process's), by state.",
    queue,
  );
  out.family(
    "soiree_delivery_lag_seconds",
    "gauge",
    "How long the oldest ready delivery of each durable listener has waited, from the store.",
    lag,
  );
  return out.toString();
}
