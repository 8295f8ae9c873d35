/**
 * The event object handed to listeners.
 *
 * @module
 */

import { monotonicUlid } from "./ulid.ts";
import type { EventHost } from "./_event_host.ts";

/**
 * Friend access to an event's private state for the emitter's own modules, filled in by
 * `SoireeEvent`'s static block. Not part of the public API: `mod.ts` re-exports only
 * `SoireeEvent` from this file.
 *
 * @internal
 */
export const eventInternals: {
  /** Creates an event bound to its emission. */
  create: (topic: string, payload: unknown, host: EventHost) => SoireeEvent;
  /** The abort controller behind `event.signal`, if a listener asked for one. */
  controller: (event: SoireeEvent) => AbortController | undefined;
  /** Gives the next listener invocation a fresh `event.signal`. */
  resetSignal: (event: SoireeEvent) => void;
  /**
   * A new event of the same emission: same topic, payload, ID, abort flag and properties (the
   * same map, made now if need be, or a copy), its own signal. Writes to `payload` and
   * `abort()` on either no longer reach the other.
   */
  fork: (event: SoireeEvent, copyProperties: boolean) => SoireeEvent;
  /**
   * What a consumer (`waitFor()`, `events()`) is handed: the topic, payload, ID and properties
   * as they are now, detached from the emission (its `abort()` and writes reach nothing, its
   * signal never aborts).
   */
  snapshot: (event: SoireeEvent) => SoireeEvent;
} = {
  create: unset,
  controller: unset,
  resetSignal: unset,
  fork: unset,
  snapshot: unset,
};

function unset(): never {
  throw new Error("unreachable: SoireeEvent is not initialised");
}

/**
 * One emission, as its listeners see it. The same object is handed to every listener of the
 * emission, in order, so a listener can replace `payload` or set `properties` for the ones
 * after it, and `abort()` stops the ones after it.
 *
 * Once a listener is given up on (its `timeout` passed), the listeners after it get a copy:
 * what it does to its event later (`abort()`, new payload or properties) is ignored. In
 * concurrent dispatch each listener of a priority level gets its own copy (sharing
 * `properties`); `waitFor()` and `events()` hand over a detached snapshot.
 *
 * Emitters create events; constructing one yourself is useful in tests of listeners.
 *
 * @typeParam P The payload type.
 * @typeParam T The topic type.
 *
 * @example Hand a transformed payload to the next listener
 * ```ts
 * import { Priority, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * soiree.on("order.placed", (event) => {
 *   event.payload = { ...(event.payload as object), checked: true };
 *   event.properties.set("checkedBy", "validator");
 * }, { priority: Priority.High });
 * let seen: unknown;
 * soiree.on("order.placed", (event) => {
 *   seen = [event.payload, event.properties.get("checkedBy")];
 * });
 * soiree.emitSync("order.placed", { id: 7 });
 * assert.deepEqual(seen, [{ id: 7, checked: true }, "validator"]);
 * ```
 */
export class SoireeEvent<P = unknown, T extends string = string> {
  /** The emitted topic (never a pattern). */
  readonly topic: T;
  /** The payload; a listener may replace it for the listeners after it. */
  payload: P;
  #properties: Map<string, unknown> | undefined = undefined;
  #aborted = false;
  #id: string | undefined = undefined;
  #host: EventHost | undefined = undefined;
  #ctl: AbortController | undefined = undefined;

  static {
    eventInternals.create = (topic, payload, host) => {
      const event = new SoireeEvent(topic, payload);
      event.#host = host;
      return event;
    };
    eventInternals.controller = (event) => event.#ctl;
    eventInternals.resetSignal = (event) => void (event.#ctl = undefined);
    eventInternals.fork = (event, copyProperties) => {
      const fork = new SoireeEvent(event.topic, event.payload);
      fork.#host = event.#host;
      fork.#id = event.id;
      if (!copyProperties) fork.#properties = event.#properties ??= new Map();
      else if (event.#properties !== undefined) fork.#properties = new Map(event.#properties);
      fork.#aborted = event.#aborted;
      return fork;
    };
    eventInternals.snapshot = (event) => {
      const copy = new SoireeEvent(event.topic, event.payload);
      copy.#id = event.id;
      const properties = event.#properties;
      if (properties !== undefined && properties.size > 0) copy.#properties = new Map(properties);
      return copy;
    };
  }

  /**
   * Creates an event.
   *
   * @param topic The emitted topic.
   * @param payload The payload.
   */
  constructor(topic: T, payload: P) {
    this.topic = topic;
    this.payload = payload;
  }

  /** Metadata shared by the listeners of this emission (created on first use). */
  get properties(): Map<string, unknown> {
    return (this.#properties ??= new Map());
  }

  /** Whether a listener aborted this emission. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /**
   * An ID for this emission (a ULID from the emitter's ID generator), made on first read.
   * Use it to correlate log lines or to deduplicate.
   */
  get id(): string {
    return (this.#id ??= this.#host === undefined ? monotonicUlid() : this.#host.eventId());
  }

  /**
   * Fires when the current listener should stop: its `timeout` passed, the emission's
   * `signal` aborted or its `timeout` passed, or `close()` gave up waiting. A listener that
   * ignores it keeps its pool slot until it returns.
   *
   * The event is shared by the listeners of an emission, and this is the signal of the call
   * running now: read it before the listener's first `await` (`const { signal } = event;`).
   */
  get signal(): AbortSignal {
    let ctl = this.#ctl;
    if (ctl === undefined) {
      const host = this.#host;
      if (host === undefined) return NEVER_ABORTED;
      ctl = this.#ctl = new AbortController();
      if (host.cancelled) ctl.abort(host.cancelReason);
    }
    return ctl.signal;
  }

  /** Stops every listener of this emission that has not started yet, across all patterns. */
  abort(): void {
    this.#aborted = true;
  }

  /**
   * Sets or clears the abort flag, as the Go original's `SetAborted`.
   *
   * @param aborted Whether the remaining listeners should be skipped.
   */
  setAborted(aborted: boolean): void {
    this.#aborted = aborted === true;
  }
}

const NEVER_ABORTED: AbortSignal = new AbortController().signal;
