// Scenario 5: subscribe + unsubscribe of one listener, ID generation included (Soiree makes a
// ULID when the ID is read, which reads the clock; "soiree (ID not read)" shows the subscription
// without it, and "soiree (counter IDs)" a user's ID generator, whose IDs a map keeps unique).
// Every emitter already holds one listener on another topic. One floor pushes the listener onto
// an array and pops it; the other reads the clock once, as a ULID does.
//
// Each iteration is OPS subscribe + unsubscribe pairs (so µs per iteration read as ns per pair).

import { Soiree, type SoireeEvent } from "@x/soiree";
import {
  bench,
  createNanoEvents,
  Emittery,
  EventEmitter2,
  EventEmitter3,
  mitt,
  NodeEventEmitter,
  OPS,
  sink,
  Tseep,
  warmUp,
} from "./_peers.ts";

/** One bench body for Soiree: subscribe and unsubscribe OPS times, reading the ID as a user would. */
function onOff(emitter: Soiree, pattern: string): () => void {
  return () => {
    for (let i = 0; i < OPS; i++) {
      const subscription = emitter.on(pattern, soireeListener);
      sink.value ^= subscription.id.length;
      subscription.off();
    }
  };
}

type Handler = (value: number) => void;
type Events = { a: Handler; z: Handler };
const handler: Handler = (value) => {
  sink.value ^= value;
};
const soireeListener = (event: SoireeEvent): void => {
  sink.value ^= event.payload as number;
};
const emitteryListener = ({ data }: { data: number }): void => {
  sink.value ^= data;
};
const domListener = (event: Event): void => {
  sink.value ^= (event as CustomEvent<number>).detail;
};

{
  const group = `subscribe + unsubscribe: exact topic (×${OPS})`;
  let counter = 0;
  const soiree = new Soiree();
  const counted = new Soiree({ idGenerator: () => `${++counter}` });
  const ee3 = new EventEmitter3();
  const ee2 = new EventEmitter2();
  const node = new NodeEventEmitter();
  const mittBus = mitt<{ a: number; z: number }>();
  const tseep = new Tseep<Events>();
  const nano = createNanoEvents<Events>();
  const emittery = new Emittery<{ a: number; z: number }>();
  const target = new EventTarget();
  soiree.on("z", soireeListener);
  counted.on("z", soireeListener);
  ee3.on("z", handler);
  ee2.on("z", handler);
  node.on("z", handler);
  mittBus.on("z", handler);
  tseep.on("z", handler);
  nano.on("z", handler);
  emittery.on("z", emitteryListener);
  target.addEventListener("z", domListener);
  const floor: Handler[] = [handler];

  bench({
    name: "soiree",
    group,
    baseline: true,
    fn: onOff(soiree, "a"),
  });
  bench({
    name: "soiree (ID not read)",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) soiree.on("a", soireeListener).off();
    },
  });
  bench({
    name: "soiree (counter IDs)",
    group,
    fn: onOff(counted, "a"),
  });
  bench({
    name: "floor: a clock read",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= Date.now() & 1;
    },
  });
  bench({
    name: "eventemitter3",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) ee3.on("a", handler).off("a", handler);
    },
  });
  bench({
    name: "eventemitter2",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) {
        ee2.on("a", handler);
        ee2.off("a", handler);
      }
    },
  });
  bench({
    name: "node:events",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) node.on("a", handler).off("a", handler);
    },
  });
  bench({
    name: "tseep",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) tseep.on("a", handler).off("a", handler);
    },
  });
  bench({
    name: "nanoevents",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) nano.on("a", handler)();
    },
  });
  bench({
    name: "mitt",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) {
        mittBus.on("a", handler);
        mittBus.off("a", handler);
      }
    },
  });
  bench({
    name: "emittery",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) emittery.on("a", emitteryListener)();
    },
  });
  bench({
    name: "EventTarget",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) {
        target.addEventListener("a", domListener);
        target.removeEventListener("a", domListener);
      }
    },
  });
  bench({
    name: "floor: array push + pop",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) {
        floor.push(handler);
        sink.value ^= floor.length;
        floor.pop();
      }
    },
  });
}

{
  const group = `subscribe + unsubscribe: pattern a.*.c (×${OPS})`;
  const soiree = new Soiree();
  const ee2 = new EventEmitter2({ wildcard: true });
  soiree.on("z.*", soireeListener);
  ee2.on("z.*", handler);
  bench({
    name: "soiree",
    group,
    baseline: true,
    fn: onOff(soiree, "a.*.c"),
  });
  bench({
    name: "eventemitter2",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) {
        ee2.on("a.*.c", handler);
        ee2.off("a.*.c", handler);
      }
    },
  });
}

await warmUp();
