/**
 * The dashboard's reads, each made in the viewer's transaction (so RLS decides): the
 * metrics, the summary, one series, the breakdown by event type, a page of raw events.
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";
import type { ChartSelection, SeriesPoint } from "./series.ts";
import { markPartialPeriods } from "./partial_periods.ts";
import { addDays, todayUtc } from "./days.ts";
import { eventCursor, type EventFilters, MAX_EVENTS_PAGE } from "./params.ts";

/** Display names of the metrics. */
export const METRIC_LABELS: Record<string, string> = {
  events: "Events",
  signups: "Signups",
  active_users: "Active users",
  weekly_active_users: "Weekly active users",
  monthly_active_users: "Monthly active users",
  active_subscriptions: "Active subscriptions",
  mrr_cents: "MRR (USD)",
  new_subscriptions: "New subscriptions",
  churned_subscriptions: "Churned subscriptions",
};

/** The summary's numbers. */
export interface Summary {
  total_users: number;
  total_signups: number;
  active_subscriptions: number;
  mrr_estimate_usd: number;
  dau: number;
  wau: number;
  mau: number;
}

function toSummary(row: Record<string, unknown>): Summary {
  const n = (key: keyof Summary) => Number(row[key] ?? 0);
  return {
    total_users: n("total_users"),
    total_signups: n("total_signups"),
    active_subscriptions: n("active_subscriptions"),
    mrr_estimate_usd: n("mrr_estimate_usd"),
    dau: n("dau"),
    wau: n("wau"),
    mau: n("mau"),
  };
}

/** The metrics that exist (from analytics.metric_definitions), with their descriptions. */
export async function readMetrics(tx: Queryable) {
  const rows = await tx.query<{ metric: string; description: string }>(
    "select metric, description from analytics.metric_definitions order by metric",
  );
  const order = Object.keys(METRIC_LABELS);
  return rows
    .map((r) => ({
      metric: r.metric,
      label: METRIC_LABELS[r.metric] ?? r.metric,
      // The part before the note on dimensions, which is for SQL readers.
      description: r.description.split(";")[0].replace(/\.?$/, "."),
    }))
    .sort((a, b) => order.indexOf(a.metric) - order.indexOf(b.metric));
}

/**
 * The first UTC day whose raw events are kept (the raw-event retention's horizon), or null
 * when raw events are kept for ever.
 */
export async function readRawEventsKeptFrom(tx: Queryable): Promise<string | null> {
  const [{ day }] = await tx.query<{ day: string | null }>(
    "select analytics.raw_events_kept_from()::text as day",
  );
  return day;
}

/** The summary now, and as it stood the day before `from`. */
export async function readSummary(
  tx: Queryable,
  from: string,
): Promise<{ current: Summary; previous: Summary }> {
  const [current] = await tx.query<Record<string, unknown>>("select * from analytics.summary()");
  const [previous] = await tx.query<Record<string, unknown>>(
    "select * from analytics.summary_as_of($1::date)",
    [addDays(from, -1)],
  );
  return { current: toSummary(current), previous: toSummary(previous) };
}

/**
 * One series, each bucket marked `incomplete` when it is a partial period (today, a week or
 * month the range cuts) and with no value after today; see `partial_periods.ts`.
 */
export async function readSeries(
  tx: Queryable,
  metric: string,
  from: string,
  to: string,
  bucket: ChartSelection["bucket"],
): Promise<SeriesPoint[]> {
  const rows = await tx.query<{ bucket: string; value: string; kind: string | null }>(
    `select t.bucket_start::text as bucket, t.value::text as value,
            (select md.kind from analytics.metric_definitions md where md.metric = $1) as kind
       from analytics.timeseries($1, $2::date, $3::date, $4) t`,
    [metric, from, to, bucket],
  );
  return markPartialPeriods(
    rows.map((r) => ({ bucket: r.bucket, value: Number(r.value) })),
    { from, to, bucket, kind: rows[0]?.kind ?? "sum", today: todayUtc() },
  );
}

/** The top event types over a range. */
export async function readBreakdown(tx: Queryable, from: string, to: string, top = 10) {
  const rows = await tx.query<{ event_type: string; events: string; share: string | null }>(
    "select event_type, events::text as events, share::text as share from analytics.breakdown($1::date, $2::date, $3)",
    [from, to, top],
  );
  return rows.map((r) => ({
    eventType: r.event_type,
    events: Number(r.events),
    share: Number(r.share ?? 0),
  }));
}

/** A raw event as the explorer shows it. */
export interface ExplorerEvent {
  id: string;
  eventType: string;
  userId: string | null;
  anonymousId: string | null;
  payload: unknown;
  timestamp: string;
  receivedAt: string;
}

/**
 * One page of raw events, and the cursor of the next (older) page: null when no older event
 * matches. A full page asks for one event more to know (at most {@link MAX_EVENTS_PAGE}, what
 * `analytics.events_page` allows, so a page of that size looks with a second query).
 *
 * @param tx The viewer's transaction.
 * @param filters The filters, `limit` from 1 to {@link MAX_EVENTS_PAGE}.
 * @returns The events, newest first, and the next page's cursor.
 */
export async function readEventsPage(
  tx: Queryable,
  filters: EventFilters,
): Promise<{ events: ExplorerEvent[]; next: string | null }> {
  const wanted = Math.min(filters.limit + 1, MAX_EVENTS_PAGE);
  const rows = await queryEvents(tx, filters, wanted);
  const page = rows.slice(0, filters.limit).map((r) => ({
    id: r.id,
    eventType: r.event_type,
    userId: r.user_id,
    anonymousId: r.anonymous_id,
    payload: JSON.parse(r.payload),
    timestamp: r.ts,
    receivedAt: r.received,
  }));
  let more = rows.length > filters.limit;
  if (!more && wanted === filters.limit && rows.length === filters.limit) {
    const last = page[page.length - 1];
    more = (await queryEvents(tx, { ...filters, before: last }, 1)).length > 0;
  }
  return { events: page, next: more ? eventCursor(page[page.length - 1]) : null };
}

function queryEvents(tx: Queryable, filters: EventFilters, pageSize: number) {
  return tx.query<{
    id: string;
    event_type: string;
    user_id: string | null;
    anonymous_id: string | null;
    payload: string;
    ts: string;
    received: string;
  }>(
    `select id::text as id, event_type, user_id::text as user_id, anonymous_id, payload::text as payload,
            to_char("timestamp" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ts,
            to_char(received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as received
       from analytics.events_page($1, $2::uuid, $3, $4::timestamptz, $5::timestamptz, $6::timestamptz, $7::uuid, $8)`,
    [
      filters.type,
      filters.userId,
      filters.anonymousId,
      filters.from ? `${filters.from}T00:00:00Z` : null,
      filters.to ? `${addDays(filters.to, 1)}T00:00:00Z` : null,
      filters.before?.timestamp ?? null,
      filters.before?.id ?? null,
      pageSize,
    ],
  );
}
