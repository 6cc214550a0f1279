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
import { Layout } from "../components/Layout.tsx";
import { BadAddress } from "../components/BadAddress.tsx";
import { EventExplorer } from "../components/EventExplorer.tsx";
import { FirstEventGuide } from "../components/FirstEventGuide.tsx";
import { KpiCards } from "../components/KpiCards.tsx";
import { RollupsOnlyNotice } from "../components/RollupsOnlyNotice.tsx";
import { TopEventTypes } from "../components/TopEventTypes.tsx";
import type { ChartSelection, RefusedParameter } from "../components/chart/types.ts";
import { sendPage } from "./_page.ts";
import { asViewer, csrfMatches, csrfToken } from "./_viewer.ts";
import { PluginDeliveries } from "../components/PluginDeliveries.tsx";
import { replayPlugin } from "./api/plugins.ts";
import { ApiError } from "../http/errors.ts";
import { requireSuperuserPage } from "./_guards.tsx";
import { island } from "../hydration/render.ts";
import TimeSeriesChart from "../islands/TimeSeriesChart.tsx";
import { filterQuery, ParamError, parseEventFilters, parseSelection } from "../analytics/params.ts";
import {
  readBreakdown,
  readEventsPage,
  readMetrics,
  readRawEventsKeptFrom,
  readSeries,
  readSummary,
} from "../analytics/reads.ts";
import { addDays, daysBetween, previousPeriod, todayUtc } from "../analytics/days.ts";

const Chart = island("TimeSeriesChart", TimeSeriesChart);

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
      <BadAddress
        message={error.message}
        restartHref={current === "events" ? "/analytics/events" : "/analytics"}
      />,
    ),
    400,
  );
}

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
      // Dead letters per plugin, as the viewer: RLS lets superusers read them.
      const dead = await tx.query<{ plugin: string; n: number }>(
        "select plugin, count(*)::int as n from beacon.plugin_dead_letters group by plugin",
      );
      return {
        keptFrom: await readRawEventsKeptFrom(tx),
        deadLetters: new Map(dead.map((r) => [r.plugin, r.n])),
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
          {!data.hasEvents && <FirstEventGuide />}
          <RollupsOnlyNotice
            from={selection.from}
            to={selection.to}
            keptFrom={data.keptFrom}
            rawPart="The top event types count raw events, so they leave those days out."
          />
          <KpiCards
            current={summary.current}
            previous={summary.previous}
            days={daysBetween(selection.from, selection.to)}
          />
          <div class="grid2">
            <Chart
              metrics={data.metrics}
              selection={selection}
              series={data.series}
              previous={data.previous}
              refused={data.refused}
            />
            <TopEventTypes from={selection.from} to={selection.to} rows={data.breakdown} />
          </div>
          {c.var.deps.config.plugins.length > 0 && (
            <PluginDeliveries
              csrf={csrfToken(c)}
              plugins={c.var.deps.config.plugins.map((p) => ({
                name: p.name,
                deadLettered: data.deadLetters.get(p.name) ?? 0,
              }))}
            />
          )}
        </>,
      ),
      data.refused ? 400 : 200,
    );
  } catch (error) {
    if (error instanceof ParamError) return badRequest(c, error, "analytics");
    throw error;
  }
});

pages.get("/analytics/events", async (c) => {
  try {
    const filters = parseEventFilters(new URL(c.req.url).searchParams);
    const data = await asViewer(c, async (tx) => {
      const page = await readEventsPage(tx, filters);
      const types = await readBreakdown(tx, addDays(todayUtc(), -89), todayUtc(), 100);
      const keptFrom = await readRawEventsKeptFrom(tx);
      return { page, types: types.map((t) => t.eventType).sort(), keptFrom };
    });
    return sendPage(
      c,
      shell(
        c,
        "Events",
        "events",
        <EventExplorer
          filters={filters}
          types={data.types}
          events={data.page.events}
          keptFrom={data.keptFrom}
          csvHref={`/api/v1/analytics/events.csv?${filterQuery(filters)}`}
          newestHref={filters.before ? `/analytics/events?${filterQuery(filters)}` : null}
          olderHref={data.page.next
            ? `/analytics/events?${filterQuery(filters, { before: data.page.next })}`
            : null}
        />,
      ),
    );
  } catch (error) {
    if (error instanceof ParamError) return badRequest(c, error, "events");
    throw error;
  }
});

// The dashboard's replay button (the API has POST /api/v1/plugins/:name/replay).
pages.post("/analytics/plugins/:name/replay", async (c) => {
  const form = await c.req.parseBody();
  if (!csrfMatches(c, form.csrf, c.var.viewer.sessionSecret)) {
    throw new ApiError(403, "csrf", "this form has expired: reload the dashboard and try again");
  }
  await replayPlugin(c, c.req.param("name"));
  return c.redirect("/analytics", 303);
});

export default pages;
