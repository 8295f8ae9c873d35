// Friend access for tests: the sizes of an emitter's private structures, filled in by
// Soiree's static block. Nothing here is exported from mod.ts, and nothing in src/ reads it.

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
