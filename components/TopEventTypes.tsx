/**
 * The breakdown beside the chart: the most frequent event types of the range, each linking
 * to the explorer filtered by it, with a bar, the count and the share.
 *
 * @module
 */
import { formatCount, formatPercent } from "./format.ts";

/** One event type of the breakdown. */
export interface EventTypeCount {
  /** The event type. */
  eventType: string;
  /** How many events of it the range holds. */
  events: number;
  /** Its share of the range's events, 0 to 1. */
  share: number;
}

/** Props of {@linkcode TopEventTypes}. */
export interface TopEventTypesProps {
  /** The range's first UTC day. */
  from: string;
  /** The range's last UTC day. */
  to: string;
  /** The event types, most frequent first. */
  rows: EventTypeCount[];
}

/** The top event types of a range, as a card with a table. */
export function TopEventTypes(props: TopEventTypesProps) {
  const maxEvents = Math.max(1, ...props.rows.map((b) => b.events));
  return (
    <section class="card" aria-labelledby="breakdown-title">
      <h2 id="breakdown-title">
        Top event types{" "}
        <small>
          <span class="date">{props.from}</span> to <span class="date">{props.to}</span>
        </small>
      </h2>
      {props.rows.length === 0
        ? <p class="muted">No events in this range.</p>
        : (
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Event type</th>
                <th scope="col" class="num">Events</th>
                <th scope="col" class="num">Share</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((b) => (
                <tr>
                  <td>
                    <a href={`/analytics/events?${new URLSearchParams({ type: b.eventType })}`}>
                      {b.eventType}
                    </a>
                    <div
                      class="bar"
                      style={`width:${Math.max(2, Math.round((b.events / maxEvents) * 100))}%`}
                    />
                  </td>
                  <td class="num">{formatCount(b.events)}</td>
                  <td class="num">{formatPercent(b.share)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}
