// The FIFO queue of tasks waiting for a pool's slot: its entries, the list that keeps them in
// order and lets a withdrawn one leave in O(1), one abort listener per signal however many
// queued tasks share it (each signal's entries are linked, so one leaves in O(1) too), and the
// shared promise executor that spares each queued task a closure. It only keeps the order: the
// capacity, which task runs and when, and what is counted are `Pool`'s to decide, and this
// module must not import `pool.ts`.

import type { PoolJob } from "./_pool_jobs.ts";

/**
 * A node of a {@linkcode TaskList}: a queued task ({@linkcode TaskEntry}) or a job, which is
 * its own entry (see {@linkcode Job}): queued emissions are many, so every field counts.
 */
export abstract class Entry {
  /** The watch of its signal, while it is queued with one. */
  watch: SignalWatch | undefined = undefined;
  /** Its neighbours among the queued entries with the same signal. */
  sameSignalPrev: Entry | undefined = undefined;
  sameSignalNext: Entry | undefined = undefined;
  /** Its neighbours in the queue. */
  queuePrev: Entry | undefined = undefined;
  queueNext: Entry | undefined = undefined;

  /** Tells the task (by rejecting its promise) or the job that it will never start. */
  abstract refuse(reason: unknown): void;
}

/**
 * A task without a promise, which is its own queue entry (the emitter's emissions): the pool
 * calls `start()` once it holds a slot, or `refuse()` with the reason it never will.
 */
export abstract class Job extends Entry {
  /** Runs the job; it holds a slot until it tells the pool it is done. */
  abstract start(): void;
}

/** The entry of a job that is not its own (not a {@linkcode Job}). */
class JobEntry extends Job {
  readonly #job: PoolJob;

  constructor(job: PoolJob) {
    super();
    this.#job = job;
  }

  start(): void {
    this.#job.start();
  }

  refuse(reason: unknown): void {
    this.#job.refuse(reason);
  }
}

/** A task that waits for a slot, with the functions that settle its promise. */
export class TaskEntry extends Entry {
  readonly task: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;

  constructor(
    task: () => unknown,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
  ) {
    super();
    this.task = task;
    this.resolve = resolve;
    this.reject = reject;
  }

  override refuse(reason: unknown): void {
    this.reject(reason);
  }
}

/**
 * The queued entries of one signal and the one listener this list keeps on it while there are
 * any: a signal shared by 10,000 queued tasks costs one listener, not 10,000 (whose removals
 * would each scan the rest).
 */
class SignalWatch {
  readonly signal: AbortSignal;
  /** The newest queued entry with this signal; `sameSignalNext` leads to older ones. */
  head: Entry | undefined = undefined;
  listening = false;
  onAbort: () => void = () => {};

  constructor(signal: AbortSignal) {
    this.signal = signal;
  }
}

/**
 * A FIFO doubly linked list of entries, so a withdrawn task leaves in O(1). An entry is
 * watched for its signal exactly while it is in the list.
 */
export class TaskList {
  head: Entry | undefined = undefined;
  tail: Entry | undefined = undefined;
  size = 0;
  readonly #onAbort: (entry: Entry, reason: unknown) => void;
  /** Watches by signal; never deleted from (a WeakMap entry goes with its signal). */
  readonly #watches = new WeakMap<AbortSignal, SignalWatch>();

  /** @param onAbort Called when the signal of an entry still in the list aborts. */
  constructor(onAbort: (entry: Entry, reason: unknown) => void) {
    this.#onAbort = onAbort;
  }

  /**
   * Queues a task and returns the promise its entry settles: with the task's result once the
   * pool runs it, or with the reason it never will.
   */
  pushTask(task: () => unknown, signal: AbortSignal | undefined): Promise<unknown> {
    const promise = new Promise(capture);
    this.#push(new TaskEntry(task, capturedResolve, capturedReject), signal);
    return promise;
  }

  /** Queues a job and returns its entry: the job itself if it is a {@linkcode Job}. */
  pushJob(job: PoolJob, signal: AbortSignal | undefined): Entry {
    const entry = job instanceof Job ? job : new JobEntry(job);
    this.#push(entry, signal);
    return entry;
  }

  /** Whether the entry is in this list (an entry is only ever in its own pool's list). */
  has(entry: Entry): boolean {
    return entry.queuePrev !== undefined || this.head === entry;
  }

  /** Takes out the oldest entry, if any. */
  shift(): Entry | undefined {
    const entry = this.head;
    if (entry !== undefined) this.remove(entry);
    return entry;
  }

  /** Takes an entry out of the list, wherever it is, and stops listening to its signal. */
  remove(entry: Entry): void {
    const prev = entry.queuePrev;
    const next = entry.queueNext;
    if (prev === undefined) this.head = next;
    else prev.queueNext = next;
    if (next === undefined) this.tail = prev;
    else next.queuePrev = prev;
    entry.queuePrev = entry.queueNext = undefined;
    this.size--;
    const watch = entry.watch;
    if (watch === undefined) return;
    const before = entry.sameSignalPrev;
    const after = entry.sameSignalNext;
    if (before === undefined) watch.head = after;
    else before.sameSignalNext = after;
    if (after !== undefined) after.sameSignalPrev = before;
    entry.watch = entry.sameSignalPrev = entry.sameSignalNext = undefined;
    if (watch.head === undefined && watch.listening) {
      watch.listening = false;
      watch.signal.removeEventListener("abort", watch.onAbort);
    }
  }

  #watch(entry: Entry, signal: AbortSignal): void {
    let watch = this.#watches.get(signal);
    if (watch === undefined) {
      const created = new SignalWatch(signal);
      created.onAbort = () => {
        created.listening = false;
        // Every entry still queued with this signal is withdrawn, oldest first.
        const withdrawn: Entry[] = [];
        for (let next = created.head; next !== undefined; next = next.sameSignalNext) {
          withdrawn.push(next);
        }
        for (let i = withdrawn.length - 1; i >= 0; i--) {
          if (withdrawn[i].watch === created) this.#onAbort(withdrawn[i], signal.reason);
        }
      };
      watch = created;
      this.#watches.set(signal, watch);
    }
    entry.watch = watch;
    const head = watch.head;
    entry.sameSignalNext = head;
    if (head !== undefined) head.sameSignalPrev = entry;
    watch.head = entry;
    if (!watch.listening) {
      watch.listening = true;
      signal.addEventListener("abort", watch.onAbort, { once: true });
    }
  }

  #push(entry: Entry, signal: AbortSignal | undefined): void {
    if (signal !== undefined) this.#watch(entry, signal);
    entry.queuePrev = this.tail;
    if (this.tail === undefined) this.head = entry;
    else this.tail.queueNext = entry;
    this.tail = entry;
    this.size++;
  }
}

let capturedResolve: (value: unknown) => void;
let capturedReject: (reason: unknown) => void;

/** A shared promise executor, so that queueing a task allocates no closure for it. */
function capture(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}
