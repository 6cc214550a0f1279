/**
 * The data the time-series chart shows: the selection (metric, range, bucket, comparison),
 * the series' buckets and a refused parameter of the page's address. The server produces
 * them; the chart island and its components take them as props.
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

/** A parameter of the page's address that was refused; the chart shows the defaults. */
export interface RefusedParameter {
  /** The parameter (`from`, `to`, `metric`, ...). */
  field: string;
  /** What was wrong. */
  message: string;
  /** The dates as given, to put back in the fields. */
  from: string;
  to: string;
}

/** A metric one may pick, as `analytics.metric_definitions` describes it. */
export interface MetricOption {
  /** The metric's key (`events`, `mrr_cents`, ...). */
  metric: string;
  /** Its name on the page. */
  label: string;
  /** What it counts, in a sentence. */
  description: string;
}

/** A mistake in the custom dates, shown beside the field. */
export interface RangeProblem {
  /** The field in error. */
  field: "from" | "to";
  /** What is wrong, as a sentence. */
  message: string;
}
