/**
 * Opens the database a configuration names, applies the migrations and, on an empty
 * database, loads the demo data.
 *
 * @module
 */
import type { DatabaseConfig } from "../server/config.ts";
import type { Database } from "./mod.ts";
import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";
import { applyMigrations, type ApplyMigrationsResult } from "./migrate.ts";

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
}

/**
 * Opens and migrates the database; loads `supabase/seed.sql` when asked and there are no
 * users yet.
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
  if (config.kind === "embedded" && config.dataDir.startsWith("memory://")) {
    db = await openPglite();
  } else if (config.kind === "embedded") {
    await Deno.mkdir(config.dataDir, { recursive: true });
    db = await openPglite({ dataDir: `${config.dataDir}/pg` });
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
    return { db, migrations, seeded, wasEmpty: users === 0 };
  } catch (error) {
    await db.close();
    throw error;
  }
}
