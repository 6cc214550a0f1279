/**
 * Which buckets of a series are partial periods, so the chart can mark them instead of
 * drawing them as drops: the bucket holding today (still counting), a week or month the
 * range cuts (it sums only the days inside the range), and buckets after today (nothing
 * happened yet: no value at all, rather than a zero).
 *
 * What counts as partial follows how `analytics.timeseries` computes each kind of metric:
 *
 * | kind | value of a bucket | partial when |
 * | --- | --- | --- |
 * | `sum` (events, signups, ...) | the sum of its days inside the range | it holds today, or the range cuts it |
 * | `distinct` (active users) | the distinct users of the whole calendar bucket, up to today | it holds today |
 * | `last` (WAU, MRR, subscriptions, ...) | the value on its last day inside the range | that day is today |
 *
 * @module
 */

/** The granularity of a series. */
export type Bucket = "day" | "week" | "month";

/** How a metric combines its days (`analytics.metric_definitions.kind`). */
export type MetricKind = "sum" | "distinct" | "last";

/** What {@linkcode markPartialPeriods} needs to know about the series. */
export interface PeriodContext {
  /** First day of the range, `YYYY-MM-DD`. */
  from: string;
  /** Last day of the range, `YYYY-MM-DD`. */
  to: string;
  /** The bucket size. */
  bucket: Bucket;
  /** How the metric combines its days; an unknown kind is treated as `sum`. */
  kind: string;
  /** Today (UTC), `YYYY-MM-DD`. */
  today: string;
}

/** A bucket with its value, marked. */
export interface MarkedPoint {
  /** The bucket's first day. */
  bucket: string;
  /** The value; null for a bucket that starts after today. */
  value: number | null;
  /** True when the bucket is a partial period (see the module's table). */
  incomplete: boolean;
}

/**
 * The last day of the bucket starting on `start`.
 *
 * @param start The bucket's first day (a Monday for weeks, the 1st for months).
 * @param bucket The bucket size.
 * @returns Its last day, `YYYY-MM-DD`.
 */
export function bucketEnd(start: string, bucket: Bucket): string {
  const date = new Date(`${start}T00:00:00Z`);
  if (bucket === "week") date.setUTCDate(date.getUTCDate() + 6);
  if (bucket === "month") date.setUTCMonth(date.getUTCMonth() + 1, 0);
  return date.toISOString().slice(0, 10);
}

/**
 * Marks the partial periods of a series and blanks the buckets after today.
 *
 * @param points The buckets as `analytics.timeseries` returns them.
 * @param context The range, bucket, metric kind and today.
 * @returns The same buckets, each with `incomplete`, and `value: null` after today.
 *
 * @example
 * ```ts
 * markPartialPeriods([{ bucket: "2026-11-23", value: 5 }], {
 *   from: "2026-11-01", to: "2026-11-30", bucket: "week", kind: "sum", today: "2026-11-26",
 * }); // [{ bucket: "2026-11-23", value: 5, incomplete: true }]
 * ```
 */
export function markPartialPeriods(
  points: Array<{ bucket: string; value: number | null }>,
  context: PeriodContext,
): MarkedPoint[] {
  const { from, to, bucket, kind, today } = context;
  return points.map((p) => {
    if (p.bucket > today) return { bucket: p.bucket, value: null, incomplete: true };
    const end = bucketEnd(p.bucket, bucket);
    let incomplete: boolean;
    if (kind === "distinct") incomplete = end >= today;
    else if (kind === "last") incomplete = (end < to ? end : to) >= today;
    else incomplete = end >= today || p.bucket < from || end > to;
    return { bucket: p.bucket, value: p.value, incomplete };
  });
}
