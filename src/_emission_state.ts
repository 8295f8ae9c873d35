// The packed state of one emission: its flags in one number, and the part few emissions need
// (errors, listener timers, signal, deadline, a lent pool slot, a concurrent level) in an
// object made on first use, so that a queued emission stays small: a pool bounds the
// emissions in flight, never the queued ones. The dispatch itself lives in _emission.ts.

import type { SoireeEvent } from "./event.ts";
import type { Registration } from "./_registry.ts";
import type { CancelTimer } from "./_timer.ts";
import { Job } from "./_task_queue.ts";

/** A listener call of a priority level started together (concurrent dispatch). */
export interface LevelCall {
  readonly registration: Registration;
  /** Its own fork of the emission's event. */
  readonly event: SoireeEvent;
  promise: Promise<unknown> | undefined;
  /** Settled, or no longer waited for. */
  done: boolean;
  /** Given up on (its timeout): its event's changes are not kept. */
  givenUp: boolean;
  timer: CancelTimer | undefined;
}

/** The priority level an emission in concurrent dispatch is waiting for. */
export interface Level {
  readonly calls: LevelCall[];
  /** The event the calls were forked from: it carries their changes to the next level. */
  readonly base: SoireeEvent;
  /** Calls not settled yet. */
  waiting: number;
  /** Of those, calls not on a class pool (they run on the emitter-pool slot). */
  plain: number;
}

/** Emission flags, packed in one number. */
const DONE = 1;
const CANCELLED = 2;
const ON_POOL = 4;
const RESUMING = 8;
const BUSY = 16;
const CONCURRENT = 32;

/** What few emissions need: made on first use. */
interface Rare {
  errors: Error[] | undefined;
  /** Listeners given up on (timeout, cancel) that still run on this emission's pool slot. */
  abandoned: number;
  /** Bumped whenever a wait with a timeout or signal ends, so a late settlement is ignored. */
  token: number;
  timer: CancelTimer | undefined;
  cancelReason: unknown;
  deadline: CancelTimer | undefined;
  userSignal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  resume: (() => Promise<void>) | undefined;
  level: Level | undefined;
}

/** An emission's flags and rare part, behind accessors; `Emission` extends it. */
export abstract class EmissionState extends Job {
  #flags = 0;
  /** Made by the first setter given a value other than `undefined` or 0. */
  rare: Rare | undefined = undefined;

  /** Finished: its promise is resolved. */
  get done(): boolean {
    return (this.#flags & DONE) !== 0;
  }

  set done(value: boolean) {
    this.#flag(DONE, value);
  }

  /** Cancelled (signal, timeout, close giving up). */
  get cancelled(): boolean {
    return (this.#flags & CANCELLED) !== 0;
  }

  set cancelled(value: boolean) {
    this.#flag(CANCELLED, value);
  }

  /** Holds a slot of the emitter's pool. */
  get onPool(): boolean {
    return (this.#flags & ON_POOL) !== 0;
  }

  set onPool(value: boolean) {
    this.#flag(ON_POOL, value);
  }

  /** Waiting for `resume()` to give the emitter pool slot back. */
  get resuming(): boolean {
    return (this.#flags & RESUMING) !== 0;
  }

  set resuming(value: boolean) {
    this.#flag(RESUMING, value);
  }

  /** Running listeners right now, or getting its pool slot back: it will finish itself. */
  get busy(): boolean {
    return (this.#flags & BUSY) !== 0;
  }

  set busy(value: boolean) {
    this.#flag(BUSY, value);
  }

  /** Concurrent dispatch: the listeners of one priority level start together. */
  get concurrent(): boolean {
    return (this.#flags & CONCURRENT) !== 0;
  }

  set concurrent(value: boolean) {
    this.#flag(CONCURRENT, value);
  }

  /** The errors so far. */
  get errors(): Error[] | undefined {
    return this.rare?.errors;
  }

  set errors(value: Error[] | undefined) {
    this.#setRare("errors", value);
  }

  /** Listeners given up on (timeout, cancel) that still run on this emission's pool slot. */
  get abandoned(): number {
    return this.rare?.abandoned ?? 0;
  }

  set abandoned(value: number) {
    this.#setRare("abandoned", value);
  }

  /** Bumped whenever a wait ends, so a late settlement of an old wait is ignored. */
  get token(): number {
    return this.rare?.token ?? 0;
  }

  set token(value: number) {
    this.#setRare("token", value);
  }

  /** Cancels the timeout of the listener waited for. */
  get timer(): CancelTimer | undefined {
    return this.rare?.timer;
  }

  set timer(value: CancelTimer | undefined) {
    this.#setRare("timer", value);
  }

  get cancelReason(): unknown {
    return this.rare?.cancelReason;
  }

  set cancelReason(value: unknown) {
    this.#setRare("cancelReason", value);
  }

  /** Cancels the emission's own `timeout`. */
  get deadline(): CancelTimer | undefined {
    return this.rare?.deadline;
  }

  set deadline(value: CancelTimer | undefined) {
    this.#setRare("deadline", value);
  }

  /** The emission's `signal`, and its abort listener. */
  get userSignal(): AbortSignal | undefined {
    return this.rare?.userSignal;
  }

  set userSignal(value: AbortSignal | undefined) {
    this.#setRare("userSignal", value);
  }

  get onAbort(): (() => void) | undefined {
    return this.rare?.onAbort;
  }

  set onAbort(value: (() => void) | undefined) {
    this.#setRare("onAbort", value);
  }

  /** Set while the emitter pool slot is lent out during a pooled listener. */
  get resume(): (() => Promise<void>) | undefined {
    return this.rare?.resume;
  }

  set resume(value: (() => Promise<void>) | undefined) {
    this.#setRare("resume", value);
  }

  /** Concurrent dispatch: the level being waited for. */
  get level(): Level | undefined {
    return this.rare?.level;
  }

  set level(value: Level | undefined) {
    this.#setRare("level", value);
  }

  #flag(bit: number, value: boolean): void {
    this.#flags = value ? this.#flags | bit : this.#flags & ~bit;
  }

  #setRare<K extends keyof Rare>(key: K, value: Rare[K]): void {
    let rare = this.rare;
    if (rare === undefined) {
      if (value === undefined || value === 0) return;
      rare = this.rare = {
        errors: undefined,
        abandoned: 0,
        token: 0,
        timer: undefined,
        cancelReason: undefined,
        deadline: undefined,
        userSignal: undefined,
        onAbort: undefined,
        resume: undefined,
        level: undefined,
      };
    }
    rare[key] = value;
  }
}
