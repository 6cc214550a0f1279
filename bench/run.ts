// Over 300 lines: one benchmark run, read top to bottom, each section one measurement.
/**
 * `deno task bench`: measures ingestion, dashboard queries, the nightly job, page renders
 * and the embedded database on this machine, each against a baseline measured in the same
 * run, and writes BENCHMARKS.md and bench/results.json.
 *
 * Set BENCH_EVENTS_MILLIONS (default 10) to change the large data set's size.
 *
 * @module
 */
import { startOwnMigratedPostgres15 } from "../tests/support/database.ts";
import { openMigratedPglite } from "../tests/support/database.ts";
import type { Database } from "../database/mod.ts";
import { queryAsUser } from "../database/act_as.ts";
import { issueAccessToken } from "../auth/tokens.ts";
import { buildIslands } from "../hydration/build.ts";
import {
  benchIngestion,
  benchSupabaseJsInserts,
  httpRate,
  type IngestResult,
  makeEvents,
  median,
} from "./ingest.ts";
import { CHUNK, generateDay, generateEventChunk, generateUsers } from "./data.ts";
import { measureWire, type WireWeight } from "./wire.ts";
import { benchWireClient } from "./wire_client.ts";
import { benchPersonBits, benchPersonReports } from "./retention.ts";
import { benchFunnels } from "./funnel.ts";
import { benchRevenue } from "./revenue.ts";
import { benchTrends } from "./trends.ts";
import { benchLiveHours } from "./live.ts";
import { benchEventSize, preparePartitions } from "./size.ts";
import { benchGroupCommit } from "./group_commit.ts";
import { benchPostHogBatches } from "./posthog.ts";
import { BENCH_POSTGRES_SETTINGS, commitMeasured, startBenchBeacon } from "./harness.ts";

const USERS = 100_000;
const LARGE_MILLIONS = Number(Deno.env.get("BENCH_EVENTS_MILLIONS") ?? 10);

/** Timing of one query: p50, p95 and the baseline's median, in milliseconds. */
interface QueryTiming {
  name: string;
  p50: number;
  p95: number;
  baseline: number | null;
  baselineName: string | null;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Who the queries run as: a superuser, through RLS, as the dashboard runs them. */
let viewer: { sub: string } | undefined;

function query<T>(db: Database, sql: string): Promise<T[]> {
  // The raw-scan baselines take seconds at 10 M events: no 8 s dashboard timeout here.
  return viewer
    ? queryAsUser<T>(db, viewer, sql, { statementTimeoutMs: 600_000 })
    : db.query<T>(sql);
}

async function timeQuery(db: Database, sql: string, runs: number): Promise<number[]> {
  await query(db, sql); // warm
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await time(() => query(db, sql)));
  return times;
}

/** Creates a superuser and runs the timed queries as them from now on. */
async function queryAsSuperuser(db: Database): Promise<void> {
  const [{ id }] = await db.query<{ id: string }>(
    `select beacon.create_user('bench-viewer-' || gen_random_uuid() || '@bench.test', 'bench-password', true)::text as id`,
  );
  viewer = { sub: id };
}

const DAYS_90 = `(now() at time zone 'UTC')::date - 89`;
const TODAY = `(now() at time zone 'UTC')::date`;
const RANGE_START = `(${DAYS_90})::timestamp at time zone 'UTC'`;

/** The dashboard's queries and, for each, the same answer from the raw events. */
const QUERIES: Array<{ name: string; sql: string; baselineName: string; baseline: string }> = [
  ...["day", "week", "month"].map((bucket) => ({
    name: `timeseries events, 90 days by ${bucket}`,
    sql: `select * from analytics.timeseries('events', ${DAYS_90}, ${TODAY}, '${bucket}')`,
    baselineName: "group by over raw events",
    baseline: `select date_trunc('${bucket}', "timestamp" at time zone 'UTC') as b, count(*)
                 from public.events where "timestamp" >= ${RANGE_START} group by 1 order by 1`,
  })),
  {
    name: "timeseries active users, 90 days by week",
    sql: `select * from analytics.timeseries('active_users', ${DAYS_90}, ${TODAY}, 'week')`,
    baselineName: "count distinct over raw events",
    baseline:
      `select date_trunc('week', "timestamp" at time zone 'UTC') as b, count(distinct user_id)
                 from public.events where "timestamp" >= ${RANGE_START} group by 1 order by 1`,
  },
  {
    name: "summary()",
    sql: "select * from analytics.summary()",
    baselineName: "the same numbers from raw events",
    baseline: `select (select count(*) from public.profiles),
                      (select count(*) from public.events where event_type = 'user_signup'),
                      (select count(*) from private.paying_subscriptions(now())),
                      (select count(distinct user_id) from public.events
                        where "timestamp" >= (${TODAY} - 30)::timestamp at time zone 'UTC'
                          and "timestamp" < (${TODAY})::timestamp at time zone 'UTC'),
                      (select count(distinct user_id) from public.events
                        where "timestamp" >= (${TODAY} - 7)::timestamp at time zone 'UTC'
                          and "timestamp" < (${TODAY})::timestamp at time zone 'UTC'),
                      (select count(distinct user_id) from public.events
                        where "timestamp" >= (${TODAY} - 1)::timestamp at time zone 'UTC'
                          and "timestamp" < (${TODAY})::timestamp at time zone 'UTC')`,
  },
  {
    name: "breakdown, 90 days",
    sql: `select * from analytics.breakdown(${DAYS_90}, ${TODAY})`,
    baselineName: "group by over raw events",
    baseline: `select event_type, count(*) from public.events where "timestamp" >= ${RANGE_START}
                group by 1 order by 2 desc limit 10`,
  },
];

