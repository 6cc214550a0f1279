/**
 * The time-series chart with its controls: metric, range, bucket and the previous-period
 * line. Metric, bucket and comparison change the chart in place (and the URL, so the view
 * can be shared); a new range reloads the page, since the cards and the breakdown follow it.
 * Custom dates apply with the Apply button (or Enter), only when both are complete and in
 * order; a mistake is shown beside the field. While a new series loads, the chart keeps the
 * title, legend and data it shows, dimmed; a superseded request is aborted and its answer
 * never drawn. Partial periods are drawn dashed, and nothing is drawn after today.
 * Without JavaScript the controls are a plain GET form and the data is in a table.
 */
import { batch, useComputed, useSignal, useSignalEffect } from "@preact/signals";
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
import type { ChartSelection, SeriesPoint } from "../analytics/series.ts";

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
  /** A parameter of the address that was refused, shown beside its field. */
  refused?: RefusedParameter | null;
}

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
const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function label(bucket: string, size: ChartSelection["bucket"]): string {
  const date = new Date(`${bucket}T00:00:00Z`);
  const options: Intl.DateTimeFormatOptions = size === "month"
    ? { month: "short", year: "numeric", timeZone: "UTC" }
    : { month: "short", day: "numeric", timeZone: "UTC" };
  return new Intl.DateTimeFormat("en-US", options).format(date);
}

