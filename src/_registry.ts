// The registry: who listens to what. Owns the registrations and their IDs (made on first read
// for default IDs; custom IDs in an index, for duplicates), the exact-topic map and the pattern
// trie, the per-topic dispatch cache and its invalidation, the listener count and the leak
// warning.
//
// V8's Map re-hashes in place when an insert finds no free slot, and deleted keys keep theirs:
// on a Map of n keys, a set/delete pair costs O(n) every few calls. So the hot Maps here are
// never churned: the cache rotates two generations instead of evicting, an invalidated topic
// is overwritten with `undefined`, and emptied exact entries stay until a sweep rebuilds the
// map (emptied wildcard entries stay in the trie too: matching finds their empty lists, and
// subscribing again costs no trie nodes). It never calls a listener, never reports a failure and
// knows nothing of emissions: dispatch reads the lists it returns.

import type { SoireeEvent } from "./event.ts";
import type { Subscription } from "./listener.ts";
import type { EmitterInternals } from "./_internal.ts";
import type { Pool } from "./pool.ts";
import { monotonicUlid } from "./ulid.ts";
import { assertTopic, describeValue, EXACT, splitTopic } from "./_topic.ts";
import { ListenerList } from "./_listener_list.ts";
import { matchSegments, PatternTrie } from "./_trie.ts";

/**
 * At most this many topics keep a cached dispatch list: the young generation takes new topics
 * until it holds half, then becomes the old one (dropped at the next turn). A topic found in the
 * old generation moves back to the young one.
 */
const CACHE_LIMIT = 4096;
/**
 * Admission: every window of this many cache misses, the cache checks it still pays. When it
 * answered fewer than one lookup in ADMIT_RATIO misses (topics that carry an ID, each emitted
 * once or twice), it caches only one miss in ADMIT_SAMPLE until it pays again: inserting a list
 * that is never read costs more than the match that made it.
 */
const ADMIT_WINDOW = 1024;
const ADMIT_RATIO = 8;
const ADMIT_SAMPLE = 16;
/** A wildcard change drops only the cached topics it matches while the cache holds at most this. */
const SCAN_LIMIT = 256;
/** Emptied exact entries are kept (reused when subscribed again) until they outnumber this and the live ones. */
const SWEEP_AFTER = 64;
const EMPTY: readonly Registration[] = Object.freeze([]);
/**
 * `lastTopic` when there is none: a private object, so that no argument of `emit()` (not even
 * `undefined`) equals it and skips the topic check.
 */
const NO_TOPIC: object = Object.freeze({});
/** The code of "." */
const DOT = 46;

/** `Registration.state` bits. 0 is the common case: subscribed, plain, not once. */
const REMOVED = 1;
export const ONCE = 2;
/** Has its own pool or a timeout: takes the general invocation path. */
export const SPECIAL = 4;
/**
 * A `once` listener whose call waits for a slot of its class pool: other emissions skip it,
 * and it is removed when the call starts, or released if the call is given up on first.
 */
export const CLAIMED = 8;
/** Bits that make a dispatch skip a listener. */
export const SKIP: number = REMOVED | CLAIMED;
/** Its ID was read (a default ID is made then) or given by the user's generator. */
const INDEXED = 16;
/** The bits dispatch looks at: none set is the fast path. */
export const DISPATCH: number = REMOVED | ONCE | SPECIAL | CLAIMED;

/** The listeners of one pattern, in subscription order. */
interface PatternEntry {
  readonly registry: Registry;
  readonly pattern: string;
  readonly segments: readonly string[] | undefined;
  /** Insertion ordered, and removal is O(1) however many listeners there are. */
  readonly list: ListenerList<Registration>;
  /**
   * The list as a dispatch list (sorted by priority then subscription order), made on demand
   * and dropped on every change: a topic reached through this entry alone reuses it.
   */
  sorted: readonly Registration[] | undefined;
  /**
   * WARNED: the leak warning was given. CACHED: a cached topic may reach this entry (set when
   * the entry is made, and when a lookup finds it: its topic for an exact entry, a topic it
   * matches for a wildcard one, emptied ones included), so a change must look for them; lets a
   * churning subscription skip the cache. One field for both: every pattern has an entry.
   */
  bits: number;
}

