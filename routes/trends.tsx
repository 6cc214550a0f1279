/**
 * `/analytics/trends`: the trends builder (a GET form, so the address holds the whole
 * definition), the chart, the table and the CSV, read as the signed-in user; and the
 * tracked properties, which superusers add and remove here (`POST /analytics/trends/tracked`
 * with the CSRF token). A refused definition is shown beside the form (400), one too broad
 * to answer in time says so.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "./_deps.ts";
import { Layout } from "../components/Layout.tsx";
import { TrendForm } from "../components/TrendForm.tsx";
import { TrendResult } from "../components/TrendResult.tsx";
import { sendPage } from "./_page.ts";
import { asViewer, csrfMatches, csrfToken } from "./_viewer.ts";
import { requireSuperuserPage } from "./_guards.tsx";
import { island } from "../hydration/render.ts";
import ReportChart from "../islands/ReportChart.tsx";
import { ParamError } from "../analytics/params.ts";
import { readBreakdown } from "../analytics/reads.ts";
import { addDays, todayUtc } from "../analytics/days.ts";
import {
  asTrendParamError,
  isTimeout,
  parseTrend,
  readTrackedProperties,
  readTrend,
  type TrackedProperty,
  trendQuery,
  type TrendRow,
} from "../analytics/trend.ts";

const Chart = island("ReportChart", ReportChart);
const trends = new Hono<AppEnv>();
trends.use("/analytics/trends", requireSuperuserPage());
trends.use("/analytics/trends/*", requireSuperuserPage());

trends.get("/analytics/trends", async (c: Context<AppEnv>) => {
  const params = new URL(c.req.url).searchParams;
  const today = todayUtc();
  let error: { field: string; message: string } | null = null;
  let notice: string | null = null;
  let definition = null;
  let rows: TrendRow[] = [];
  let eventTypes: string[] = [];
  let tracked: TrackedProperty[] = [];
  try {
    // The lists first, in their own transaction: a trend that times out keeps them.
    const lists = await asViewer(c, async (tx) => ({
      types: (await readBreakdown(tx, addDays(today, -89), today, 100)).map((t) => t.eventType),
      tracked: await readTrackedProperties(tx),
    }));
    eventTypes = lists.types.sort();
    tracked = lists.tracked;
    definition = parseTrend(params, today);
    const d = definition;
    if (!d) notice = "Choose at least one series: an event type (or $all) and what to count.";
    else {
      rows = await asViewer(c, (tx) => readTrend(tx, d)).catch((e) => {
        throw asTrendParamError(e);
      });
    }
  } catch (e) {
    if (e instanceof ParamError) error = { field: e.field, message: e.message };
    else if (isTimeout(e)) {
      notice =
        "This trend is too broad to answer in time: narrow the range, add filters, or break down by a tracked property.";
    } else throw e;
  }
  const claims = c.var.viewer.claims;
  const csrf = csrfToken(c);
  // Analysts read the page; only superusers change what is tracked.
  const canEdit = c.var.viewer.superuser;
  const back = definition ? `?${trendQuery(definition)}` : "";
  return sendPage(
    c,
    <Layout title="Trends" current="trends" email={claims.email ?? claims.sub} csrf={csrf}>
      <h1>Trends</h1>
      <p class="muted">
        Up to five series of any event, counted, as unique persons, or as the sum, average, median
        or 90th percentile of a numeric property; a formula over them (A to E); a breakdown by one
        property (its top values, the rest as "(other)"). UTC days; weeks start on Monday.
      </p>
      <TrendForm
        definition={definition}
        params={params}
        eventTypes={eventTypes}
        range={{ from: addDays(today, -29), to: today }}
        error={error}
      />
      {notice && <p class="card" role="status">{notice}</p>}
      {definition && !error && rows.length > 0 && (
        <TrendResult
          rows={rows}
          bucket={definition.bucket}
          query={trendQuery(definition).toString()}
          Chart={Chart}
        />
      )}
      <section class="card" style="margin-top:12px" aria-label="Tracked properties">
        <h2>Tracked properties</h2>
        <p class="muted">
          Rolled up nightly per day and value: breakdowns by them (total or unique persons, no
          filters) answer from the rollup. Other properties are read from the events.
        </p>
        <ul id="tracked">
          {tracked.map((t) => (
            <li>
              {canEdit
                ? (
                  <form method="post" action="/analytics/trends/tracked" class="inline">
                    <code>{t.eventType}</code> · <code>{t.property}</code>
                    <input type="hidden" name="csrf" value={csrf} />
                    <input type="hidden" name="action" value="remove" />
                    <input type="hidden" name="event_type" value={t.eventType} />
                    <input type="hidden" name="property" value={t.property} />
                    <input type="hidden" name="back" value={back} />
                    <button type="submit">Remove</button>
                  </form>
                )
                : (
                  <>
                    <code>{t.eventType}</code> · <code>{t.property}</code>
                  </>
                )}
            </li>
          ))}
        </ul>
        {canEdit && (
          <form method="post" action="/analytics/trends/tracked" class="controls">
            <input type="hidden" name="csrf" value={csrf} />
            <input type="hidden" name="action" value="add" />
            <input type="hidden" name="back" value={back} />
            <label>
              Event type <input name="event_type" list="event-types" required />
            </label>
            <label>
              Property <input name="property" required />
            </label>
            <button type="submit">Track</button>
          </form>
        )}
      </section>
    </Layout>,
    error ? 400 : 200,
  );
});

trends.post("/analytics/trends/tracked", async (c) => {
  const form = await c.req.parseBody();
  if (!csrfMatches(c, form.csrf, c.var.viewer.sessionSecret)) {
    return c.text("This form has expired; reload the page.", 400);
  }
  const eventType = String(form.event_type ?? "").trim();
  const property = String(form.property ?? "").trim();
  if (!eventType || !property || eventType.length > 200 || property.length > 200) {
    return c.text("Give an event type and a property (1 to 200 characters each).", 400);
  }
  await asViewer(c, async (tx) => {
    if (form.action === "remove") {
      await tx.query(
        "delete from analytics.tracked_properties where event_type = $1 and property = $2",
        [eventType, property],
      );
    } else {
      await tx.query(
        `insert into analytics.tracked_properties (event_type, property) values ($1, $2)
         on conflict do nothing`,
        [eventType, property],
      );
    }
  });
  const back = String(form.back ?? "");
  return c.redirect(`/analytics/trends${back.startsWith("?") ? back : ""}`, 303);
});

export default trends;
