/**
 * Database chores for operators, on the database `fresh.config.ts` names:
 *
 * - `deno task db:migrate`: apply the migrations not applied yet.
 * - `deno task db:seed`: load the demo data (refused when there are users already).
 * - `deno task db:aggregate`: run the nightly aggregation now.
 * - `deno task user:create --email a@b.c [--password ...] [--superuser]`: add a local
 *   account; without `--password` one is generated and printed once.
 *
 * @module
 */
import { openDatabase } from "./open.ts";
import { randomSecret } from "../server/settings.ts";

const USAGE =
  "usage: deno run -A database/cli.ts migrate | seed | aggregate | user:create --email EMAIL [--password PASSWORD] [--superuser]";

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

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  if (!["migrate", "seed", "aggregate", "user:create"].includes(command)) {
    console.error(USAGE);
    Deno.exit(2);
  }
  let flags: Record<string, string | true>;
  try {
    flags = parseFlags(rest);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  const config = (await import("../fresh.config.ts")).default;
  const { db, migrations, seeded } = await openDatabase(config.database, {
    seedDemoData: command === "seed",
  });
  try {
    console.log(`migrations at ${migrations.version} (${migrations.applied.length} applied now)`);
    if (command === "seed") {
      console.log(seeded ? "demo data loaded" : "not seeded: the database already has users");
      if (!seeded) Deno.exitCode = 1;
    }
    if (command === "aggregate") {
      const [{ days }] = await db.query<{ days: number }>(
        "select analytics.run_daily_aggregation() as days",
      );
      console.log(`aggregated ${days} day(s)`);
    }
    if (command === "user:create") {
      const email = flags.email;
      if (typeof email !== "string") {
        console.error(`--email is required\n${USAGE}`);
        Deno.exitCode = 2;
      } else {
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
          Deno.exitCode = 1;
        }
      }
    }
  } finally {
    await db.close();
  }
}
