/**
 * Retention: reading its definition out of a URL and its cohorts from
 * `analytics.retention` (as the viewer), and turning the SQL's 22023 errors into a
 * {@linkcode ParamError} naming the URL parameter.
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";
import { assertCleanParams, FIRST_DAY, LAST_DAY, ParamError } from "./params.ts";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The URL parameter each SQL argument of the person reports comes from. */
const FIELDS: Record<string, string> = {
  from_day: "from",
  to_day: "to",
  periods: "periods",
  period: "period",
  start_event: "start",
  return_event: "return",
  event_type: "event",
  bucket: "bucket",
  top: "top",
};

/**
 * Runs a person report, turning its "bad argument" error (SQLSTATE 22023, message
 * `analytics.<fn>: <argument> ...`) into a 400 naming the URL parameter.
 *
 * @param read The read.
 * @returns What the read returns.
 * @throws {ParamError} When the SQL refused an argument.
 */
export async function withParamErrors<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    const argument = code === "22023" ? /^analytics\.\w+: (\w+)/.exec(message ?? "")?.[1] : null;
    if (argument && FIELDS[argument]) {
      throw new ParamError(FIELDS[argument], message!.replace(/^analytics\.\w+: /, ""));
    }
    throw error;
  }
}

/** A date parameter, or null when absent. */
export function optionalDate(params: URLSearchParams, field: string): string | null {
  const value = params.get(field);
  if (value === null || value === "") return null;
  const at = new Date(`${value}T00:00:00Z`);
  if (!DATE.test(value) || isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== value) {
    throw new ParamError(field, `must be a date as YYYY-MM-DD, not "${value}"`);
  }
  if (value < FIRST_DAY || value > LAST_DAY) {
    throw new ParamError(field, `must be a date from ${FIRST_DAY} to ${LAST_DAY}`);
  }
  return value;
}

/** A whole-number parameter within bounds, or the default when absent. */
export function wholeNumber(
  params: URLSearchParams,
  field: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = params.get(field);
  if (text === null || text === "") return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new ParamError(field, `must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return n;
}

/** An event type parameter, or null (any event) when absent or empty. */
export function eventParam(params: URLSearchParams, field: string): string | null {
  const value = params.get(field)?.trim() ?? "";
  if (value.length > 200) throw new ParamError(field, "must be at most 200 characters");
  return value === "" ? null : value;
}

/** A retention definition, as the URL gives it. */
export interface RetentionDefinition {
  /** The first cohort's period holds this day, `YYYY-MM-DD`. */
  from: string;
  periods: number;
  period: "day" | "week" | "month";
  /** The start event. */
  start: string;
  /** The return event, or null for any event. */
  returnEvent: string | null;
}

/** The first day of the calendar period (weeks from Monday) holding `day`. */
export function periodStart(day: string, period: string): string {
  if (period === "month") return `${day.slice(0, 7)}-01`;
  if (period === "day") return day;
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

/**
 * The retention definition a URL asks for. Defaults: weekly, 12 periods ending with the
 * current one, start `user_signup`, return on any event.
 *
 * @param params The query string.
 * @param today Today (UTC), `YYYY-MM-DD`.
 * @throws {ParamError} For a bad date, number, period or event name.
 */
export function parseRetention(params: URLSearchParams, today: string): RetentionDefinition {
  assertCleanParams(params);
  const period = params.get("period") || "week";
  if (period !== "day" && period !== "week" && period !== "month") {
    throw new ParamError("period", `must be day, week or month, not "${period}"`);
  }
  const periods = wholeNumber(params, "periods", 12, 1, 60);
  let from = optionalDate(params, "from");
  if (from === null) {
    const d = new Date(`${periodStart(today, period)}T00:00:00Z`);
    if (period === "day") d.setUTCDate(d.getUTCDate() - (periods - 1));
    if (period === "week") d.setUTCDate(d.getUTCDate() - 7 * (periods - 1));
    if (period === "month") d.setUTCMonth(d.getUTCMonth() - (periods - 1));
    from = d.toISOString().slice(0, 10);
  }
  const start = eventParam(params, "start") ?? "user_signup";
  return { from, periods, period, start, returnEvent: eventParam(params, "return") };
}

/** One cell of the triangle; `cohortStart` null is the average curve. */
export interface RetentionCell {
  cohortStart: string | null;
  cohortSize: number;
  offset: number;
  retained: number;
  /** Percent with 2 decimals, or null for an empty cohort. */
  percentage: number | null;
}

/**
 * Reads `analytics.retention` for a definition.
 *
 * @param tx The viewer's transaction.
 * @param d The definition.
 * @throws {ParamError} When the SQL refuses an argument.
 */
export function readRetention(tx: Queryable, d: RetentionDefinition): Promise<RetentionCell[]> {
  return withParamErrors(async () => {
    const rows = await tx.query<Record<string, unknown>>(
      `select cohort_start::text, cohort_size::int, period_offset, retained::int,
              percentage::float8 as percentage
         from analytics.retention($1::date, $2::int, $3, $4, $5)`,
      [d.from, d.periods, d.period, d.start, d.returnEvent],
    );
    return rows.map((r) => ({
      cohortStart: r.cohort_start as string | null,
      cohortSize: Number(r.cohort_size),
      offset: Number(r.period_offset),
      retained: Number(r.retained),
      percentage: r.percentage === null ? null : Number(r.percentage),
    }));
  });
}

/** The query string of a definition (what the page's form and links carry). */
export function retentionQuery(d: RetentionDefinition): string {
  const q = new URLSearchParams({
    from: d.from,
    periods: String(d.periods),
    period: d.period,
    start: d.start,
  });
  if (d.returnEvent) q.set("return", d.returnEvent);
  return q.toString();
}
