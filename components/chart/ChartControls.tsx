/**
 * The chart's controls: metric, range (presets or custom dates with Apply), bucket and the
 * previous-period comparison. A plain GET form to /analytics, so they work without
 * JavaScript; with it, the chart island handles each change.
 *
 * @module
 */
import type { ChartSelection, MetricOption, RangeProblem } from "./types.ts";

/** Props of {@linkcode ChartControls}. */
export interface ChartControlsProps {
  /** The metrics one may pick. */
  metrics: MetricOption[];
  /** What the controls say, applied or not yet. */
  draft: ChartSelection;
  /** A mistake in the custom dates, shown beside its field. */
  error: RangeProblem | null;
  /** A control changed. */
  onChange(update: Partial<ChartSelection>): void;
  /** Apply was pressed (or Enter in a date field). */
  onApply(): void;
}

/** The chart's controls. */
export function ChartControls(props: ChartControlsProps) {
  const { draft: d, error, onChange: change } = props;
  return (
    <form
      method="get"
      action="/analytics"
      class="controls"
      onSubmit={(e) => {
        e.preventDefault();
        props.onApply();
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
  );
}