/** `PatternEntry.bits`. */
const WARNED = 1;
const CACHED = 2;

/** What `Registry.add()` needs besides the pattern and the listener, already checked. */
export interface RegistrationOptions {
  readonly priority: number;
  readonly once: boolean;
  readonly pool: Pool | undefined;
  /** Milliseconds; 0 for none. */
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
  /** The pool was made for this listener from pool options: close it when it goes. */
  readonly ownsPool: boolean;
}

/** What only some listeners have: kept apart so a plain listener stays small. */
interface Extra {
  readonly pool: Pool | undefined;
  /** Milliseconds; 0 for none. */
  readonly timeout: number;
  /** Stops watching the signal, closes an owned pool: run once when the listener goes. */
  cleanup: (() => void) | undefined;
}

/** A subscribed listener: the handle `on()` returns and the dispatch list entry. */
export class Registration implements Subscription {
  /** REMOVED | ONCE | SPECIAL | CLAIMED | INDEXED bits: one load and mask on the hot path. */
  state: number;
  readonly fn: (event: SoireeEvent) => unknown;
  readonly priority: number;
  readonly seq: number;
  readonly entry: PatternEntry;
  extra: Extra | undefined;
  #id: string | undefined;

  constructor(
    id: string | undefined,
    entry: PatternEntry,
    fn: (event: SoireeEvent) => unknown,
    seq: number,
    options: RegistrationOptions,
  ) {
    this.#id = id;
    this.entry = entry;
    this.fn = fn;
    this.seq = seq;
    this.priority = options.priority;
    const special = options.pool !== undefined || options.timeout > 0;
    this.extra = special
      ? { pool: options.pool, timeout: options.timeout, cleanup: undefined }
      : undefined;
    this.state = (options.once ? ONCE : 0) | (special ? SPECIAL : 0) |
      (id !== undefined ? INDEXED : 0);
  }

  /** Its workload-class pool, if any. */
  get pool(): Pool | undefined {
    return this.extra?.pool;
  }

  /** Its timeout in milliseconds; 0 for none. */
  get timeout(): number {
    return this.extra?.timeout ?? 0;
  }

  /** Whether its ID was read or given (then it counts in `indexedIds`). */
  get indexed(): boolean {
    return (this.state & INDEXED) !== 0;
  }

  get id(): string {
    if ((this.state & INDEXED) === 0) {
      this.#id = monotonicUlid();
      this.state |= INDEXED;
      this.entry.registry.index(this);
    }
    return this.#id!;
  }

  /** The ID if it was made, without making it. */
  get rawId(): string | undefined {
    return this.#id;
  }

  get pattern(): string {
    return this.entry.pattern;
  }

  get active(): boolean {
    return (this.state & REMOVED) === 0;
  }

  off(): boolean {
    return this.entry.registry.remove(this);
  }

  [Symbol.dispose](): void {
    this.off();
  }
}

/** Sizes of the registry's structures, for leak tests (all but the emitter's in-flight list). */
export type RegistrySizes = Omit<EmitterInternals, "inFlightLinked">;

