/**
 * The lifecycle page's tables: new / returning / resurrecting / dormant per bucket, the
 * stickiness histogram, and feature adoption.
 *
 * @module
 */
import type { AdoptionRow, LifecycleBucket, StickinessRow } from "../analytics/lifecycle.ts";

/** The lifecycle statuses in the order they are stacked, with their colours. */
export const LIFECYCLE_STATUSES = [
  { key: "new", label: "New", color: "#047857" },
  { key: "returning", label: "Returning", color: "#1d4ed8" },
  { key: "resurrecting", label: "Resurrecting", color: "#d97706" },
  { key: "dormant", label: "Dormant", color: "#b91c1c" },
] as const;

/** Lifecycle per bucket (dormant negative, as drawn). */
export function LifecycleTable(props: { buckets: LifecycleBucket[] }) {
  return (
    <table class="data" id="lifecycle-table">
      <thead>
        <tr>
          <th scope="col">Bucket</th>
          {LIFECYCLE_STATUSES.map((s) => <th key={s.key} scope="col" class="num">{s.label}</th>)}
        </tr>
      </thead>
      <tbody>
        {props.buckets.map((b) => (
          <tr>
            <th scope="row" class="date">{b.start}</th>
            {LIFECYCLE_STATUSES.map((s) => <td key={s.key} class="num">{b[s.key]}</td>)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Stickiness over the whole range: persons (per period) by number of active days. */
export function StickinessTable(props: { rows: StickinessRow[]; period: string }) {
  const all = props.rows.filter((r) => r.periodStart === null);
  const total = all.reduce((sum, r) => sum + r.persons, 0);
  return (
    <table class="data" id="stickiness-table">
      <thead>
        <tr>
          <th scope="col">Active days in the {props.period}</th>
          <th scope="col" class="num">Person-{props.period}s</th>
          <th scope="col" class="num">Share</th>
        </tr>
      </thead>
      <tbody>
        {all.map((r) => (
          <tr>
            <th scope="row" class="num">{r.days}</th>
            <td class="num">{r.persons}</td>
            <td class="num">{total > 0 ? `${(100 * r.persons / total).toFixed(1)}%` : "–"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Feature adoption: each event type's share of the range's active persons. */
export function AdoptionTable(props: { rows: AdoptionRow[] }) {
  if (props.rows.length === 0) return <p class="muted">No events in this range.</p>;
  return (
    <table class="data" id="adoption-table">
      <thead>
        <tr>
          <th scope="col">Event type</th>
          <th scope="col" class="num">Persons</th>
          <th scope="col" class="num">Of active persons</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr>
            <td>
              {r.eventType}
              <div class="bar" style={`width:${Math.max(2, Math.round(r.percentage ?? 0))}%`} />
            </td>
            <td class="num">{r.persons} / {r.activePersons}</td>
            <td class="num">{r.percentage === null ? "–" : `${r.percentage.toFixed(1)}%`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
