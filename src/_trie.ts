// A segment trie for wildcard patterns. Matching walks the trie once per topic (the emitter
// caches the result per topic), visiting each (node, position) state at most once, so its
// work is bounded by nodes × (segments + 1) whatever the patterns: no exponential
// backtracking on `**`.

let nextNodeId = 0;

/** One node: the pattern prefix that leads to it, and the value of a pattern ending here. */
class Node<T> {
  readonly id: number = nextNodeId++;
  readonly parent: Node<T> | undefined;
  readonly key: string;
  readonly globstar: boolean;
  children: Map<string, Node<T>> | undefined = undefined;
  star: Node<T> | undefined = undefined;
  double: Node<T> | undefined = undefined;
  value: T | undefined = undefined;
  /** The match call that last collected this node's value (dedupes results). */
  stamp = 0;
  /** Empty, but kept in a wide parent's map rather than deleted from it (see `delete()`). */
  kept = false;

  constructor(parent: Node<T> | undefined, key: string) {
    this.parent = parent;
    this.key = key;
    this.globstar = key === "**";
  }

  child(key: string): Node<T> | undefined {
    if (key === "*") return this.star;
    if (key === "**") return this.double;
    return this.children?.get(key);
  }

  isEmpty(): boolean {
    return this.value === undefined && this.star === undefined && this.double === undefined &&
      (this.children === undefined || this.children.size === 0);
  }
}

/** What one match did: the number of (node, position) states it visited. */
export interface MatchWork {
  steps: number;
}

/**
 * A parent with more children than this keeps an emptied child instead of deleting it: V8
 * re-hashes a Map of n keys in place every few set/delete pairs, at O(n) each.
 */
const WIDE = 64;

/** A trie of patterns split on ".", each pattern holding one value. */
export class PatternTrie<T> {
  #root: Node<T> = new Node<T>(undefined, "");
  #size = 0;
  #stamp = 0;
  /** Empty nodes kept under wide parents; swept once they outnumber WIDE and the patterns. */
  #kept = 0;
  /** The state stack of `match()`, reused. */
  readonly #nodes: Node<T>[] = [];
  readonly #positions: number[] = [];

  /** The number of patterns stored. */
  get size(): number {
    return this.#size;
  }

