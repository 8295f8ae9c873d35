// Shared test helpers: gates instead of sleeps, microtask ticks instead of wall time, and a
// seeded PRNG so random schedules replay.

import { type DurableStats, memoryTransport, type Transport } from "../mod.ts";
import type { EmitterInternals } from "../src/_internal.ts";

/** A promise that resolves only when `open()` is called. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

/** Makes a {@linkcode Gate}. */
export function gate(): Gate {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets `count` rounds of queued microtasks (and the ones they queue) run. */
export async function ticks(count = 10): Promise<void> {
  for (let i = 0; i < count; i++) await Promise.resolve();
}

/** A promise and the function that resolves it: `Promise.withResolvers()`, which Node 20 lacks. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

/** Makes a {@linkcode Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/** mulberry32: a small seeded PRNG of numbers in [0, 1). */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * Resolves with `promise`, or rejects if it is still pending after `ms`: a guard that turns a
 * deadlock into a failure instead of a hang. It never delays a promise that settles.
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** The durable figures of an emitter that never published nor ran a durable listener. */
export const NO_DURABLE: DurableStats = Object.freeze({
  listeners: 0,
  published: 0,
  duplicates: 0,
  received: 0,
  acked: 0,
  retried: 0,
  deadLettered: 0,
  released: 0,
  leasesLost: 0,
  transportErrors: 0,
  broadcastsSent: 0,
  broadcastsReceived: 0,
});

/** What `emitterAccess.internals()` reports for an emitter with nothing left in it. */
export const EMPTY_INTERNALS: EmitterInternals = {
  trieNodes: 0,
  wildcardPatterns: 0,
  exactPatterns: 0,
  cacheSize: 0,
  listeners: 0,
  indexedIds: 0,
  inFlightLinked: 0,
};

/**
 * Keeps the default error handling's log lines (`console.error("Soiree:", …)`) out of the
 * output of a file that injects thousands of failures on purpose; other output goes through.
 * Call once at the top of such a file.
 */
export function muteFailureLogs(): void {
  const original = console.error;
  console.error = (...args: unknown[]) => {
    if (args[0] !== "Soiree:") original(...args);
  };
}

/** A memory transport that keeps the documents it is asked to store. */
export function recording(): { transport: Transport; stored: string[] } {
  const inner = memoryTransport();
  const stored: string[] = [];
  const transport = new Proxy(inner, {
    get(target, key) {
      if (key === "publish") {
        return (message: Parameters<Transport["publish"]>[0]) => {
          stored.push(message.data);
          return target.publish(message);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { transport, stored };
}
