/**
 * The chart's data as a table, folded under "Show the data as a table": one row per bucket
 * (partial ones marked), values in the metric's unit, and the previous period beside them
 * when comparing.
 *
 * @module
 */
import { display } from "./format.ts";
import type { SeriesPoint } from "./types.ts";

/** Props of {@linkcode SeriesTable}. */
export interface SeriesTableProps {
  /** The metric's key, for its unit. */
  metric: string;
  /** The metric's name, the value column's heading. */
  label: string;
  /** The series. */
  series: SeriesPoint[];
  /** The previous period's series, shown in a third column; null when not comparing. */
  previous: SeriesPoint[] | null;
}

/** The chart's data as a table. */
export function SeriesTable(props: SeriesTableProps) {
  const { metric, previous } = props;
  return (
    <details>
      <summary>Show the data as a table</summary>
      <table class="data">
        <thead>
          <tr>
            <th scope="col">Bucket starting</th>
            <th scope="col">{props.label}</th>
            {previous && <th scope="col">Previous period</th>}
          </tr>
        </thead>
        <tbody>
          {props.series.map((p, i) => (
            <tr data-incomplete={p.incomplete ? "" : undefined}>
              <td>
                <span class="date">{p.bucket}</span>
                {p.incomplete && p.value !== null && <span class="muted">(partial)</span>}
              </td>
              <td class="num">{display(metric, p.value)}</td>
              {previous && (
                <td class="num">{previous[i] ? display(metric, previous[i].value) : ""}</td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
