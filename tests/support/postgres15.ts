/**
 * A throwaway PostgreSQL 15 with pg_cron and pgTAP for tests, set up the way a Supabase
 * project is: the cluster's superuser is `supabase_admin`, and `postgres`, the role that
 * runs migrations, is NOT a superuser (CREATEROLE, BYPASSRLS), so migrations that need more
 * than Supabase allows fail here too.
 *
 * @module
 */
import { openPostgres } from "../../database/postgres.ts";
import type { Database } from "../../database/mod.ts";

const BIN = "/usr/lib/postgresql/15/bin";
const SHARE = "/usr/share/postgresql/15/extension";

/** The Debian packages the PostgreSQL suites need. */
export const POSTGRES15_INSTALL =
  "apt-get update && apt-get install -y postgresql-15 postgresql-15-cron postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl";

/** A running throwaway cluster. */
export interface Postgres15 {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Connection string for `postgres`, the migration role. */
  url: string;
  /** Connection string for the cluster's superuser. */
  adminUrl: string;
  /** Connects as `postgres`. */
  connect(): Database;
  /** Stops the server at once (`pg_ctl stop -m immediate`), keeping its files: an outage. */
  kill(): Promise<void>;
  /** Starts the server again after {@linkcode Postgres15.kill}, on the same port. */
  restart(): Promise<void>;
  /** Stops the cluster and removes its files. */
  stop(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function onPath(command: string): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir && await exists(`${dir}/${command}`)) return true;
  }
  return false;
}

/**
 * Lists what is missing for the PostgreSQL 15 suites (empty when all is there).
 *
 * @param options Whether pg_prove is needed too.
 * @returns Human-readable names of the missing pieces.
 */
export async function missingPostgres15(
  options: { pgProve?: boolean } = {},
): Promise<string[]> {
  const missing: string[] = [];
  if (!await exists(`${BIN}/initdb`)) {
    missing.push("PostgreSQL 15 server (postgresql-15)");
  }
  if (!await exists(`${SHARE}/pg_cron.control`)) {
    missing.push("pg_cron (postgresql-15-cron)");
  }
  if (!await exists(`${SHARE}/pgtap.control`)) {
    missing.push("pgTAP (postgresql-15-pgtap)");
  }
  if (options.pgProve && !await onPath("pg_prove")) {
    missing.push("pg_prove (libtap-parser-sourcehandler-pgtap-perl)");
  }
  return missing;
}

/**
 * Decides what a suite that needs PostgreSQL 15 does when pieces are missing: locally it is
 * skipped with the install command printed; under `CI=true` it runs and fails.
 *
 * @param missing What {@linkcode missingPostgres15} found.
 * @returns True when the suite should be ignored.
 */
export function skipWithoutPostgres15(missing: string[]): boolean {
  if (missing.length === 0) return false;
  if (Deno.env.get("CI") === "true") return false;
  console.warn(
    `skipped: missing ${missing.join(", ")}. Install with: ${POSTGRES15_INSTALL}`,
  );
  return true;
}

async function run(
  command: string,
  args: string[],
  options: { asPostgres?: boolean; input?: string } = {},
): Promise<string> {
  const isRoot = Deno.uid() === 0;
  const [cmd, argv] = options.asPostgres && isRoot
    ? ["runuser", ["-u", "postgres", "--", command, ...args]]
    : [command, args];
  const child = new Deno.Command(cmd, {
    args: argv,
    stdin: options.input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.input));
    await writer.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${out.code}):\n${text}\n${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return text;
}

/**
 * What the Supabase platform sets up in a project's database before any migration runs, for
 * the database `name` (its superuser connected to it): `postgres` may create in it and in
 * schema `public`, and extensions live in schema `extensions` (pgTAP among them). pg_cron is
 * not here: it can only be created in the database its scheduler runs in
 * (`cron.database_name`, the cluster's `postgres`).
 *
 * @param name The database.
 * @returns The SQL, to run as the cluster's superuser in that database.
 */
export function platformSetupSql(name: string): string {
  return `
    grant all on database "${name}" to postgres;
    grant all on schema public to postgres;
    create schema extensions;
    grant usage on schema extensions to public;
    grant create on schema extensions to postgres;
    create extension pgtap with schema extensions;
  `;
}

