/**
 * Funnel benchmarks: analytics.funnel (3 steps, 14-day window, over 30 and 90 days) as a
 * superuser through RLS, against a naive SQL formulation of the same person counts (a
 * self-join of the step events per person) measured in the same run.
 *
 * `deno task bench` calls {@linkcode benchFunnels} at its large size. Standalone, on a fresh
 * PostgreSQL 15 with BENCH_EVENTS_MILLIONS million events (default 1) of bench/data.ts:
 * `BENCH_EVENTS_MILLIONS=1 deno run -A bench/funnel.ts`.
 *
 * @module
 */
import { startOwnMigratedPostgres15 } from "../tests/support/database.ts";
import { queryAsUser } from "../database/act_as.ts";
import { generateEventChunk, generateUsers } from "./data.ts";

/** One funnel timing: p50/p95 of analytics.funnel, the naive baseline's median, and the check. */
export interface FunnelTiming {
  name: string;
  p50: number;
  p95: number;
  baseline: number;
  baselineName: string;
  /** Whether the baseline gave the same persons per step. */
  same: boolean;
}

const STEPS = ["page_view", "feature_used", "checkout_started"];

function funnelSql(days: number): string {
  return `select step, persons from analytics.funnel(
    '${JSON.stringify(STEPS.map((event) => ({ event })))}'::jsonb,
    (now() at time zone 'UTC')::date - ${days - 1}, (now() at time zone 'UTC')::date, '14 days')
    order by step`;
}

/**
 * The same person counts by a straightforward self-join over analytics.person_events (a
 * person reaches step k when some chain of k step events fits the rules; not materialized,
 * so the planner hash-joins instead of nesting loops over a CTE).
 */
function naiveSql(days: number): string {
  return `with bounds as (
      select ((now() at time zone 'UTC')::date - ${days - 1})::timestamp at time zone 'UTC' as lo,
             ((now() at time zone 'UTC')::date + 1)::timestamp at time zone 'UTC' as hi
    ),
    e as not materialized (
      select pe.person_id, pe.event_type, pe."timestamp" as ts
        from analytics.person_events pe, bounds b
       where pe."timestamp" >= b.lo and pe."timestamp" < b.hi + interval '14 days'
         and pe.event_type in ('${STEPS.join("', '")}')
    )
    select s.step, s.persons from (
      select 1 as step, count(distinct s1.person_id) as persons
        from e s1, bounds b where s1.event_type = '${STEPS[0]}' and s1.ts >= b.lo and s1.ts < b.hi
      union all
      select 2, count(distinct s1.person_id)
        from e s1 join e s2 on s2.person_id = s1.person_id and s2.event_type = '${STEPS[1]}'
                           and s2.ts > s1.ts and s2.ts <= s1.ts + interval '14 days', bounds b
       where s1.event_type = '${STEPS[0]}' and s1.ts >= b.lo and s1.ts < b.hi
      union all
      select 3, count(distinct s1.person_id)
        from e s1 join e s2 on s2.person_id = s1.person_id and s2.event_type = '${STEPS[1]}'
                           and s2.ts > s1.ts and s2.ts <= s1.ts + interval '14 days'
                  join e s3 on s3.person_id = s1.person_id and s3.event_type = '${STEPS[2]}'
                           and s3.ts > s2.ts and s3.ts <= s1.ts + interval '14 days', bounds b
       where s1.event_type = '${STEPS[0]}' and s1.ts >= b.lo and s1.ts < b.hi
    ) s order by s.step`;
}

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
 * Times the funnels.
 *
 * @param run Runs a query as the superuser viewer (through RLS).
 * @param label The data size, e.g. `10 M`.
 * @param runs Timed runs of analytics.funnel (the baseline runs 3 times). @default {9}
 */
export async function benchFunnels(
  run: (sql: string) => Promise<Array<Record<string, unknown>>>,
  label: string,
  runs = 9,
): Promise<FunnelTiming[]> {
  const out: FunnelTiming[] = [];
  for (const days of [30, 90]) {
    const answer = await run(funnelSql(days)); // warm
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push((await timed(() => run(funnelSql(days))))[0]);
    const baseline: number[] = [];
    let naive: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 3; i++) {
      const [ms, rows] = await timed(() => run(naiveSql(days)));
      baseline.push(ms);
      naive = rows;
    }
    const counts = (rows: Array<Record<string, unknown>>) => rows.map((r) => Number(r.persons));
    out.push({
      name: `funnel, 3 steps, ${days} days @ ${label}`,
      p50: percentile(times, 50),
      p95: percentile(times, 95),
      baseline: percentile(baseline, 50),
      baselineName: "self-join of step events per person",
      same: JSON.stringify(counts(answer)) === JSON.stringify(counts(naive)),
    });
  }
  return out;
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
    await db.query("vacuum analyze");
    const [{ id }] = await db.query<{ id: string }>(
      "select beacon.create_user('bench-funnel@bench.test', 'bench-password', true)::text as id",
    );
    const run = (sql: string) =>
      queryAsUser(db, { sub: id }, sql, {
        statementTimeoutMs: 600_000,
      });
    console.log(JSON.stringify(await benchFunnels(run, `${millions} M`), null, 2));
  } finally {
    await db.close();
    await pg.stop();
  }
}
