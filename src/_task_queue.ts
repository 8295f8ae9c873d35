// The FIFO queue of tasks waiting for a pool's slot: its entries, the list that keeps them in
// order and lets a withdrawn one leave in O(1), each entry's abort listener, and the shared
// promise executor that spares each queued task a closure. It only keeps the order: the
// capacity, which task runs and when, and what is counted are `Pool`'s to decide, and this
// module must not import `pool.ts`.

import type { PoolJob } from "./_pool_jobs.ts";

/** A task that waits for a slot: a node of a {@linkcode TaskList}. */
export class Entry {
  task: (() => unknown) | undefined;
  resolve: ((value: unknown) => void) | undefined;
  reject: ((reason: unknown) => void) | undefined;
  /** Set instead of the three above for a job. */
  job: PoolJob | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  list: TaskList | undefined = undefined;
  prev: Entry | undefined = undefined;
  next: Entry | undefined = undefined;

  constructor(
    task: (() => unknown) | undefined,
    resolve: ((value: unknown) => void) | undefined,
    reject: ((reason: unknown) => void) | undefined,
  ) {
    this.task = task;
    this.resolve = resolve;
    this.reject = reject;
  }

  /** Tells the task (by rejecting its promise) or the job that it will never start. */
  refuse(reason: unknown): void {
    if (this.job !== undefined) this.job.refuse(reason);
    else this.reject!(reason);
  }
}

/**
 * A FIFO doubly linked list of entries, so a withdrawn task leaves in O(1). An entry listens
 * to its signal exactly while it is in the list.
 */
export class TaskList {
  head: Entry | undefined = undefined;
  tail: Entry | undefined = undefined;
  size = 0;
  readonly #onAbort: (entry: Entry, reason: unknown) => void;

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
    this.#push(new Entry(task, capturedResolve, capturedReject), signal);
    return promise;
  }

  /** Queues a job and returns its entry. */
  pushJob(job: PoolJob, signal: AbortSignal | undefined): Entry {
    const entry = new Entry(undefined, undefined, undefined);
    entry.job = job;
    this.#push(entry, signal);
    return entry;
  }

  /** Takes out the oldest entry, if any. */
  shift(): Entry | undefined {
    const entry = this.head;
    if (entry !== undefined) this.remove(entry);
    return entry;
  }

  /** Takes an entry out of the list, wherever it is, and stops listening to its signal. */
  remove(entry: Entry): void {
    const { prev, next } = entry;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    entry.list = entry.prev = entry.next = undefined;
    this.size--;
    entry.signal?.removeEventListener("abort", entry.onAbort!);
  }

  #push(entry: Entry, signal: AbortSignal | undefined): void {
    if (signal !== undefined) {
      entry.signal = signal;
      entry.onAbort = () => this.#onAbort(entry, signal.reason);
      signal.addEventListener("abort", entry.onAbort, { once: true });
    }
    entry.list = this;
    entry.prev = this.tail;
    if (this.tail === undefined) this.head = entry;
    else this.tail.next = entry;
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
