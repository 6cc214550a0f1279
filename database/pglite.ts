/**
 * The embedded adapter: PGlite (PostgreSQL compiled to WebAssembly) in this process.
 *
 * @module
 */
import { PGlite, types } from "@electric-sql/pglite";
import { pgcrypto } from "@electric-sql/pglite/contrib/pgcrypto";
import type { Database, Queryable, TextResult } from "./mod.ts";
import { DatabaseClosedError } from "./errors.ts";

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
): Promise<Database> {
  const pg = await PGlite.create(options.dataDir, { extensions: { pgcrypto } });
  const base = wrap(pg, pg);
  return {
    kind: "pglite",
    query: base.query,
    exec: base.exec,
    queryText: base.queryText,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return guarded(pg, () => pg.transaction((tx) => fn(wrap(pg, tx))));
    },
    async close(): Promise<void> {
      await pg.close();
    },
  };
}
