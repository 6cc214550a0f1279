/**
 * Reading the dashboard's questions out of a URL (metric, range, bucket, filters, cursor)
 * with a clear error for anything wrong, and asking them of the database as the viewer.
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";
import type { ChartSelection, SeriesPoint } from "../islands/TimeSeriesChart.tsx";
import { markPartialPeriods } from "./partial_periods.ts";

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The explorer's cursor: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z_<uuid>`, as {@link eventCursor} writes it. */
const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z)_([0-9a-f-]{36})$/i;

/** The first day a date parameter may name: older dates are mistakes, not analytics. */
export const FIRST_DAY = "1900-01-01";
/** The last day a date parameter may name (the day after it must still be a 4-digit year). */
export const LAST_DAY = "9999-12-30";
/** The most events one explorer page (`limit`) may hold; `analytics.events_page` allows as many. */
export const MAX_EVENTS_PAGE = 1000;

/** A parameter that is wrong; answered with 400 naming it. */
export class ParamError extends Error {
  /**
   * @param field The parameter.
   * @param reason What is wrong with it.
   */
  constructor(readonly field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = "ParamError";
  }
}

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

/** Today's UTC date, `YYYY-MM-DD`. */
export function todayUtc(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** `day` moved by `days`. */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Days from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

function parseDate(field: string, value: string): string {
  if (!DATE.test(value) || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
    throw new ParamError(field, `must be a date as YYYY-MM-DD, not "${value}"`);
  }
  if (value < FIRST_DAY || value > LAST_DAY) {
    throw new ParamError(field, `must be a date from ${FIRST_DAY} to ${LAST_DAY}, not ${value}`);
  }
  return value;
}

/**
 * Rejects a query string holding NUL characters, which PostgreSQL's text cannot store, so
 * such input is a 400 naming the parameter before anything reads it, never a 500. (Lone
 * UTF-16 surrogates cannot get this far: URLSearchParams holds well-formed strings, and
 * percent-encoded bytes that are not UTF-8 decode to U+FFFD.)
 *
 * @param params The query string.
 * @throws {ParamError} Naming the first parameter that holds a NUL.
 */
export function assertCleanParams(params: URLSearchParams): void {
  for (const [name, value] of params) {
    if (name.includes("\0") || value.includes("\0")) {
      throw new ParamError(name.replaceAll("\0", "\\0"), "must not contain NUL characters");
    }
  }
}

/**
 * The chart selection a URL asks for. Defaults: events, the last 30 days, by day.
 *
 * @param params The query string.
 * @param metrics The metrics that exist.
 * @param today Today (UTC).
 * @returns The selection.
 * @throws {ParamError} For an unknown metric, range or bucket, or bad dates.
 */
export function parseSelection(
  params: URLSearchParams,
  metrics: string[],
  today: string,
): ChartSelection {
  assertCleanParams(params);
  const metric = params.get("metric") ?? "events";
  if (!metrics.includes(metric)) {
    throw new ParamError("metric", `unknown metric "${metric}"; use one of ${metrics.join(", ")}`);
  }
  const bucket = params.get("bucket") ?? "day";
  if (bucket !== "day" && bucket !== "week" && bucket !== "month") {
    throw new ParamError("bucket", `must be day, week or month, not "${bucket}"`);
  }
  const compareText = params.get("compare");
  const compare = compareText === "1" || compareText === "true";
  let range = params.get("range");
  let from: string;
  let to: string;
  if (params.has("from") || params.has("to")) {
    from = parseDate("from", params.get("from") ?? "");
    to = parseDate("to", params.get("to") ?? "");
    if (from > to) throw new ParamError("from", `${from} is after to (${to})`);
    if (daysBetween(from, to) > 3661) {
      throw new ParamError("from", "the range may be at most 10 years");
    }
    range = "custom";
  } else {
    range ??= "30";
    if (!["7", "30", "90"].includes(range)) {
      throw new ParamError(
        "range",
        `must be 7, 30 or 90 (days), or give from and to; not "${range}"`,
      );
    }
    to = today;
    from = addDays(today, -(Number(range) - 1));
  }
  return { metric, range, from, to, bucket, compare };
}

/** The period of the same length just before `from`..`to`. */
export function previousPeriod(from: string, to: string): { from: string; to: string } {
  const length = daysBetween(from, to);
  return { from: addDays(from, -length), to: addDays(from, -1) };
}

/** Filters of the event explorer. */
export interface EventFilters {
  type: string | null;
  userId: string | null;
  anonymousId: string | null;
  /** First UTC day included. */
  from: string | null;
  /** Last UTC day included. */
  to: string | null;
  /** Show events older than this (timestamp, id). */
  before: { timestamp: string; id: string } | null;
  limit: number;
}

/** Writes the keyset cursor of an event. */
export function eventCursor(event: { timestamp: string; id: string }): string {
  return `${event.timestamp}_${event.id}`;
}

/**
 * The explorer's filters from a URL.
 *
 * @param params The query string.
 * @returns The filters.
 * @throws {ParamError} For a bad id, date, cursor or limit.
 */
export function parseEventFilters(params: URLSearchParams): EventFilters {
  assertCleanParams(params);
  const text = (name: string) => {
    const value = params.get(name)?.trim();
    return value ? value : null;
  };
  const type = text("type");
  if (type !== null && type.length > 200) {
    throw new ParamError("type", "is longer than 200 characters");
  }
  const userId = text("user_id");
  if (userId !== null && !UUID.test(userId)) throw new ParamError("user_id", "must be a UUID");
  const anonymousId = text("anonymous_id");
  const from = text("from") === null ? null : parseDate("from", text("from")!);
  const to = text("to") === null ? null : parseDate("to", text("to")!);
  if (from && to && from > to) throw new ParamError("from", `${from} is after to (${to})`);
  let before: EventFilters["before"] = null;
  const cursor = text("before");
  if (cursor !== null) {
    const match = CURSOR.exec(cursor);
    if (!match || Number.isNaN(Date.parse(match[1])) || !UUID.test(match[2])) {
      throw new ParamError("before", "is not a cursor this explorer made");
    }
    if (match[1].slice(0, 10) < FIRST_DAY || match[1].slice(0, 10) > LAST_DAY) {
      throw new ParamError("before", `must point at a time from ${FIRST_DAY} to ${LAST_DAY}`);
    }
    before = { timestamp: match[1], id: match[2] };
  }
  const limitText = text("limit") ?? "50";
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_PAGE) {
    throw new ParamError("limit", `must be a whole number from 1 to ${MAX_EVENTS_PAGE}`);
  }
  return { type, userId, anonymousId, from, to, before, limit };
}

/** The query string of filters (without the cursor unless asked). */
export function filterQuery(filters: EventFilters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (filters.type) params.set("type", filters.type);
  if (filters.userId) params.set("user_id", filters.userId);
  if (filters.anonymousId) params.set("anonymous_id", filters.anonymousId);
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params.toString();
}

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

/**
 * One CSV field (RFC 4180: quoted only when needed, quotes doubled). Text that starts with
 * `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so a spreadsheet shows
 * it as text instead of running it as a formula (OWASP's advice against CSV injection):
 * event types, ids and payloads come from anyone holding the ingest key. Numbers (and
 * bigints) are written as they are, so a negative value stays a number; only text is
 * neutralised, and a JSON payload always starts with `{`.
 *
 * @param value A string, number, boolean, object (written as JSON), or null/undefined (empty).
 * @returns The field, ready to join with commas.
 * @example
 * ```ts
 * csvField("=1+1"); // "'=1+1"
 * csvField(-5); // "-5"
 * ```
 */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined
    ? ""
    : typeof value === "object"
    ? JSON.stringify(value)
    : String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line (see {@link csvField}), ending in CRLF. */
export function csvLine(values: unknown[]): string {
  return values.map(csvField).join(",") + "\r\n";
}