/** The subscriptions of one emitter. */
export class Registry {
  /**
   * Dispatch lists by topic, sorted by priority then subscription order: the young generation,
   * read on the hot path. A miss goes through `lookup()`. `undefined` values are invalidated.
   */
  cache: Map<string, readonly Registration[] | undefined> = new Map();
  #oldCache: Map<string, readonly Registration[] | undefined> = new Map();
  /**
   * The topic of the last `lookup()` (or emit) and its list: a run of emits to one topic costs
   * a string compare, not a Map lookup. Cleared by every change that can reach its topic.
   */
  lastTopic: string | typeof NO_TOPIC = NO_TOPIC;
  lastList: readonly Registration[] = EMPTY;
  /** Lookups the cache answered, and misses, in this admission window. */
  #hits = 0;
  #misses = 0;
  /** A miss is cached one time in this many (1, or ADMIT_SAMPLE while the cache does not pay). */
  #admitEvery = 1;
  #sinceAdmitted = 0;
  /** Listeners subscribed now. */
  count = 0;
  #exact = new Map<string, PatternEntry>();
  /** Entries of `#exact` with no listener left, kept for reuse until a sweep. */
  #emptyExact = 0;
  /** Wildcard entries by pattern, the same as the trie's (emptied ones included). */
  #wild = new Map<string, PatternEntry>();
  /** Entries of `#wild` (and of the trie) with no listener left, kept until a sweep. */
  #emptyWild = 0;
  #trie = new PatternTrie<PatternEntry>();
  /** The entries one `lookup()` matched: reused, and emptied after each. */
  readonly #matched: PatternEntry[] = [];
  /** Listeners by custom ID (the user's generator), to refuse duplicates and find them. */
  #byId = new Map<string, Registration>();
  /** Live listeners whose ID was read or given: for leak tests. */
  #indexed = 0;
  #seq = 0;
  readonly #idGenerator: (() => string) | undefined;
  readonly #maxListeners: number;

  /**
   * @param idGenerator The user's ID generator; `undefined` for ULIDs.
   * @param maxListeners Warn when one pattern has more listeners than this; 0 for never.
   */
  constructor(idGenerator: (() => string) | undefined, maxListeners: number) {
    this.#idGenerator = idGenerator;
    this.#maxListeners = maxListeners;
  }

