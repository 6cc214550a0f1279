/**
 * The time-series chart with its controls: metric, range, bucket and the previous-period
 * line. Metric, bucket and comparison change the chart in place (and the URL, so the view
 * can be shared); a new range reloads the page, since the cards and the breakdown follow it.
 * Without JavaScript the controls are a plain GET form and the data is in a table.
 */
import { useComputed, useSignal, useSignalEffect } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import {
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  Tooltip,
  Legend,
  Filler,
);

/** One bucket of a series. */
export interface SeriesPoint {
  /** The bucket's first day, `YYYY-MM-DD` (UTC). */
  bucket: string;
  /** The value. */
  value: number;
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

/** Props of {@linkcode TimeSeriesChart}. */
export interface TimeSeriesChartProps {
  /** The metrics one may pick. */
  metrics: Array<{ metric: string; label: string; description: string }>;
  /** The initial selection (from the URL). */
  selection: ChartSelection;
  /** The series for the initial selection, rendered on the server. */
  series: SeriesPoint[];
  /** The previous period's series, when comparing. */
  previous: SeriesPoint[] | null;
}

const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

function label(bucket: string, size: ChartSelection["bucket"]): string {
  const date = new Date(`${bucket}T00:00:00Z`);
  const options: Intl.DateTimeFormatOptions = size === "month"
    ? { month: "short", year: "numeric", timeZone: "UTC" }
    : { month: "short", day: "numeric", timeZone: "UTC" };
  return new Intl.DateTimeFormat("en-US", options).format(date);
}

function display(metric: string, value: number): string {
  return metric === "mrr_cents" ? `$${number.format(value / 100)}` : number.format(value);
}

/** Builds the page URL for a selection. */
export function selectionQuery(s: ChartSelection): string {
  const params = new URLSearchParams({ metric: s.metric, bucket: s.bucket });
  if (s.range === "custom") {
    params.set("from", s.from);
    params.set("to", s.to);
  } else params.set("range", s.range);
  if (s.compare) params.set("compare", "1");
  return params.toString();
}

export default function TimeSeriesChart(props: TimeSeriesChartProps) {
  const selection = useSignal(props.selection);
  const series = useSignal(props.series);
  const previous = useSignal(props.previous);
  const status = useSignal("");
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  const metricInfo = useComputed(() =>
    props.metrics.find((m) => m.metric === selection.value.metric) ?? props.metrics[0]
  );

  useEffect(() => {
    if (!canvas.current) return;
    chart.current = new Chart(canvas.current, {
      type: "line",
      data: { labels: [], datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true } },
        plugins: { legend: { display: true } },
      },
    });
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, []);

  useSignalEffect(() => {
    const c = chart.current;
    const s = selection.value;
    const current = series.value;
    const before = previous.value;
    if (!c) return;
    c.data.labels = current.map((p) => label(p.bucket, s.bucket));
    c.data.datasets = [
      {
        label: metricInfo.value.label,
        data: current.map((p) => s.metric === "mrr_cents" ? p.value / 100 : p.value),
        borderColor: "#1d4ed8",
        backgroundColor: "rgba(29, 78, 216, 0.12)",
        fill: true,
        tension: 0.25,
        pointRadius: current.length > 60 ? 0 : 2,
      },
      ...(s.compare && before
        ? [{
          label: "Previous period",
          data: before.map((p) => s.metric === "mrr_cents" ? p.value / 100 : p.value),
          borderColor: "#6b7280",
          borderDash: [6, 4],
          fill: false,
          tension: 0.25,
          pointRadius: 0,
        }]
        : []),
    ];
    c.update();
  });

