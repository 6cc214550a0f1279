/**
 * The superuser pages: `/analytics` (headline numbers with their change, the time-series
 * chart, the top event types) and `/analytics/events` (the raw event explorer). Everything
 * is read as the signed-in user, so RLS decides; the first render already holds the data.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ComponentChildren } from "preact";
import type { AppEnv } from "./_deps.ts";
import { Layout, LocalTime } from "../components/Layout.tsx";
import { sendPage } from "./_page.ts";
import { asViewer, csrfToken } from "./_viewer.ts";
import { requireSuperuserPage } from "./_guards.tsx";
import { island } from "../hydration/render.ts";
import TimeSeriesChart, { type RefusedParameter } from "../islands/TimeSeriesChart.tsx";
import type { ChartSelection } from "../analytics/series.ts";
import {
  type EventFilters,
  filterQuery,
  ParamError,
  parseEventFilters,
  parseSelection,
} from "../analytics/params.ts";
import {
  readBreakdown,
  readEventsPage,
  readMetrics,
  readSeries,
  readSummary,
  type Summary,
} from "../analytics/reads.ts";
import { addDays, daysBetween, previousPeriod, todayUtc } from "../analytics/days.ts";

const Chart = island("TimeSeriesChart", TimeSeriesChart);
const count = new Intl.NumberFormat("en-US");
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const percent = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });

function shell(
  c: Context<AppEnv>,
  title: string,
  current: "analytics" | "events",
  body: ComponentChildren,
) {
  const claims = c.var.viewer.claims;
  return (
    <Layout title={title} current={current} email={claims.email ?? claims.sub} csrf={csrfToken(c)}>
      {body}
    </Layout>
  );
}

function badRequest(c: Context<AppEnv>, error: ParamError, current: "analytics" | "events") {
  return sendPage(
    c,
    shell(
      c,
      "Bad request",
      current,
      <div class="card">
        <h1>That address asks for something Beacon cannot show</h1>
        <p class="error">{error.message}</p>
        <p>
          <a href={current === "events" ? "/analytics/events" : "/analytics"}>
            Start again with the defaults
          </a>
        </p>
      </div>,
    ),
    400,
  );
}

function Kpi(
  props: {
    label: string;
    value: number;
    previous: number;
    days: number;
    money?: boolean;
    note?: string;
    /** A longer explanation, as the card's tooltip. */
    explain?: string;
  },
) {
  const format = (n: number) => props.money ? money.format(n) : count.format(n);
  const change = props.value - props.previous;
  const ratio = props.previous === 0 ? null : change / props.previous;
  const direction = change > 0 ? "up" : change < 0 ? "down" : "";
  const text = format(props.value);
  return (
    <div class="card kpi" data-kpi={props.label} title={props.explain}>
      <div class="label">{props.label}</div>
      {/* --chars lets the CSS shrink a long number to fit the card instead of wrapping it. */}
      <div class="value" data-value={props.value} style={`--chars:${text.length}`}>{text}</div>
      <div class={`muted ${direction}`}>
        {change === 0
          ? "no change"
          : <span class="num">{`${change > 0 ? "▲ +" : "▼ "}${format(change)}`}</span>}
        {ratio !== null && change !== 0
          ? (
            <>
              {" "}
              <span class="num">({percent.format(ratio)})</span>
            </>
          )
          : ""} vs <span class="num">{props.days} days</span> ago
      </div>
      {props.note && <div class="muted">{props.note}</div>}
    </div>
  );
}

function EmptyState() {
  return (
    <section class="card" aria-labelledby="empty-title" data-empty-guide="">
      <h2 id="empty-title">No events yet</h2>
      <p>Beacon shows charts as soon as your app records events. Send one in either way:</p>
      <p>
        From your app with supabase-js (row-level security decides what is allowed):
      </p>
      <pre><code>{`await supabase.from("events").insert({ event_type: "page_view", anonymous_id: "device-1" });`}</code></pre>
      <p>Or over HTTP with the ingest key Beacon printed on its first start:</p>
      <pre><code>{`curl -X POST ${"<beacon>"}/api/v1/events -H "content-type: application/json" \\
  -H "apikey: <ingest key>" -d '{"event": "page_view", "anonymous_id": "device-1"}'`}</code></pre>
      <p>See README.md, "Sending events", for the fields and limits.</p>
    </section>
  );
}

const USERS_VS_SIGNUPS =
  "Total users counts the accounts that exist now; total signups counts the signup events " +
  "recorded in all time. They differ when accounts were deleted, or were imported without " +
  "a signup event.";

/**
 * The chart selection of the address, or, when a parameter is wrong, the selection without
 * it (the defaults) and that parameter, so the dashboard still renders and shows the mistake
 * beside its field.
 */
function parseSelectionOrDefaults(
  params: URLSearchParams,
  metrics: string[],
  today: string,
): { selection: ChartSelection; refused: RefusedParameter | null } {
  try {
    return { selection: parseSelection(params, metrics, today), refused: null };
  } catch (error) {
    if (!(error instanceof ParamError)) throw error;
    const rest = new URLSearchParams(params);
    const dates = ["from", "to", "range"].includes(error.field);
    for (const name of dates ? ["from", "to", "range"] : [error.field]) rest.delete(name);
    return {
      // Anything else wrong surfaces as the 400 page.
      selection: parseSelection(rest, metrics, today),
      refused: {
        field: error.field,
        message: error.message,
        from: params.get("from") ?? "",
        to: params.get("to") ?? "",
      },
    };
  }
}

