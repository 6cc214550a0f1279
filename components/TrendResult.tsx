/**
 * A trend's answer: the chart (one line per series and breakdown value, the previous period
 * as its own lines when comparing), the same numbers as a table, and the CSV link.
 *
 * @module
 */
import type { ComponentType } from "preact";
import type { TrendRow } from "../analytics/trend.ts";

/** One line of the chart (the shape islands/ReportChart.tsx draws). */
export interface TrendLine {
  label: string;
  data: Array<number | null>;
  color: string;
}

/** The chart island's props that this component passes. */
export interface TrendChartProps {
  type: "line" | "bar";
  title: string;
  labels: string[];
  datasets: TrendLine[];
}

const COLORS = ["#1d4ed8", "#b45309", "#047857", "#9333ea", "#be123c", "#0e7490", "#4d7c0f"];

/** The chart's labels and lines from analytics.trend's rows. */
export function trendChart(rows: TrendRow[], bucket: string) {
  const current = rows.filter((r) => r.period === "current");
  const starts = [...new Map(current.map((r) => [r.bucketIndex, r.bucketStart])).values()];
  const labels = starts.map((s) => bucket === "hour" ? `${s.slice(0, 13)}:00` : s.slice(0, 10));
  const lines = new Map<string, TrendLine>();
  for (const r of rows) {
    const name = `${r.label}${r.breakdownValue === null ? "" : ` · ${r.breakdownValue}`}${
      r.period === "previous" ? " (previous period)" : ""
    }`;
    let line = lines.get(name);
    if (!line) {
      const color = COLORS[lines.size % COLORS.length];
      line = { label: name, data: labels.map(() => null), color };
      lines.set(name, line);
    }
    if (r.bucketIndex < labels.length) line.data[r.bucketIndex] = r.value;
  }
  return { labels, datasets: [...lines.values()] };
}

/** Props of {@linkcode TrendResult}. */
export interface TrendResultProps {
  rows: TrendRow[];
  bucket: string;
  /** The definition's URL query, for the CSV link. */
  query: string;
  /** The chart island. */
  Chart: ComponentType<TrendChartProps>;
}

function display(v: number | null): string {
  if (v === null) return "–";
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** The chart, the table and the CSV link. */
export function TrendResult(props: TrendResultProps) {
  const { labels, datasets } = trendChart(props.rows, props.bucket);
  const { Chart } = props;
  const previous = new Map(
    props.rows.filter((r) => r.period === "previous").map((
      r,
    ) => [`${r.series}|${r.breakdownRank}|${r.bucketIndex}`, r.value]),
  );
  const compared = previous.size > 0;
  return (
    <>
      <section class="card">
        <Chart type="line" title="Trend" labels={labels} datasets={datasets} />
      </section>
      <section class="card" style="overflow-x:auto;margin-top:12px">
        <h2>The numbers</h2>
        <table class="data" id="trend-table">
          <thead>
            <tr>
              <th>Series</th>
              <th>Breakdown</th>
              <th>Bucket</th>
              <th>Value</th>
              {compared && <th>Previous period</th>}
            </tr>
          </thead>
          <tbody>
            {props.rows.filter((r) => r.period === "current").map((r) => (
              <tr>
                <td>{r.label}</td>
                <td>{r.breakdownValue ?? ""}</td>
                <td>{labels[r.bucketIndex]}</td>
                <td class="num">{display(r.value)}</td>
                {compared && (
                  <td class="num">
                    {display(
                      previous.get(`${r.series}|${r.breakdownRank}|${r.bucketIndex}`) ?? null,
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        <p>
          <a href={`/api/v1/analytics/trend.csv?${props.query}`}>Download CSV</a>
        </p>
      </section>
    </>
  );
}