  /**
   * Subscribes a listener to a checked pattern of the given kind.
   *
   * @throws {Error} When the ID generator throws or returns an ID in use.
   * @throws {TypeError} When the ID generator returns no non-empty string.
   */
  add(
    pattern: string,
    kind: number,
    fn: (event: SoireeEvent) => unknown,
    options: RegistrationOptions,
  ): Registration {
    const custom = this.#idGenerator !== undefined;
    const id = custom ? this.#newId() : undefined;
    let entry = kind === EXACT ? this.#exact.get(pattern) : this.#wild.get(pattern);
    if (entry === undefined) {
      const segments = kind === EXACT ? undefined : splitTopic(pattern);
      entry = {
        registry: this,
        pattern,
        segments,
        list: new ListenerList(),
        sorted: undefined,
        bits: CACHED,
      };
      if (segments === undefined) this.#exact.set(pattern, entry);
      else {
        this.#wild.set(pattern, entry);
        this.#trie.set(segments, entry);
      }
    } else if (entry.list.size === 0) {
      // An emptied entry, kept: in use again.
      if (entry.segments === undefined) this.#emptyExact--;
      else this.#emptyWild--;
    }
    const registration = new Registration(id, entry, fn, this.#seq++, options);
    const { signal } = options;
    if (signal?.aborted) {
      // Subscribed and unsubscribed at once: nothing to store.
      this.#dropEntryIfEmpty(entry);
      registration.state |= REMOVED;
      if (options.ownsPool) void options.pool!.close();
      return registration;
    }
    entry.list.add(registration);
    entry.sorted = undefined;
    this.count++;
    if (id !== undefined) {
      this.#byId.set(id, registration);
      this.#indexed++;
    }
    this.#invalidate(entry);
    if (signal !== undefined) {
      const onAbort = (): void => void registration.off();
      signal.addEventListener("abort", onAbort, { once: true });
      registration.extra ??= { pool: undefined, timeout: 0, cleanup: undefined };
      registration.extra.cleanup = () => signal.removeEventListener("abort", onAbort);
    }
    if (options.ownsPool) {
      const pool = options.pool!;
      const extra = registration.extra!;
      const unwatch = extra.cleanup;
      // Calls already running finish; calls still queued find the listener gone.
      extra.cleanup = () => {
        unwatch?.();
        void pool.close().catch(() => {});
      };
    }
    const max = this.#maxListeners;
    if (max > 0 && (entry.bits & WARNED) === 0 && entry.list.size > max) {
      entry.bits |= WARNED;
      console.warn(
        `Soiree: ${entry.list.size} listeners are subscribed to ${
          describeValue(pattern)
        }, more than maxListeners (${max}): a likely leak. Raise maxListeners or set it to 0 to silence this.`,
      );
    }
    return registration;
  }

  /** Unsubscribes; `false` when it was already gone. */
  remove(registration: Registration): boolean {
    if ((registration.state & REMOVED) !== 0) return false;
    registration.state |= REMOVED;
    const extra = registration.extra;
    if (extra?.cleanup !== undefined) {
      extra.cleanup();
      extra.cleanup = undefined;
    }
    const { entry } = registration;
    entry.list.delete(registration);
    entry.sorted = undefined;
    this.count--;
    if (registration.indexed) {
      this.#indexed--;
      if (this.#idGenerator !== undefined) this.#byId.delete(registration.rawId!);
    }
    this.#dropEntryIfEmpty(entry);
    this.#invalidate(entry);
    return true;
  }

  /**
   * The listener with this ID subscribed to this (checked) pattern, if any. Default IDs are
   * not indexed: the pattern's listeners are scanned, which is as fast for the usual few.
   */
  find(pattern: string, kind: number, id: string): Registration | undefined {
    if (this.#idGenerator !== undefined) {
      const registration = this.#byId.get(id);
      return registration?.pattern === pattern ? registration : undefined;
    }
    const entry = kind === EXACT ? this.#exact.get(pattern) : this.#wild.get(pattern);
    if (entry === undefined) return undefined;
    return entry.list.find((registration) => registration.rawId === id);
  }

  /** Counts a default ID that was just made on first read. */
  index(registration: Registration): void {
    if (registration.active) this.#indexed++;
  }

  /**
   * The dispatch list of a topic, cached. The topic is validated here, on a cache miss only.
   *
   * @throws {TypeError} When the topic is invalid.
   */
  lookup(topic: string, action: string): readonly Registration[] {
    const cached = this.cache.get(topic);
    if (cached !== undefined) {
      this.#hits++;
      return this.#remember(topic, cached);
    }
    const old = this.#oldCache.get(topic);
    if (old !== undefined) {
      this.#hits++;
      this.#cacheSet(topic, old);
      return this.#remember(topic, old);
    }
    assertTopic(topic, action);
    let exact = this.#exact.get(topic);
    if (exact !== undefined) {
      exact.bits |= CACHED;
      if (exact.list.size === 0) exact = undefined;
    }
    let list: readonly Registration[];
    // Emptied wildcard entries are matched too, so that they learn a cached topic reaches them.
    if (this.#wild.size === 0) list = exact === undefined ? EMPTY : sortedList(exact);
    else {
      const entries = this.#matched;
      this.#trie.match(splitTopic(topic), entries);
      const count = entries.length;
      for (let i = 0; i < count; i++) entries[i].bits |= CACHED;
      if (count === 0) list = exact === undefined ? EMPTY : sortedList(exact);
      else if (count === 1 && exact === undefined) list = sortedList(entries[0]);
      else {
        // Lists of several entries: merged, then sorted.
        const merged: Registration[] = exact === undefined ? [] : exact.list.appendTo([]);
        for (let i = 0; i < count; i++) entries[i].list.appendTo(merged);
        if (merged.length > 1) merged.sort(byPriorityThenSeq);
        list = merged;
      }
      entries.length = 0;
    }
    if (++this.#sinceAdmitted >= this.#admitEvery) {
      this.#sinceAdmitted = 0;
      this.#cacheSet(topic, list);
    }
    if (++this.#misses === ADMIT_WINDOW) this.#admission();
    return this.#remember(topic, list);
  }

  /** Ends an admission window: sample misses while the cache answers few lookups. */
  #admission(): void {
    this.#admitEvery = this.#hits * ADMIT_RATIO < this.#misses ? ADMIT_SAMPLE : 1;
    this.#hits = this.#misses = 0;
  }

  #remember(topic: string, list: readonly Registration[]): readonly Registration[] {
    this.lastTopic = topic;
    this.lastList = list;
    return list;
  }

  /** Caches a list in the young generation, turning the generations when it is full. */
  #cacheSet(topic: string, list: readonly Registration[]): void {
    if (this.cache.size >= CACHE_LIMIT / 2 && !this.cache.has(topic)) {
      this.#oldCache = this.cache;
      this.cache = new Map();
    }
    this.cache.set(topic, list);
  }

  /** How many listeners are subscribed to exactly this wildcard pattern. */
  patternCount(pattern: string): number {
    return this.#wild.get(pattern)?.list.size ?? 0;
  }

  /** Drops every listener at once (close): linear, not one removal at a time. */
  clear(): void {
    for (const entry of [...this.#exact.values(), ...this.#wild.values()]) {
      for (const registration of entry.list.appendTo([])) {
        registration.state |= REMOVED;
        const extra = registration.extra;
        if (extra?.cleanup !== undefined) {
          extra.cleanup();
          extra.cleanup = undefined;
        }
      }
      entry.list.clear();
      entry.sorted = undefined;
    }
    this.#exact = new Map();
    this.#emptyExact = 0;
    this.#wild = new Map();
    this.#emptyWild = 0;
    this.#trie = new PatternTrie<PatternEntry>();
    this.#byId = new Map();
    this.#indexed = 0;
    this.#clearCache();
    this.count = 0;
  }

  /** The workload-class pools of the listeners subscribed now, each once (for metrics). */
  pools(): Set<Pool> {
    const pools = new Set<Pool>();
    for (const entry of [...this.#exact.values(), ...this.#wild.values()]) {
      for (const registration of entry.list.appendTo([])) {
        if (registration.pool !== undefined) pools.add(registration.pool);
      }
    }
    return pools;
  }

  /** Sizes of the private structures, for leak tests. */
  sizes(): RegistrySizes {
    return {
      trieNodes: this.#trie.liveNodeCount(hasListeners),
      wildcardPatterns: this.#wild.size - this.#emptyWild,
      exactPatterns: this.#exact.size - this.#emptyExact,
      cacheSize: this.#cacheSize(),
      listeners: this.count,
      indexedIds: this.#indexed,
    };
  }

  #newId(): string {
    let id: unknown;
    try {
      id = this.#idGenerator!();
    } catch (error) {
      throw new Error("Cannot subscribe as the ID generator threw", { cause: error });
    }
    if (typeof id !== "string" || id.length === 0) {
      throw new TypeError(
        `Cannot subscribe as the ID generator must return a non-empty string: received ${
          describeValue(id)
        }`,
      );
    }
    if (this.#byId.has(id)) {
      throw new Error(
        `Cannot subscribe as the ID generator returned an ID already in use: received ${
          describeValue(id)
        }`,
      );
    }
    return id;
  }

  /** Topics with a cached list (the two generations may both hold one topic: counted once). */
  #cacheSize(): number {
    let size = 0;
    for (const list of this.cache.values()) if (list !== undefined) size++;
    for (const [topic, list] of this.#oldCache) {
      if (list !== undefined && this.cache.get(topic) === undefined) size++;
    }
    return size;
  }

  #clearCache(): void {
    this.lastTopic = NO_TOPIC;
    if (this.cache.size > 0) this.cache = new Map();
    if (this.#oldCache.size > 0) this.#oldCache = new Map();
  }

  /**
   * Drops the cached lists a subscription change can alter (overwritten, never deleted): its
   * own topic for an exact pattern; for a wildcard pattern the topics it matches, or every
   * topic when the cache holds more than SCAN_LIMIT.
   */
  #invalidate(entry: PatternEntry): void {
    if (this.count === 0) return this.#clearCache();
    // No cached topic reaches the entry (nor the memo's, which was cached): nothing to drop.
    if ((entry.bits & CACHED) === 0) return;
    entry.bits &= ~CACHED;
    const { segments } = entry;
    const last = this.lastTopic;
    if (segments !== undefined) {
      // The memo may hold a topic the cache has dropped since: it is checked on its own.
      if (last !== NO_TOPIC && matchesTopic(segments, last as string)) this.lastTopic = NO_TOPIC;
      if (this.cache.size + this.#oldCache.size > SCAN_LIMIT) return this.#clearCache();
      dropMatching(this.cache, segments);
      dropMatching(this.#oldCache, segments);
      return;
    }
    const topic = entry.pattern;
    if (last === topic) this.lastTopic = NO_TOPIC;
    if (this.cache.get(topic) !== undefined) this.cache.set(topic, undefined);
    if (this.#oldCache.get(topic) !== undefined) this.#oldCache.set(topic, undefined);
  }

  /**
   * Once an entry has no listener left it stays where it is (its map, and the trie for a
   * wildcard one, where matching finds its empty list) for reuse when subscribed again: a
   * subscription that churns costs no trie nodes. Once emptied ones outnumber the live ones (and
   * SWEEP_AFTER), they are dropped (a map is rebuilt without them, the trie prunes them), and
   * when no listener is left at all the maps and the trie are dropped whole.
   */
  #dropEntryIfEmpty(entry: PatternEntry): void {
    if (entry.list.size > 0) return;
    if (entry.segments !== undefined) this.#emptyWild++;
    else this.#emptyExact++;
    if (this.count === 0) {
      this.#exact = new Map();
      this.#emptyExact = 0;
      if (this.#wild.size > 0) {
        this.#wild = new Map();
        this.#emptyWild = 0;
        this.#trie = new PatternTrie<PatternEntry>();
      }
      return;
    }
    if (this.#emptyExact > SWEEP_AFTER && this.#emptyExact > this.#exact.size - this.#emptyExact) {
      this.#exact = liveEntries(this.#exact);
      this.#emptyExact = 0;
    }
    if (this.#emptyWild > SWEEP_AFTER && this.#emptyWild > this.#wild.size - this.#emptyWild) {
      for (const emptied of this.#wild.values()) {
        if (emptied.list.size === 0) this.#trie.delete(emptied.segments!);
      }
      this.#wild = liveEntries(this.#wild);
      this.#emptyWild = 0;
    }
  }
}

/**
 * Overwrites the cached lists of the topics a wildcard pattern matches. A pattern that starts
 * with a literal segment matches only topics that start with it and a dot: most cached topics
 * are ruled out without splitting them (or allocating anything).
 */
function dropMatching(
  generation: Map<string, readonly Registration[] | undefined>,
  segments: readonly string[],
): void {
  if (generation.size === 0) return;
  for (const [topic, list] of generation) {
    if (list !== undefined && matchesTopic(segments, topic)) generation.set(topic, undefined);
  }
}

/**
 * Whether a wildcard pattern matches a topic. One that starts with a literal segment matches
 * only topics that start with it and a dot: most topics are ruled out without splitting them.
 */
function matchesTopic(segments: readonly string[], topic: string): boolean {
  const first = segments[0];
  if (first !== "*" && first !== "**") {
    if (topic.charCodeAt(first.length) !== DOT || !topic.startsWith(first)) return false;
  }
  return matchSegments(segments, splitTopic(topic));
}

function hasListeners(entry: PatternEntry): boolean {
  return entry.list.size > 0;
}

/** The entries of a map that still have listeners. */
function liveEntries(entries: Map<string, PatternEntry>): Map<string, PatternEntry> {
  const live = new Map<string, PatternEntry>();
  for (const [pattern, entry] of entries) if (entry.list.size > 0) live.set(pattern, entry);
  return live;
}

/** How messages name a listener: its ID, its pattern and the topic it was called for. */
export function describeListener(registration: Registration, topic: string): string {
  return `Listener ${registration.id} of ${describeValue(registration.pattern)} on ${
    describeValue(topic)
  }`;
}

/** An entry's dispatch list, made once per change of the entry (shared by the topics it reaches). */
function sortedList(entry: PatternEntry): readonly Registration[] {
  let sorted = entry.sorted;
  if (sorted === undefined) {
    const list = entry.list.appendTo([]);
    if (list.length > 1) list.sort(byPriorityThenSeq);
    entry.sorted = sorted = list;
  }
  return sorted;
}

function byPriorityThenSeq(a: Registration, b: Registration): number {
  return b.priority - a.priority || a.seq - b.seq;
}
