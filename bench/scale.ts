/**
 * `deno task bench:scale`: the scale run of issue 12. Loads events over twelve months in
 * batches up to BENCH_SCALE_MILLIONS (default 100) million, or until BENCH_SCALE_MINUTES
 * (default 360) of loading have passed, and measures ingestion through Beacon's HTTP API in
 * sampled windows from the start to the end of the load; then, at the size reached: bytes per
 * event, the 90-day timeseries and summary() as a superuser through RLS, one day's rollup,
 * and dropping a month of raw events. The table before issue 12 is loaded side by side with
 * the same batches up to BENCH_SCALE_LEGACY_MILLIONS (default: the target, at most 30) or half
 * the time budget, whichever comes first, and compared at that size.
 *
 * Writes bench/scale_results.json and the "Scale run" section of BENCHMARKS.md. Not part of
 * CI nor of `deno task bench`: at full size it takes hours and tens of GB of disk.
 *
 * @module
 */
import { startOwnMigratedPostgres15 } from "../tests/support/database.ts";
import type { Database } from "../database/mod.ts";
import { queryAsUser } from "../database/act_as.ts";
import { generateDay, generateUsers } from "./data.ts";
import { httpRate, median } from "./ingest.ts";
import { eventExtras, measureEventBytes } from "./size.ts";
import {
  createLegacyTable,
  LEGACY_TABLE,
  loadCurrentBatch,
  loadLegacyBatch,
  loadSpan,
  machine,
  nextMonth,
  type Sample,
  sampleWindow,
  time,
  windowEvents,
  type WindowTarget,
} from "./scale_load.ts";
import { type ScaleResults, writeScaleSection } from "./scale_report.ts";
import { BENCH_POSTGRES_SETTINGS, commitMeasured, startBenchBeacon } from "./harness.ts";

