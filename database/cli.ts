/**
 * Database chores for operators, on the database `fresh.config.ts` names:
 *
 * - `deno task db:migrate`: apply the migrations not applied yet.
 * - `deno task db:seed`: load the demo data (refused when there are users already).
 * - `deno task db:aggregate`: run the nightly aggregation now.
 *
 * @module
 */
import config from "../fresh.config.ts";
import { openDatabase } from "./open.ts";

const USAGE = "usage: deno run -A database/cli.ts migrate|seed|aggregate";

if (import.meta.main) {
  const command = Deno.args[0];
  if (!["migrate", "seed", "aggregate"].includes(command)) {
    console.error(USAGE);
    Deno.exit(2);
  }
  const { db, migrations, seeded } = await openDatabase(config.database, {
    seedDemoData: command === "seed",
  });
  try {
    console.log(
      `migrations at ${migrations.version} (${migrations.applied.length} applied now)`,
    );
    if (command === "seed") {
      console.log(
        seeded ? "demo data loaded" : "not seeded: the database already has users",
      );
      if (!seeded) Deno.exitCode = 1;
    }
    if (command === "aggregate") {
      const [{ days }] = await db.query<{ days: number }>(
        "select analytics.run_daily_aggregation() as days",
      );
      console.log(`aggregated ${days} day(s)`);
    }
  } finally {
    await db.close();
  }
}
