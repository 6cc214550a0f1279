/**
 * Migrated databases for tests: an in-memory PGlite, or a PostgreSQL 15 database.
 *
 * PostgreSQL suites share one cluster per test run. `deno task test` runs
 * `tests/support/run_suites.ts`, which starts the cluster and migrates the template database
 * {@linkcode TEMPLATE_DATABASE} once while `deno test` type-checks, hands the superuser's
 * connection string to every test file through {@linkcode SHARED_CLUSTER_ENV}, and stops the
 * cluster after the run. Each suite then
 * gets a database of its own, copied from the template (`create database ... template
 * beacon_template`: a few hundred milliseconds instead of an initdb and every migration).
 * A test file run on its own (`deno test -A tests/x_test.ts`) has no shared cluster: each
 * database then comes with a cluster of its own, prepared the same way and stopped with it.
 *
 * Which suites keep a cluster of their own ({@linkcode startOwnMigratedPostgres15}): the
 * outage test, which stops and restarts the server under a running Beacon (that would cut
 * off every other suite), the benchmarks, which change server settings, and the start of a
 * role without rights in tests/postgres_migrate_test.ts (`startPostgres15`), which needs a
 * server where Beacon's cluster-wide roles do not exist yet. The pgTAP suite
 * needs pg_cron, which exists only in the database its scheduler runs in (the cluster's
 * `postgres`): it migrates that one ({@linkcode startMigratedPostgres15} with `pgCron`).
 *
 * @module
 */
import { openPostgres } from "../../database/postgres.ts";
import { openPglite } from "../../database/pglite.ts";
import { applyBootstrap, applyMigrations } from "../../database/migrate.ts";
import type { Database } from "../../database/mod.ts";
import {
  createPlatformDatabase,
  dropDatabase,
  type Postgres15,
  startPostgres15,
} from "./postgres15.ts";

/** The migrated database every suite's database is copied from. */
export const TEMPLATE_DATABASE = "beacon_template";

/**
 * The environment variable that names the folder where `tests/support/run_suites.ts` puts
 * the shared cluster's superuser connection string (file `url`, to its `postgres` database)
 * once the template is migrated, or why the cluster could not start (file `error`).
 */
export const SHARED_CLUSTER_ENV = "BEACON_TEST_POSTGRES";

/** A PostgreSQL 15 database of one suite. */
export interface Postgres15Database {
  /** The port its cluster listens on (127.0.0.1). */
  port: number;
  /** The database's name. */
  database: string;
  /** Connection string for `postgres`, the migration role. */
  url: string;
  /** Connection string for the cluster's superuser, to this database. */
  adminUrl: string;
  /** Connects as `postgres`. */
  connect(): Database;
  /** Drops the database (or stops the cluster it came with). Call it in a `finally`. */
  stop(): Promise<void>;
}

/** Applies the bootstrap (as the superuser) and the migrations (as `postgres`). */
async function migrate(urls: { url: string; adminUrl: string }): Promise<void> {
  const admin = openPostgres(urls.adminUrl, { max: 1 });
  try {
    await applyBootstrap(admin);
  } finally {
    await admin.close();
  }
  const db = openPostgres(urls.url, { max: 1 });
  try {
    await applyMigrations(db, { bootstrap: "never" });
  } finally {
    await db.close();
  }
}

/**
 * Creates and migrates {@linkcode TEMPLATE_DATABASE} in a new cluster, and leaves no
 * connection to it (a template cannot be copied while anyone is connected).
 *
 * @param pg The cluster.
 */
export async function prepareTemplate(pg: Postgres15): Promise<void> {
  await migrate(await createPlatformDatabase(pg.adminUrl, TEMPLATE_DATABASE));
}

/** How long a suite waits for the shared cluster to be ready. */
const SHARED_CLUSTER_WAIT_MS = 120_000;

