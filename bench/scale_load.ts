/**
 * The scale run's load and its sampled ingestion windows (bench/scale.ts): events spread
 * over twelve whole months plus the current one, loaded in batches by `insert ... select`
 * (bench/data.ts style) into today's partitioned `public.events` and, side by side, into
 * the table before issue 12 (`bench_legacy.events`, bench/size.ts).
 *
 * @module
 */
import postgres from "postgres";
import type { Database, Queryable } from "../database/mod.ts";
import { LEGACY_EVENTS } from "./size.ts";
import { httpRate, makeEvents, median } from "./ingest.ts";

/** The table before issue 12, as bench/size.ts defines it. */
export const LEGACY_TABLE = "bench_legacy.events";

/** Where the load's events lie: [from, until). */
export interface Span {
  /** UTC midnight on the first day of the month twelve months before this one. */
  from: Date;
  /** When the run started: no event is later. */
  until: Date;
}

/** The span of a run started at `now`: twelve whole months and the current one so far. */
export function loadSpan(now = new Date()): Span {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 12, 1));
  return { from, until: now };
}

/** The first instant of the month after the one `day` lies in (UTC). */
export function nextMonth(day: Date): Date {
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1));
}

/** The rows of one batch, as bench/data.ts makes them, but spread evenly over the span. */
function batchSelect(): string {
  // $1 users, $2 size, $3 chunk, $4 from, $5 until. Received when they happened.
  return `select (array['page_view', 'page_view', 'feature_used', 'button_click', 'goal_submitted', 'checkout_started'])[1 + (g % 6)] as event_type,
            case when g % 4 = 0 then null
                 else ('00000000-0000-4000-8000-' || lpad((((g + $3::bigint * 7) * 7919) % $1::int)::text, 12, '0'))::uuid end as user_id,
            case when g % 4 = 0 then 'anon-' || (((g + $3::bigint) * 104729) % ($1::int * 2)) end as anonymous_id,
            jsonb_build_object('path', '/page/' || (g % 50), 'n', g % 1000) as payload,
            $5::timestamptz - ((((g - 1)::float8 + ($3::int % 10)::float8 / 10) / $2::bigint)
                               * extract(epoch from $5::timestamptz - $4::timestamptz)) * interval '1 second' as ts
       from generate_series(1, $2::bigint) as g`;
}

/**
 * Loads one batch into `public.events`. Every event is received at its own time, so only the
 * ids received within the idempotency horizon are kept in `private.event_ids`, as after a year
 * of nightly pruning: the id trigger is disabled inside this one transaction (other sessions,
 * such as the Beacon ingesting meanwhile, still run it) and the batch records those ids itself.
 *
 * @param db The database (as the events table's owner).
 * @param chunk Which batch (keeps rows of different batches apart).
 * @param users How many users the events come from.
 * @param size Events in the batch.
 * @param span Where the events lie.
 */
export async function loadCurrentBatch(
  db: Database,
  chunk: number,
  users: number,
  size: number,
  span: Span,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec("alter table public.events disable trigger beacon_record_event_ids");
    await tx.query(
      `with ins as (
         insert into public.events (event_type, user_id, anonymous_id, payload, "timestamp", received_at)
         select event_type, user_id, anonymous_id, payload, ts, ts from (${batchSelect()}) as s
         returning id, received_at)
       insert into private.event_ids (id, received_at)
       select id, received_at from ins
        where received_at >= (select now() - make_interval(days => private.event_id_horizon_days()))`,
      [users, size, chunk, span.from.toISOString(), span.until.toISOString()],
    );
    await tx.exec("alter table public.events enable trigger beacon_record_event_ids");
  });
}

/** Loads the same batch into the table before issue 12 (its primary key holds every id). */
export async function loadLegacyBatch(
  db: Queryable,
  chunk: number,
  users: number,
  size: number,
  span: Span,
): Promise<void> {
  await db.query(
    `insert into ${LEGACY_TABLE} (event_type, user_id, anonymous_id, payload, "timestamp", received_at)
     select event_type, user_id, anonymous_id, payload, ts, ts from (${batchSelect()}) as s`,
    [users, size, chunk, span.from.toISOString(), span.until.toISOString()],
  );
}

/** Creates the table before issue 12 (empty). */
export async function createLegacyTable(db: Queryable): Promise<void> {
  await db.exec(`drop schema if exists bench_legacy cascade; ${LEGACY_EVENTS}`);
}

let windowsMade = 0;

/**
 * The day the next sampled window sends its events for: one of the 30 days before today
 * (UTC), the next one at each call.
 *
 * @returns Its first instant (milliseconds).
 */
export function nextWindowDay(): number {
  const today = Date.parse(new Date().toISOString().slice(0, 10) + "T00:00:00Z");
  return today - (1 + (windowsMade++ % 30)) * 86_400_000;
}