  async function change(update: Partial<ChartSelection>) {
    const next = { ...selection.value, ...update };
    if (update.range !== undefined || update.from !== undefined || update.to !== undefined) {
      if (next.range !== "custom" || (next.from && next.to)) {
        location.assign(`?${selectionQuery(next)}`);
      }
      selection.value = next;
      return;
    }
    selection.value = next;
    history.replaceState(null, "", `?${selectionQuery(next)}`);
    status.value = "Loading…";
    try {
      const query = new URLSearchParams({
        metric: next.metric,
        from: next.from,
        to: next.to,
        bucket: next.bucket,
        compare: next.compare ? "1" : "0",
      });
      const res = await fetch(`/api/v1/analytics/timeseries?${query}`, {
        credentials: "same-origin",
      });
      const body = await res.json();
      if (!res.ok) throw new Error(body.message ?? `HTTP ${res.status}`);
      series.value = body.series;
      previous.value = body.previous ?? null;
      status.value = "";
    } catch (error) {
      status.value = `Could not load the series: ${(error as Error).message}`;
    }
  }

  const s = selection.value;
  const csv = `/api/v1/analytics/timeseries.csv?${new URLSearchParams({
    metric: s.metric,
    from: s.from,
    to: s.to,
    bucket: s.bucket,
  })}`;
  return (
    <section class="card chart-card" aria-labelledby="chart-title">
      <form method="get" action="/analytics" class="controls" onSubmit={(e) => e.preventDefault()}>
        <label>
          Metric
          <select
            name="metric"
            value={s.metric}
            onChange={(e) => change({ metric: e.currentTarget.value })}
          >
            {props.metrics.map((m) => <option key={m.metric} value={m.metric}>{m.label}</option>)}
          </select>
        </label>
        <label>
          Range
          <select
            name="range"
            value={s.range}
            onChange={(e) => change({ range: e.currentTarget.value })}
          >
            <option value="7">Last 7 days</option>
            <option value="30">Last 30 days</option>
            <option value="90">Last 90 days</option>
            <option value="custom">Custom dates</option>
          </select>
        </label>
        {s.range === "custom" && (
          <>
            <label>
              From
              <input
                type="date"
                name="from"
                value={s.from}
                onChange={(e) => change({ from: e.currentTarget.value })}
              />
            </label>
            <label>
              To
              <input
                type="date"
                name="to"
                value={s.to}
                onChange={(e) => change({ to: e.currentTarget.value })}
              />
            </label>
          </>
        )}
        <label>
          Bucket
          <select
            name="bucket"
            value={s.bucket}
            onChange={(e) => change({ bucket: e.currentTarget.value as ChartSelection["bucket"] })}
          >
            <option value="day">By day</option>
            <option value="week">By week</option>
            <option value="month">By month</option>
          </select>
        </label>
        <label class="inline">
          <input
            type="checkbox"
            name="compare"
            value="1"
            checked={s.compare}
            onChange={(e) => change({ compare: e.currentTarget.checked })}
          />
          Compare with the previous period
        </label>
        <noscript>
          <button type="submit">Apply</button>
        </noscript>
      </form>
      <h2 id="chart-title">
        {metricInfo.value.label} <small>{s.from} to {s.to} (UTC), by {s.bucket}</small>
      </h2>
      <p class="hint">{metricInfo.value.description}</p>
      <div class="chart-box">
        <canvas
          ref={canvas}
          role="img"
          aria-label={`${metricInfo.value.label} from ${s.from} to ${s.to}`}
        />
      </div>
      <p class="status" role="status" aria-live="polite">{status.value}</p>
      <details>
        <summary>Show the data as a table</summary>
        <table class="data">
          <thead>
            <tr>
              <th scope="col">Bucket starting</th>
              <th scope="col">{metricInfo.value.label}</th>
              {s.compare && previous.value && <th scope="col">Previous period</th>}
            </tr>
          </thead>
          <tbody>
            {series.value.map((p, i) => (
              <tr>
                <td>{p.bucket}</td>
                <td class="num">{display(s.metric, p.value)}</td>
                {s.compare && previous.value && (
                  <td class="num">
                    {previous.value[i] ? display(s.metric, previous.value[i].value) : ""}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <p>
        <a href={csv} download>Download this series as CSV</a>
      </p>
    </section>
  );
}
