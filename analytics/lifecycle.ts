/**
 * Lifecycle, stickiness and feature adoption: their definition out of a URL and their rows
 * from `analytics.lifecycle`, `analytics.stickiness` and `analytics.feature_adoption`.
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";
import { type DayRange, ParamError, parseRange } from "./params.ts";
import { eventParam, wholeNumber, withParamErrors } from "./retention.ts";

/** The definition of the lifecycle page: range, event, lifecycle bucket, stickiness period. */
export interface LifecycleDefinition extends DayRange {
  /** The event, or null for any event. */
  event: string | null;
  bucket: "day" | "week" | "month";
  period: "week" | "month";
  top: number;
}

/**
 * The definition a URL asks for. Defaults: the last 30 days, any event, by day, weeks, 20.
 *
 * @param params The query string.
 * @param today Today (UTC).
 * @throws {ParamError} For a bad range, bucket, period, event or top.
 */
export function parseLifecycle(params: URLSearchParams, today: string): LifecycleDefinition {
  const range = parseRange(params, today);
  const bucket = params.get("bucket") || "day";
  if (bucket !== "day" && bucket !== "week" && bucket !== "month") {
    throw new ParamError("bucket", `must be day, week or month, not "${bucket}"`);
  }
  const period = params.get("period") || "week";
  if (period !== "week" && period !== "month") {
    throw new ParamError("period", `must be week or month, not "${period}"`);
  }
  return {
    ...range,
    event: eventParam(params, "event"),
    bucket,
    period,
    top: wholeNumber(params, "top", 20, 1, 1000),
  };
}

/** The query string of a definition. */
export function lifecycleQuery(d: LifecycleDefinition): string {
  const q = new URLSearchParams(
    d.range === "custom" ? { from: d.from, to: d.to } : { range: d.range },
  );
  if (d.event) q.set("event", d.event);
  q.set("bucket", d.bucket);
  q.set("period", d.period);
  q.set("top", String(d.top));
  return q.toString();
}

/** One bucket's lifecycle: dormant is negative, as PostHog draws it. */
export interface LifecycleBucket {
  start: string;
  new: number;
  returning: number;
  resurrecting: number;
  dormant: number;
}

/** Reads `analytics.lifecycle`, one object per bucket. */
export function readLifecycle(tx: Queryable, d: LifecycleDefinition): Promise<LifecycleBucket[]> {
  return withParamErrors(async () => {
    const rows = await tx.query<{ bucket_start: string; status: string; persons: number }>(
      `select bucket_start::text, status, persons::int
         from analytics.lifecycle($1::date, $2::date, $3, $4)`,
      [d.from, d.to, d.event, d.bucket],
    );
    const buckets = new Map<string, LifecycleBucket>();
    for (const r of rows) {
      const b = buckets.get(r.bucket_start) ??
        { start: r.bucket_start, new: 0, returning: 0, resurrecting: 0, dormant: 0 };
      b[r.status as "new"] = Number(r.persons);
      buckets.set(r.bucket_start, b);
    }
    return [...buckets.values()];
  });
}

/** One stickiness row; `periodStart` null sums every period. */
export interface StickinessRow {
  periodStart: string | null;
  days: number;
  persons: number;
}

/** Reads `analytics.stickiness`. */
export function readStickiness(tx: Queryable, d: LifecycleDefinition): Promise<StickinessRow[]> {
  return withParamErrors(async () => {
    const rows = await tx.query<Record<string, unknown>>(
      `select period_start::text, days, persons::int
         from analytics.stickiness($1::date, $2::date, $3, $4)`,
      [d.from, d.to, d.event, d.period],
    );
    return rows.map((r) => ({
      periodStart: r.period_start as string | null,
      days: Number(r.days),
      persons: Number(r.persons),
    }));
  });
}

/** One event type's adoption. */
export interface AdoptionRow {
  eventType: string;
  persons: number;
  activePersons: number;
  percentage: number | null;
}

/** Reads `analytics.feature_adoption`. */
export function readAdoption(tx: Queryable, d: LifecycleDefinition): Promise<AdoptionRow[]> {
  return withParamErrors(async () => {
    const rows = await tx.query<Record<string, unknown>>(
      `select event_type, persons::int, active_persons::int, percentage::float8 as percentage
         from analytics.feature_adoption($1::date, $2::date, $3::int)`,
      [d.from, d.to, d.top],
    );
    return rows.map((r) => ({
      eventType: String(r.event_type),
      persons: Number(r.persons),
      activePersons: Number(r.active_persons),
      percentage: r.percentage === null ? null : Number(r.percentage),
    }));
  });
}
