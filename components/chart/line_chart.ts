/**
 * The Chart.js side of the time-series chart: the line chart created once per canvas, the
 * datasets built from a series (in the metric's unit), the dashed segments into a partial
 * period, and the ticks and tooltips. Browser code: imported by the chart island only.
 *
 * @module
 */
import {
  CategoryScale,
  Chart,
  type ChartDataset,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { bucketLabel, metricUnit, shownValues } from "./format.ts";
import type { ChartSelection, SeriesPoint } from "./types.ts";

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

const LINE = "#1d4ed8";
const FILL = "rgba(29, 78, 216, 0.12)";
const PREVIOUS_LINE = "#6b7280";
/** Above this many points the line is drawn without dots. */
const MAX_DOTTED_POINTS = 60;

/** What the chart draws. */
export interface SeriesView {
  /** The selection whose data it is. */
  selection: ChartSelection;
  /** The metric's name, for the legend. */
  label: string;
  /** The selected period's series. */
  series: SeriesPoint[];
  /** The previous period's series, drawn when the selection compares. */
  previous: SeriesPoint[] | null;
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
 * The chart's labels and datasets for a view: the series (partial periods dashed, with
 * hollow points) and, when comparing, the previous period dashed in grey; values in the
 * metric's unit.
 *
 * @param view What to draw.
 * @returns The x-axis labels and the datasets.
 */
export function seriesDatasets(
  view: SeriesView,
): { labels: string[]; datasets: ChartDataset<"line", Array<number | null>>[] } {
  const { selection, series, previous } = view;
  const values = (points: SeriesPoint[]) =>
    shownValues(selection.metric, points.map((p) => p.value));
  return {
    labels: series.map((p) => bucketLabel(p.bucket, selection.bucket)),
    datasets: [
      {
        label: view.label,
        data: values(series),
        borderColor: LINE,
        backgroundColor: FILL,
        fill: true,
        tension: 0.25,
        pointRadius: series.length > MAX_DOTTED_POINTS ? 0 : 2,
        pointBackgroundColor: series.map((p) => p.incomplete ? "#fff" : LINE),
        segment: { borderDash: incompleteDash(series) },
      },
      ...(selection.compare && previous
        ? [{
          label: "Previous period",
          data: values(previous),
          borderColor: PREVIOUS_LINE,
          borderDash: [6, 4],
          fill: false,
          tension: 0.25,
          pointRadius: 0,
        }]
        : []),
    ],
  };
}

/**
 * Creates the (empty) line chart on a canvas; {@linkcode drawSeries} fills it.
 *
 * @param canvas The canvas to draw on.
 * @returns The chart, to destroy when the canvas goes.
 */
export function createLineChart(canvas: HTMLCanvasElement): Chart {
  return new Chart(canvas, {
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
}

/**
 * Draws a view on the chart: labels, datasets, y-axis ticks and tooltips in the metric's
 * unit (a partial period's tooltip says "(incomplete)").
 *
 * @param chart The chart from {@linkcode createLineChart}.
 * @param view What to draw.
 */
export function drawSeries(chart: Chart, view: SeriesView): void {
  const unit = metricUnit(view.selection.metric);
  const { labels, datasets } = seriesDatasets(view);
  chart.data.labels = labels;
  chart.data.datasets = datasets;
  const y = chart.options.scales!.y!;
  y.ticks = { ...y.ticks, callback: (v) => unit.tick(Number(v)) };
  chart.options.plugins!.tooltip = {
    ...chart.options.plugins!.tooltip,
    callbacks: {
      label: (item) =>
        `${item.dataset.label}: ${unit.format(item.parsed.y ?? 0)}${
          item.datasetIndex === 0 && view.series[item.dataIndex]?.incomplete ? " (incomplete)" : ""
        }`,
    },
  };
  chart.update();
}