/** The value as the table and tooltips show it (MRR in dollars). */
export function display(metric: string, value: number | null): string {
  if (value === null) return "—";
  return metric === "mrr_cents" ? dollars.format(value / 100) : number.format(value);
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

/**
 * The line style of each segment: dashed into a partial period, solid otherwise (Chart.js's
 * `segment.borderDash`).
 *
 * @param points The series drawn.
 * @returns The `borderDash` callback.
 */
export function incompleteDash(
  points: SeriesPoint[],
): (ctx: { p1DataIndex: number }) => number[] | undefined {
  return (ctx) => points[ctx.p1DataIndex]?.incomplete ? [6, 5] : undefined;
}

/**
 * Checks custom dates before they are applied.
 *
 * @param from The From field's value (`""` while incomplete).
 * @param to The To field's value.
 * @returns The field in error and why, or null when the range can be applied.
 */
export function checkRange(
  from: string,
  to: string,
): { field: "from" | "to"; message: string } | null {
  const valid = (d: string) =>
    DATE.test(d) && new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d;
  if (!valid(from)) return { field: "from", message: "Enter a complete From date." };
  if (!valid(to)) return { field: "to", message: "Enter a complete To date." };
  if (from > to) return { field: "from", message: `From must be on or before To (${to}).` };
  if ((Date.parse(to) - Date.parse(from)) / DAY_MS + 1 > 3661) {
    return { field: "from", message: "The range may be at most 10 years." };
  }
  return null;
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
  const refused = props.refused ?? null;
  /** The selection whose data is drawn: the title, legend and table follow it. */
  const shown = useSignal(props.selection);
  /** What the controls say, applied or not yet. */
  const draft = useSignal<ChartSelection>(
    refused && (refused.field === "from" || refused.field === "to")
      ? { ...props.selection, range: "custom", from: refused.from, to: refused.to }
      : props.selection,
  );
  const series = useSignal(props.series);
  const previous = useSignal(props.previous);
  const loading = useSignal(false);
  const status = useSignal(
    refused && refused.field !== "from" && refused.field !== "to"
      ? `${refused.message} Showing the defaults.`
      : "",
  );
  const rangeError = useSignal<{ field: "from" | "to"; message: string } | null>(
    refused && (refused.field === "from" || refused.field === "to")
      ? { field: refused.field, message: refused.message }
      : null,
  );
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  const pending = useRef<AbortController | null>(null);
  const metricInfo = useComputed(() =>
    props.metrics.find((m) => m.metric === shown.value.metric) ?? props.metrics[0]
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
      pending.current?.abort();
      chart.current?.destroy();
      chart.current = null;
    };
  }, []);

  useSignalEffect(() => {
    const c = chart.current;
    const s = shown.value;
    const current = series.value;
    const before = previous.value;
    const info = metricInfo.value;
    if (!c) return;
    const scale = (v: number | null) => v === null ? null : s.metric === "mrr_cents" ? v / 100 : v;
    const format = (v: number) => s.metric === "mrr_cents" ? dollars.format(v) : number.format(v);
    c.data.labels = current.map((p) => label(p.bucket, s.bucket));
    c.data.datasets = [
      {
        label: info.label,
        data: current.map((p) => scale(p.value)),
        borderColor: "#1d4ed8",
        backgroundColor: "rgba(29, 78, 216, 0.12)",
        fill: true,
        tension: 0.25,
        pointRadius: current.length > 60 ? 0 : 2,
        pointBackgroundColor: current.map((p) => p.incomplete ? "#fff" : "#1d4ed8"),
        segment: { borderDash: incompleteDash(current) },
      },
      ...(s.compare && before
        ? [{
          label: "Previous period",
          data: before.map((p) => scale(p.value)),
          borderColor: "#6b7280",
          borderDash: [6, 4],
          fill: false,
          tension: 0.25,
          pointRadius: 0,
        }]
        : []),
    ];
    const y = c.options.scales!.y!;
    y.ticks = {
      ...y.ticks,
      callback: (v) =>
        s.metric === "mrr_cents" ? dollarTicks.format(Number(v)) : number.format(Number(v)),
    };
    c.options.plugins!.tooltip = {
      ...c.options.plugins!.tooltip,
      callbacks: {
        label: (item) =>
          `${item.dataset.label}: ${format(item.parsed.y ?? 0)}${
            item.datasetIndex === 0 && current[item.dataIndex]?.incomplete ? " (incomplete)" : ""
          }`,
      },
    };
    c.update();
  });

  async function load(next: ChartSelection) {
    pending.current?.abort();
    const controller = new AbortController();
    pending.current = controller;
    history.replaceState(null, "", `?${selectionQuery(next)}`);
    loading.value = true;
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
        signal: controller.signal,
      });
      const body = await res.json();
      if (pending.current !== controller) return;
      if (!res.ok) throw new Error(body.message ?? `HTTP ${res.status}`);
      batch(() => {
        series.value = body.series;
        previous.value = body.previous ?? null;
        shown.value = next;
        loading.value = false;
        status.value = "";
      });
    } catch (error) {
      if (pending.current !== controller) return;
      batch(() => {
        loading.value = false;
        status.value = `Could not load the series: ${(error as Error).message}`;
      });
    } finally {
      if (pending.current === controller) pending.current = null;
    }
  }

  function change(update: Partial<ChartSelection>) {
    const next = { ...draft.value, ...update };
    draft.value = next;
    if (update.range !== undefined) {
      rangeError.value = null;
      // A preset range reloads the page (the cards and breakdown follow it); custom dates
      // wait for Apply.
      if (next.range !== "custom") location.assign(`?${selectionQuery(next)}`);
      return;
    }
    if (update.from !== undefined || update.to !== undefined) {
      const problem = next.from && next.to ? checkRange(next.from, next.to) : null;
      rangeError.value = problem && problem.message.startsWith("From must") ? problem : null;
      return;
    }
    load({ ...shown.value, metric: next.metric, bucket: next.bucket, compare: next.compare });
  }

  function apply() {
    const d = draft.value;
    if (d.range !== "custom") return;
    const problem = checkRange(d.from, d.to);
    rangeError.value = problem;
    if (!problem) location.assign(`?${selectionQuery(d)}`);
  }

  const s = shown.value;
  const d = draft.value;
  const error = rangeError.value;
  const partial = series.value.some((p) => p.incomplete && p.value !== null);
  const csv = `/api/v1/analytics/timeseries.csv?${new URLSearchParams({
    metric: s.metric,
    from: s.from,
    to: s.to,
    bucket: s.bucket,
  })}`;
  return (
    <section
      class={`card chart-card${loading.value ? " loading" : ""}`}
      aria-labelledby="chart-title"
      aria-busy={loading.value ? "true" : "false"}
    >
      <form
        method="get"
        action="/analytics"
        class="controls"
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        <label>
          Metric
          <select
            name="metric"
            value={d.metric}
            onChange={(e) => change({ metric: e.currentTarget.value })}
          >
            {props.metrics.map((m) => <option key={m.metric} value={m.metric}>{m.label}</option>)}
          </select>
        </label>
        <label>
          Range
          <select
            name="range"
            value={d.range}
            onChange={(e) => change({ range: e.currentTarget.value })}
          >
            <option value="7">Last 7 days</option>
            <option value="30">Last 30 days</option>
            <option value="90">Last 90 days</option>
            <option value="custom">Custom dates</option>
          </select>
        </label>
        {d.range === "custom" && (
          <>
            <label>
              From
              <input
                type="date"
                name="from"
                value={d.from}
                aria-invalid={error?.field === "from" ? "true" : undefined}
                aria-describedby={error?.field === "from" ? "range-error" : undefined}
                onInput={(e) => change({ from: e.currentTarget.value })}
              />
            </label>
            <label>
              To
              <input
                type="date"
                name="to"
                value={d.to}
                aria-invalid={error?.field === "to" ? "true" : undefined}
                aria-describedby={error?.field === "to" ? "range-error" : undefined}
                onInput={(e) => change({ to: e.currentTarget.value })}
              />
            </label>
            <button type="submit" class="primary">Apply</button>
            {error && (
              <p id="range-error" class="field-error" role="alert" data-field={error.field}>
                {error.message}
              </p>
            )}
          </>
        )}
        <label>
          Bucket
          <select
            name="bucket"
            value={d.bucket}
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
            checked={d.compare}
            onChange={(e) => change({ compare: e.currentTarget.checked })}
          />
          Compare with the previous period
        </label>
        {d.range !== "custom" && (
          <noscript>
            <button type="submit">Apply</button>
          </noscript>
        )}
      </form>
      <h2 id="chart-title">
        {metricInfo.value.label}{" "}
        <small>
          <span class="date">{s.from}</span> to <span class="date">{s.to}</span> (UTC), by{" "}
          {s.bucket}
        </small>
      </h2>
      <p class="hint">{metricHint(metricInfo.value, s.bucket)}</p>
      <div class="chart-box">
        <canvas
          ref={canvas}
          role="img"
          aria-label={`${metricInfo.value.label} from ${s.from} to ${s.to}`}
        />
      </div>
      {partial && (
        <p class="hint" data-partial-note="">
          A dashed line and a hollow point mark a partial period:{" "}
          {s.bucket === "day"
            ? "today"
            : `the current ${s.bucket}, or a ${s.bucket} the range cuts`}. Its number is not final.
        </p>
      )}
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
              <tr data-incomplete={p.incomplete ? "" : undefined}>
                <td>
                  <span class="date">{p.bucket}</span>
                  {p.incomplete && p.value !== null && <span class="muted">(partial)</span>}
                </td>
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
