/**
 * Benchmark of the revenue report (what `/analytics/revenue` and its API read: MRR
 * movements per day, churn per month and trial conversion over 12 months) as a superuser
 * through RLS, on 30,000 subscriptions with plan changes, cancels, reactivations, trials and
 * three currencies, against a naive SQL computation (every customer's MRR on every day, then
 * each day joined to the day before) in the same run: from the kept days (what the hourly
 * refresh leaves) and computed live (after a write), with the refresh's own time. The run's own subscriptions are moved
 * aside meanwhile and put back after. Called by bench/run.ts; standalone
 * (`deno run -A bench/revenue.ts`) it builds its own PostgreSQL 15 and prints JSON.
 *
 * @module
 */
import type { Database } from "../database/mod.ts";
import { actAsUser } from "../database/act_as.ts";
import { median } from "./ingest.ts";
import { generateUsers } from "./data.ts";

/** The revenue report's timing against its baseline, in milliseconds. */
export interface RevenueTiming {
  name: string;
  p50: number;
  p95: number;
  baseline: number;
  baselineName: string;
  subscriptions: number;
  /** How long the hourly refresh of the kept days took (beacon.refresh_revenue_report). */
  refreshMs?: number;
}

const FROM = `((now() at time zone 'UTC')::date - 364)`;
const TO = `(now() at time zone 'UTC')::date`;

/**
 * Replaces the subscriptions with about `rows` rows of histories over the last year: each
 * customer has 1 to 4 rows (plan changes at once, or a cancel and a reactivation after a
 * gap), a third start with a trial, a seventh pay yearly, 20 % pay in EUR (rates changing)
 * and 10 % in GBP (a rate only for the last 100 days). Users come from auth.users'
 * bench ids (bench/data.ts), which must hold at least rows / 2.5 users.
 *
 * @param db The database, as its owner.
 * @param rows About how many subscription rows.
 * @returns How many rows were inserted.
 */
export async function generateRevenueSubscriptions(db: Database, rows = 30_000): Promise<number> {
  const customers = Math.round(rows / 2.1);
  await db.query(
    `insert into public.subscriptions (user_id, plan, status, amount_cents, currency, billing_interval,
                                       started_at, trial_ends_at, canceled_at)
     with c as (
       select g, 1 + g % 4 as k,
              now() - (365 * 86400 * ((g * 0.6180339887) % 1)) * interval '1 second' as t0
         from generate_series(0, $1::int - 1) g),
     r as (
       select c.g, c.k, c.t0, i, 10 + (c.g * 31 + i * 17) % 80 as dur,
              case when (c.g + i) % 3 = 0 then 5 + (c.g + i) % 25 else 0 end as gap
         from c, generate_series(1, c.k) i),
     s as (
       select r.*, r.t0 + (sum(r.dur + r.gap) over (partition by r.g order by r.i) - r.dur - r.gap)
                          * interval '1 day' as st
         from r)
     select ('00000000-0000-4000-8000-' || lpad(s.g::text, 12, '0'))::uuid,
            (array['basic', 'pro', 'team', 'scale'])[1 + (s.g * 7 + s.i * 3) % 4],
            case when x.ends <= now() then 'canceled' else 'active' end,
            (array[900, 2900, 9900, 24900])[1 + (s.g * 7 + s.i * 3) % 4] * case when s.g % 7 = 0 then 10 else 1 end,
            case when s.g % 10 < 7 then 'USD' when s.g % 10 < 9 then 'EUR' else 'GBP' end,
            case when s.g % 7 = 0 then 'year' else 'month' end,
            s.st,
            case when s.i = 1 and s.g % 3 = 0 then s.st + interval '14 days' end,
            x.ends
       from s
       cross join lateral (select case when s.i = s.k and s.g % 2 = 0 then null
                                       else s.st + s.dur * interval '1 day' end as ends) x
      where s.st < now()`,
    [customers],
  );
  await db.query(
    `insert into analytics.exchange_rates (currency, rate_to_reporting, valid_from)
     values ('EUR', 1.08, current_date - 500), ('EUR', 1.1, current_date - 200),
            ('EUR', 1.05, current_date - 30), ('GBP', 1.27, current_date - 100)
     on conflict do nothing`,
  );
  const [{ n }] = await db.query<{ n: number }>(
    "select count(*)::int as n from public.subscriptions",
  );
  return n;
}

/** The report as the API reads it: the three functions over 12 months. */
const REPORT = [
  `select count(*) from analytics.mrr_movements(${FROM}, ${TO})`,
  `select count(*) from analytics.revenue_churn(${FROM}, ${TO})`,
  `select count(*) from analytics.trial_conversion(${FROM}, ${TO})`,
];

