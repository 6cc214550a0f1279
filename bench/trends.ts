/**
 * Trend benchmarks: analytics.trend as a superuser through RLS, against naive SQL over the
 * raw events measured in the same run, and what tracking a property costs the nightly job:
 *
 * - a breakdown by a tracked property (page_view by path, 50 values), 90 days by day;
 * - a breakdown by an untracked property (page_view by n, 1,000 values, top 5), 30 days;
 * - the p90 of a numeric property (n of page_view), 30 days by day;
 * - 5 series (the totals of five event types) and a formula, 90 days by day.
 *
 * `deno task bench` calls {@linkcode benchTrends} at its large size, after its nightly
 * backfill. Standalone, on a fresh PostgreSQL 15 with BENCH_EVENTS_MILLIONS million events
 * (default 1) of bench/data.ts: `BENCH_EVENTS_MILLIONS=1 deno run -A bench/trends.ts`.
 *
 * @module
 */
import { startOwnMigratedPostgres15 } from "../tests/support/database.ts";
import { queryAsUser } from "../database/act_as.ts";
import type { Queryable } from "../database/mod.ts";
import { generateEventChunk, generateUsers } from "./data.ts";

/** One trend timing: p50/p95 of analytics.trend, the naive baseline's median, and the check. */
export interface TrendTiming {
  name: string;
  p50: number;
  p95: number;
  baseline: number;
  baselineName: string;
  /** Whether the baseline gave the same total. */
  same: boolean;
}

/** What tracking a property costs the nightly job. */
export interface TrackingCost {
  /** Adding page_view.path: rolling up every closed day at once (ms). */
  backfillMs: number;
  /** One day's rollup of the tracked properties, as the nightly job adds it (ms). */
  dayMs: number;
}

const DAY = `(now() at time zone 'UTC')::date`;

function trendSql(def: Record<string, unknown>, days: number): string {
  return `select series, breakdown_value, bucket_index, value from analytics.trend(
    jsonb_build_object('from', ${DAY} - ${days - 1}, 'to', ${DAY}) || '${
    JSON.stringify(def)
  }'::jsonb)`;
}

function range(days: number): string {
  return `e."timestamp" >= (${DAY} - ${days - 1})::timestamp at time zone 'UTC'
      and e."timestamp" < (${DAY} + 1)::timestamp at time zone 'UTC'`;
}

const CASES: Array<{
  name: string;
  days: number;
  def: Record<string, unknown>;
  baselineName: string;
  baseline: string;
  /** The answer's figure to compare with the baseline's `total`. */
  total: (rows: Array<Record<string, unknown>>) => number;
}> = [
  {
    name: "trend, breakdown by a tracked property, 90 days by day",
    days: 90,
    def: { series: [{ event: "page_view" }], breakdown: "path", breakdown_top: 5 },
    baselineName: "count per day and value over the events",
    baseline: `select sum(c) as total from (select count(*) as c from public.events e
                where e.event_type = 'page_view' and ${range(90)}
                group by (e."timestamp" at time zone 'UTC')::date, e.payload ->> 'path') x`,
    total: (rows) => rows.reduce((a, r) => a + Number(r.value), 0),
  },
  {
    name: "trend, breakdown by an untracked property, 30 days by day",
    days: 30,
    def: { series: [{ event: "page_view" }], breakdown: "n", breakdown_top: 5 },
    baselineName: "count per day and value over the events",
    baseline: `select sum(c) as total from (select count(*) as c from public.events e
                where e.event_type = 'page_view' and ${range(30)}
                group by (e."timestamp" at time zone 'UTC')::date, e.payload ->> 'n') x`,
    total: (rows) => rows.reduce((a, r) => a + Number(r.value), 0),
  },
  {
    name: "trend, p90 of a numeric property, 30 days by day",
    days: 30,
    def: { series: [{ event: "page_view", math: "p90", property: "n" }] },
    baselineName: "percentile_cont per day over the events",
    baseline: `select sum(p) as total from (
                select percentile_cont(0.9) within group (order by (e.payload ->> 'n')::float8) as p
                  from public.events e where e.event_type = 'page_view' and ${range(30)}
                 group by (e."timestamp" at time zone 'UTC')::date) x`,
    total: (rows) => rows.reduce((a, r) => a + Number(r.value ?? 0), 0),
  },
  {
    name: "trend, 5 series and a formula, 90 days by day",
    days: 90,
    def: {
      series: [
        { event: "page_view" },
        { event: "feature_used" },
        { event: "button_click" },
        { event: "goal_submitted" },
        { event: "checkout_started" },
      ],
      formula: "E / A * 100 + (C - D) / B",
    },
    baselineName: "filtered counts per day over the events",
    baseline: `select sum(c) as total from (
                select count(*) filter (where e.event_type in ('page_view', 'feature_used', 'button_click',
                                                               'goal_submitted', 'checkout_started')) as c
                  from public.events e where ${range(90)}
                 group by (e."timestamp" at time zone 'UTC')::date) x`,
    total: (rows) =>
      rows.filter((r) => r.series !== "formula").reduce((a, r) => a + Number(r.value), 0),
  },
];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const out = await fn();
  return [performance.now() - started, out];
}

