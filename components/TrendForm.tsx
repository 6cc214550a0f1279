/**
 * The trends builder: a plain GET form, so the address holds the whole definition (up to
 * five series rows with event, math, numeric property and two filters each, the formula,
 * breakdown, bucket, range and comparison). Works without JavaScript.
 *
 * @module
 */
import { TREND_BUCKETS, TREND_MATHS, TREND_OPS, type TrendDefinition } from "../analytics/trend.ts";

/** Props of {@linkcode TrendForm}. */
export interface TrendFormProps {
  /** The definition shown (null: the empty form). */
  definition: TrendDefinition | null;
  /** The raw address, to refill the fields when the definition was refused. */
  params: URLSearchParams;
  /** Event types to suggest. */
  eventTypes: string[];
  /** The range shown when the address has none. */
  range: { from: string; to: string };
  /** A refused field and why, shown beside the form. */
  error: { field: string; message: string } | null;
}

const MATH_LABELS: Record<string, string> = {
  total: "Total count",
  unique: "Unique persons",
  sum: "Sum of",
  avg: "Average of",
  median: "Median of",
  p90: "90th percentile of",
};

/** The builder. */
export function TrendForm(props: TrendFormProps) {
  const p = props.params;
  const get = (name: string, fallback = "") => p.get(name) ?? fallback;
  const shown = Math.min(
    5,
    Math.max(2, [1, 2, 3, 4, 5].filter((k) => get(`event${k}`)).length + 1),
  );
  const rows = [1, 2, 3, 4, 5].slice(0, shown);
  return (
    <form method="get" action="/analytics/trends" class="card" aria-label="Trend definition">
      <datalist id="event-types">
        <option value="$all">every event</option>
        {props.eventTypes.map((t) => <option key={t} value={t} />)}
      </datalist>
      <table class="series-rows">
        <thead>
          <tr>
            <th>Series</th>
            <th>Event</th>
            <th>Math</th>
            <th>Numeric property</th>
            <th>Filters (property:op:value)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((k) => {
            const filters = p.getAll(`filter${k}`);
            return (
              <tr key={k}>
                <th scope="row">{String.fromCharCode(64 + k)}</th>
                <td>
                  <input
                    name={`event${k}`}
                    value={get(`event${k}`)}
                    list="event-types"
                    placeholder="event type, or $all"
                    aria-label={`Series ${String.fromCharCode(64 + k)} event`}
                  />
                </td>
                <td>
                  <select
                    name={`math${k}`}
                    aria-label={`Series ${String.fromCharCode(64 + k)} math`}
                  >
                    {TREND_MATHS.map((m) => (
                      <option value={m} selected={m === get(`math${k}`, "total")}>
                        {MATH_LABELS[m]}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <input
                    name={`property${k}`}
                    value={get(`property${k}`)}
                    placeholder="duration_ms"
                    aria-label={`Series ${String.fromCharCode(64 + k)} property`}
                  />
                </td>
                <td>
                  {[0, 1].map((i) => (
                    <input
                      name={`filter${k}`}
                      value={filters[i] ?? ""}
                      placeholder="plan:eq:pro"
                      aria-label={`Series ${String.fromCharCode(64 + k)} filter ${i + 1}`}
                    />
                  ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="muted">
        Filter ops: {TREND_OPS.join(", ")}{" "}
        (in: values separated by commas; is_set and is_not_set take no value). Save the address to
        keep a trend; add a row by filling the last one.
      </p>
      <div class="controls">
        <label>
          Formula <input name="formula" value={get("formula")} placeholder="B / A * 100" />
        </label>
        <label>
          Breakdown <input name="breakdown" value={get("breakdown")} placeholder="property" />
        </label>
        <label>
          Top <input type="number" name="top" min="1" max="50" value={get("top", "5")} />
        </label>
        <label>
          Bucket
          <select name="bucket">
            {TREND_BUCKETS.map((b) => (
              <option value={b} selected={b === get("bucket", "day")}>{b}</option>
            ))}
          </select>
        </label>
        <label>
          From <input type="date" name="from" value={get("from", props.range.from)} />
        </label>
        <label>
          To <input type="date" name="to" value={get("to", props.range.to)} />
        </label>
        <label class="inline">
          <input type="checkbox" name="compare" value="1" checked={get("compare") === "1"} />
          Compare with the previous period
        </label>
        <button class="primary" type="submit">Show</button>
      </div>
      {props.error && (
        <p class="field-error" role="alert" data-field={props.error.field}>
          {props.error.message}
        </p>
      )}
    </form>
  );
}
