/**
 * The raw event explorer (/analytics/events): the filter form, the CSV link, the events
 * newest first (each expanding to its payload) and the pager.
 *
 * @module
 */
import { RollupsOnlyNotice } from "./RollupsOnlyNotice.tsx";
import { LocalTime } from "./Layout.tsx";

/** The explorer's filters, as given in the address (null when not set). */
export interface ExplorerFilters {
  type: string | null;
  userId: string | null;
  anonymousId: string | null;
  /** First UTC day included. */
  from: string | null;
  /** Last UTC day included. */
  to: string | null;
}

/** One event as the explorer lists it. */
export interface ExplorerRow {
  id: string;
  eventType: string;
  userId: string | null;
  anonymousId: string | null;
  /** The event's stored payload, shown as JSON. */
  payload: unknown;
  /** When it happened (ISO 8601). */
  timestamp: string;
  /** When Beacon received it (ISO 8601). */
  receivedAt: string;
}

/** Props of {@linkcode EventExplorer}. */
export interface EventExplorerProps {
  /** The filters in force, put back in the form. */
  filters: ExplorerFilters;
  /** The event types to offer in the type filter. */
  types: string[];
  /** This page's events, newest first. */
  events: ExplorerRow[];
  /** The CSV export of the filtered events. */
  csvHref: string;
  /** The first page with the same filters; null on the first page. */
  newestHref: string | null;
  /** The next (older) page; null when no older event matches. */
  olderHref: string | null;
  /** First UTC day whose raw events are kept (raw-event retention); null: all are. */
  keptFrom?: string | null;
}

/** The event explorer's page body. */
export function EventExplorer(props: EventExplorerProps) {
  const f = props.filters;
  return (
    <>
      <h1>Events</h1>
      <p class="muted">Newest first. Times in your time zone, UTC in brackets.</p>
      <form method="get" action="/analytics/events" class="filters card" aria-label="Filter events">
        <label>
          Event type
          <select name="type">
            <option value="">Any</option>
            {props.types.map((t) => <option key={t} value={t} selected={t === f.type}>{t}</option>)}
          </select>
        </label>
        <label>
          User id
          <input name="user_id" value={f.userId ?? ""} size={38} placeholder="uuid" />
        </label>
        <label>
          Anonymous id
          <input name="anonymous_id" value={f.anonymousId ?? ""} />
        </label>
        <label>
          From (UTC day)
          <input type="date" name="from" value={f.from ?? ""} />
        </label>
        <label>
          To (UTC day)
          <input type="date" name="to" value={f.to ?? ""} />
        </label>
        <button class="primary" type="submit">Filter</button>
        <a href="/analytics/events">Clear</a>
      </form>
      <p>
        <a href={props.csvHref} download>
          Download these events as CSV
        </a>
      </p>
      {!(f.to && props.keptFrom && f.to < props.keptFrom) && (
        <RollupsOnlyNotice
          from={f.from}
          to={f.to}
          keptFrom={props.keptFrom ?? null}
          rawPart="The explorer lists only the events still kept."
        />
      )}
      <section class="card events" aria-label="Events">
        {props.events.length === 0 && props.keptFrom && f.to && f.to < props.keptFrom
          ? (
            <p data-rollups-only="all">
              Raw events before <span class="date">{props.keptFrom}</span>{" "}
              (UTC) are no longer kept (BEACON_RAW_RETENTION_DAYS), so none of this range's can be
              listed. Its days are still counted on the{" "}
              <a href={`/analytics?from=${f.from ?? f.to}&to=${f.to}`}>dashboard</a>, from the
              rollups.
            </p>
          )
          : props.events.length === 0
          ? (
            <p>
              No events match. {f.type || f.userId || f.anonymousId || f.from || f.to
                ? <a href="/analytics/events">Clear the filters</a>
                : 'Send some: see README.md, "Sending events".'}
            </p>
          )
          : props.events.map((e) => (
            <details data-event-id={e.id}>
              <summary>
                <LocalTime iso={e.timestamp} />
                <strong>{e.eventType}</strong>
                <span>{e.userId ? `user ${e.userId}` : `anonymous ${e.anonymousId}`}</span>
              </summary>
              <pre>{JSON.stringify(e.payload, null, 2)}</pre>
              <p class="muted">
                id {e.id}, received <LocalTime iso={e.receivedAt} />
              </p>
            </details>
          ))}
      </section>
      <nav class="pager" aria-label="Pages">
        {props.newestHref && <a href={props.newestHref}>« Newest</a>}
        {props.olderHref && (
          <a href={props.olderHref} rel="next">
            Older »
          </a>
        )}
      </nav>
    </>
  );
}
