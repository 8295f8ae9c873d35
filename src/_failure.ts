// The failure path: every listener failure, refused emission and late rejection goes through
// the user's error handler here, and whatever the failure path itself cannot deliver goes to
// the panic handler. Owns the handlers and the failure count; it never decides whether an
// emission goes on.

import type { SoireeEvent } from "./event.ts";
import type { ListenerInfo } from "./listener.ts";
import type { ErrorHandler, PanicHandler } from "./options.ts";
import { ListenerError } from "./errors.ts";

/** Wraps a listener's failure in a `ListenerError` naming topic, pattern and listener. */
function defaultErrorHandler(
  event: SoireeEvent,
  error: unknown,
  listener: ListenerInfo | undefined,
): Error {
  if (listener !== undefined) {
    return new ListenerError(event.topic, listener.pattern, listener.id, error);
  }
  return error instanceof Error ? error : new Error(String(error), { cause: error });
}

/** Logs with `console.error`. */
function defaultPanicHandler(value: unknown): void {
  console.error("Soiree panic:", value);
}

/** How the default error handling logs a failure: once, the cause and its stack included. */
function logFailure(reported: Error): void {
  console.error("Soiree:", reported);
}

/** One emitter's failure path. */
export class FailurePath {
  /** Failures handed to the error handler. */
  failed = 0;
  readonly #errorHandler: ErrorHandler;
  readonly #panicHandler: PanicHandler;
  /** No error handler was given: every failure is logged as well as reported. */
  readonly #loud: boolean;

  constructor(errorHandler: ErrorHandler | undefined, panicHandler: PanicHandler | undefined) {
    this.#errorHandler = errorHandler ?? defaultErrorHandler;
    this.#panicHandler = panicHandler ?? defaultPanicHandler;
    this.#loud = errorHandler === undefined;
  }

  /**
   * Passes a failure through the error handler (a throwing handler goes to the panic one and
   * the default report is kept) and appends what it returns to `errors`.
   *
   * With the default error handler, the report is also logged with `console.error`, unless
   * `quiet` (the caller hands it to the panic handler, which logs it).
   *
   * @param listener The listener that failed; `undefined` when none was involved.
   */
  fail(
    errors: Error[] | undefined,
    event: SoireeEvent,
    listener: ListenerInfo | undefined,
    error: unknown,
    quiet?: boolean,
  ): Error[] | undefined {
    this.failed++;
    const info = listener === undefined
      ? undefined
      : { id: listener.id, pattern: listener.pattern };
    let reported: Error | undefined;
    try {
      reported = this.#errorHandler(event, error, info) ?? undefined;
    } catch (thrown) {
      this.panic(thrown);
      try {
        reported = defaultErrorHandler(event, error, info);
      } catch {
        reported = new Error("A listener failed and its error could not be described", {
          cause: error,
        });
      }
    }
    if (reported === undefined) return errors;
    if (this.#loud && quiet !== true) logFailure(reported);
    if (errors === undefined) return [reported];
    errors.push(reported);
    return errors;
  }

  /** Hands a value to the panic handler; a throwing panic handler is logged, never thrown. */
  panic(value: unknown): void {
    try {
      this.#panicHandler(value);
    } catch (thrown) {
      console.error("Soiree: the panic handler threw", thrown, "while handling", value);
    }
  }
}
