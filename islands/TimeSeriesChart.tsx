/**
 * The time-series chart with its controls: metric, range, bucket and the previous-period
 * line. Metric, bucket and comparison change the chart in place (and the URL, so the view
 * can be shared); a new range reloads the page, since the cards and the breakdown follow it.
 * Custom dates apply with the Apply button (or Enter), only when both are complete and in
 * order; a mistake is shown beside the field. While a new series loads, the chart keeps the
 * title, legend and data it shows, dimmed; a superseded request is aborted and its answer
 * never drawn. Partial periods are drawn dashed, and nothing is drawn after today.
 * Without JavaScript the controls are a plain GET form and the data is in a table.
 *
 * The island holds the state; its pieces are in `components/chart/` (the controls, the
 * table, Chart.js, formatting and units, the URL state).
 */
import { batch, useComputed, useSignal, useSignalEffect } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { Chart } from "chart.js";
import { ChartControls } from "../components/chart/ChartControls.tsx";
import { SeriesTable } from "../components/chart/SeriesTable.tsx";
import { metricHint } from "../components/chart/format.ts";
import { createLineChart, drawSeries } from "../components/chart/line_chart.ts";
import {
  checkRange,
  selectionQuery,
  seriesCsvUrl,
  seriesUrl,
} from "../components/chart/url_state.ts";
import type {
  ChartSelection,
  MetricOption,
  RangeProblem,
  RefusedParameter,
  SeriesPoint,
} from "../components/chart/types.ts";

/** Props of {@linkcode TimeSeriesChart}. */
export interface TimeSeriesChartProps {
  /** The metrics one may pick. */
  metrics: MetricOption[];
  /** The initial selection (from the URL). */
  selection: ChartSelection;
  /** The series for the initial selection, rendered on the server. */
  series: SeriesPoint[];
  /** The previous period's series, when comparing. */
  previous: SeriesPoint[] | null;
  /** A parameter of the address that was refused, shown beside its field. */
  refused?: RefusedParameter | null;
}

/** Whether a refused parameter is one of the custom dates (shown beside its field). */
function isDateField(refused: RefusedParameter): refused is RefusedParameter & RangeProblem {
  return refused.field === "from" || refused.field === "to";
}

/** The chart island: controls, chart, partial-period note, status, table and CSV link. */
export default function TimeSeriesChart(props: TimeSeriesChartProps) {
  const refused = props.refused ?? null;
  /** The selection whose data is drawn: the title, legend and table follow it. */
  const shown = useSignal(props.selection);
  /** What the controls say, applied or not yet. */
  const draft = useSignal<ChartSelection>(
    refused && isDateField(refused)
      ? { ...props.selection, range: "custom", from: refused.from, to: refused.to }
      : props.selection,
  );
  const series = useSignal(props.series);
  const previous = useSignal(props.previous);
  const loading = useSignal(false);
  const status = useSignal(
    refused && !isDateField(refused) ? `${refused.message} Showing the defaults.` : "",
  );
  const rangeError = useSignal<RangeProblem | null>(
    refused && isDateField(refused) ? { field: refused.field, message: refused.message } : null,
  );
  const canvas = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart | null>(null);
  const pending = useRef<AbortController | null>(null);
  const metricInfo = useComputed(() =>
    props.metrics.find((m) => m.metric === shown.value.metric) ?? props.metrics[0]
  );

  useEffect(() => {
    if (!canvas.current) return;
    chartRef.current = createLineChart(canvas.current);
    return () => {
      pending.current?.abort();
      chartRef.current?.destroy();
      chartRef.current = null;
    };
  }, []);

  useSignalEffect(() => {
    // Read every signal first, so the effect follows them even before the chart exists.
    const view = {
      selection: shown.value,
      label: metricInfo.value.label,
      series: series.value,
      previous: previous.value,
    };
    const chart = chartRef.current;
    if (chart) drawSeries(chart, view);
  });

  async function load(next: ChartSelection) {
    pending.current?.abort();
    const controller = new AbortController();
    pending.current = controller;
    history.replaceState(null, "", `?${selectionQuery(next)}`);
    loading.value = true;
    status.value = "Loading…";
    try {
      const res = await fetch(seriesUrl(next), {
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
  const partial = series.value.some((p) => p.incomplete && p.value !== null);
  return (
    <section
      class={`card chart-card${loading.value ? " loading" : ""}`}
      aria-labelledby="chart-title"
      aria-busy={loading.value ? "true" : "false"}
    >
      <ChartControls
        metrics={props.metrics}
        draft={draft.value}
        error={rangeError.value}
        onChange={change}
        onApply={apply}
      />
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
      <SeriesTable
        metric={s.metric}
        label={metricInfo.value.label}
        series={series.value}
        previous={s.compare ? previous.value : null}
      />
      <p>
        <a href={seriesCsvUrl(s)} download>Download this series as CSV</a>
      </p>
    </section>
  );
}