async function benchQueries(db: Database, label: string): Promise<QueryTiming[]> {
  const results: QueryTiming[] = [];
  for (const q of QUERIES) {
    const times = await timeQuery(db, q.sql, 15);
    const baseline = await timeQuery(db, q.baseline, 3);
    results.push({
      name: `${q.name} @ ${label}`,
      p50: percentile(times, 50),
      p95: percentile(times, 95),
      baseline: median(baseline),
      baselineName: q.baselineName,
    });
  }
  // The explorer: first page, and the 100th reached by keyset (against OFFSET).
  const page = (before: string) =>
    `select id::text, "timestamp"::text as ts from analytics.events_page(${before}page_size => 50)`;
  const first = await timeQuery(db, page(""), 15);
  let cursor: { id: string; ts: string } | undefined;
  for (let i = 0; i < 99; i++) {
    const rows = await query<{ id: string; ts: string }>(
      db,
      page(cursor ? `before_ts => '${cursor.ts}', before_id => '${cursor.id}', ` : ""),
    );
    cursor = rows[rows.length - 1];
  }
  const hundredth = await timeQuery(
    db,
    page(`before_ts => '${cursor!.ts}', before_id => '${cursor!.id}', `),
    15,
  );
  const offsetBaseline = await timeQuery(
    db,
    `select id, "timestamp" from public.events order by "timestamp" desc, id desc offset 4950 limit 50`,
    3,
  );
  const scanBaseline = await timeQuery(
    db,
    `select id from (select id, "timestamp" from public.events order by "timestamp" desc, id desc) e limit 50`,
    3,
  );
  results.push({
    name: `explorer page 1 @ ${label}`,
    p50: percentile(first, 50),
    p95: percentile(first, 95),
    baseline: median(scanBaseline),
    baselineName: "plain newest-first query",
  });
  results.push({
    name: `explorer page 100 (keyset) @ ${label}`,
    p50: percentile(hundredth, 50),
    p95: percentile(hundredth, 95),
    baseline: median(offsetBaseline),
    baselineName: "OFFSET 4950",
  });
  return results;
}

async function freshRollup(db: Database): Promise<number> {
  await db.exec(
    "truncate analytics.daily_metrics, analytics.user_activity, analytics.aggregated_days, analytics.aggregation_runs",
  );
  return await time(() => db.query("select analytics.run_daily_aggregation()"));
}

function fmt(n: number, digits = 1): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(digits);
}

async function machine(db: Database): Promise<Record<string, string>> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ??
    "unknown";
  const mem = Number(
    (await Deno.readTextFile("/proc/meminfo")).match(/MemTotal:\s*(\d+)/)?.[1] ?? 0,
  );
  const [{ server_version }] = await db.query<{ server_version: string }>("show server_version");
  return {
    cpu,
    cores: String(navigator.hardwareConcurrency),
    memory: `${(mem / 1024 / 1024).toFixed(1)} GiB`,
    postgres: server_version,
    deno: Deno.version.deno,
    date: new Date().toISOString(),
    commit: await commitMeasured(),
  };
}

