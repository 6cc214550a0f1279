/**
 * Today's live part, late in a day: 90-day dashboard queries when the day not closed yet
 * holds 20 hours of events (at the data set's rate) of which 19 are rolled up by the hourly
 * job, against the same queries with the hourly rollup ignored (every hour of the day
 * computed live from the events), in the same run.
 *
 * The clock cannot be moved, so the simulated day is yesterday, reopened: its daily rollup
 * is set aside, its events from 20:00 UTC on and today's are moved out (today then has no
 * events, so the range's only day not closed is the simulated one, as at 20:00 on a real
 * day), its hours 00:00 to 19:00 are closed with private.close_hour and 19:00 to 20:00 is
 * the open hour. The events moved out are vacuumed away before timing: at 20:00 on a real
 * day the hours after 20:00 hold nothing, where their dead rows would make every read of
 * the day's hours not closed visit them (a bitmap scan does not skip dead rows); the vacuum
 * also marks the open hour's pages all-visible, which a real open hour's are not yet. The
 * minute job (analytics.refresh_live_parts) is taken to have run at 19:59: its snapshot is
 * taken with the open hour's last minute moved out, and that minute's events are then
 * inserted again (new transactions, new heap pages), so each query reads them live as at
 * 20:00 on a real day. pg_cron's jobs are paused meanwhile (the simulation runs them itself),
 * and the set-up's own writes are let settle before timing (a checkpoint, autovacuum done).
 * Everything is put back afterwards (events moved back, yesterday closed
 * again by the nightly job's analytics.aggregate_day, the hourly rollup and the snapshots
 * emptied).
 *
 * `deno task bench` calls {@linkcode benchLiveHours} at its large size. Standalone, on a
 * fresh PostgreSQL 15 with BENCH_EVENTS_MILLIONS million events (default 1) of bench/data.ts:
 * `BENCH_EVENTS_MILLIONS=1 deno run -A bench/live.ts`.
 *
 * @module
 */
import type { Database } from "../database/mod.ts";
import { queryAsUser } from "../database/act_as.ts";
import { openPostgres } from "../database/postgres.ts";
import { startOwnMigratedPostgres15 } from "../tests/support/database.ts";
import { generateEventChunk, generateUsers } from "./data.ts";
import { median } from "./ingest.ts";

/** One query late in the simulated day, against the live computation. */
export interface LiveTiming {
  name: string;
  p50: number;
  p95: number;
  baseline: number;
  baselineName: string;
}

/** What {@linkcode benchLiveHours} measures. */
export interface LiveHoursResult {
  /** The queries, rendered as dashboard query rows. */
  queries: LiveTiming[];
  /** Median milliseconds of private.close_hour for one hour of events at this size. */
  closeHourMs: number;
  /**
   * Median milliseconds of analytics.refresh_live_parts (the minute job) at 19:59, the open
   * hour less its last minute not rolled up, its windows' merged pages built again as after an
   * hour closed (absent in results from before it existed).
   */
  snapshotMs?: number;
  /** Events in the simulated day (its 20 hours). */
  dayEvents: number;
}

const TODAY = `(now() at time zone 'UTC')::date`;
const FROM_90 = `(${TODAY} - 89)`;
const SIM_DAY = `(${TODAY} - 1)`;
const CUT = `(${SIM_DAY}::timestamp at time zone 'UTC' + interval '20 hours')`;
const HOURLY_TABLES =
  `analytics.closed_hours, analytics.hourly_events, analytics.hourly_user_activity,
  analytics.hourly_day_users, analytics.hourly_day_totals, analytics.hourly_runs`;

/** Every metric of the dashboard's chart, by day, week and month, and the breakdown. */
const METRICS = [
  "events",
  "signups",
  "active_users",
  "weekly_active_users",
  "monthly_active_users",
  "active_subscriptions",
  "mrr_cents",
  "new_subscriptions",
  "churned_subscriptions",
];
const QUERIES: Array<{ name: string; sql: string }> = [
  ...METRICS.flatMap((metric) =>
    ["day", "week", "month"].map((bucket) => ({
      name: `timeseries ${metric.replaceAll("_", " ")}, 90 days by ${bucket}`,
      sql: `select * from analytics.timeseries('${metric}', ${FROM_90}, ${TODAY}, '${bucket}')`,
    }))
  ),
  {
    name: "breakdown, 90 days",
    sql: `select * from analytics.breakdown(${FROM_90}, ${TODAY})`,
  },
];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timed(
  query: (sql: string) => Promise<unknown[]>,
  sql: string,
  runs: number,
): Promise<{ times: number[]; answer: string }> {
  const answer = JSON.stringify(await query(sql)); // warm
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await query(sql);
    times.push(performance.now() - started);
  }
  return { times, answer };
}

