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
