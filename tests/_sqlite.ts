// Opens SQLite databases for the tests on every runtime: node:sqlite where the runtime has it
// (Node 22.13+, Deno, Bun), better-sqlite3 where it does not (Node 20); and lists bun:sqlite as
// a second driver under Bun. The drivers are loaded by name at run time, so that no runtime
// (and no type check) needs the others.

/** A prepared statement of any of the drivers. */
export interface TestStatement {
  run(...params: (string | number | null)[]): unknown;
  get(...params: (string | number | null)[]): unknown;
  all(...params: (string | number | null)[]): unknown[];
}

/** An open database of any of the drivers: what `sqliteTransport()` takes, and `close()`. */
export interface TestDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): TestStatement;
  close(): void;
}

/** How to open a database. */
export interface OpenOptions {
  /** Open the file read-only. */
  readOnly?: boolean;
  /** Read integers back as BigInt (node:sqlite `readBigInts`, better-sqlite3 safe integers). */
  bigInts?: boolean;
}

/** A driver: its name and how it opens a file. */
export interface Driver {
  readonly name: "node:sqlite" | "better-sqlite3" | "bun:sqlite";
  open(path: string, options?: OpenOptions): TestDatabase;
}

type Constructor = new (path: string, options?: Record<string, unknown>) => TestDatabase;

/** Imports a module by a name the type checker does not follow. */
function load(specifier: string): Promise<Record<string, unknown>> {
  return import(specifier);
}

async function nodeSqlite(): Promise<Driver | undefined> {
  const module = await load("node:sqlite").catch(() => undefined);
  if (module === undefined) return undefined;
  const DatabaseSync = module.DatabaseSync as Constructor;
  return {
    name: "node:sqlite",
    open: (path, options) =>
      new DatabaseSync(path, {
        readOnly: options?.readOnly ?? false,
        readBigInts: options?.bigInts ?? false,
      }),
  };
}

async function betterSqlite3(): Promise<Driver> {
  const Database = (await load("better-sqlite3")).default as Constructor;
  return {
    name: "better-sqlite3",
    open: (path, options) => {
      const db = new Database(path, { readonly: options?.readOnly ?? false });
      if (options?.bigInts) {
        (db as unknown as { defaultSafeIntegers(on: boolean): void }).defaultSafeIntegers(true);
      }
      return db;
    },
  };
}

async function bunSqlite(): Promise<Driver | undefined> {
  if (!("Bun" in globalThis)) return undefined;
  const Database = (await load("bun:sqlite")).Database as Constructor;
  return {
    name: "bun:sqlite",
    open: (path, options) =>
      new Database(path, {
        readonly: options?.readOnly ?? false,
        safeIntegers: options?.bigInts ?? false,
      }),
  };
}

/** The driver the tests use on this runtime: node:sqlite, or better-sqlite3 on Node 20. */
export const driver: Driver = await nodeSqlite() ?? await betterSqlite3();

/** The other drivers worth a smoke test here: bun:sqlite under Bun. */
export const otherDrivers: readonly Driver[] = [await bunSqlite()].filter(
  (found): found is Driver => found !== undefined,
);

/** Whether `sqliteTransport(path)` can open a file itself here (it needs node:sqlite). */
export const opensPaths: boolean = driver.name === "node:sqlite";

/** Opens `path` with this runtime's {@linkcode driver}. */
export function openDatabase(path: string, options?: OpenOptions): Promise<TestDatabase> {
  return Promise.resolve(driver.open(path, options));
}
