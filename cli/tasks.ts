/**
 * Database chores for operators, on the database `fresh.config.ts` names:
 *
 * - `deno task db:migrate`: apply the migrations not applied yet.
 * - `deno task db:seed`: load the demo data (refused when there are users already).
 * - `deno task db:aggregate`: run the nightly aggregation now.
 * - `deno task user:create --email a@b.c [--password ...] [--superuser]`: add a local
 *   account; without `--password` one is generated and printed once.
 * - `deno task ingest-key`: print the ingest key in force (the stored one, unless
 *   `BEACON_INGEST_KEY` is set), e.g. when the one printed on the first start was lost.
 * - `deno task plugins:replay NAME`: hand the configured plugin NAME its dead letters
 *   (events its destination refused for good) again, once the destination is fixed; exit
 *   code 1 when some are refused again or the destination cannot be reached (they are kept).
 *
 * Like `deno task start`, each takes the embedded data directory's lock first: while
 * Beacon (or another task) runs on the same directory, they refuse in one line naming its
 * process id. A failure to open the database is told in one line, exit code 1; wrong
 * arguments print the usage, exit code 2, before anything is opened or created.
 *
 * @module
 */
import { openDatabase } from "../database/open.ts";
import { randomSecret } from "../auth/secrets.ts";
import type { BeaconConfig } from "../config/mod.ts";
import type { Database } from "../database/mod.ts";
import { describeStartupError } from "../app/startup_error.ts";
import { replayDeadLetters } from "../plugins/dead_letters.ts";
import { createLogger } from "../log/mod.ts";

const USAGE =
  "usage: deno run -A cli/tasks.ts migrate | seed | aggregate | ingest-key | user:create --email EMAIL [--password PASSWORD] [--superuser] | plugins:replay NAME";

const COMMANDS = ["migrate", "seed", "aggregate", "ingest-key", "user:create", "plugins:replay"];

/** Reads `--name value` and `--flag` arguments. */
export function parseFlags(args: string[]): Record<string, string | true> {
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const match = /^--([\w-]+)(?:=(.*))?$/.exec(args[i]);
    if (!match) throw new Error(`unexpected argument "${args[i]}"`);
    if (match[2] !== undefined) flags[match[1]] = match[2];
    else if (args[i + 1] !== undefined && !args[i + 1].startsWith("--")) {
      flags[match[1]] = args[++i];
    } else flags[match[1]] = true;
  }
  return flags;
}