async function readIfThere(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * The shared cluster's superuser connection string, once `run_suites.ts` has it ready, or
 * null when this run has no shared cluster.
 */
async function sharedClusterUrl(): Promise<string | null> {
  const handover = Deno.env.get(SHARED_CLUSTER_ENV);
  if (!handover) return null;
  const until = Date.now() + SHARED_CLUSTER_WAIT_MS;
  while (true) {
    const url = await readIfThere(`${handover}/url`);
    if (url) return url.trim();
    const error = await readIfThere(`${handover}/error`);
    if (error !== null) throw new Error(`the suites' PostgreSQL 15 did not start: ${error}`);
    if (Date.now() > until) {
      throw new Error(
        `the suites' PostgreSQL 15 was not ready within ${SHARED_CLUSTER_WAIT_MS} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A database name no other suite of this run picks. Not the process id: `deno test
 * --parallel` may run several test files in one process.
 */
function uniqueName(): string {
  return `beacon_test_${crypto.randomUUID().replaceAll("-", "")}`;
}

const connectionUrls = new WeakMap<Database, string>();

/**
 * The connection string a PostgreSQL 15 test database was opened with (as `postgres`), for
 * handing the same database to a process of its own (the edge function); undefined for
 * PGlite.
 *
 * @param db A database from {@linkcode Postgres15Database.connect}.
 * @returns Its connection string.
 */
export function postgresUrlOf(db: Database): string | undefined {
  return connectionUrls.get(db);
}

/** What a suite holds of its database. */
function handle(
  urls: { url: string; adminUrl: string },
  stop: () => Promise<void>,
): Postgres15Database {
  const url = new URL(urls.url);
  return {
    port: Number(url.port),
    database: url.pathname.slice(1),
    url: urls.url,
    adminUrl: urls.adminUrl,
    connect: () => {
      const db = openPostgres(urls.url);
      connectionUrls.set(db, urls.url);
      return db;
    },
    stop,
  };
}

/**
 * Gives the suite a migrated PostgreSQL 15 database of its own: a copy of the template in the
 * shared cluster, or, without one, a new cluster prepared the same way. With `pgCron`, the
 * cluster's `postgres` database instead, where pg_cron schedules the nightly job, migrated
 * now: one suite at a time may use it, so only the pgTAP suite does, and its tests roll back.
 *
 * @param options Whether the suite needs pg_cron.
 * @returns The database and a connection to it as `postgres` (close it before `stop()`).
 */
export async function startMigratedPostgres15(
  options: { pgCron?: boolean } = {},
): Promise<{ pg: Postgres15Database; db: Database }> {
  const shared = await sharedClusterUrl();
  let pg: Postgres15Database;
  if (shared) {
    if (options.pgCron) {
      const url = new URL(shared);
      url.username = "postgres";
      pg = handle({ url: url.href, adminUrl: shared }, () => Promise.resolve());
      await migrate(pg);
    } else {
      const name = uniqueName();
      const urls = await createPlatformDatabase(shared, name, { template: TEMPLATE_DATABASE });
      pg = handle(urls, () => dropDatabase(shared, name));
    }
  } else {
    const cluster = await startPostgres15();
    try {
      if (options.pgCron) {
        pg = handle(cluster, cluster.stop);
        await migrate(pg);
      } else {
        await prepareTemplate(cluster);
        const urls = await createPlatformDatabase(cluster.adminUrl, uniqueName(), {
          template: TEMPLATE_DATABASE,
        });
        pg = handle(urls, cluster.stop);
      }
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }
  return { pg, db: pg.connect() };
}

/**
 * Gives the suite an empty PostgreSQL 15 database of its own, as the Supabase platform hands
 * one over: nothing of Beacon's applied yet.
 *
 * @returns The database.
 */
export async function startEmptyPostgres15(): Promise<Postgres15Database> {
  const shared = await sharedClusterUrl();
  if (shared) {
    const name = uniqueName();
    return handle(await createPlatformDatabase(shared, name), () => dropDatabase(shared, name));
  }
  const cluster = await startPostgres15();
  return handle(cluster, cluster.stop);
}

/**
 * Starts a PostgreSQL 15 cluster of the suite's own and applies the bootstrap (as the
 * cluster's superuser) and the migrations (as `postgres`, who is not a superuser, as on
 * Supabase) to its `postgres` database. For suites that stop the server or change its
 * settings; everything else uses {@linkcode startMigratedPostgres15}.
 *
 * @param options Server settings over the harness's defaults.
 * @returns The cluster and a connection as `postgres`.
 */
export async function startOwnMigratedPostgres15(
  options: { settings?: Record<string, string> } = {},
): Promise<{ pg: Postgres15; db: Database }> {
  const pg = await startPostgres15(options);
  try {
    await migrate(pg);
    return { pg, db: pg.connect() };
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