  /** The number of nodes below the root (for leak tests). */
  get nodeCount(): number {
    let count = 0;
    const stack: Node<T>[] = [this.#root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      for (const next of [node.star, node.double, ...(node.children?.values() ?? [])]) {
        if (next !== undefined) {
          count++;
          stack.push(next);
        }
      }
    }
    return count;
  }

  /**
   * The number of nodes below the root on the way to a value `live` accepts: the nodes the live
   * patterns need (for leak tests, when the owner keeps values it no longer uses).
   */
  liveNodeCount(live: (value: T) => boolean): number {
    // Pre-order, iterative (a pattern may have thousands of segments); then children before
    // parents, each live node marking its parent.
    const order: Node<T>[] = [];
    const stack: Node<T>[] = [this.#root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      order.push(node);
      if (node.star !== undefined) stack.push(node.star);
      if (node.double !== undefined) stack.push(node.double);
      if (node.children !== undefined) {
        for (const child of node.children.values()) stack.push(child);
      }
    }
    const leadsToLive = new Set<Node<T>>();
    let count = 0;
    for (let i = order.length - 1; i > 0; i--) {
      const node = order[i];
      if (leadsToLive.has(node) || (node.value !== undefined && live(node.value))) {
        count++;
        leadsToLive.add(node.parent!);
      }
    }
    return count;
  }

  /** Every stored value. */
  *values(): IterableIterator<T> {
    const stack: Node<T>[] = [this.#root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.value !== undefined) yield node.value;
      if (node.star !== undefined) stack.push(node.star);
      if (node.double !== undefined) stack.push(node.double);
      if (node.children !== undefined) {
        for (const child of node.children.values()) stack.push(child);
      }
    }
  }

  /** The value stored for exactly this pattern. */
  get(segments: readonly string[]): T | undefined {
    let node: Node<T> | undefined = this.#root;
    for (let i = 0; i < segments.length && node !== undefined; i++) {
      node = node.child(segments[i]);
    }
    return node?.value;
  }

  /** Stores a value for a pattern, replacing any value it had. */
  set(segments: readonly string[], value: T): void {
    let node = this.#root;
    for (const key of segments) {
      let next = node.child(key);
      if (next === undefined) {
        next = new Node<T>(node, key);
        if (key === "*") node.star = next;
        else if (key === "**") node.double = next;
        else (node.children ??= new Map()).set(key, next);
      } else if (next.kept) {
        next.kept = false;
        this.#kept--;
      }
      node = next;
    }
    if (node.value === undefined) this.#size++;
    node.value = value;
  }

  /** Removes a pattern and prunes the nodes nothing else needs. */
  delete(segments: readonly string[]): boolean {
    let node: Node<T> | undefined = this.#root;
    for (let i = 0; i < segments.length && node !== undefined; i++) {
      node = node.child(segments[i]);
    }
    if (node === undefined || node.value === undefined) return false;
    node.value = undefined;
    this.#size--;
    if (this.#size === 0) {
      this.#root = new Node<T>(undefined, "");
      this.#kept = 0;
      return true;
    }
    while (node.parent !== undefined && node.isEmpty()) {
      const parent: Node<T> = node.parent;
      if (node.key === "*") parent.star = undefined;
      else if (node.key === "**") parent.double = undefined;
      else if (parent.children!.size > WIDE) {
        node.kept = true;
        this.#kept++;
        break;
      } else {
        parent.children!.delete(node.key);
        if (parent.children!.size === 0) parent.children = undefined;
      }
      node = parent;
    }
    if (this.#kept > WIDE && this.#kept > this.#size) this.#rebuild();
    return true;
  }

  /** Builds the trie again from its patterns, without the kept empty nodes. */
  #rebuild(): void {
    const patterns: [string[], T][] = [];
    // Iterative: a pattern may have thousands of segments.
    const stack: Node<T>[] = [this.#root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.value !== undefined) {
        const path: string[] = [];
        for (let up: Node<T> = node; up.parent !== undefined; up = up.parent) path.push(up.key);
        patterns.push([path.reverse(), node.value]);
      }
      if (node.star !== undefined) stack.push(node.star);
      if (node.double !== undefined) stack.push(node.double);
      if (node.children !== undefined) {
        for (const child of node.children.values()) stack.push(child);
      }
    }
    this.#root = new Node<T>(undefined, "");
    this.#size = 0;
    this.#kept = 0;
    for (const [segments, value] of patterns) this.set(segments, value);
  }

  /**
   * Appends to `out` the value of every pattern that matches the topic's segments, each
   * once, and returns `out`.
   */
  match(segments: readonly string[], out: T[], work?: MatchWork): T[] {
    const n = segments.length;
    const stamp = ++this.#stamp;
    // The stack of (node, position) states, reused across calls: matching calls no user code,
    // so no other match can start while this one runs.
    const nodes = this.#nodes;
    const positions = this.#positions;
    nodes.push(this.#root);
    positions.push(0);
    // States are only revisited through `**`; the set is allocated when one is met.
    let seen: Set<number> | undefined;
    let steps = 0;
    while (nodes.length > 0) {
      const node = nodes.pop()!;
      const i = positions.pop()!;
      steps++;
      if (node.globstar) {
        // A `**` that ends its pattern needs at least one segment: it takes i..n-1.
        if (i < n) {
          if (node.value !== undefined && node.stamp !== stamp) {
            node.stamp = stamp;
            out.push(node.value);
          }
          if (visit(seen, node, i + 1, n)) {
            nodes.push(node);
            positions.push(i + 1);
          }
        }
      } else if (i === n && node.value !== undefined && node.stamp !== stamp) {
        node.stamp = stamp;
        out.push(node.value);
      }
      if (i < n) {
        const child = node.children?.get(segments[i]);
        if (child !== undefined && visit(seen, child, i + 1, n)) {
          nodes.push(child);
          positions.push(i + 1);
        }
        const star = node.star;
        if (star !== undefined && visit(seen, star, i + 1, n)) {
          nodes.push(star);
          positions.push(i + 1);
        }
      }
      const double = node.double;
      if (double !== undefined) {
        seen ??= new Set();
        if (visit(seen, double, i, n)) {
          nodes.push(double);
          positions.push(i);
        }
      }
    }
    if (work !== undefined) work.steps += steps;
    return out;
  }
}

/**
 * Whether the state (node, position) is new to this match: always, until a `**` was met and
 * `seen` records the states.
 */
function visit<T>(seen: Set<number> | undefined, node: Node<T>, i: number, n: number): boolean {
  if (seen === undefined) return true;
  const key = node.id * (n + 1) + i;
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}

/**
 * Whether a pattern's segments match a topic's, by the same rules as the trie (`*` one
 * segment; `**` any number, at least one at the end), in O(pattern × topic) steps and no
 * allocation.
 */
export function matchSegments(pattern: readonly string[], topic: readonly string[]): boolean {
  const n = topic.length;
  if (n > 30) return new PatternTrieMatcher(pattern).matches(topic);
  // Bit j of `reach`: the pattern so far matches the first j topic segments.
  let reach = 1;
  for (let i = 0; i < pattern.length; i++) {
    const segment = pattern[i];
    let next = 0;
    if (segment === "**") {
      const last = i === pattern.length - 1;
      let any = 0;
      for (let j = 0; j <= n; j++) {
        if (!last) any |= (reach >>> j) & 1;
        next |= any << j;
        if (last) any |= (reach >>> j) & 1;
      }
    } else {
      for (let j = 0; j < n; j++) {
        if (((reach >>> j) & 1) === 1 && (segment === "*" || segment === topic[j])) {
          next |= 1 << (j + 1);
        }
      }
    }
    if (next === 0) return false;
    reach = next;
  }
  return ((reach >>> n) & 1) === 1;
}

/** The general case of `matchSegments()` (long topics): a one-pattern trie. */
class PatternTrieMatcher {
  readonly #trie = new PatternTrie<true>();

  constructor(pattern: readonly string[]) {
    this.#trie.set(pattern, true);
  }

  matches(topic: readonly string[]): boolean {
    return this.#trie.match(topic, []).length > 0;
  }
}