const pages = new Hono<AppEnv>();
pages.use("/analytics", requireSuperuserPage());
pages.use("/analytics/*", requireSuperuserPage());

pages.get("/analytics", async (c) => {
  const params = new URL(c.req.url).searchParams;
  const today = todayUtc();
  try {
    const data = await asViewer(c, async (tx) => {
      const metrics = await readMetrics(tx);
      const { selection, refused } = parseSelectionOrDefaults(
        params,
        metrics.map((m) => m.metric),
        today,
      );
      const before = previousPeriod(selection.from, selection.to);
      const [summary, series, previous, breakdown, any] = [
        await readSummary(tx, selection.from),
        await readSeries(tx, selection.metric, selection.from, selection.to, selection.bucket),
        selection.compare
          ? await readSeries(tx, selection.metric, before.from, before.to, selection.bucket)
          : null,
        await readBreakdown(tx, selection.from, selection.to, 10),
        // The signup trigger records user_signup for the admin's own account: the guide stays
        // until the app itself has sent an event.
        await tx.query<{ any: boolean }>(
          "select exists (select 1 from public.events where event_type <> 'user_signup') as any",
        ),
      ];
      return {
        metrics,
        selection,
        refused,
        summary,
        series,
        previous,
        breakdown,
        hasEvents: any[0].any,
      };
    });
    const { selection, summary } = data;
    const days = daysBetween(selection.from, selection.to);
    const kpi = (
      label: string,
      key: keyof Summary,
      extra: { money?: boolean; note?: string; explain?: string } = {},
    ) => (
      <Kpi
        label={label}
        value={summary.current[key]}
        previous={summary.previous[key]}
        days={days}
        {...extra}
      />
    );
    const maxEvents = Math.max(1, ...data.breakdown.map((b) => b.events));
    return sendPage(
      c,
      shell(
        c,
        "Analytics",
        "analytics",
        <>
          <h1>Analytics</h1>
          <p class="muted">
            Now, compared with the end of <span class="date">{addDays(selection.from, -1)}</span>
            {" "}
            (UTC). Days are UTC days.
          </p>
          {!data.hasEvents && <EmptyState />}
          <section class="cards" aria-label="Headline numbers">
            {kpi("Total users", "total_users", {
              note: "accounts that exist now",
              explain: USERS_VS_SIGNUPS,
            })}
            {kpi("Total signups", "total_signups", {
              note: "signup events, all time",
              explain: USERS_VS_SIGNUPS,
            })}
            {kpi("Active subscriptions", "active_subscriptions")}
            {kpi("Estimated MRR", "mrr_estimate_usd", { money: true, note: "USD subscriptions" })}
            {kpi("DAU", "dau", { note: "yesterday (UTC)" })}
            {kpi("WAU", "wau", { note: "7 days to yesterday" })}
            {kpi("MAU", "mau", { note: "30 days to yesterday" })}
          </section>
          <div class="grid2">
            <Chart
              metrics={data.metrics}
              selection={selection}
              series={data.series}
              previous={data.previous}
              refused={data.refused}
            />
            <section class="card" aria-labelledby="breakdown-title">
              <h2 id="breakdown-title">
                Top event types{" "}
                <small>
                  <span class="date">{selection.from}</span> to{" "}
                  <span class="date">{selection.to}</span>
                </small>
              </h2>
              {data.breakdown.length === 0
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
                      {data.breakdown.map((b) => (
                        <tr>
                          <td>
                            <a
                              href={`/analytics/events?${new URLSearchParams({
                                type: b.eventType,
                              })}`}
                            >
                              {b.eventType}
                            </a>
                            <div
                              class="bar"
                              style={`width:${
                                Math.max(2, Math.round((b.events / maxEvents) * 100))
                              }%`}
                            />
                          </td>
                          <td class="num">{count.format(b.events)}</td>
                          <td class="num">{percent.format(b.share)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
            </section>
          </div>
        </>,
      ),
      data.refused ? 400 : 200,
    );
  } catch (error) {
    if (error instanceof ParamError) return badRequest(c, error, "analytics");
    throw error;
  }
});

function EventsPage(props: {
  filters: EventFilters;
  types: string[];
  events: Awaited<ReturnType<typeof readEventsPage>>["events"];
  next: string | null;
}) {
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
        <a href={`/api/v1/analytics/events.csv?${filterQuery(f)}`} download>
          Download these events as CSV
        </a>
      </p>
      <section class="card events" aria-label="Events">
        {props.events.length === 0
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
        {f.before && <a href={`/analytics/events?${filterQuery(f)}`}>« Newest</a>}
        {props.next && (
          <a href={`/analytics/events?${filterQuery(f, { before: props.next })}`} rel="next">
            Older »
          </a>
        )}
      </nav>
    </>
  );
}

pages.get("/analytics/events", async (c) => {
  try {
    const filters = parseEventFilters(new URL(c.req.url).searchParams);
    const data = await asViewer(c, async (tx) => {
      const page = await readEventsPage(tx, filters);
      const types = await readBreakdown(tx, addDays(todayUtc(), -89), todayUtc(), 100);
      return { page, types: types.map((t) => t.eventType).sort() };
    });
    return sendPage(
      c,
      shell(
        c,
        "Events",
        "events",
        <EventsPage filters={filters} types={data.types} {...data.page} />,
      ),
    );
  } catch (error) {
    if (error instanceof ParamError) return badRequest(c, error, "events");
    throw error;
  }
});

export default pages;
