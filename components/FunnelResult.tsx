/**
 * A funnel's answer: bars of persons per step (server-rendered, nothing to interact with),
 * the table beside them (persons, conversion, median and p90 time from the previous step,
 * drop-offs linking to the list of who dropped off), the breakdown, the CSV link, and the
 * dropped-off persons with links to the event explorer.
 *
 * @module
 */
import { type DroppedPerson, explorerHref, type FunnelRow } from "../analytics/funnel.ts";

/** Props of {@linkcode FunnelResult}. */
export interface FunnelResultProps {
  rows: FunnelRow[];
  /** The definition's query string, for links. */
  query: string;
  /** The drop-offs shown, if asked for. */
  dropoffs: { step: number; persons: DroppedPerson[] } | null;
}

const pct = (v: number | null) => v === null ? "–" : `${(v * 100).toFixed(1)}%`;

/** Seconds as a short duration: 45s, 12m, 3.5h, 2.1d. */
export function duration(seconds: number | null): string {
  if (seconds === null) return "–";
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86400).toFixed(1)}d`;
}

function label(r: FunnelRow) {
  return r.eventType === "$anonymous" ? "anonymous visit" : r.eventType;
}

/** The bars, the table, the breakdown and the drop-offs. */
export function FunnelResult(props: FunnelResultProps) {
  const total = props.rows.filter((r) => r.breakdownRank === 0);
  const first = total[0]?.persons ?? 0;
  const groups = [
    ...new Set(props.rows.filter((r) => r.breakdownRank > 0).map((r) => r.breakdownRank)),
  ];
  return (
    <>
      <div class="grid2">
        <section class="card" aria-label="Funnel chart">
          <h2>Persons per step</h2>
          {total.map((r) => (
            <div class="funnel-bar">
              <div class="muted">{r.step}. {label(r)}</div>
              <div
                class="bar"
                style={`width:${
                  first === 0 ? 0 : Math.max(1, (100 * r.persons) / first)
                }%;height:22px`}
              />
              <div class="num">{r.persons} · {pct(r.conversionFromFirst)}</div>
            </div>
          ))}
        </section>
        <section class="card">
          <h2>
            Steps{" "}
            <small>
              <a href={`/api/v1/analytics/funnel.csv?${props.query}`}>CSV</a>
            </small>
          </h2>
          <table class="data" id="funnel-table">
            <thead>
              <tr>
                <th>Step</th>
                <th class="num">Persons</th>
                <th class="num">From previous</th>
                <th class="num">From first</th>
                <th class="num">Median time</th>
                <th class="num">p90 time</th>
                <th class="num">Dropped off</th>
              </tr>
            </thead>
            <tbody>
              {total.map((r, i) => (
                <tr>
                  <td>{r.step}. {label(r)}</td>
                  <td class="num">{r.persons}</td>
                  <td class="num">{pct(r.conversionFromPrevious)}</td>
                  <td class="num">{pct(r.conversionFromFirst)}</td>
                  <td
                    class="num"
                    title={r.medianSeconds === null ? undefined : `${r.medianSeconds} s`}
                  >
                    {duration(r.medianSeconds)}
                  </td>
                  <td class="num" title={r.p90Seconds === null ? undefined : `${r.p90Seconds} s`}>
                    {duration(r.p90Seconds)}
                  </td>
                  <td class="num">
                    {i === 0
                      ? "–"
                      : (
                        <a href={`/analytics/funnels?${props.query}&dropped_at=${r.step}#dropoffs`}>
                          {total[i - 1].persons - r.persons}
                        </a>
                      )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
      {groups.length > 0 && (
        <section class="card" aria-label="Breakdown">
          <h2>Breakdown by the first step's property</h2>
          <table class="data" id="funnel-breakdown">
            <thead>
              <tr>
                <th>Value</th>
                {total.map((r) => <th key={r.step} class="num">{r.step}. {label(r)}</th>)}
              </tr>
            </thead>
            <tbody>
              {groups.map((g) => {
                const rows = props.rows.filter((r) => r.breakdownRank === g);
                return (
                  <tr>
                    <td>{rows[0].breakdownValue}</td>
                    {rows.map((r) => (
                      <td class="num">{r.persons} ({pct(r.conversionFromFirst)})</td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}
      {props.dropoffs && (
        <section class="card" id="dropoffs">
          <h2>
            Dropped off before step {props.dropoffs.step}{" "}
            <small>
              (reached step {props.dropoffs.step - 1}; the {props.dropoffs.persons.length}{" "}
              most recent, at most 100)
            </small>
          </h2>
          {props.dropoffs.persons.length === 0 ? <p class="muted">Nobody.</p> : (
            <table class="data">
              <thead>
                <tr>
                  <th>Person</th>
                  <th>Entered (UTC)</th>
                  <th>Last step (UTC)</th>
                </tr>
              </thead>
              <tbody>
                {props.dropoffs.persons.map((p) => (
                  <tr>
                    <td>
                      <a href={explorerHref(p)}>
                        {p.userId ? `user ${p.userId}` : `anonymous ${p.anonymousId}`}
                      </a>
                    </td>
                    <td class="date">{p.enteredAt.slice(0, 19).replace("T", " ")}</td>
                    <td class="date">{p.lastStepAt.slice(0, 19).replace("T", " ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </>
  );
}
