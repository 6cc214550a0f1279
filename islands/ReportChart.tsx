/**
 * A small Chart.js chart for the person reports: a line (retention's average curve) or
 * bars, stacked or not (lifecycle, stickiness). The data is in a table beside it on the
 * page; this island only draws. Created once per canvas, destroyed on cleanup.
 */
import { useEffect, useRef } from "preact/hooks";
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(
  BarController,
  BarElement,
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  Tooltip,
  Legend,
);

/** One series of the chart. */
export interface ReportDataset {
  label: string;
  data: Array<number | null>;
  color: string;
}

/** Props of {@linkcode ReportChart}. */
export interface ReportChartProps {
  /** Line or bars. */
  type: "line" | "bar";
  /** What the chart shows, for screen readers (the table beside it holds the numbers). */
  title: string;
  labels: string[];
  datasets: ReportDataset[];
  /** Stack the bars (lifecycle). @default {false} */
  stacked?: boolean;
  /** Values are percentages (0 to 100). @default {false} */
  percent?: boolean;
}

/** The chart island. */
export default function ReportChart(props: ReportChartProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: props.type,
      data: {
        labels: props.labels,
        datasets: props.datasets.map((d) => ({
          label: d.label,
          data: d.data,
          borderColor: d.color,
          backgroundColor: d.color,
        })),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { stacked: props.stacked ?? false },
          y: {
            stacked: props.stacked ?? false,
            beginAtZero: true,
            ...(props.percent ? { max: 100, ticks: { callback: (v) => `${v}%` } } : {}),
          },
        },
        plugins: { legend: { display: props.datasets.length > 1 } },
      },
    });
    // What was drawn, for tests and for anyone reading the page's source of truth.
    canvas.current.dataset.drawn = JSON.stringify({
      labels: chart.data.labels,
      datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })),
    });
    return () => chart.destroy();
  }, []);
  return (
    <div class="chart-box">
      <canvas ref={canvas} role="img" aria-label={props.title} />
    </div>
  );
}
