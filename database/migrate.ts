/**
 * Applies Beacon's SQL: the Supabase compatibility bootstrap (only where Supabase's own
 * objects are missing) and then every migration in `supabase/migrations/` not yet applied.
 * Applied migrations are recorded in `supabase_migrations.schema_migrations`, the table the
 * Supabase CLI uses, so Beacon and `supabase db push` agree on what has run.
 *
 * @module
 */
import type { Database, Queryable } from "./mod.ts";

/** One migration file. */
export interface Migration {
  /** The timestamp prefix, e.g. `20261126000100`. */
  version: string;
  /** The rest of the file name, e.g. `schemas_and_roles`. */
  name: string;
  /** The SQL. */
  sql: string;
}

/** Options for {@linkcode applyMigrations}. */
export interface ApplyMigrationsOptions {
  /**
   * The folder holding the migration files.
   *
   * @default {"supabase/migrations" beside this repository's root}
   */
  migrationsDir?: string | URL;
  /**
   * Whether to apply `database/bootstrap.sql` first: `auto` applies it unless the database
   * already has Supabase's own `auth` schema; `never` skips it.
   *
   * @default {"auto"}
   */
  bootstrap?: "auto" | "never";
}

/** What {@linkcode applyMigrations} did. */
export interface ApplyMigrationsResult {
  /** Whether the compatibility bootstrap ran. */
  bootstrapped: boolean;
  /** The versions applied now, oldest first. */
  applied: string[];
  /** The newest version the database now has. */
  version: string | null;
}

const DEFAULT_MIGRATIONS_DIR = new URL(
  "../supabase/migrations/",
  import.meta.url,
);
const BOOTSTRAP_FILE = new URL("./bootstrap.sql", import.meta.url);
const BOOTSTRAP_MARKER = /beacon-bootstrap:(\d+)/;
/** The version `database/bootstrap.sql` writes into its marker; raise it when the file changes. */
export const BOOTSTRAP_VERSION = 1;

/** How a migration file must be named: `YYYYMMDDHHMMSS_topic.sql`, the topic in snake_case. */
export const MIGRATION_FILE_NAME = /^(\d{14})_([a-z0-9][a-z0-9_]*)\.sql$/;

/** A file in the migrations folder that is not a migration Beacon can apply. */
export class MigrationFileError extends Error {
  /** The file's name. */
  readonly file: string;

  /**
   * @param file The file's name.
   * @param problem What is wrong with it.
   */
  constructor(file: string, problem: string) {
    super(`migration file ${file}: ${problem}`);
    this.name = "MigrationFileError";
    this.file = file;
  }
}

/** Whether 14 digits are a real UTC date and time (no month 13, no 31 June, no 24:00). */
function isTimestamp(version: string): boolean {
  const [year, month, day, hour, minute, second] = [0, 4, 6, 8, 10, 12].map((at, i) =>
    Number(version.slice(at, i === 0 ? 4 : at + 2))
  );
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day && date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
}

/**
 * Reads the migration files of a folder, oldest first. Every entry of the folder but hidden
 * ones (a name starting with `.`, such as `.gitkeep`) must be a file named
 * `YYYYMMDDHHMMSS_topic.sql` ({@linkcode MIGRATION_FILE_NAME}) with a real UTC timestamp, and
 * no two may share a timestamp: anything else is a {@linkcode MigrationFileError}, because a
 * migration that is silently skipped never runs.
 *
 * @param dir The folder.
 * @returns The migrations.
 * @throws {MigrationFileError} For the first badly named file or shared version, in name order.
 */
export async function readMigrations(
  dir: string | URL = DEFAULT_MIGRATIONS_DIR,
): Promise<Migration[]> {
  const base = typeof dir === "string" ? dir.replace(/\/?$/, "/") : dir;
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(base)) {
    if (!entry.name.startsWith(".")) entries.push(entry);
  }
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const migrations: Migration[] = [];
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const match = MIGRATION_FILE_NAME.exec(entry.name);
    if (!entry.isFile || !match) {
      throw new MigrationFileError(
        entry.name,
        "not named YYYYMMDDHHMMSS_topic.sql (a UTC timestamp, then the topic in lower-case snake_case); rename it or move it out of the migrations folder",
      );
    }
    const [, version, name] = match;
    if (!isTimestamp(version)) {
      throw new MigrationFileError(
        entry.name,
        `${version} is not a real UTC date and time (YYYYMMDDHHMMSS)`,
      );
    }
    const other = seen.get(version);
    if (other) {
      throw new MigrationFileError(
        entry.name,
        `shares its version ${version} with ${other}; give it a later timestamp`,
      );
    }
    seen.set(version, entry.name);
    const url = typeof base === "string" ? `${base}${entry.name}` : new URL(entry.name, base);
    migrations.push({ version, name, sql: await Deno.readTextFile(url) });
  }
  return migrations;
}