/** A command line that failed validation: its message, then the usage, exit code 2. */
export class UsageError extends Error {
  /** @param message What is wrong with the arguments. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A command and its flags, validated. */
export interface CliCommand {
  /** One of migrate, seed, aggregate, ingest-key, user:create. */
  command: string;
  /** Its flags. */
  flags: Record<string, string | true>;
}

/**
 * Validates a command line before anything is opened or created.
 *
 * @param args The arguments after `cli/tasks.ts`.
 * @returns The command and its flags.
 * @throws {UsageError} on an unknown command, a stray argument or a missing `--email`.
 */
export function parseCommand(args: string[]): CliCommand {
  const [command, ...rest] = args;
  if (!COMMANDS.includes(command)) {
    throw new UsageError(command ? `unknown command "${command}"` : "no command given");
  }
  let flags: Record<string, string | true>;
  if (command === "plugins:replay") {
    if (!rest[0] || rest[0].startsWith("--")) throw new UsageError("the plugin's NAME is required");
    if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
    return { command, flags: { name: rest[0] } };
  }
  try {
    flags = parseFlags(rest);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (command === "user:create" && typeof flags.email !== "string") {
    throw new UsageError("--email is required");
  }
  return { command, flags };
}

async function embeddedDatabaseExists(config: BeaconConfig): Promise<boolean> {
  if (config.database.kind !== "embedded" || config.database.dataDir.startsWith("memory://")) {
    return true;
  }
  try {
    await Deno.stat(`${config.database.dataDir}/pg`);
    return true;
  } catch {
    return false;
  }
}

/** `plugins:replay NAME`: the configured plugin's dead letters, handed over again. */
async function replayCommand(db: Database, config: BeaconConfig, name: string): Promise<number> {
  const plugin = config.plugins.find((p) => p.name === name);
  if (!plugin) {
    const names = config.plugins.map((p) => p.name).join(", ") || "none";
    console.error(`no plugin named "${name}" is configured (configured: ${names})`);
    return 1;
  }
  const log = createLogger({ fields: { plugin: name }, write: (line) => console.error(line) });
  await plugin.setup?.({ log });
  try {
    const result = await replayDeadLetters({
      db,
      plugin,
      log,
      batchSize: config.forwarder.batchSize,
    });
    console.log(
      `${name}: replayed ${result.replayed} dead letter(s), ${result.failed} refused again`,
    );
    if (result.lastError) console.error(`last refusal: ${result.lastError}`);
    return result.failed > 0 ? 1 : 0;
  } catch (error) {
    console.error(
      `${name}: the destination could not take the events; the dead letters are kept: ${
        (error as Error).message
      }`,
    );
    return 1;
  } finally {
    await plugin.shutdown?.();
  }
}

async function runCommand(
  db: Database,
  config: BeaconConfig,
  { command, flags }: CliCommand,
  seeded: boolean,
): Promise<number> {
  if (command === "seed") {
    console.log(seeded ? "demo data loaded" : "not seeded: the database already has users");
    return seeded ? 0 : 1;
  }
  if (command === "aggregate") {
    const [{ days }] = await db.query<{ days: number }>(
      "select analytics.run_daily_aggregation() as days",
    );
    console.log(`aggregated ${days} day(s)`);
  }
  if (command === "ingest-key") {
    if (config.ingestKey) {
      console.error("the ingest key in force is BEACON_INGEST_KEY, from the environment");
      console.log(config.ingestKey);
      return 0;
    }
    const [row] = await db.query<{ value: string }>(
      "select value from beacon.settings where key = 'ingest_key'",
    );
    if (!row) {
      console.error("no ingest key is stored yet: Beacon generates one on its first start");
      return 1;
    }
    console.log(row.value);
  }
  if (command === "plugins:replay") return await replayCommand(db, config, flags.name as string);
  if (command === "user:create") {
    const email = flags.email as string;
    const generated = typeof flags.password !== "string";
    const password = generated ? randomSecret(15) : flags.password as string;
    try {
      await db.query("select beacon.create_user($1, $2, $3)", [
        email,
        password,
        flags.superuser === true,
      ]);
      console.log(
        `created ${flags.superuser === true ? "superuser" : "user"} ${email.toLowerCase()}${
          generated ? ` with password ${password} (shown once)` : ""
        }`,
      );
    } catch (error) {
      console.error(`could not create the user: ${(error as Error).message}`);
      return 1;
    }
  }
  return 0;
}

if (import.meta.main) {
  let cli: CliCommand;
  try {
    cli = parseCommand(Deno.args);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  let opened;
  let config: BeaconConfig;
  try {
    config = (await import("../fresh.config.ts")).default;
    if (cli.command === "ingest-key" && !await embeddedDatabaseExists(config)) {
      console.error(
        `no embedded database in ${
          (config.database as { dataDir: string }).dataDir
        } yet: start Beacon once (deno task start) and it generates the ingest key`,
      );
      Deno.exit(1);
    }
    opened = await openDatabase(config.database, { seedDemoData: cli.command === "seed" });
  } catch (error) {
    console.error(`Beacon cannot start: ${describeStartupError(error)}`);
    Deno.exit(1);
  }
  const { db, migrations, seeded } = opened;
  try {
    const report = cli.command === "ingest-key" ? console.error : console.log;
    report(`migrations at ${migrations.version} (${migrations.applied.length} applied now)`);
    Deno.exitCode = await runCommand(db, config, cli, seeded);
  } catch (error) {
    console.error(`${cli.command} failed: ${describeStartupError(error)}`);
    Deno.exitCode = 1;
  } finally {
    await db.close();
  }
}
