// What an event asks of the emission it belongs to: whether it was cancelled (for its signal)
// and a new ID. Only the interface and the host of detached copies live here, so event.ts can
// depend on it without depending on the emitter.

/** What an event asks its emission for: cancellation state and event IDs. */
export interface EventHost {
  /** Whether the emission was cancelled (signal, timeout, close giving up). */
  readonly cancelled: boolean;
  /** Why it was cancelled. */
  readonly cancelReason: unknown;
  /** Makes an ID for an event of this emission. */
  eventId(): string;
}
