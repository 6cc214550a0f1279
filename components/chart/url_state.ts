/**
 * The chart's state in addresses: the page URL of a selection (so a view can be shared),
 * the check of custom dates before they apply, and the API addresses of a selection's
 * series and CSV export.
 *
 * @module
 */
import type { ChartSelection, RangeProblem } from "./types.ts";

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The longest custom range, in days (10 years), as the API allows. */
const MAX_RANGE_DAYS = 3661;

/**
 * Checks custom dates before they are applied.
 *
 * @param from The From field's value (`""` while incomplete).
 * @param to The To field's value.
 * @returns The field in error and why, or null when the range can be applied.
 */
export function checkRange(from: string, to: string): RangeProblem | null {
  const valid = (d: string) =>
    DATE.test(d) && new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d;
  if (!valid(from)) return { field: "from", message: "Enter a complete From date." };
  if (!valid(to)) return { field: "to", message: "Enter a complete To date." };
  if (from > to) return { field: "from", message: `From must be on or before To (${to}).` };
  if ((Date.parse(to) - Date.parse(from)) / DAY_MS + 1 > MAX_RANGE_DAYS) {
    return { field: "from", message: "The range may be at most 10 years." };
  }
  return null;
}

/** Builds the page URL's query for a selection. */
export function selectionQuery(s: ChartSelection): string {
  const params = new URLSearchParams({ metric: s.metric, bucket: s.bucket });
  if (s.range === "custom") {
    params.set("from", s.from);
    params.set("to", s.to);
  } else params.set("range", s.range);
  if (s.compare) params.set("compare", "1");
  return params.toString();
}

/**
 * The JSON API address of a selection's series (and the previous period's, when comparing),
 * relative to `/analytics` (the page the chart is on), so it holds under a path prefix.
 */
export function seriesUrl(s: ChartSelection): string {
  const query = new URLSearchParams({
    metric: s.metric,
    from: s.from,
    to: s.to,
    bucket: s.bucket,
    compare: s.compare ? "1" : "0",
  });
  return `api/v1/analytics/timeseries?${query}`;
}

/** The CSV export address of a selection's series, relative to `/analytics` as above. */
export function seriesCsvUrl(s: ChartSelection): string {
  return `api/v1/analytics/timeseries.csv?${new URLSearchParams({
    metric: s.metric,
    from: s.from,
    to: s.to,
    bucket: s.bucket,
  })}`;
}