if (import.meta.main) {
  const started = performance.now();
  const results: Record<string, unknown> = {};
  // Each section's start also saves what the run has measured so far, so a run that fails late
  // (at 10 M events it takes over an hour) still leaves its figures in results.partial.json.
  const log = (line: string) => {
    console.error(`[bench ${Math.round((performance.now() - started) / 1000)}s] ${line}`);
    Deno.writeTextFileSync(
      new URL("./results.partial.json", import.meta.url),
      JSON.stringify(results, null, 2) + "\n",
    );
  };
  const { pg, db } = await startOwnMigratedPostgres15({ settings: { ...BENCH_POSTGRES_SETTINGS } });
  try {
    const info = await machine(db);
    results.machine = info;

    // 1. Ingestion, on an empty events table.
    log("ingestion over HTTP against COPY");
    const beacon = await startBenchBeacon({ kind: "postgres", url: pg.url });
    let ingestion: IngestResult[];
    let supabaseJs: IngestResult;
    try {
      ingestion = await benchIngestion({
        dbUrl: pg.url,
        beaconUrl: beacon.url,
        ingestKey: beacon.ingestKey,
      });
      log("supabase-js-shaped inserts against COPY");
      supabaseJs = await benchSupabaseJsInserts(pg.url);
      log("one event per request, with and without group commit");
      results.groupCommit = await benchGroupCommit({
        dbUrl: pg.url,
        beaconUrl: beacon.url,
        ingestKey: beacon.ingestKey,
      });
      log("posthog-js-shaped batches against COPY");
      results.posthogBatches = await benchPostHogBatches({
        dbUrl: pg.url,
        beaconUrl: beacon.url,
        ingestKey: beacon.ingestKey,
      });
    } finally {
      await beacon.shutdown();
    }
    results.ingestion = ingestion;
    results.supabaseJs = supabaseJs;
    results.edge = await (await import("./edge.ts")).benchEdge(pg.url, log);
    await db.exec("truncate public.events, private.event_ids, auth.users cascade");

    // 2 and 3. Queries at 1 M and at the large size, and the nightly job.
    log(`generating ${USERS.toLocaleString()} users and 1 M events`);
    await preparePartitions(db);
    await generateUsers(db, USERS);
    await generateEventChunk(db, 0, USERS);
    results.eventSize = await benchEventSize(db, USERS);
    const backfill1m = await freshRollup(db);
    await db.query("analyze");
    await queryAsSuperuser(db);
    // As a running Beacon leaves it: the hourly job has rolled up today's closed hours.
    await db.query("select analytics.run_hourly_rollup()");
    log("queries at 1 M events");
    const queries1m = await benchQueries(db, "1 M");

    // At 1 M the large data set is the 1 M one: its figures are not measured twice.
    let backfillLarge = backfill1m;
    let queriesLarge: QueryTiming[] = [];
    if (LARGE_MILLIONS > 1) {
      log(`generating up to ${LARGE_MILLIONS} M events`);
      for (let chunk = 1; chunk < LARGE_MILLIONS; chunk++) {
        await generateEventChunk(db, chunk, USERS);
      }
      await db.query("vacuum analyze public.events");
      log(`full backfill of ${LARGE_MILLIONS} M events`);
      backfillLarge = await freshRollup(db);
      await db.query("vacuum analyze");
      await db.query("select analytics.run_hourly_rollup()");
      log(`queries at ${LARGE_MILLIONS} M events`);
      queriesLarge = await benchQueries(db, `${LARGE_MILLIONS} M`);
    }
    results.largeMillions = LARGE_MILLIONS;
    log(`person reports at ${LARGE_MILLIONS} M events`);
    // As the hourly job leaves it: today's closed hours in the bitmaps, the open hour live.
    await db.query("select analytics.extend_person_bits()");
    results.personReports = {
      reports: await benchPersonReports(
        (sql) => query(db, sql),
        `${LARGE_MILLIONS} M`,
        // The naive baselines take minutes at 10 M events: one run each, at most 3 minutes.
        (sql) => queryAsUser(db, viewer!, sql, { statementTimeoutMs: 180_000 }),
        180_000,
      ),
      personBits: await benchPersonBits(db),
    };
    // Funnels on the large data set (the 1 M one when that is the large size).
    (LARGE_MILLIONS > 1 ? queriesLarge : queries1m).push(
      ...await benchFunnels((sql) => query(db, sql), `${LARGE_MILLIONS} M`),
    );
    results.revenue = await benchRevenue(db, viewer!.sub);
    results.trends = await benchTrends(db, (sql) => query(db, sql), `${LARGE_MILLIONS} M`);
    results.liveHours = await benchLiveHours(
      db,
      (sql) => query(db, sql),
      `${LARGE_MILLIONS} M`,
      pg.adminUrl,
    );

    log("aggregating a day of 100 k and of 1 M events");
    const heavyDay = new Date(Date.now() - 120 * 86_400_000).toISOString().slice(0, 10);
    const lighterDay = new Date(Date.now() - 150 * 86_400_000).toISOString().slice(0, 10);
    await generateDay(db, lighterDay, 100_000, USERS);
    await generateDay(db, heavyDay, CHUNK, USERS);
    // As the nightly maintenance leaves them: each month in its own partition, not the default.
    await db.query("select private.ensure_event_partitions(current_date + 62, $1::date)", [
      lighterDay,
    ]);
    await db.query("analyze public.events");
    const day100k = median([
      await time(() => db.query("select analytics.aggregate_day($1::date)", [lighterDay])),
      await time(() => db.query("select analytics.aggregate_day($1::date)", [lighterDay])),
      await time(() => db.query("select analytics.aggregate_day($1::date)", [lighterDay])),
    ]);
    const day1m = median([
      await time(() => db.query("select analytics.aggregate_day($1::date)", [heavyDay])),
      await time(() => db.query("select analytics.aggregate_day($1::date)", [heavyDay])),
      await time(() => db.query("select analytics.aggregate_day($1::date)", [heavyDay])),
    ]);
    const rawDay = median([
      await time(() =>
        db.query(
          `select event_type, count(*), count(distinct user_id) from public.events
            where "timestamp" >= $1::date::timestamp at time zone 'UTC'
              and "timestamp" < ($1::date + 1)::timestamp at time zone 'UTC' group by 1`,
          [heavyDay],
        )
      ),
    ]);
    results.nightly = { backfill1m, backfillLarge, day100k, day1m, rawDay };

    // 4. Pages, on the large data set.
    log("page renders at the large size");
    const islandsDir = await Deno.makeTempDir({ prefix: "beacon-bench-islands-" });
    const islands = await buildIslands({ outDir: islandsDir });
    const jsGzip = islands.reduce((sum, f) => sum + f.gzipBytes, 0);
    const pageBeacon = await startBenchBeacon({ kind: "postgres", url: pg.url }, islandsDir);
    let renders: number[] = [];
    let explorerRenders: number[] = [];
    const wire: WireWeight[] = [];
    try {
      const [{ id }] = await db.query<{ id: string }>(
        "select beacon.create_user('bench-admin@bench.test', 'bench-password', true)::text as id",
      );
      const token = await issueAccessToken({ id, email: "bench-admin@bench.test" }, {
        secret: pageBeacon.localTokenSecret,
      });
      const get = async (path: string) => {
        const res = await fetch(`${pageBeacon.url}${path}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
        await res.text();
      };
      await get("/analytics");
      for (let i = 0; i < 20; i++) renders.push(await time(() => get("/analytics")));
      for (let i = 0; i < 20; i++) explorerRenders.push(await time(() => get("/analytics/events")));
      log("bytes on the wire, as Chromium receives the pages");
      const account = { email: "bench-admin@bench.test", password: "bench-password" };
      for (const path of ["/analytics", "/analytics/events", "/login"]) {
        wire.push(await measureWire(pageBeacon.url, path, account));
      }
    } finally {
      await pageBeacon.shutdown();
    }
    results.pages = {
      analyticsP50: percentile(renders, 50),
      analyticsP95: percentile(renders, 95),
      eventsP50: percentile(explorerRenders, 50),
      eventsP95: percentile(explorerRenders, 95),
      jsGzipBytes: jsGzip,
      files: islands,
      wire,
    };
    renders = explorerRenders = [];
    results.queries = [...queries1m, ...queriesLarge];

    // 5. The embedded database at 1 M events, as ratios to PostgreSQL 15.
    log("PGlite at 1 M events");
    const lite = await openMigratedPglite();
    let pglite: Record<string, unknown>;
    try {
      const generate = await time(async () => {
        await preparePartitions(lite);
        await generateUsers(lite, USERS);
        await generateEventChunk(lite, 0, USERS);
      });
      const backfill = await freshRollup(lite);
      await queryAsSuperuser(lite);
      const liteQueries = await benchQueries(lite, "1 M (PGlite)");
      const liteBeacon = await startBenchBeacon({ kind: "embedded", dataDir: "memory://" });
      const liteRates: number[] = [];
      try {
        for (let run = 0; run < 3; run++) {
          liteRates.push(
            await httpRate(liteBeacon.url, liteBeacon.ingestKey, makeEvents(50_000), 500),
          );
          await liteBeacon.db.query("truncate public.events");
        }
      } finally {
        await liteBeacon.shutdown();
      }
      const liteIngest = { batch: 500, eventsPerSecond: median(liteRates) };
      pglite = { generate, backfill, queries: liteQueries, ingestion: liteIngest };
    } finally {
      await lite.close();
    }
    results.pglite = pglite;
    log("ingestion into PGlite with a Postgres client connected");
    results.wireClient = await benchWireClient();
  } finally {
    await db.close();
    await pg.stop();
  }
  results.totalSeconds = (performance.now() - started) / 1000;
  const { saveResults } = await import("./report.ts");
  const reported = await saveResults(results, {
    resultsFile: new URL("./results.json", import.meta.url),
    reportFile: new URL("../BENCHMARKS.md", import.meta.url),
  });
  log(reported ? "wrote BENCHMARKS.md and bench/results.json" : "wrote bench/results.json only");
  if (!reported) Deno.exitCode = 1;
  console.log(fmt(results.totalSeconds as number));
}