/**
 * Tells whether the database needs the compatibility bootstrap: yes when `auth.users` is
 * missing, or is Beacon's own copy from an older bootstrap; no on a Supabase project (whose
 * `auth.users` carries no marker) or when the current bootstrap is in place.
 *
 * @param db The database.
 * @returns True when the bootstrap should run.
 */
export async function needsBootstrap(db: Queryable): Promise<boolean> {
  const [row] = await db.query<
    { description: string | null; present: boolean }
  >(
    `select to_regclass('auth.users') is not null as present,
            obj_description(to_regclass('auth.users'), 'pg_class') as description`,
  );
  if (!row.present) return true;
  const marker = BOOTSTRAP_MARKER.exec(row.description ?? "");
  return marker !== null && Number(marker[1]) < BOOTSTRAP_VERSION;
}

/**
 * Applies the Supabase compatibility bootstrap (`database/bootstrap.sql`). It creates only
 * what is missing; run it as a superuser.
 *
 * @param db The database.
 */
export async function applyBootstrap(db: Queryable): Promise<void> {
  await db.exec(await Deno.readTextFile(BOOTSTRAP_FILE));
}

/**
 * The advisory lock key migration runners share (`hashtext('beacon.migrations')` would do
 * as well; a constant is easier to find in `pg_locks`).
 */
export const MIGRATION_LOCK_KEY = 4_742_364_117;

/**
 * Applies the bootstrap (when needed) and every migration not applied yet, each in its
 * own transaction. Running it again applies nothing.
 *
 * Several Beacons starting at once on one database take turns: every step runs in a
 * transaction holding the advisory lock {@linkcode MIGRATION_LOCK_KEY}
 * (`pg_advisory_xact_lock`, released at commit, so it also works through a pooler in
 * transaction mode), and re-checks under the lock whether the migration is recorded
 * already. Each migration is applied and recorded exactly once.
 *
 * @param db The database.
 * @param options Where the migrations are, and whether to bootstrap.
 * @returns What was applied.
 *
 * @example Migrate an embedded database
 * ```ts
 * import { openPglite } from "./pglite.ts";
 * const db = await openPglite();
 * const { applied } = await applyMigrations(db);
 * ```
 */
export async function applyMigrations(
  db: Database,
  options: ApplyMigrationsOptions = {},
): Promise<ApplyMigrationsResult> {
  const migrations = await readMigrations(options.migrationsDir);
  const lock = (tx: Queryable) =>
    tx.query("select pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
  const bootstrapped = await db.transaction(async (tx) => {
    await lock(tx);
    let bootstrapped = false;
    if ((options.bootstrap ?? "auto") === "auto" && await needsBootstrap(tx)) {
      await applyBootstrap(tx);
      bootstrapped = true;
    }
    await tx.exec(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key,
        statements text[],
        name text
      );
    `);
    return bootstrapped;
  });
  const done = new Set(
    (await db.query<{ version: string }>(
      "select version from supabase_migrations.schema_migrations",
    )).map((row) => row.version),
  );
  const applied: string[] = [];
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    const appliedNow = await db.transaction(async (tx) => {
      await lock(tx);
      const recorded = await tx.query(
        "select 1 from supabase_migrations.schema_migrations where version = $1",
        [migration.version],
      );
      if (recorded.length > 0) return false; // another runner applied it meanwhile
      await tx.exec(migration.sql);
      await tx.query(
        "insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)",
        [migration.version, migration.name, [migration.sql]],
      );
      return true;
    });
    if (appliedNow) applied.push(migration.version);
  }
  const [latest] = await db.query<{ version: string | null }>(
    "select max(version) as version from supabase_migrations.schema_migrations",
  );
  return { bootstrapped, applied, version: latest.version };
}
