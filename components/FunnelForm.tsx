/**
 * The funnel's step editor: a plain GET form, so the address holds the whole definition
 * (steps in order, filters as `<step>:<property>:<op>:<value>`, range, window, breakdown).
 *
 * @module
 */
import { FILTER_OPS, type FunnelDefinition, NAMED_FUNNELS } from "../analytics/funnel.ts";

/** Props of {@linkcode FunnelForm}. */
export interface FunnelFormProps {
  /** The definition shown (null: the empty form). */
  definition: FunnelDefinition | null;
  /** The raw address, to refill the fields when the definition was refused. */
  params: URLSearchParams;
  /** Event types to suggest. */
  eventTypes: string[];
  /** A refused parameter and why, shown beside the form. */
  error: { field: string; message: string } | null;
}

/** The step editor and the named funnels. */
export function FunnelForm(props: FunnelFormProps) {
  const d = props.definition;
  const steps = d
    ? d.steps.map((s) => s.event)
    : props.params.getAll("step").filter((s) => s !== "");
  const filters = d
    ? d.steps.flatMap((s, i) =>
      s.filters.map((f) =>
        `${i + 1}:${f.property}:${f.op}${
          f.value === undefined ? "" : `:${Array.isArray(f.value) ? f.value.join(",") : f.value}`
        }`
      )
    )
    : props.params.getAll("filter").filter((s) => s !== "");
  const stepFields = [...steps, ...Array(Math.max(1, 3 - steps.length)).fill("")].slice(0, 10);
  const get = (name: string, fallback = "") => props.params.get(name) ?? fallback;
  return (
    <form method="get" action="/analytics/funnels" class="card" aria-label="Funnel definition">
      <p class="muted">
        Named funnels: {NAMED_FUNNELS.map((f, i) => (
          <>
            {i > 0 && " · "}
            <a href={`/analytics/funnels?funnel=${f.name}`} title={f.description}>{f.title}</a>
          </>
        ))}
      </p>
      <datalist id="event-types">
        {props.eventTypes.map((t) => <option key={t} value={t} />)}
      </datalist>
      <ol class="steps">
        {stepFields.map((s, i) => (
          <li>
            <label>
              Step {i + 1}
              <input
                name="step"
                value={s}
                list="event-types"
                placeholder="event type"
                aria-invalid={props.error?.field === "step" ? "true" : undefined}
              />
            </label>
          </li>
        ))}
      </ol>
      <p class="hint">Leave a step empty to drop it; add one in the empty field (up to 10).</p>
      <div class="controls">
        {[...filters, ""].map((f) => (
          <label>
            Filter
            <input
              name="filter"
              value={f}
              placeholder="2:plan:eq:pro"
              aria-invalid={props.error?.field === "filter" ? "true" : undefined}
            />
          </label>
        ))}
      </div>
      <p class="hint">
        A filter is step:property:op:value, op one of {FILTER_OPS.join(", ")}{" "}
        (in takes values separated by commas; is_set and is_not_set take none).
      </p>
      <div class="controls">
        <label>
          From (UTC)
          <input type="date" name="from" value={d?.from ?? get("from")} />
        </label>
        <label>
          To (UTC)
          <input type="date" name="to" value={d?.to ?? get("to")} />
        </label>
        <label>
          Conversion window
          <input
            name="window"
            value={d?.window ?? get("window", "14d")}
            size={6}
            placeholder="14d"
            aria-invalid={props.error?.field === "window" ? "true" : undefined}
          />
        </label>
        <label>
          Breakdown property (step 1)
          <input
            name="breakdown"
            value={d?.breakdown ?? get("breakdown")}
            placeholder="utm_source"
          />
        </label>
        <label>
          Top values
          <input
            type="number"
            name="top"
            min={1}
            max={50}
            value={String(d?.top ?? get("top", "5"))}
          />
        </label>
        <button type="submit" class="primary">Show funnel</button>
        {props.error && <p class="field-error" role="alert">{props.error.message}</p>}
      </div>
    </form>
  );
}