/**
 * Creates a database in a running cluster as the Supabase platform would hand it over (see
 * {@linkcode platformSetupSql}), or as a copy of `template` (which must have no
 * connections while it is copied). The cluster's superuser owns it.
 *
 * @param adminUrl The superuser's connection string to any database of the cluster.
 * @param name The new database's name (letters, digits and `_`).
 * @param options A template to copy instead of setting it up.
 * @returns The new database's connection strings.
 */
export async function createPlatformDatabase(
  adminUrl: string,
  name: string,
  options: { template?: string } = {},
): Promise<{ url: string; adminUrl: string }> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a database name: ${name}`);
  const withName = (url: string, user: string) => {
    const u = new URL(url);
    u.username = user;
    u.pathname = `/${name}`;
    return u.href;
  };
  const admin = openPostgres(adminUrl, { max: 1 });
  try {
    // One statement each: create database cannot run in the transaction of a batch.
    await admin.exec(
      `create database "${name}"${options.template ? ` template "${options.template}"` : ""}`,
    );
    if (options.template) await admin.exec(`grant all on database "${name}" to postgres`);
  } finally {
    await admin.close();
  }
  const url = withName(adminUrl, "postgres");
  const ownAdminUrl = withName(adminUrl, "supabase_admin");
  if (!options.template) {
    const inside = openPostgres(ownAdminUrl, { max: 1 });
    try {
      await inside.exec(platformSetupSql(name));
    } finally {
      await inside.close();
    }
  }
  return { url, adminUrl: ownAdminUrl };
}

/**
 * Drops a database, ending the connections still open to it.
 *
 * @param adminUrl The superuser's connection string to another database of the cluster.
 * @param name The database.
 */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = openPostgres(adminUrl, { max: 1 });
  try {
    await admin.exec(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.close();
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts a new cluster in a temporary directory on a free port, with pg_cron preloaded,
 * pgTAP installed in schema `extensions`, and the Supabase-like roles described above.
 * Tests run it with `fsync=off`; `settings` overrides any server setting (the benchmarks
 * turn fsync back on). Always call `stop()` (in a `finally`).
 *
 * @param options Server settings over the defaults.
 * @returns The running cluster.
 */
export async function startPostgres15(
  options: { settings?: Record<string, string> } = {},
): Promise<Postgres15> {
  const dir = await Deno.makeTempDir({ prefix: "beacon-pg15-" });
  if (Deno.uid() === 0) await run("chown", ["postgres:postgres", dir]);
  const data = `${dir}/data`;
  await run(`${BIN}/initdb`, [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "supabase_admin",
    "-E",
    "UTF8",
    "--no-sync", // a throwaway cluster: nothing to wait for the disk for
  ], {
    asPostgres: true,
  });
  const port = freePort();
  const kill = async () => {
    await run(`${BIN}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"], {
      asPostgres: true,
    });
  };
  const stop = async () => {
    try {
      await kill();
    } catch {
      // already stopped
    }
    await Deno.remove(dir, { recursive: true });
  };
  const startServer = async () => {
    await run(`${BIN}/pg_ctl`, [
      "-D",
      data,
      "-w",
      "-l",
      `${dir}/log`,
      "-o",
      [
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
        ...Object.entries({
          shared_preload_libraries: "pg_cron",
          "cron.database_name": "postgres",
          fsync: "off",
          ...options.settings,
        }).map(([name, value]) => `-c ${name}=${value}`),
      ].join(" "),
      "start",
    ], { asPostgres: true });
  };
  try {
    await startServer();
    const adminUrl = `postgres://supabase_admin@127.0.0.1:${port}/postgres`;
    const admin = openPostgres(adminUrl, { max: 1 });
    try {
      // What the Supabase platform provides before any project migration runs: the roles
      // once for the cluster, the rest in the `postgres` database, where pg_cron lives.
      await admin.exec(`
        create role postgres login createrole createdb bypassrls;
        alter role postgres set search_path = "$user", public, extensions;
        ${platformSetupSql("postgres")}
        create extension pg_cron with schema pg_catalog;
        grant usage on schema cron to postgres;
      `);
    } finally {
      await admin.close();
    }
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    return {
      port,
      url,
      adminUrl,
      connect: () => openPostgres(url),
      kill,
      restart: startServer,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
