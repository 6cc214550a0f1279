/**
 * Opens the database a configuration names, applies the migrations and, on an empty
 * database, loads the demo data.
 *
 * @module
 */
import type { Database, DatabaseConfig, Queryable } from "./mod.ts";
import { type EmbeddedSession, openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";
import { applyMigrations, type ApplyMigrationsResult } from "./migrate.ts";
import { type DataDirLock, lockDataDir } from "./lock.ts";

const SEED_FILE = new URL("../supabase/seed.sql", import.meta.url);

/** What {@linkcode openDatabase} did besides opening. */
export interface OpenedDatabase {
  /** The database, migrated. */
  db: Database;
  /** The migrations applied now. */
  migrations: ApplyMigrationsResult;
  /** Whether the demo data was loaded now. */
  seeded: boolean;
  /** Whether the database had no users when it was opened. */
  wasEmpty: boolean;
  /** The embedded database's instance and session lock (embedded mode only), for `wire/`. */
  embedded?: EmbeddedSession;
}

function releasingOnClose(db: Database, lock: DataDirLock): Database {
  return {
    kind: db.kind,
    query: <T>(text: string, params?: unknown[]) => db.query<T>(text, params),
    exec: (script: string) => db.exec(script),
    queryText: (text: string) => db.queryText(text),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => db.transaction(fn),
    queryScript: <T>(script: string) => db.queryScript<T>(script),
    async close() {
      try {
        await db.close();
      } finally {
        lock.release();
      }
    },
  };
}

/**
 * Opens and migrates the database; loads `supabase/seed.sql` when asked and there are no
 * users yet. An embedded data directory is locked first (see `lock.ts`): when another
 * process holds it, this throws `DataDirInUseError` naming that process before anything is
 * opened; the lock is released when the returned database is closed.
 *
 * @param config Which database.
 * @param options Whether to seed an empty database.
 * @returns The database and what was done to it.
 */
export async function openDatabase(
  config: DatabaseConfig,
  options: { seedDemoData?: boolean } = {},
): Promise<OpenedDatabase> {
  let db: Database;
  let embedded: EmbeddedSession | undefined;
  if (config.kind === "embedded" && config.dataDir.startsWith("memory://")) {
    const pglite = await openPglite();
    embedded = pglite.embedded;
    db = pglite;
  } else if (config.kind === "embedded") {
    const lock = await lockDataDir(config.dataDir);
    try {
      const pglite = await openPglite({ dataDir: `${config.dataDir}/pg` });
      embedded = pglite.embedded;
      db = releasingOnClose(pglite, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  } else {
    db = openPostgres(config.url);
  }
  try {
    const migrations = await applyMigrations(db);
    let seeded = false;
    const [{ users }] = await db.query<{ users: number }>(
      "select count(*)::int as users from auth.users",
    );
    if (options.seedDemoData && users === 0) {
      await db.exec(await Deno.readTextFile(SEED_FILE));
      seeded = true;
    }
    return { db, migrations, seeded, wasEmpty: users === 0, embedded };
  } catch (error) {
    await db.close();
    throw error;
  }
}
