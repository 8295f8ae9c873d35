// Scenarios 1 and 2: synchronous emit to an exact topic with 1 and with 3 listeners, and to a
// topic nobody listens to, with every synchronous peer doing the same work.
//
// Each iteration is OPS emits (so µs per iteration read as ns per emit). Listeners are distinct
// functions (see `listeners`), the one of the 1-listener topic distinct from the 3 of the other
// topic, as in an application; each emit's return value is folded into the sink too. The floor
// calls the same listener functions directly.

import { Soiree, type SoireeEvent } from "@x/soiree";
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

type Handler = (value: number) => void;
type Events = { a: Handler; b: Handler };

/** Four listeners per calling convention: slot 0 for the 1-listener topic, 1–3 for the other. */
const plain = listeners<Handler>(4, "value", "value");
const onEvent = listeners<(event: SoireeEvent) => void>(4, "event", "event.payload");
const onDom = listeners<(event: Event) => void>(4, "event", "event.detail");

/** Subscribes the listeners in `slots` to topic "a" of every library, then benches emitting `topic`. */
function scenario(slots: number[], topic: "a" | "b", group: string): void {
  const soiree = new Soiree();
  const ee3 = new EventEmitter3();
  const ee2 = new EventEmitter2();
  const node = new NodeEventEmitter();
  const mittBus = mitt<{ a: number; b: number }>();
  const tseep = new Tseep<Events>();
  const nano = createNanoEvents<Events>();
  const target = new EventTarget();
  const floor: Handler[] = [];
  for (const slot of slots) {
    soiree.on("a", onEvent[slot]);
    ee3.on("a", plain[slot]);
    ee2.on("a", plain[slot]);
    node.on("a", plain[slot]);
    mittBus.on("a", plain[slot]);
    tseep.on("a", plain[slot]);
    nano.on("a", plain[slot]);
    target.addEventListener("a", onDom[slot]);
    floor.push(plain[slot]);
  }
  const listening = topic === "a";

  bench({
    name: "soiree",
    group,
    baseline: true,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= soiree.emitSync(topic, i).length;
    },
  });
  bench({
    name: "eventemitter3",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= Number(ee3.emit(topic, i));
    },
  });
  bench({
    name: "eventemitter2",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= Number(ee2.emit(topic, i));
    },
  });
  bench({
    name: "node:events",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= Number(node.emit(topic, i));
    },
  });
  bench({
    name: "tseep",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) sink.value ^= Number(tseep.emit(topic, i));
    },
  });
  bench({
    name: "nanoevents",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) nano.emit(topic, i);
    },
  });
  bench({
    name: "mitt",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) mittBus.emit(topic, i);
    },
  });
  bench({
    name: "EventTarget",
    group,
    fn() {
      for (let i = 0; i < OPS; i++) {
        sink.value ^= Number(target.dispatchEvent(new CustomEvent(topic, { detail: i })));
      }
    },
  });
  bench({
    name: "floor: direct calls",
    group,
    fn() {
      if (!listening) {
        for (let i = 0; i < OPS; i++) sink.value ^= i & 1;
        return;
      }
      for (let i = 0; i < OPS; i++) {
        for (let k = 0; k < floor.length; k++) floor[k](i);
      }
    },
  });
}

scenario([0], "a", `emit: exact topic, 1 listener (×${OPS})`);
scenario([1, 2, 3], "a", `emit: exact topic, 3 listeners (×${OPS})`);
scenario([1, 2, 3], "b", `emit: no listener for the topic (×${OPS})`);

await warmUp();
