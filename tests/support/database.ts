/**
 * Migrated databases for tests: a PostgreSQL 15 cluster of the harness, or an in-memory
 * PGlite.
 *
 * @module
 */
import { openPostgres } from "../../database/postgres.ts";
import { openPglite } from "../../database/pglite.ts";
import { applyBootstrap, applyMigrations } from "../../database/migrate.ts";
import type { Database } from "../../database/mod.ts";
import { type Postgres15, startPostgres15 } from "./postgres15.ts";

/**
 * Starts a PostgreSQL 15 cluster and applies the bootstrap (as the cluster's superuser)
 * and the migrations (as `postgres`, who is not a superuser, as on Supabase).
 *
 * @param options Server settings over the harness's defaults.
 * @returns The cluster and a connection as `postgres`.
 */
export async function startMigratedPostgres15(
  options: { settings?: Record<string, string> } = {},
): Promise<{ pg: Postgres15; db: Database }> {
  const pg = await startPostgres15(options);
  try {
    const admin = openPostgres(pg.adminUrl, { max: 1 });
    try {
      await applyBootstrap(admin);
    } finally {
      await admin.close();
    }
    const db = pg.connect();
    await applyMigrations(db, { bootstrap: "never" });
    return { pg, db };
  } catch (error) {
    await pg.stop();
    throw error;
  }
}

/**
 * Opens an in-memory PGlite with the bootstrap and the migrations applied.
 *
 * @returns The database.
 */
export async function openMigratedPglite(): Promise<Database> {
  const db = await openPglite();
  await applyMigrations(db);
  return db;
}
