/**
 * The embedded adapter: PGlite (PostgreSQL compiled to WebAssembly) in this process.
 *
 * @module
 */
import { PGlite, types } from "@electric-sql/pglite";
import { pgcrypto } from "@electric-sql/pglite/contrib/pgcrypto";
import type { Database, Queryable, TextResult } from "./mod.ts";
import { DatabaseClosedError } from "./errors.ts";
import { createSessionLock, type SessionLock } from "./session_lock.ts";

/** The embedded database's own instance and the lock over its one session, for `wire/`. */
export interface EmbeddedSession {
  /** The PGlite instance. */
  pglite: PGlite;
  /** The lock every query of the app takes; a wire client takes it for its turns. */
  lock: SessionLock;
}

/** The embedded database, with its session for serving it over the wire protocol. */
export interface PgliteDatabase extends Database {
  /** The instance and the lock over its session. */
  embedded: EmbeddedSession;
}

/** Options for {@linkcode openPglite}. */
export interface PgliteOptions {
  /**
   * Where the database lives on disk; omit for a database in memory only.
   *
   * @default {undefined}
   */
  dataDir?: string;
}

/** Runs `work`; once the instance is closed (or closing), its failure becomes a DatabaseClosedError. */
async function guarded<T>(pg: PGlite, work: () => Promise<T>): Promise<T> {
  if (pg.closed) throw new DatabaseClosedError();
  try {
    return await work();
  } catch (error) {
    if (pg.closed) throw new DatabaseClosedError({ cause: error });
    throw error;
  }
}

/** Parsers that keep every value as PostgreSQL's text. */
const TEXT_PARSERS = Object.fromEntries(
  Object.keys(types.parsers).map((oid) => [oid, (value: string) => value]),
);

function wrap(pg: PGlite, db: Pick<PGlite, "query" | "exec">): Queryable {
  return {
    query<T>(text: string, params: unknown[] = []): Promise<T[]> {
      return guarded(pg, async () => (await db.query<T>(text, params)).rows);
    },
    exec(script: string): Promise<void> {
      return guarded(pg, async () => {
        await db.exec(script);
      });
    },
    queryText(text: string): Promise<TextResult> {
      return guarded(pg, async () => {
        const result = await db.query<(string | null)[]>(text, [], {
          rowMode: "array",
          parsers: TEXT_PARSERS,
        });
        return {
          fields: result.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID })),
          rows: result.rows,
        };
      });
    },
  };
}

/**
 * Opens (creating it when needed) an embedded PGlite database with pgcrypto available.
 *
 * @param options Where to keep the data.
 * @returns The database.
 *
 * @example Open a database in memory
 * ```ts
 * const db = await openPglite();
 * const [row] = await db.query<{ one: number }>("select 1 as one");
 * await db.close();
 * ```
 */
export async function openPglite(
  options: PgliteOptions = {},
): Promise<PgliteDatabase> {
  const pg = await PGlite.create(options.dataDir, { extensions: { pgcrypto } });
  const base = wrap(pg, pg);
  // Every statement of the app holds the session; the app leaves no session state behind.
  const lock = createSessionLock();
  const app = {};
  return {
    kind: "pglite",
    embedded: { pglite: pg, lock },
    query: (text, params) => lock.run(app, () => base.query(text, params)),
    exec: (script) => lock.run(app, () => base.exec(script)),
    queryText: (text) => lock.run(app, () => base.queryText(text)),
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return lock.run(app, () => guarded(pg, () => pg.transaction((tx) => fn(wrap(pg, tx)))));
    },
    queryScript<T>(script: string): Promise<T[][]> {
      return lock.run(app, () =>
        guarded(pg, async () => {
          const results = await pg.exec(script);
          return results.filter((r) => r.fields.length > 0).map((r) => r.rows as T[]);
        }));
    },
    async close(): Promise<void> {
      await pg.close();
    },
  };
}
