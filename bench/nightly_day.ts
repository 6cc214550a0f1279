/**
 * `deno run -A bench/nightly_day.ts`: the nightly job's per-day cost, on its own PostgreSQL 15,
 * without the rest of `deno task bench`. Loads BENCH_EVENTS_MILLIONS (default 1) million
 * events over 90 days, times the full backfill, tracks page_view.path as bench/trends.ts
 * does, then, as bench/run.ts's nightly section, times analytics.aggregate_day on a day of
 * 100 k and a day of 1 M events (median of 3), and each step of closing the heavy day (in
 * a transaction rolled back), and prints JSON.
 *
 * @module
 */
import { startOwnMigratedPostgres15 } from "../tests/support/database.ts";
import { CHUNK, generateDay, generateEventChunk, generateUsers } from "./data.ts";
import { median } from "./ingest.ts";

const USERS = 100_000;
const MILLIONS = Number(Deno.env.get("BENCH_EVENTS_MILLIONS") ?? 1);

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** The steps of private.close_day and analytics.aggregate_day, each timed alone. */
const STEPS: Array<[string, string]> = [
  [
    "user_activity",
    `insert into analytics.user_activity (day, user_id, events)
     select $1::date, e.user_id, count(*) from public.events e
      where e."timestamp" >= $1::date::timestamp at time zone 'UTC'
        and e."timestamp" < ($1::date + 1)::timestamp at time zone 'UTC' and e.user_id is not null
      group by e.user_id`,
  ],
  ["apply_person_links", "select private.apply_person_links()"],
  ["close_person_bits", "select private.close_person_bits($1::date)"],
  ["close_tracked_properties", "select private.close_tracked_properties($1::date)"],
  ["compute_day", "select count(*) from private.compute_day($1::date, null, false)"],
  ["refresh_windows", "select private.refresh_windows($1::date, $1::date + 29)"],
];

if (import.meta.main) {
  const { pg, db } = await startOwnMigratedPostgres15({
    settings: {
      shared_buffers: "1GB",
      work_mem: "64MB",
      maintenance_work_mem: "512MB",
      max_wal_size: "8GB",
      max_parallel_workers_per_gather: "2",
    },
  });
  const out: Record<string, unknown> = { millions: MILLIONS };
  try {
    await generateUsers(db, USERS);
    for (let chunk = 0; chunk < MILLIONS; chunk++) await generateEventChunk(db, chunk, USERS);
    await db.query("vacuum analyze");
    await db.query(
      "insert into analytics.tracked_properties (event_type, property) values ('page_view', 'path')",
    );
    await db.exec(
      "truncate analytics.daily_metrics, analytics.user_activity, analytics.aggregated_days, analytics.aggregation_runs",
    );
    out.backfillMs = await time(() => db.query("select analytics.run_daily_aggregation()"));
    const heavyDay = new Date(Date.now() - 120 * 86_400_000).toISOString().slice(0, 10);
    const lighterDay = new Date(Date.now() - 150 * 86_400_000).toISOString().slice(0, 10);
    await generateDay(db, lighterDay, 100_000, USERS);
    await generateDay(db, heavyDay, CHUNK, USERS);
    await db.query("analyze public.events");
    const aggregate = (day: string) =>
      time(() => db.query("select analytics.aggregate_day($1::date)", [day]));
    const day100k = [
      await aggregate(lighterDay),
      await aggregate(lighterDay),
      await aggregate(lighterDay),
    ];
    const day1m = [await aggregate(heavyDay), await aggregate(heavyDay), await aggregate(heavyDay)];
    out.day100kMs = median(day100k);
    out.day1mMs = median(day1m);
    out.day100kRuns = day100k.map(Math.round);
    out.day1mRuns = day1m.map(Math.round);
    out.rawDayMs = await time(() =>
      db.query(
        `select event_type, count(*), count(distinct user_id) from public.events
          where "timestamp" >= $1::date::timestamp at time zone 'UTC'
            and "timestamp" < ($1::date + 1)::timestamp at time zone 'UTC' group by 1`,
        [heavyDay],
      )
    );
    // Each step alone, on the heavy day, in one transaction rolled back.
    const steps: Record<string, number> = {};
    await db.transaction(async (tx) => {
      await tx.query("delete from analytics.user_activity where day = $1::date", [heavyDay]);
      for (const [name, sql] of STEPS) {
        steps[name] = Math.round(await time(() => tx.query(sql, [heavyDay])));
      }
      throw new RollBack();
    }).catch((e) => {
      if (!(e instanceof RollBack)) throw e;
    });
    out.heavyDaySteps = steps;
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await db.close();
    await pg.stop();
  }
}

class RollBack extends Error {}
