/**
 * The retention triangle as a table: one row per cohort (its start and size), one column
 * per period offset, each cell the percentage retained, shaded by it; the weighted average
 * as the last row.
 *
 * @module
 */
import type { RetentionCell } from "../analytics/retention.ts";

/** Props of {@linkcode RetentionTable}. */
export interface RetentionTableProps {
  cells: RetentionCell[];
  periods: number;
  period: string;
}

function shade(percentage: number | null): string | undefined {
  if (percentage === null) return undefined;
  const alpha = (0.08 + 0.72 * percentage / 100).toFixed(2);
  return `background:rgba(29,78,216,${alpha});color:${percentage > 55 ? "#fff" : "inherit"}`;
}

/** The cohort triangle. */
export function RetentionTable(props: RetentionTableProps) {
  const rows = new Map<string, RetentionCell[]>();
  for (const c of props.cells) {
    const key = c.cohortStart ?? "average";
    rows.set(key, [...(rows.get(key) ?? []), c]);
  }
  const offsets = Array.from({ length: props.periods }, (_, i) => i);
  return (
    <table class="data retention" id="retention-table">
      <thead>
        <tr>
          <th scope="col">Cohort ({props.period} of first event)</th>
          <th scope="col" class="num">Persons</th>
          {offsets.map((k) => <th key={k} scope="col" class="num">{`${props.period} ${k}`}</th>)}
        </tr>
      </thead>
      <tbody>
        {[...rows].map(([key, cells]) => (
          <tr data-cohort={key}>
            <th scope="row" class="date">{key === "average" ? "Average (weighted)" : key}</th>
            <td class="num">{cells[0]?.cohortSize ?? 0}</td>
            {offsets.map((k) => {
              const cell = cells.find((c) => c.offset === k);
              if (!cell) return <td key={k} class="num empty" />;
              return (
                <td
                  key={k}
                  class="num"
                  data-offset={k}
                  data-retained={cell.retained}
                  style={shade(cell.percentage)}
                  title={`${cell.retained} of ${cell.cohortSize}`}
                >
                  {cell.percentage === null ? "–" : `${cell.percentage.toFixed(1)}%`}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
