// Durable listeners' share of a pool: a consumer fetches only deliveries it can start at once,
// so it first takes slots through the pool's own queue (in turn with every other task there),
// and a leased delivery never waits in the queue while its lease burns. One broker per pool
// hands the slots it obtains to the hungry consumers: higher priority first, equal priorities
// in turn. Owns the brokers and the slot accounting; never calls the transport.

import { jobDone, submitJob } from "../_pool_jobs.ts";

/** What the broker needs of a consumer. */
export interface SlotTaker {
  /** Orders takers on one pool: higher first. */
  readonly priority: number;
  /** Whether it wants slots now (it may have deliveries to fetch). */
  readonly hungry: boolean;
  /** Hands it one slot, which it must give back with `release()`. */
  grant(): void;
  /** The pool refused to start the broker's job (closed): the taker cannot run. */
  refused(reason: unknown): void;
}

const brokers = new WeakMap<object, SlotBroker>();

/** The broker of this pool, made on first use. */
export function brokerOf(pool: object): SlotBroker {
  let broker = brokers.get(pool);
  if (broker === undefined) brokers.set(pool, broker = new SlotBroker(pool));
  return broker;
}

/** Obtains slots of one pool for the durable consumers on it. */
export class SlotBroker {
  readonly #pool: object;
  readonly #takers: SlotTaker[] = [];
  /** When each taker was last served, for turns among equal priorities. */
  readonly #served = new Map<SlotTaker, number>();
  #serial = 0;
  /** Whether a job is queued on the pool and not started yet. */
  #pending = false;

  constructor(pool: object) {
    this.#pool = pool;
  }

  add(taker: SlotTaker): void {
    this.#takers.push(taker);
    this.#served.set(taker, 0);
  }

  remove(taker: SlotTaker): void {
    const index = this.#takers.indexOf(taker);
    if (index >= 0) this.#takers.splice(index, 1);
    this.#served.delete(taker);
  }

  /** A taker became hungry: make sure a slot is on its way. */
  want(): void {
    if (this.#pending) return;
    this.#pending = true;
    submitJob(this.#pool, {
      start: () => {
        this.#pending = false;
        this.#grant();
      },
      refuse: (reason) => {
        this.#pending = false;
        for (const taker of [...this.#takers]) if (taker.hungry) taker.refused(reason);
      },
    });
  }

  /** Gives a slot back to the pool. */
  release(): void {
    jobDone(this.#pool);
  }

  /** A slot was obtained: hand it to the hungriest taker, or give it back. */
  #grant(): void {
    let chosen: SlotTaker | undefined;
    for (const taker of this.#takers) {
      if (!taker.hungry) continue;
      if (
        chosen === undefined || taker.priority > chosen.priority ||
        (taker.priority === chosen.priority && this.#served.get(taker)! < this.#served.get(chosen)!)
      ) chosen = taker;
    }
    if (chosen === undefined) {
      jobDone(this.#pool);
      return;
    }
    this.#served.set(chosen, ++this.#serial);
    chosen.grant();
    if (this.#takers.some((taker) => taker.hungry)) this.want();
  }
}
