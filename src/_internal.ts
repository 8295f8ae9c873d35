// Friend access for tests: the sizes of an emitter's private structures, filled in by
// Soiree's static block. Nothing here is exported from mod.ts; src/ uses its types only.

/** Sizes of an emitter's private structures, for leak tests. */
export interface EmitterInternals {
  /**
   * Nodes of the wildcard pattern trie (the root not counted), emptied ones kept under wide
   * parents included (no more of those than the patterns or 64, and none once no pattern is left).
   */
  trieNodes: number;
  /** Wildcard patterns stored in the trie. */
  wildcardPatterns: number;
  /**
   * Exact patterns with listeners (emptied entries kept for reuse are not counted: no more of
   * those than the live ones or 64, and none once no listener is left).
   */
  exactPatterns: number;
  /** Topics with a cached dispatch list. */
  cacheSize: number;
  /** Listeners subscribed. */
  listeners: number;
  /** Live listeners whose ID was read (a default ID is made then) or given by the generator. */
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
