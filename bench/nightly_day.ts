/**
 * `deno run -A bench/nightly_day.ts`: the nightly job's per-day cost, on its own PostgreSQL 15,
 * without the rest of `deno task bench`. Loads BENCH_EVENTS_MILLIONS (default 1) million
 * events over 90 days, times the full backfill, tracks page_view.path as bench/trends.ts
 * does, then times analytics.aggregate_day on a day given 100 k more events and a day given
 * 1 M more (median of 3; both inside the loaded days, so that the 7- and 30-day windows of
 * the closed days after them are recomputed too, unlike bench/run.ts's nightly section whose
 * days lie before the data), and each step of closing the heavy day (in a transaction rolled
 * back), and prints JSON.
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

const DAY = `$1::date::timestamp at time zone 'UTC'`;
const NEXT = `($1::date + 1)::timestamp at time zone 'UTC'`;
const PAIRS =
  `(select array_agg(t.event_type order by t.event_type, t.property) from analytics.tracked_properties t),
   (select array_agg(t.property order by t.event_type, t.property) from analytics.tracked_properties t)`;

/**
 * The steps of analytics.aggregate_day (private.close_day, then private.refresh_windows), as
 * migration 20261127140000_close_day_faster.sql writes them, each timed alone.
 */
const STEPS: Array<[string, string]> = [
  ["group_day_events", `select private.group_day_events(${DAY}, ${NEXT}, ${PAIRS})`],
  [
    "user_activity",
    `insert into analytics.user_activity (day, user_id, events)
     select $1::date, g.user_id, sum(g.events) from beacon_day_groups g
      where g.user_id is not null group by g.user_id order by g.user_id`,
  ],
  ["apply_person_links", "select private.apply_person_links()"],
  [
    "day_persons",
    `create temporary table if not exists beacon_day_persons (event_type text, person_id text collate "C") on commit drop;
     create temporary table if not exists beacon_day_ids (person_id text collate "C", id integer) on commit drop;
     truncate beacon_day_persons;
     insert into beacon_day_persons
     select g.event_type, coalesce(g.user_id::text, l.user_id::text, g.anonymous_id) collate "C"
       from beacon_day_groups g
       left join analytics.person_links l on g.user_id is null and l.anonymous_id = g.anonymous_id;
     analyze beacon_day_persons`,
  ],
  ["store_person_bits", "select private.store_person_bits($1::date, true)"],
  [
    "user_day_bits",
    `delete from private.user_day_bits b where b.day = $1::date;
     insert into private.user_day_bits (day, page, bits)
     select $1::date, i.id / 32768, private.page_bits(array_agg(i.id % 32768))
       from analytics.user_activity ua
       join beacon_day_ids i on i.person_id = ua.user_id::text collate "C"
      where ua.day = $1::date
      group by i.id / 32768`,
  ],
  [
    "tracked_properties",
    `delete from analytics.property_actor_days p where p.day = $1::date;
     delete from analytics.property_days p where p.day = $1::date;
     insert into analytics.property_actor_days (event_type, property, day, value, anonymous, actor, events)
     select g.event_type, tp.property, $1::date, g.vals[tp.i::integer], g.user_id is null,
            coalesce(g.user_id::text, g.anonymous_id), sum(g.events)
       from beacon_day_groups g
       join unnest(${PAIRS}) with ordinality as tp (event_type, property, i) on tp.event_type = g.event_type
      group by 1, 2, 3, 4, 5, 6;
     insert into analytics.property_days (event_type, property, day, value, events)
     select g.event_type, tp.property, $1::date, g.vals[tp.i::integer], sum(g.events)
       from beacon_day_groups g
       join unnest(${PAIRS}) with ordinality as tp (event_type, property, i) on tp.event_type = g.event_type
      group by 1, 2, 3, 4`,
  ],
  [
    "metrics",
    `select count(*) from (
       select g.event_type, sum(g.events) from beacon_day_groups g group by g.event_type
       union all select f.metric, f.value from private.day_paying_subscriptions($1::date) f
       union all select f.metric, f.value from private.day_subscription_changes($1::date) f) as m`,
  ],
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
    // Inside the loaded 90 days, with closed days after them: their 7- and 30-day windows
    // (private.refresh_windows) are recomputed, as for a late event in the data.
    const heavyDay = new Date(Date.now() - 60 * 86_400_000).toISOString().slice(0, 10);
    const lighterDay = new Date(Date.now() - 70 * 86_400_000).toISOString().slice(0, 10);
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
        const run = sql.includes(";")
          ? () => tx.exec(sql.replaceAll("$1::date", `'${heavyDay}'::date`))
          : () => tx.query(sql, [heavyDay]);
        steps[name] = Math.round(await time(run));
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