/**
 * Tracks page_view.path (timing the backfill of the closed days and one day's nightly
 * rollup), then times the trends.
 *
 * @param db The database, as its owner (the days already closed).
 * @param run Runs a query as the superuser viewer (through RLS).
 * @param label The data size, e.g. `10 M`.
 * @param runs Timed runs of analytics.trend (the baseline runs 3 times). @default {9}
 */
export async function benchTrends(
  db: Queryable,
  run: (sql: string) => Promise<Array<Record<string, unknown>>>,
  label: string,
  runs = 9,
): Promise<{ trends: TrendTiming[]; tracking: TrackingCost }> {
  await db.query("delete from analytics.tracked_properties");
  const [backfillMs] = await timed(() =>
    db.query(
      "insert into analytics.tracked_properties (event_type, property) values ('page_view', 'path')",
    )
  );
  const dayMs = percentile(
    [
      (await timed(() => db.query(`select private.close_tracked_properties(${DAY} - 2)`)))[0],
      (await timed(() => db.query(`select private.close_tracked_properties(${DAY} - 2)`)))[0],
      (await timed(() => db.query(`select private.close_tracked_properties(${DAY} - 2)`)))[0],
    ],
    50,
  );
  await db.query("analyze analytics.property_days");
  const trends: TrendTiming[] = [];
  for (const c of CASES) {
    const sql = trendSql(c.def, c.days);
    const answer = await run(sql); // warm
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push((await timed(() => run(sql)))[0]);
    const baseline: number[] = [];
    let naive: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 3; i++) {
      const [ms, rows] = await timed(() => run(c.baseline));
      baseline.push(ms);
      naive = rows;
    }
    const mine = c.total(answer);
    const theirs = Number(naive[0]?.total ?? 0);
    trends.push({
      name: `${c.name} @ ${label}`,
      p50: percentile(times, 50),
      p95: percentile(times, 95),
      baseline: percentile(baseline, 50),
      baselineName: c.baselineName,
      same: Math.abs(mine - theirs) <= 1e-6 * Math.max(1, Math.abs(theirs)),
    });
  }
  return { trends, tracking: { backfillMs, dayMs } };
}

if (import.meta.main) {
  const millions = Number(Deno.env.get("BENCH_EVENTS_MILLIONS") ?? 1);
  const users = 100_000;
  const { pg, db } = await startOwnMigratedPostgres15({
    settings: { shared_buffers: "1GB", work_mem: "64MB", max_parallel_workers_per_gather: "2" },
  });
  try {
    await generateUsers(db, users);
    for (let chunk = 0; chunk < millions; chunk++) await generateEventChunk(db, chunk, users);
    await db.query("select analytics.run_daily_aggregation()");
    await db.query("vacuum analyze");
    const [{ id }] = await db.query<{ id: string }>(
      "select beacon.create_user('bench-trend@bench.test', 'bench-password', true)::text as id",
    );
    const run = (sql: string) =>
      queryAsUser(db, { sub: id }, sql, {
        statementTimeoutMs: 600_000,
      });
    console.log(JSON.stringify(await benchTrends(db, run, `${millions} M`), null, 2));
  } finally {
    await db.close();
    await pg.stop();
  }
}