/**
 * Simulates 20:00 UTC on a day at the data set's rate (19 hours rolled up, one open) and
 * times the 90-day dashboard queries with the hourly rollup and with it ignored.
 *
 * @param db The database, as its owner (moves events, closes hours).
 * @param query Runs a read as the signed-in superuser, through RLS.
 * @param label The data set's size, e.g. `10 M`.
 * @returns The timings, the cost of closing one hour, and the simulated day's size.
 */
export async function benchLiveHours(
  db: Database,
  query: (sql: string) => Promise<unknown[]>,
  label: string,
  adminUrl?: string,
): Promise<LiveHoursResult> {
  await db.exec(`create table if not exists public.bench_live_moved (like public.events)`);
  // The simulation runs the jobs itself: pg_cron's (the minute snapshot, the hourly rollup,
  // the nightly job) would move the simulated day under it. Paused, and resumed after.
  const paused = adminUrl ? await pauseCronJobs(adminUrl) : [];
  try {
    // Set the simulated day up: reopened, 20 hours of events, today empty.
    await db.exec(`
      with moved as (delete from public.events where "timestamp" >= ${CUT} returning *)
      insert into public.bench_live_moved select * from moved;
      delete from analytics.aggregated_days where day = ${SIM_DAY};
      delete from analytics.user_activity where day = ${SIM_DAY};
      delete from analytics.daily_metrics where day = ${SIM_DAY};
      truncate ${HOURLY_TABLES};
      create table public.bench_live_minute (like public.events);
      with moved as (delete from public.events where "timestamp" >= ${CUT} - interval '1 minute' returning *)
      insert into public.bench_live_minute select * from moved;`);
    // Alone: vacuum does not run inside a transaction block. Index cleanup forced: with the
    // moved rows on under 2 % of the heap's pages, vacuum would otherwise leave their index
    // entries (PostgreSQL 14+ bypasses index vacuuming then), and the planner, which reads
    // the end of the timestamp index to estimate a range near now, would walk ~140 pages of
    // dead entries on every query planned (0.15 ms each time on the 10 M set), which a real
    // day at 20:00, with nothing after 20:00 ever written, does not have.
    await db.exec(`vacuum (index_cleanup on) public.events`);
    const closeTimes: number[] = [];
    for (let hour = 0; hour < 19; hour++) {
      const started = performance.now();
      await db.query(
        `select private.close_hour(${SIM_DAY}::timestamp at time zone 'UTC' + $1 * interval '1 hour')`,
        [hour],
      );
      closeTimes.push(performance.now() - started);
    }
    // The minute job at 19:59 (three times: each replaces the one before), each as the first
    // minute after an hour closed (the windows' merged pages stale, built again: the sequence
    // they were built at moved), then the last minute's events, as newer transactions.
    // A run that found a table it builds the windows from locked (autovacuum's SHARE UPDATE
    // EXCLUSIVE lock, after the set-up's writes) leaves them out and takes a fraction of the
    // time: not counted; the same run again a second later.
    const snapshotTimes: number[] = [];
    for (let run = 0, skipped = 0; run < 3;) {
      await db.query(`select nextval('private.window_changes')`);
      const started = performance.now();
      await db.query(`select analytics.refresh_live_parts()`);
      const ms = performance.now() - started;
      const [{ built }] = await db.query<{ built: boolean }>(
        `select exists (select 1 from private.window_closed w
                         where w.change_seen = (select q.last_value from private.window_changes q)) as built`,
      );
      if (built) {
        snapshotTimes.push(ms);
        run++;
        skipped = 0;
      } else if (++skipped > 60) {
        throw new Error("the minute job left the windows out 60 times: a lock held for a minute");
      } else {
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    await db.exec(`
      delete from private.event_ids where id in (select id from public.bench_live_minute);
      insert into public.events (id, event_type, user_id, anonymous_id, payload, "timestamp", received_at)
      select id, event_type, user_id, anonymous_id, payload, "timestamp", received_at from public.bench_live_minute;
      drop table public.bench_live_minute;`);
    await db.exec(`analyze ${HOURLY_TABLES}, public.events`);
    // The set-up's own writes settled before timing (the moved rows' table vacuumed, a
    // checkpoint, the autovacuum workers they woke done): at 20:00 on a real day nothing
    // has just loaded 10 M events; left to run, they shared the two cores with the queries.
    await db.exec(`vacuum analyze public.bench_live_moved`);
    if (adminUrl) await settle(adminUrl);
    const [{ n: dayEvents }] = await db.query<{ n: number }>(
      `select count(*)::int as n from public.events
        where "timestamp" >= ${SIM_DAY}::timestamp at time zone 'UTC' and "timestamp" < ${CUT}`,
    );

    const rolledUp = [];
    for (const q of QUERIES) rolledUp.push(await timed(query, q.sql, 15));
    // The same queries with the hourly rollup, the snapshot and the kept subscription
    // metrics ignored: every hour of the day live.
    await db.exec(`truncate ${HOURLY_TABLES}; delete from private.open_day_subscriptions;`);
    const queries: LiveTiming[] = [];
    for (const [i, q] of QUERIES.entries()) {
      const live = await timed(query, q.sql, 5);
      if (live.answer !== rolledUp[i].answer) {
        throw new Error(`${q.name}: the hourly rollup and the live computation disagree`);
      }
      queries.push({
        name: `20:00 UTC, 19 hours rolled up: ${q.name} @ ${label}`,
        p50: percentile(rolledUp[i].times, 50),
        p95: percentile(rolledUp[i].times, 95),
        baseline: median(live.times),
        baselineName: "the day's 20 hours live (hourly rollup and snapshots ignored)",
      });
    }
    return {
      queries,
      closeHourMs: median(closeTimes),
      snapshotMs: median(snapshotTimes),
      dayEvents,
    };
  } finally {
    // Put everything back.
    await db.exec(`
      do $$
      begin
        if to_regclass('public.bench_live_minute') is not null then
          delete from private.event_ids where id in (select id from public.bench_live_minute);
          insert into public.events (id, event_type, user_id, anonymous_id, payload, "timestamp", received_at)
          select id, event_type, user_id, anonymous_id, payload, "timestamp", received_at from public.bench_live_minute;
          drop table public.bench_live_minute;
        end if;
      end
      $$;`);
    await db.exec(`
      truncate ${HOURLY_TABLES};
      delete from analytics.live_parts;
      delete from private.open_day_subscriptions;
      -- Their ids stay in the idempotency table when they leave; out first, or they are retries.
      delete from private.event_ids where id in (select id from public.bench_live_moved);
      insert into public.events overriding system value select * from public.bench_live_moved;
      drop table public.bench_live_moved;`);
    await db.query(`select analytics.aggregate_day(${SIM_DAY})`);
    if (adminUrl) await resumeCronJobs(adminUrl, paused);
  }
}

/**
 * Lets the set-up's writes settle (as a superuser): a checkpoint, then the autovacuum workers
 * running finished (a minute at most).
 */
async function settle(adminUrl: string): Promise<void> {
  const admin = openPostgres(adminUrl, { max: 1 });
  try {
    await admin.query(`checkpoint`);
    for (let second = 0; second < 60; second++) {
      const [{ n }] = await admin.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where backend_type = 'autovacuum worker'`,
      );
      if (n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } finally {
    await admin.close();
  }
}

/** Pauses every active pg_cron job (as a superuser); returns their ids (none without pg_cron). */
async function pauseCronJobs(adminUrl: string): Promise<number[]> {
  const admin = openPostgres(adminUrl, { max: 1 });
  try {
    const [{ cron }] = await admin.query<{ cron: boolean }>(
      `select to_regclass('cron.job') is not null as cron`,
    );
    if (!cron) return [];
    const rows = await admin.query<{ jobid: number }>(
      `update cron.job set active = false where active returning jobid::int as jobid`,
    );
    return rows.map((r) => r.jobid);
  } finally {
    await admin.close();
  }
}

/** Makes the given pg_cron jobs active again (as a superuser). */
async function resumeCronJobs(adminUrl: string, ids: number[]): Promise<void> {
  if (!ids.length) return;
  const admin = openPostgres(adminUrl, { max: 1 });
  try {
    await admin.query(`update cron.job set active = true where jobid = any($1::bigint[])`, [ids]);
  } finally {
    await admin.close();
  }
}

if (import.meta.main) {
  const millions = Number(Deno.env.get("BENCH_EVENTS_MILLIONS") ?? 1);
  const { pg, db } = await startOwnMigratedPostgres15({
    settings: { shared_buffers: "1GB", work_mem: "64MB", max_wal_size: "8GB" },
  });
  try {
    await generateUsers(db, 100_000);
    for (let chunk = 0; chunk < millions; chunk++) await generateEventChunk(db, chunk, 100_000);
    await db.query("select analytics.run_daily_aggregation()");
    await db.query("vacuum analyze");
    const [{ id }] = await db.query<{ id: string }>(
      `select beacon.create_user('bench-live@bench.test', 'bench-password', true)::text as id`,
    );
    const asViewer = (sql: string) =>
      queryAsUser(db, { sub: id }, sql, { statementTimeoutMs: 600_000 });
    const result = await benchLiveHours(db, asViewer, `${millions} M`, pg.adminUrl);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await db.close();
    await pg.stop();
  }
}
