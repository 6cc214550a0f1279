/**
 * Benchmarks of the person reports (retention, lifecycle, stickiness, feature adoption) as
 * a superuser through RLS, each against a naive SQL computation of the same answer over
 * `analytics.person_events` in the same run, and the nightly job's extra time for the person
 * bitmaps. Called by bench/run.ts at the large size; standalone (`deno run -A
 * bench/retention.ts`) it builds its own PostgreSQL 15 with BENCH_EVENTS_MILLIONS (default
 * 1) million events from bench/data.ts's generator and prints the figures as JSON.
 *
 * @module
 */
import type { Database } from "../database/mod.ts";
import { queryAsUser } from "../database/act_as.ts";
import { generateEventChunk, generateUsers } from "./data.ts";

/** One timed report against its baseline, in milliseconds. */
export interface ReportTiming {
  name: string;
  p50: number;
  p95: number;
  baseline: number;
  baselineName: string;
  /** Set when the baseline ran out of its statement timeout: `baseline` is then that limit. */
  baselineTimedOut?: boolean;
}

const TODAY = `(now() at time zone 'UTC')::date`;
const FROM_90 = `(${TODAY} - 89)`;
const LO_90 = `(${FROM_90})::timestamp at time zone 'UTC'`;
const WEEK_0 = `(date_trunc('week', ${TODAY})::date - 77)`;
const NAIVE = "naive SQL over analytics.person_events";

/** The reports and, for each, the same answer computed naively from the events. */
const REPORTS: Array<{ name: string; sql: string; baseline: string }> = [
  {
    name: "retention, 12 weekly cohorts × 12 weeks",
    sql: `select * from analytics.retention(${WEEK_0}, 12, 'week')`,
    baseline: `with firsts as (
        select person_id, date_trunc('week', min("timestamp" at time zone 'UTC'))::date as c
          from analytics.person_events where event_type = 'user_signup' group by 1),
      act as (
        select distinct person_id, date_trunc('week', "timestamp" at time zone 'UTC')::date as w
          from analytics.person_events
         where "timestamp" >= (${WEEK_0})::timestamp at time zone 'UTC')
      select f.c, (a.w - f.c) / 7 as k, count(*)
        from firsts f join act a on a.person_id = f.person_id and a.w >= f.c
       where f.c >= ${WEEK_0} and (a.w - ${WEEK_0}) / 7 < 12
       group by 1, 2`,
  },
  ...["day", "week"].map((bucket) => ({
    name: `lifecycle, 90 days by ${bucket}`,
    sql: `select * from analytics.lifecycle(${FROM_90}, ${TODAY}, null, '${bucket}')`,
    baseline: `with act as (
        select distinct person_id, date_trunc('${bucket}', "timestamp" at time zone 'UTC')::date as b
          from analytics.person_events),
      firsts as (select person_id, min(b) as f from act group by 1)
      select a.b, case when f.f = a.b then 'new'
                       when exists (select 1 from act p where p.person_id = a.person_id
                                       and p.b = (a.b - interval '1 ${bucket}')::date) then 'returning'
                       else 'resurrecting' end, count(*)
        from act a join firsts f on f.person_id = a.person_id
       where a.b >= date_trunc('${bucket}', ${FROM_90})::date
       group by 1, 2
      union all
      select (a.b + interval '1 ${bucket}')::date, 'dormant', -count(*)
        from act a
       where a.b >= (date_trunc('${bucket}', ${FROM_90}) - interval '1 ${bucket}')::date
         and a.b < date_trunc('${bucket}', ${TODAY})::date
         and not exists (select 1 from act n where n.person_id = a.person_id
                            and n.b = (a.b + interval '1 ${bucket}')::date)
       group by 1`,
  })),
  {
    name: "stickiness, 90 days by week",
    sql: `select * from analytics.stickiness(${FROM_90}, ${TODAY}, null, 'week')`,
    baseline: `select w, n, count(*) from (
        select person_id, date_trunc('week', d)::date as w, count(distinct d) as n
          from (select person_id, ("timestamp" at time zone 'UTC')::date as d
                  from analytics.person_events where "timestamp" >= ${LO_90}) x
         group by 1, 2) y
       group by 1, 2`,
  },
  {
    name: "feature adoption, 90 days",
    sql: `select * from analytics.feature_adoption(${FROM_90}, ${TODAY}, 20)`,
    baseline: `select event_type, count(distinct person_id),
                      (select count(distinct person_id) from analytics.person_events
                        where "timestamp" >= ${LO_90})
                 from analytics.person_events where "timestamp" >= ${LO_90}
                group by 1 order by 2 desc limit 20`,
  },
];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timed(run: () => Promise<unknown>, times: number): Promise<number[]> {
  await run(); // warm
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await run();
    out.push(performance.now() - started);
  }
  return out;
}