const env = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const TARGET = Math.round(env("BENCH_SCALE_MILLIONS", 100) * 1e6);
const BUDGET_MS = env("BENCH_SCALE_MINUTES", 360) * 60_000;
const LEGACY_TARGET = Math.round(
  env("BENCH_SCALE_LEGACY_MILLIONS", Math.min(TARGET / 1e6, 30)) * 1e6,
);
const BATCH = env("BENCH_SCALE_BATCH", Math.min(1e6, Math.max(1e5, Math.round(TARGET / 20))));
const WINDOW = env("BENCH_SCALE_WINDOW_EVENTS", 50_000);
const DAY_EVENTS = env("BENCH_SCALE_DAY_EVENTS", 1e6);
const USERS = 100_000;
const WARM_UP = 5_000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** p50 and p95 of a query run 15 times (after one warm-up) as a superuser through RLS. */
async function timeAsViewer(db: Database, viewer: string, sql: string) {
  const run = () => queryAsUser(db, { sub: viewer }, sql);
  await run();
  const times: number[] = [];
  for (let i = 0; i < 15; i++) times.push(await time(run));
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

/** The median of three runs of one day's raw group by (the rollup's core scan). */
async function rawDay(db: Database, table: string, day: string): Promise<number> {
  const sql = `select event_type, count(*), count(distinct user_id) from ${table}
                where "timestamp" >= $1::date::timestamp at time zone 'UTC'
                  and "timestamp" < ($1::date + 1)::timestamp at time zone 'UTC' group by 1`;
  const times: number[] = [];
  for (let i = 0; i < 3; i++) times.push(await time(() => db.query(sql, [day])));
  return median(times);
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

if (import.meta.main) {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const results: Partial<ScaleResults> & Record<string, unknown> = {};
  const resultsFile = new URL("./scale_results.json", import.meta.url);
  const log = (line: string) => {
    console.error(`[bench:scale ${Math.round(elapsed() / 1000)}s] ${line}`);
    Deno.writeTextFileSync(resultsFile, JSON.stringify(results, null, 2) + "\n");
  };
  const { pg, db } = await startOwnMigratedPostgres15({ settings: { ...BENCH_POSTGRES_SETTINGS } });
  const beacon = await startBenchBeacon({ kind: "postgres", url: pg.url });
  try {
    const span = loadSpan();
    results.machine = await machine(db);
    results.commit = await commitMeasured();
    results.settings = {
      targetEvents: TARGET,
      budgetMinutes: BUDGET_MS / 60_000,
      legacyTargetEvents: LEGACY_TARGET,
      batch: BATCH,
      windowEvents: WINDOW,
      dayEvents: DAY_EVENTS,
      users: USERS,
      from: span.from.toISOString(),
      until: span.until.toISOString(),
    };
    await db.query("select private.ensure_event_partitions(current_date + 62, $1::date)", [
      isoDay(span.from),
    ]);
    await generateUsers(db, USERS);
    await createLegacyTable(db);
    const target: WindowTarget = {
      dbUrl: pg.url,
      beaconUrl: beacon.url,
      ingestKey: beacon.ingestKey,
      events: WINDOW,
      runs: 3,
    };
    let events = USERS;
    let legacyEvents: number | undefined = 0;
    const samples: Sample[] = [];
    const sample = async () => {
      log(`ingestion window at ${events.toLocaleString("en-US")} events`);
      samples.push(await sampleWindow(target, events, legacyEvents));
      events += 2 * WINDOW * target.runs; // HTTP and SQL
      if (legacyEvents !== undefined) legacyEvents += WINDOW * target.runs;
      results.samples = samples;
    };
    // A warm-up (Beacon's first requests, the load generator's start), not measured.
    await httpRate(beacon.url, beacon.ingestKey, windowEvents(WARM_UP), 500);
    events += WARM_UP;
    await sample();

    // The side-by-side comparison, when the legacy table stops growing.
    const compare = async () => {
      log(`comparing both schemas at ${legacyEvents!.toLocaleString("en-US")} legacy events`);
      await db.query(`vacuum analyze ${LEGACY_TABLE}`);
      await db.query("vacuum analyze public.events");
      const day = isoDay(new Date(span.until.getTime() - 100 * 86_400_000));
      const oldest = { from: span.from, to: nextMonth(span.from) };
      const current = await measureEventBytes(db, "public.events", await eventExtras(db));
      const legacy = await measureEventBytes(db, LEGACY_TABLE);
      const currentDay = await rawDay(db, "public.events", day);
      const legacyDay = await rawDay(db, LEGACY_TABLE, day);
      let deleted = 0;
      const deleteMs = await time(async () => {
        const rows = await db.query<{ n: string }>(
          `with d as (delete from ${LEGACY_TABLE} where "timestamp" >= $1 and "timestamp" < $2
                      returning 1) select count(*)::text as n from d`,
          [oldest.from.toISOString(), oldest.to.toISOString()],
        );
        deleted = Number(rows[0].n);
      });
      results.legacy = {
        events: legacy.events,
        currentEvents: current.events,
        current,
        legacy,
        rawDayMs: { current: currentDay, legacy: legacyDay },
        deleteMonth: { rows: deleted, ms: deleteMs },
      };
      await db.exec("drop schema if exists bench_legacy cascade");
      legacyEvents = undefined;
    };

    // The load.
    const step = Math.max(BATCH, TARGET / 10);
    let nextSample = step;
    let chunk = 0;
    while (events < TARGET && elapsed() < BUDGET_MS) {
      const size = Math.min(BATCH, TARGET - events);
      await loadCurrentBatch(db, chunk, USERS, size, span);
      events += size;
      if (legacyEvents !== undefined) {
        await loadLegacyBatch(db, chunk, USERS, size, span);
        legacyEvents += size;
      }
      chunk++;
      log(`loaded ${events.toLocaleString("en-US")} events`);
      const more = events < TARGET && elapsed() < BUDGET_MS;
      const legacyDone = legacyEvents !== undefined &&
        (legacyEvents >= LEGACY_TARGET || elapsed() >= BUDGET_MS / 2);
      if (more && (events >= nextSample || legacyDone)) {
        await sample();
        if (events >= nextSample) nextSample += step;
        if (legacyDone) await compare();
      }
    }
    results.stoppedBy = events >= TARGET ? "target" : "time budget";
    results.loadSeconds = elapsed() / 1000;
    await sample(); // The end of the load.
    if (legacyEvents !== undefined) await compare();

    // At the size reached.
    log("bytes per event");
    await db.query("vacuum analyze public.events");
    results.bytes = await measureEventBytes(db, "public.events", await eventExtras(db));
    log("the nightly backfill of every day loaded");
    results.backfillSeconds = await time(() =>
      db.query("select analytics.run_daily_aggregation()")
    ) /
      1000;
    await db.query("vacuum analyze");
    log("queries as a superuser through RLS");
    const [{ id: viewer }] = await db.query<{ id: string }>(
      `select beacon.create_user('bench-viewer-' || gen_random_uuid() || '@bench.test', 'bench-password', true)::text as id`,
    );
    results.queries = {
      timeseries90: await timeAsViewer(
        db,
        viewer,
        `select * from analytics.timeseries('events', (now() at time zone 'UTC')::date - 89,
                                            (now() at time zone 'UTC')::date, 'day')`,
      ),
      summary: await timeAsViewer(db, viewer, "select * from analytics.summary()"),
    };

    log(`one day topped up to ${DAY_EVENTS.toLocaleString("en-US")} events, rolled up`);
    const heavyDay = isoDay(new Date(span.until.getTime() - 150 * 86_400_000));
    const eventsOn = async (day: string) =>
      Number(
        (await db.query<{ n: string }>(
          `select count(*)::text as n from public.events
            where "timestamp" >= $1::date::timestamp at time zone 'UTC'
              and "timestamp" < ($1::date + 1)::timestamp at time zone 'UTC'`,
          [day],
        ))[0].n,
      );
    // Topped up to DAY_EVENTS: the day already holds its share of the load.
    await generateDay(db, heavyDay, Math.max(0, DAY_EVENTS - await eventsOn(heavyDay)), USERS);
    await db.query("analyze public.events");
    const dayEvents = await eventsOn(heavyDay);
    const rollups: number[] = [];
    for (let i = 0; i < 3; i++) {
      rollups.push(
        await time(() => db.query("select analytics.aggregate_day($1::date)", [heavyDay])),
      );
    }
    results.dayRollup = { day: heavyDay, events: dayEvents, ms: median(rollups) };

    log("dropping the oldest month through the raw retention");
    const month = `events_${span.from.toISOString().slice(0, 7).replace("-", "_")}`;
    const [{ n: monthRows }] = await db.query<{ n: string }>(
      `select count(*)::text as n from event_partitions.${month}`,
    );
    // The horizon at the start of the second month: only the oldest one is entirely older.
    const retention = Math.round(
      (Date.parse(isoDay(new Date())) - nextMonth(span.from).getTime()) /
        86_400_000,
    );
    await db.query(
      `insert into beacon.settings (key, value) values ('raw_retention_days', $1)
       on conflict (key) do update set value = excluded.value`,
      [String(retention)],
    );
    // The months ahead first (the nightly part that is not the drop), and who else holds
    // locks on the events table, so that the drop's time is the drop's.
    const ensureMs = await time(() =>
      db.query("select private.ensure_event_partitions((current_date + interval '2 months')::date)")
    );
    const [{ n: lockers }] = await db.query<{ n: number }>(
      `select count(distinct pid)::int as n from pg_locks
        where relation = 'public.events'::regclass and pid <> pg_backend_pid()`,
    );
    let done: { partitions_dropped: string[]; ids_pruned?: number } = { partitions_dropped: [] };
    const dropMs = await time(async () => {
      const [row] = await db.query<{ r: typeof done }>("select beacon.maintain_raw_events() as r");
      done = row.r;
    });
    await db.query("delete from beacon.settings where key = 'raw_retention_days'");
    results.dropMonth = {
      partition: month,
      rows: Number(monthRows),
      ms: dropMs,
      dropped: done.partitions_dropped,
      idsPruned: done.ids_pruned ?? 0,
      ensureMs,
      otherLockHolders: lockers,
    };
  } finally {
    await beacon.shutdown();
    await db.close();
    await pg.stop();
  }
  results.totalSeconds = elapsed() / 1000;
  log("writing bench/scale_results.json and BENCHMARKS.md");
  await writeScaleSection(results as ScaleResults, new URL("../BENCHMARKS.md", import.meta.url));
}
