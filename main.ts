/**
 * Starts Beacon from the configuration in `fresh.config.ts`.
 *
 * Until the server lands this opens the database (embedded by default), applies the
 * migrations, loads the demo data on first start, runs the nightly aggregation and prints
 * the summary.
 */
import config from "./fresh.config.ts";
import { openDatabase } from "./database/open.ts";

if (import.meta.main) {
  const started = performance.now();
  const { db, migrations, seeded } = await openDatabase(config.database, {
    seedDemoData: config.seedDemoData,
  });
  try {
    console.log(
      `database: ${config.database.kind}, migrations at ${migrations.version} (${migrations.applied.length} applied now)${
        seeded ? ", demo data loaded" : ""
      }`,
    );
    await db.query("select analytics.run_daily_aggregation()");
    const [summary] = await db.query("select * from analytics.summary()");
    console.log("summary:", summary);
    console.log(`ready in ${Math.round(performance.now() - started)} ms`);
  } finally {
    await db.close();
  }
}
