// The LISTEN session of the PostgreSQL transport: NOTIFY wakes idle consumers as soon as
// another process publishes, redrives or retries. A wake-up only; polling stays the correctness
// path, so a session that cannot be held (a transaction-mode pooler), that drops (a server
// restart) or that never comes costs latency, not deliveries. Owns the session's life: opening
// it on a pg Pool's dedicated client or the client's own `listen()`, reopening it after it
// drops, and closing it.

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

/** Whether a session can be opened on `client` at all. */
export function canListen(client: PostgresClient): boolean {
  return typeof client.listen === "function" || isPgPool(client);
}

/** One LISTEN session, held while the transport is open. */
export class ListenSession {
  readonly #client: PostgresClient;
  readonly #channel: string;
  readonly #onNotify: (payload: string) => void;
  readonly #retry: number;
  #stop: (() => Promise<void>) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #opening: Promise<void> | undefined;

  /**
   * @param retry Milliseconds between attempts to open the session again after it dropped.
   */
  constructor(
    client: PostgresClient,
    channel: string,
    onNotify: (payload: string) => void,
    retry: number,
  ) {
    this.#client = client;
    this.#channel = channel;
    this.#onNotify = onNotify;
    this.#retry = retry;
    this.#opening = this.#open();
  }

  /** Resolves once the first attempt to open the session settled (it never rejects). */
  get ready(): Promise<void> {
    return this.#opening ?? Promise.resolve();
  }

  async #open(): Promise<void> {
    try {
      const stop = await this.#listen(() => this.#dropped());
      if (this.#closed) return void await stop().catch(() => {});
      this.#stop = stop;
      // Whatever was published while the session was down: look again now.
      this.#onNotify("*");
    } catch {
      this.#dropped();
    } finally {
      this.#opening = undefined;
    }
  }

  async #listen(dropped: () => void): Promise<() => Promise<void>> {
    const client = this.#client;
    if (typeof client.listen === "function") {
      return await client.listen(this.#channel, (payload) => this.#onNotify(payload ?? "*"));
    }
    const pool = client as unknown as PgPool;
    const session = await pool.connect();
    let released = false;
    const notification = (message: { channel: string; payload?: string }): void => {
      if (message.channel === this.#channel) this.#onNotify(message.payload ?? "*");
    };
    const error = (): void => {
      release(true);
      dropped();
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
    try {
      await session.query(`LISTEN ${JSON.stringify(this.#channel)}`);
    } catch (error) {
      release(true);
      throw error;
    }
    return async () => {
      if (released) return;
      try {
        await session.query(`UNLISTEN ${JSON.stringify(this.#channel)}`);
        release(false);
      } catch {
        release(true);
      }
    };
  }

  /** The session dropped or could not open: try again later. */
  #dropped(): void {
    this.#stop = undefined;
    if (this.#closed || this.#timer !== undefined) return;
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