/**
 * Request-shaped events (bench/ingest.ts's `makeEvents`, UUID version 7 ids) of one day,
 * spread over it in time order, as an app's events arrive. The windows use the 30 days
 * before today: if every window sent events of the last hours, today would end the run with
 * millions of live events, and the dashboard's live part of today (not the rollups) would
 * be what the query timings measure.
 *
 * @param n How many.
 * @param dayStart The day's first instant (milliseconds), by default {@linkcode nextWindowDay}.
 */
export function windowEvents(n: number, dayStart = nextWindowDay()): ReturnType<typeof makeEvents> {
  return makeEvents(n, (i) => dayStart + (i * 86_400_000) / n);
}

/**
 * Events per second of the statement an API batch turns into (`insert ... select from
 * json_populate_recordset`, batches of `batch`, one transaction each, one connection), for
 * comparing both schemas without HTTP: Beacon only writes to `public.events`.
 *
 * @param dbUrl A connection string (the table's owner).
 * @param table The table.
 * @param n Events.
 * @param batch Events per statement.
 * @param dayStart The day of the events (as {@linkcode windowEvents}), by default the next one.
 */
export async function sqlBatchRate(
  dbUrl: string,
  table: string,
  n: number,
  batch = 500,
  dayStart?: number,
): Promise<number> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const events = windowEvents(n, dayStart);
    const bodies: string[] = [];
    for (let i = 0; i < n; i += batch) {
      bodies.push(JSON.stringify(
        events.slice(i, i + batch).map((e) => ({
          id: e.uuid,
          event_type: e.event,
          anonymous_id: e.anonymous_id,
          payload: e.properties,
          timestamp: e.timestamp,
        })),
      ));
    }
    const started = performance.now();
    for (const body of bodies) {
      await sql.unsafe(
        `insert into ${table} (id, event_type, anonymous_id, payload, "timestamp")
         select id, event_type, anonymous_id, payload, "timestamp"
           from json_populate_recordset(null::public.events, $1::text::json)`,
        [body],
      );
    }
    return n / ((performance.now() - started) / 1000);
  } finally {
    await sql.end();
  }
}

/** One sampled window of ingestion during the load. */
export interface Sample {
  /** Events in `public.events` when the window started (as loaded; approximate). */
  events: number;
  /** Median events/s through POST /api/v1/events, batches of 500. */
  httpPerSecond: number;
  /** Median events/s of the API's insert statement into public.events (no HTTP). */
  sqlPerSecond: number;
  /** Events in the legacy table, when it was still being loaded. */
  legacyEvents?: number;
  /** The same statement's rate into the legacy table. */
  legacySqlPerSecond?: number;
}

/** What a window needs to reach. */
export interface WindowTarget {
  dbUrl: string;
  beaconUrl: string;
  ingestKey: string;
  /** Events per run. */
  events: number;
  /** Runs (the median is kept). */
  runs: number;
}

/**
 * Measures one window: HTTP batches of 500 into Beacon, the same statement without HTTP into
 * public.events, and (when given) into the legacy table. The events stay (they add
 * `runs * events * (legacy ? 2 : 1)` rows to public.events and `runs * events` to legacy).
 */
export async function sampleWindow(
  t: WindowTarget,
  events: number,
  legacyEvents?: number,
): Promise<Sample> {
  const http: number[] = [];
  const current: number[] = [];
  const legacy: number[] = [];
  for (let run = 0; run < t.runs; run++) {
    // One day per run, the same for HTTP and both statements (each with its own ids).
    const day = nextWindowDay();
    http.push(await httpRate(t.beaconUrl, t.ingestKey, windowEvents(t.events, day), 500));
    current.push(await sqlBatchRate(t.dbUrl, "public.events", t.events, 500, day));
    if (legacyEvents !== undefined) {
      legacy.push(await sqlBatchRate(t.dbUrl, LEGACY_TABLE, t.events, 500, day));
    }
  }
  return {
    events,
    httpPerSecond: median(http),
    sqlPerSecond: median(current),
    ...(legacyEvents === undefined ? {} : { legacyEvents, legacySqlPerSecond: median(legacy) }),
  };
}

/** Milliseconds one call takes. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** The machine the run is on. */
export async function machine(db: Queryable): Promise<Record<string, string>> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ??
    "unknown";
  const mem = Number(
    (await Deno.readTextFile("/proc/meminfo")).match(/MemTotal:\s*(\d+)/)?.[1] ?? 0,
  );
  const [{ server_version }] = await db.query<{ server_version: string }>("show server_version");
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  return {
    cpu,
    cores: String(navigator.hardwareConcurrency),
    memory: `${(mem / 1024 / 1024).toFixed(1)} GiB`,
    postgres: server_version,
    deno: Deno.version.deno,
    date: new Date().toISOString(),
    loadAverage: load,
  };
}
