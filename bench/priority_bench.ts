// Scenario 4: priorities. One exact topic with 10 and with 100 listeners of mixed priorities
// (the five named ones, interleaved). No peer orders listeners by priority, so the peers run
// the same number of listeners in subscription order; "soiree (one priority)" shows what the
// ordering itself costs. Listeners are distinct functions; the floor calls them from an array.
//
// Each iteration is OPS emits (so µs per iteration read as ns per emit).

import { Priority, Soiree, type SoireeEvent } from "@x/soiree";
import {
  bench,
  createNanoEvents,
  EventEmitter2,
  EventEmitter3,
  listeners,
  mitt,
  NodeEventEmitter,
  OPS,
  sink,
  Tseep,
  warmUp,
} from "./_peers.ts";

const COUNTS = [10, 100] as const;
/** Interleaved so that neighbours in subscription order never share a priority. */
const PRIORITIES = [
  Priority.Normal,
  Priority.Highest,
  Priority.Low,
  Priority.High,
  Priority.Lowest,
] as const;

type Handler = (value: number) => void;
type Events = { a: Handler };

for (const count of COUNTS) {
  // Distinct functions (see `listeners`): each emitter gets its own set.
  const plain = listeners<Handler>(count, "value", "value");
  const onEvent = listeners<(event: SoireeEvent) => void>(count, "event", "event.payload");
  const group = `priority: ${count} listeners of mixed priorities (×${OPS})`;
  const mixed = new Soiree({ maxListeners: 0 });
  const uniform = new Soiree({ maxListeners: 0 });
  const ee3 = new EventEmitter3();
  const ee2 = new EventEmitter2({ maxListeners: 0 });
  const node = new NodeEventEmitter().setMaxListeners(0);
  const tseep = new Tseep<Events>();
  const nano = createNanoEvents<Events>();
  const mittBus = mitt<{ a: number }>();
  const floor: Handler[] = [];
  for (let k = 0; k < count; k++) {
    mixed.on("a", onEvent[k], { priority: PRIORITIES[k % PRIORITIES.length] });
    uniform.on("a", onEvent[k]);
    ee3.on("a", plain[k]);
    ee2.on("a", plain[k]);
    node.on("a", plain[k]);
    tseep.on("a", plain[k]);
    nano.on("a", plain[k]);
    mittBus.on("a", plain[k]);
    floor.push(plain[k]);
  }

  bench({
    name: "soiree",
    group,
    baseline: true,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= mixed.emitSync("a", i).length;
    },
  });
  bench({
    name: "soiree (one priority)",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= uniform.emitSync("a", i).length;
    },
  });
  bench({
    name: "eventemitter3",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= Number(ee3.emit("a", i));
    },
  });
  bench({
    name: "eventemitter2",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= Number(ee2.emit("a", i));
    },
  });
  bench({
    name: "node:events",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= Number(node.emit("a", i));
    },
  });
  bench({
    name: "tseep",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= Number(tseep.emit("a", i));
    },
  });
  bench({
    name: "nanoevents",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) nano.emit("a", i);
    },
  });
  bench({
    name: "mitt",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) mittBus.emit("a", i);
    },
  });
  bench({
    name: "floor: direct calls",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) {
        for (let k = 0; k < floor.length; k++) floor[k](i);
      }
    },
  });
}

await warmUp();