/** The naive computation: every customer's MRR on every day, each day against the day before. */
const NAIVE = `with days as (
    select d::date as d from generate_series(${FROM} - 1, ${TO}, interval '1 day') d),
  rates as (
    select c.currency, days.d,
           case when c.currency = 'USD' then 1 else
             (select r.rate_to_reporting from analytics.exchange_rates r
               where r.currency = c.currency and r.valid_from <= days.d order by r.valid_from desc limit 1) end as rate
      from (select distinct currency from public.subscriptions) c, days),
  cm as (
    select days.d, s.user_id,
           sum(case when s.billing_interval = 'year' then s.amount_cents / 12.0 else s.amount_cents end * r.rate) as mrr
      from days
      join public.subscriptions s
        on s.status <> 'trialing'
       and greatest(s.started_at, s.trial_ends_at) < (days.d + 1)::timestamp at time zone 'UTC'
       and (s.canceled_at is null or s.canceled_at >= (days.d + 1)::timestamp at time zone 'UTC')
      join rates r on r.currency = s.currency and r.d = days.d
     group by 1, 2),
  pairs as (
    select coalesce(a.d, b.d + 1) as d, coalesce(a.mrr, 0) as cur, coalesce(b.mrr, 0) as prev
      from cm a full join cm b on b.user_id = a.user_id and b.d = a.d - 1)
  select count(*) from (
    select d, sum(cur - prev) filter (where prev = 0 and cur > 0) as new_mrr,
           sum(cur - prev) filter (where prev > 0 and cur > prev) as expansion,
           sum(cur - prev) filter (where cur > 0 and cur < prev) as contraction,
           sum(cur - prev) filter (where cur = 0 and prev > 0) as churned,
           sum(cur) as mrr, count(*) filter (where cur > 0) as customers
      from pairs where d between ${FROM} and ${TO} group by d) x`;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/**
 * Moves the subscriptions aside, generates the revenue data set, times the report (15 runs)
 * and the naive computation (3 runs) as the viewer, and puts the subscriptions back.
 *
 * @param db The database, as its owner.
 * @param viewerId A superuser's id, to read as them (through RLS).
 */
export async function benchRevenue(db: Database, viewerId: string): Promise<RevenueTiming[]> {
  await db.exec(
    `create table public.bench_saved_subscriptions as select * from public.subscriptions;
     delete from public.subscriptions;`,
  );
  try {
    const subscriptions = await generateRevenueSubscriptions(db);
    await db.query("analyze public.subscriptions");
    const asViewer = (sqls: string[]) =>
      actAsUser(db, { sub: viewerId }, async (tx) => {
        for (const sql of sqls) await tx.query(sql);
      }, { statementTimeoutMs: 600_000 });
    const out: RevenueTiming[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < 3; i++) baseline.push(await time(() => asViewer([NAIVE])));
    // The hourly refresh keeps the engine's days (private.revenue_days); timed here.
    const refreshMs = await time(() => db.query("select beacon.refresh_revenue_report(true)"));
    for (
      const [name, sqls, kept] of [
        ["revenue report (movements, churn, trials), 12 months, kept days", REPORT, true],
        ["MRR movements, 12 months by day, kept days", REPORT.slice(0, 1), true],
        [
          "revenue report, 12 months, computed live (a write since the last refresh)",
          REPORT,
          false,
        ],
      ] as Array<[string, string[], boolean]>
    ) {
      // A write to the subscriptions makes the kept days stale; the refresh makes them current.
      await db.query(
        kept
          ? "select beacon.refresh_revenue_report()"
          : "select nextval('private.revenue_changes')",
      );
      await asViewer(sqls); // warm
      const times: number[] = [];
      for (let i = 0; i < 15; i++) times.push(await time(() => asViewer(sqls)));
      out.push({
        name: `${name}, ${Math.round(subscriptions / 1000)} k subscriptions`,
        p50: percentile(times, 50),
        p95: percentile(times, 95),
        baseline: median(baseline),
        baselineName: "naive SQL: every customer's MRR on every day, joined to the day before",
        subscriptions,
        refreshMs,
      });
    }
    return out;
  } finally {
    await db.exec(
      `delete from public.subscriptions;
       insert into public.subscriptions select * from public.bench_saved_subscriptions;
       drop table public.bench_saved_subscriptions;
       delete from analytics.exchange_rates;`,
    );
  }
}

if (import.meta.main) {
  const { startOwnMigratedPostgres15 } = await import("../tests/support/database.ts");
  const { pg, db } = await startOwnMigratedPostgres15({
    settings: { shared_buffers: "1GB", work_mem: "64MB", max_parallel_workers_per_gather: "2" },
  });
  try {
    await generateUsers(db, 100_000);
    const [{ id }] = await db.query<{ id: string }>(
      "select beacon.create_user('bench-revenue@bench.test', 'bench-password', true)::text as id",
    );
    console.log(JSON.stringify(await benchRevenue(db, id), null, 2));
  } finally {
    await db.close();
    await pg.stop();
  }
}
