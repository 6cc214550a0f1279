/**
 * The data the time-series chart shows: the selection (metric, range, bucket, comparison),
 * the series' buckets and a refused parameter of the page's address. The server produces
 * them (the series and the selection are defined in `analytics/series.ts`, the side that
 * produces them); the chart island and its components take them as props.
 *
 * @module
 */

export type { ChartSelection, SeriesPoint } from "../../analytics/series.ts";

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