/**
 * Times every report (15 runs after a warm-up) and its naive baseline (once, after a warm-up
 * run of the report itself: a baseline at 10 M events takes minutes).
 *
 * @param query Runs one statement as the viewer (a superuser, through RLS).
 * @param label The data set's size, e.g. `10 M`.
 * @param baselineQuery Runs a baseline, under a statement timeout of `baselineLimitMs`.
 * @param baselineLimitMs The baselines' statement timeout. @default {600000}
 * @returns One timing per report.
 */
export async function benchPersonReports(
  query: (sql: string) => Promise<unknown>,
  label: string,
  baselineQuery: (sql: string) => Promise<unknown> = query,
  baselineLimitMs = 600_000,
): Promise<ReportTiming[]> {
  const results: ReportTiming[] = [];
  for (const r of REPORTS) {
    const times = await timed(() => query(r.sql), 15);
    let baseline = baselineLimitMs;
    let baselineTimedOut = false;
    const started = performance.now();
    try {
      await baselineQuery(r.baseline);
      baseline = performance.now() - started;
    } catch (error) {
      if ((error as { code?: string }).code !== "57014") throw error;
      baselineTimedOut = true;
    }
    results.push({
      name: `${r.name} @ ${label}`,
      p50: percentile(times, 50),
      p95: percentile(times, 95),
      baseline,
      baselineName: NAIVE,
      baselineTimedOut,
    });
  }
  return results;
}

/**
 * The nightly job's extra time for the person bitmaps: rewriting every closed day of them
 * from scratch (what a full backfill adds), and the three days a routine run redoes.
 *
 * @param db The database, as its owner.
 * @returns Milliseconds for the backfill and the routine run, the days, and the stored size.
 */
export async function benchPersonBits(db: Database): Promise<Record<string, number>> {
  const days = await db.query<{ day: string }>(
    "select day::text from analytics.aggregated_days order by day",
  );
  await db.exec("truncate analytics.person_day_bits, analytics.person_bits_through");
  let started = performance.now();
  for (const { day } of days) await db.query("select private.close_person_bits($1::date)", [day]);
  const backfill = performance.now() - started;
  started = performance.now();
  for (const { day } of days.slice(-3)) {
    await db.query("select private.close_person_bits($1::date)", [day]);
  }
  const routine = performance.now() - started;
  const [{ rows, bytes, persons }] = await db.query<
    { rows: number; bytes: number; persons: number }
  >(
    `select (select count(*) from analytics.person_day_bits)::int as rows,
            pg_total_relation_size('analytics.person_day_bits')::float8 as bytes,
            (select count(*) from analytics.person_ids)::int as persons`,
  );
  return { backfillMs: backfill, routineRunMs: routine, days: days.length, rows, bytes, persons };
}

if (import.meta.main) {
  const { startOwnMigratedPostgres15 } = await import("../tests/support/database.ts");
  const millions = Number(Deno.env.get("BENCH_EVENTS_MILLIONS") ?? 1);
  const { pg, db } = await startOwnMigratedPostgres15({
    settings: { shared_buffers: "1GB", work_mem: "64MB", max_parallel_workers_per_gather: "2" },
  });
  try {
    await generateUsers(db, 100_000);
    for (let chunk = 0; chunk < millions; chunk++) await generateEventChunk(db, chunk, 100_000);
    await db.query("vacuum analyze");
    let started = performance.now();
    await db.query("select analytics.run_daily_aggregation()");
    const backfill = performance.now() - started;
    const rollup = await benchPersonBits(db);
    await db.query("vacuum analyze");
    const [{ id }] = await db.query<{ id: string }>(
      "select beacon.create_user('bench-reports@bench.test', 'bench-password', true)::text as id",
    );
    const query = (sql: string) =>
      queryAsUser(db, { sub: id }, sql, { statementTimeoutMs: 600_000 });
    started = performance.now();
    const reports = await benchPersonReports(query, `${millions} M`);
    console.log(JSON.stringify(
      {
        nightlyBackfillMs: backfill,
        personBits: rollup,
        reports,
        benchMs: performance.now() - started,
      },
      null,
      2,
    ));
  } finally {
    await db.close();
    await pg.stop();
  }
}
