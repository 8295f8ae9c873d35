// Module-private plumbing between the event class and the emitter. Nothing here is exported
// from mod.ts.

import type { SoireeEvent } from "./event.ts";

/** What an event asks its emission for: cancellation state and event IDs. */
export interface EventHost {
  /** Whether the emission was cancelled (signal, timeout, close giving up). */
  readonly cancelled: boolean;
  /** Why it was cancelled. */
  readonly cancelReason: unknown;
  /** Makes an ID for an event of this emission. */
  eventId(): string;
}

/** Friend access to an event's private state, filled in by `SoireeEvent`'s static block. */
export const eventAccess: {
  /** Creates an event bound to its emission. */
  create: (topic: string, payload: unknown, host: EventHost) => SoireeEvent;
  /** The abort controller behind `event.signal`, if a listener asked for one. */
  controller: (event: SoireeEvent) => AbortController | undefined;
  /** Gives the next listener invocation a fresh `event.signal`. */
  resetSignal: (event: SoireeEvent) => void;
} = {
  create: () => {
    throw new Error("unreachable: SoireeEvent is not initialised");
  },
  controller: () => undefined,
  resetSignal: () => {},
};

/** Sizes of an emitter's private structures, for leak tests. */
export interface EmitterInternals {
  /** Nodes of the wildcard pattern trie (the root not counted). */
  trieNodes: number;
  /** Wildcard patterns stored in the trie. */
  wildcardPatterns: number;
  /** Exact patterns stored in the map. */
  exactPatterns: number;
  /** Topics with a cached dispatch list. */
  cacheSize: number;
  /** Listeners subscribed. */
  listeners: number;
  /** Listener IDs in the ID map (default IDs go in when first read). */
  indexedIds: number;
  /** `emit()` emissions linked in the in-flight list. */
  inFlightLinked: number;
}

/** Friend access to an emitter's private sizes, filled in by `Soiree`'s static block. */
export const emitterAccess: { internals: (soiree: object) => EmitterInternals } = {
  internals: () => {
    throw new Error("unreachable: Soiree is not initialised");
  },
};
