/**
 * How the chart words and writes its numbers: the unit of each metric (MRR is stored in
 * cents and shown in dollars, converted here and nowhere else), bucket labels, and the hint
 * under the chart's title.
 *
 * @module
 */
import type { ChartSelection } from "./types.ts";

const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const dollars = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  maximumFractionDigits: 2,
});
const dollarTicks = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  notation: "compact",
});
const CENTS_PER_DOLLAR = 100;

/** How one metric's values are shown. */
export interface MetricUnit {
  /** A stored value in the unit shown (cents to dollars for MRR, unchanged otherwise). */
  shown(stored: number): number;
  /** A shown value as the table and tooltips write it (`$5,919.60`, `1,234.5`). */
  format(shown: number): string;
  /** A shown value on the chart's y axis (`$6K`, `1,200`). */
  tick(shown: number): string;
}

const COUNT: MetricUnit = {
  shown: (stored) => stored,
  format: (shown) => number.format(shown),
  tick: (shown) => number.format(shown),
};

const USD_CENTS: MetricUnit = {
  shown: (stored) => stored / CENTS_PER_DOLLAR,
  format: (shown) => dollars.format(shown),
  tick: (shown) => dollarTicks.format(shown),
};

/**
 * The unit a metric is shown in: `mrr_cents` in US dollars, every other metric as a number.
 *
 * @param metric The metric's key.
 * @returns How its values are converted and written.
 */
export function metricUnit(metric: string): MetricUnit {
  return metric === "mrr_cents" ? USD_CENTS : COUNT;
}

/**
 * A series' stored values in the metric's unit, null (not drawn) kept.
 *
 * @param metric The metric's key.
 * @param values The stored values.
 * @returns The values as drawn.
 */
export function shownValues(metric: string, values: Array<number | null>): Array<number | null> {
  const unit = metricUnit(metric);
  return values.map((v) => v === null ? null : unit.shown(v));
}

/** The value as the table and tooltips show it (MRR in dollars); "—" for no value. */
export function display(metric: string, value: number | null): string {
  if (value === null) return "—";
  const unit = metricUnit(metric);
  return unit.format(unit.shown(value));
}

/**
 * A bucket's label on the x axis: `Nov 24` by day or week, `Nov 2026` by month.
 *
 * @param bucket The bucket's first day, `YYYY-MM-DD` (UTC).
 * @param size The bucket size.
 * @returns The label.
 */
export function bucketLabel(bucket: string, size: ChartSelection["bucket"]): string {
  const date = new Date(`${bucket}T00:00:00Z`);
  const options: Intl.DateTimeFormatOptions = size === "month"
    ? { month: "short", year: "numeric", timeZone: "UTC" }
    : { month: "short", day: "numeric", timeZone: "UTC" };
  return new Intl.DateTimeFormat("en-US", options).format(date);
}

/**
 * The hint under the chart's title: the metric's description, worded for the bucket shown
 * ("that week", "at the end of the month") and for what is drawn (MRR in dollars, not cents).
 *
 * @param metric The metric and its description (from `analytics.metric_definitions`).
 * @param bucket The bucket shown.
 * @returns The hint.
 */
export function metricHint(
  metric: { metric: string; description: string },
  bucket: ChartSelection["bucket"],
): string {
  let text = metric.description.replace("in USD cents", "in US dollars (USD subscriptions only)");
  if (bucket !== "day") {
    text = text
      .replace(/ending that day/g, `ending on the ${bucket}'s last day`)
      .replace(/that day/g, `that ${bucket}`)
      .replace(/at the end of the day/g, `at the end of the ${bucket}`);
  }
  return text;
}
