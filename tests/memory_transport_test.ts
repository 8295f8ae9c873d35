// The memory transport: the conformance suite, on one store shared by every connection.
import { memoryTransport, type Transport } from "../mod.ts";
import { conformance } from "./_conformance.ts";

conformance("memory", (clock) => {
  const store = memoryTransport({ clock });
  return Promise.resolve({
    // Each connection is a view of the same store; closing one must not close it for others.
    open: (): Promise<Transport> =>
      Promise.resolve({
        name: store.name,
        features: store.features,
        subscribe: (subscription) => store.subscribe(subscription),
        publish: (message) => store.publish(message),
        receive: (name, max, lease) => store.receive(name, max, lease),
        wait: (name, signal) => store.wait(name, signal),
        deadLetters: (name, limit) => store.deadLetters(name, limit),
        redrive: (name, limit) => store.redrive(name, limit),
        close: () => Promise.resolve(),
      }),
    cleanup: () => store.close(),
  });
});
