// deno-lint-ignore-file no-import-prefix -- the peers are bench-only, pinned here and nowhere
// else, so that deno.json's imports stay those of the library.

// The peers every bench compares Soiree with, pinned to exact versions, the sizes the benches
// share, and the warm-up. `scripts/bench_report.ts` reads the versions from the specifiers
// below.

import ee2Module from "npm:eventemitter2@6.4.9";
import mittModule from "npm:mitt@3.0.1";

export { EventEmitter as EventEmitter3 } from "npm:eventemitter3@5.0.4";
export { default as Emittery } from "npm:emittery@2.2.0";
export { EventEmitter as Tseep } from "npm:tseep@1.3.1";
export { createNanoEvents } from "npm:nanoevents@10.0.0";
export { default as pLimit } from "npm:p-limit@7.3.3";
export { default as PQueue } from "npm:p-queue@10.0.0";
export { EventEmitter as NodeEventEmitter } from "node:events";

// Both packages ship CommonJS typings whose default export Deno types as the module namespace,
// while at run time the default export is the constructor or the function itself.
/** EventEmitter2, the wildcard-capable peer. */
export const EventEmitter2: typeof ee2Module.EventEmitter2 =
  ee2Module as unknown as typeof ee2Module.EventEmitter2;
/** mitt's factory. */
export const mitt: typeof mittModule.default = mittModule as unknown as typeof mittModule.default;

/**
 * Where every listener leaves its trace, so that no call can be optimised away. Listeners XOR
 * into it (a sum would outgrow small integers, and then every call would allocate a number).
 */
export const sink = { value: 0 };

let compiled = 0;

/**
 * `count` listeners that each XOR `expression` into `sink.value`, each compiled from its own
 * source. Identical closures share their code and its type feedback, so a dispatch loop calling
 * them sees one function; an application's listeners are distinct functions, and how a loop
 * copes with several of them is part of what an emitter costs.
 *
 * @param count How many listeners.
 * @param parameter The listener's parameter.
 * @param expression What it XORs into the sink, in terms of `parameter`.
 * @returns The listeners.
 */
export function listeners<F>(count: number, parameter: string, expression: string): F[] {
  return Array.from({ length: count }, () => {
    // The comment makes every source unique: V8 caches compiled sources.
    const source = `/* listener ${compiled++} */ return (${parameter}) => {
      sink.value ^= ${expression};
    };`;
    return new Function("sink", source)(sink) as F;
  });
}

/**
 * Operations per iteration of a synchronous bench. With 1,000, Deno's `time/iter` in µs
 * reads directly as ns per operation; group names carry the count as `(×1000)`.
 */
export const OPS = 1000;
/** Sequential `await emit()` calls per iteration of the async bench. */
export const ASYNC_OPS = 100;

/** A bench as the suite registers it: `Deno.bench` options whose body takes no argument. */
export interface Bench {
  name: string;
  group: string;
  baseline?: boolean;
  n?: number;
  fn: () => void | Promise<void>;
}

const registered: Bench[] = [];

/**
 * Registers a bench with Deno, as `Deno.bench`, and remembers it for {@linkcode warmUp}.
 *
 * @param definition The bench.
 */
export function bench(definition: Bench): void {
  registered.push(definition);
  Deno.bench(definition);
}

/**
 * Runs every bench registered so far for a few milliseconds before Deno times any of them.
 * Otherwise JIT state leaks from one bench into the next in file order: the first bench of a
 * file runs against code optimised for its shape alone (say, one listener), the later ones
 * against code that has also seen the earlier shapes. After the warm-up every library's code
 * has seen every shape the file gives it, as in an application with many topics, whatever the
 * order.
 *
 * @param ms How long to run each bench.
 */
export async function warmUp(ms = 20): Promise<void> {
  for (const { fn } of registered) {
    const end = performance.now() + ms;
    do await fn(); while (performance.now() < end);
  }
}
