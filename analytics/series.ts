/**
 * The chart's data: what a series is made of and what the chart shows. Produced by
 * `analytics/reads.ts` and `analytics/params.ts`; `islands/TimeSeriesChart.tsx` imports
 * these types (type-only, so no server code reaches the browser).
 *
 * @module
 */

/** One bucket of a series. */
export interface SeriesPoint {
  /** The bucket's first day, `YYYY-MM-DD` (UTC). */
  bucket: string;
  /** The value; null for a bucket after today (not drawn). */
  value: number | null;
  /** A partial period (today, or a week or month the range cuts): drawn dashed. */
  incomplete?: boolean;
}

/** What the chart shows. */
export interface ChartSelection {
  metric: string;
  /** `7`, `30`, `90` or `custom`. */
  range: string;
  from: string;
  to: string;
  bucket: "day" | "week" | "month";
  compare: boolean;
}
