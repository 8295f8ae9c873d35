// The LISTEN session of the PostgreSQL transport, one connection for all its channels: NOTIFY
// wake-ups (idle consumers start as soon as another process publishes, redrives or retries;
// polling stays the correctness path, so a session that cannot be held, that drops or that never
// comes costs latency, not deliveries) and broadcasts (`_broadcast.ts`). Owns the session's
// life: opening it on a pg Pool's dedicated client or the client's own `listen()`, saying when
// it opened and why it failed, reopening it after it drops, and closing it.

import type { Queryable } from "./_schema.ts";

/** The client, as this module uses it: `PostgresClient` of postgres_transport.ts. */
type PostgresClient = Queryable & {
  listen?(
    channel: string,
    onNotify: (payload: string | undefined) => void,
  ): Promise<() => Promise<void>>;
};

/** A pg `PoolClient`, the part used. */
interface PgPoolClient {
  query(text: string): Promise<unknown>;
  on(event: "notification", fn: (message: { channel: string; payload?: string }) => void): void;
  on(event: "error" | "end", fn: (error?: unknown) => void): void;
  removeListener(event: string, fn: (...args: never[]) => void): void;
  release(destroy?: boolean | Error): void;
}

/** A pg `Pool`: `connect()` lends a client that stays ours until released. */
interface PgPool {
  connect(): Promise<PgPoolClient>;
  totalCount: number;
}

/** Whether `client` is a pg `Pool` (a `Client` has `connect()` too, but no pool counters). */
function isPgPool(client: unknown): client is PgPool {
  const pool = client as Partial<PgPool>;
  return typeof pool.connect === "function" && typeof pool.totalCount === "number";
}

/**
 * The NOTIFY channel of a schema's `purpose`: `soiree_<schema>` for wake-ups, and
 * `soiree<purpose>_<schema>` for the others (`soireebroadcast_<schema>`), so that no schema's
 * channel can be another's: every wake-up channel starts with `soiree_`, no other one does.
 * PostgreSQL refuses a channel name of 64 bytes or more, so a longer one keeps its first 48
 * characters and a hash of the whole name.
 */
export function channelName(schema: string, purpose?: string): string {
  const name = purpose === undefined ? `soiree_${schema}` : `soiree${purpose}_${schema}`;
  if (name.length < 64) return name;
  // FNV-1a, 32 bits: names that share their first 48 characters still differ.
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return `${name.slice(0, 48)}_${(hash >>> 0).toString(16).padStart(8, "0")}`;
}

/** Whether a session can be opened on `client` at all. */
export function canListen(client: PostgresClient): boolean {
  return typeof client.listen === "function" || isPgPool(client);
}

/** What a session tells its owner besides the notifications. */
export interface SessionEvents {
  /** The session is listening, first or again: NOTIFYs sent from now on arrive. */
  opened(): void;
  /** The session could not open, or dropped: it tries again after the retry delay. */
  failed(error: unknown): void;
}

/** One LISTEN session, held while the transport is open. */
export class ListenSession {
  readonly #client: PostgresClient;
  readonly #channels: readonly string[];
  readonly #onNotify: (channel: string, payload: string) => void;
  readonly #retry: number;
  readonly #events: SessionEvents;
  #stop: (() => Promise<void>) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #opening: Promise<void> | undefined;

  /**
   * @param retry Milliseconds between attempts to open the session again after it dropped.
   */
  constructor(
    client: PostgresClient,
    channels: readonly string[],
    onNotify: (channel: string, payload: string) => void,
    retry: number,
    events: SessionEvents,
  ) {
    this.#client = client;
    this.#channels = channels;
    this.#onNotify = onNotify;
    this.#retry = retry;
    this.#events = events;
    this.#opening = this.#open();
  }

  /** Resolves once the first attempt to open the session settled (it never rejects). */
  get ready(): Promise<void> {
    return this.#opening ?? Promise.resolve();
  }

  async #open(): Promise<void> {
    try {
      const stop = await this.#listen((error) => this.#dropped(error));
      if (this.#closed) return void await stop().catch(() => {});
      this.#stop = stop;
      this.#events.opened();
    } catch (error) {
      this.#dropped(error);
    } finally {
      this.#opening = undefined;
    }
  }

  async #listen(dropped: (error: unknown) => void): Promise<() => Promise<void>> {
    const client = this.#client;
    const channels = this.#channels;
    if (typeof client.listen === "function") {
      const stops: (() => Promise<void>)[] = [];
      const stopAll = async (): Promise<void> => void await Promise.all(stops.map((s) => s()));
      try {
        for (const channel of channels) {
          stops.push(
            await client.listen(channel, (payload) => this.#onNotify(channel, payload ?? "*")),
          );
        }
      } catch (error) {
        await stopAll().catch(() => {});
        throw error;
      }
      return stopAll;
    }
    const pool = client as unknown as PgPool;
    const session = await pool.connect();
    let released = false;
    const notification = (message: { channel: string; payload?: string }): void => {
      if (channels.includes(message.channel)) {
        this.#onNotify(message.channel, message.payload ?? "*");
      }
    };
    const error = (cause?: unknown): void => {
      release(true);
      dropped(cause ?? new Error(`The LISTEN session on ${channels.join(", ")} ended`));
    };
    const release = (destroy: boolean): void => {
      if (released) return;
      released = true;
      session.removeListener("notification", notification);
      // An error after the release is the pool's to handle; one listener stays for it.
      if (!destroy) session.removeListener("error", error);
      session.release(destroy);
    };
    session.on("notification", notification);
    session.on("error", error);
    const statements = (verb: string): string =>
      channels.map((channel) => `${verb} ${JSON.stringify(channel)}`).join("; ");
    try {
      await session.query(statements("LISTEN"));
    } catch (error) {
      release(true);
      throw error;
    }
    return async () => {
      if (released) return;
      try {
        await session.query(statements("UNLISTEN"));
        release(false);
      } catch {
        release(true);
      }
    };
  }

  /** The session dropped or could not open: try again later. */
  #dropped(error: unknown): void {
    this.#stop = undefined;
    if (this.#closed) return;
    this.#events.failed(error);
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) this.#opening = this.#open();
    }, this.#retry);
  }

  /** Ends the session and any attempt to reopen it. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#opening;
    const stop = this.#stop;
    this.#stop = undefined;
    await stop?.().catch(() => {});
  }
}
