/**
 * The person-report pages: `/analytics/retention` (the cohort triangle, shaded, and the
 * average curve) and `/analytics/lifecycle` (lifecycle bars, stickiness histogram, feature
 * adoption). Each definition lives in the URL (plain GET forms), is read as the signed-in
 * user, renders on the server with a table beside every chart and a CSV link; a bad
 * definition gets the 400 page naming the field.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ComponentChildren } from "preact";
import type { AppEnv } from "./_deps.ts";
import { Layout } from "../components/Layout.tsx";
import { BadAddress } from "../components/BadAddress.tsx";
import { RetentionTable } from "../components/RetentionTable.tsx";
import {
  AdoptionTable,
  LIFECYCLE_STATUSES,
  LifecycleTable,
  StickinessTable,
} from "../components/LifecycleTables.tsx";
import { sendPage } from "./_page.ts";
import { asViewer, csrfToken } from "./_viewer.ts";
import { requireSuperuserPage } from "./_guards.tsx";
import { island } from "../hydration/render.ts";
import ReportChart from "../islands/ReportChart.tsx";
import { ParamError } from "../analytics/params.ts";
import { todayUtc } from "../analytics/days.ts";
import { parseRetention, readRetention, retentionQuery } from "../analytics/retention.ts";
import {
  lifecycleQuery,
  parseLifecycle,
  readAdoption,
  readLifecycle,
  readStickiness,
} from "../analytics/lifecycle.ts";

const Chart = island("ReportChart", ReportChart);

function shell(c: Context<AppEnv>, title: string, current: string, body: ComponentChildren) {
  const claims = c.var.viewer.claims;
  return (
    <Layout title={title} current={current} email={claims.email ?? claims.sub} csrf={csrfToken(c)}>
      {body}
    </Layout>
  );
}

function badRequest(c: Context<AppEnv>, error: ParamError, path: string) {
  const page = <BadAddress message={error.message} restartHref={path} />;
  return sendPage(c, shell(c, "Bad request", path.split("/").pop()!, page), 400);
}

const pages = new Hono<AppEnv>();
pages.use("/analytics/retention", requireSuperuserPage());
pages.use("/analytics/lifecycle", requireSuperuserPage());

pages.get("/analytics/retention", async (c) => {
  try {
    const d = parseRetention(new URL(c.req.url).searchParams, todayUtc());
    const cells = await asViewer(c, (tx) => readRetention(tx, d));
    const average = cells.filter((x) => x.cohortStart === null);
    const empty = cells.every((x) => x.cohortSize === 0);
    return sendPage(
      c,
      shell(
        c,
        "Retention",
        "retention",
        <>
          <h1>Retention</h1>
          <p class="muted">
            Persons by the {d.period} of their first ever{" "}
            <code>{d.start}</code>, and the share who came back with{" "}
            {d.returnEvent ? <code>{d.returnEvent}</code> : "any event"} in each later{" "}
            {d.period}. UTC days; weeks start on Monday.
          </p>
          <form method="get" action="/analytics/retention" class="controls card">
            <label>
              First cohort from <input type="date" name="from" value={d.from} />
            </label>
            <label>
              Periods <input type="number" name="periods" min="1" max="60" value={d.periods} />
            </label>
            <label>
              Period
              <select name="period">
                {["day", "week", "month"].map((p) => (
                  <option value={p} selected={p === d.period}>{p}</option>
                ))}
              </select>
            </label>
            <label>
              Start event <input name="start" value={d.start} />
            </label>
            <label>
              Return event <input name="return" value={d.returnEvent ?? ""} placeholder="any" />
            </label>
            <button class="primary" type="submit">Show</button>
          </form>
          {empty && (
            <p class="card">
              No person did <code>{d.start}</code> for the first time in these cohorts.
            </p>
          )}
          <section class="card">
            <h2>
              Average curve <small>weighted by cohort size</small>
            </h2>
            <Chart
              type="line"
              title={`Average retention by ${d.period}`}
              labels={average.map((x) => `${d.period} ${x.offset}`)}
              datasets={[{
                label: "Retained",
                data: average.map((x) => x.percentage),
                color: "#1d4ed8",
              }]}
              percent
            />
          </section>
          <section class="card" style="overflow-x:auto;margin-top:12px">
            <h2>Cohorts</h2>
            <RetentionTable cells={cells} periods={d.periods} period={d.period} />
            <p>
              <a href={`/api/v1/analytics/retention.csv?${retentionQuery(d)}`}>Download CSV</a>
            </p>
          </section>
        </>,
      ),
    );
  } catch (error) {
    if (error instanceof ParamError) return badRequest(c, error, "/analytics/retention");
    throw error;
  }
});

pages.get("/analytics/lifecycle", async (c) => {
  try {
    const d = parseLifecycle(new URL(c.req.url).searchParams, todayUtc());
    const data = await asViewer(c, async (tx) => ({
      buckets: await readLifecycle(tx, d),
      stickiness: await readStickiness(tx, d),
      adoption: await readAdoption(tx, d),
    }));
    const q = lifecycleQuery(d);
    const all = data.stickiness.filter((r) => r.periodStart === null);
    return sendPage(
      c,
      shell(
        c,
        "Lifecycle",
        "lifecycle",
        <>
          <h1>Lifecycle, stickiness and adoption</h1>
          <p class="muted">
            Persons doing {d.event ? <code>{d.event}</code> : "any event"} from{" "}
            <span class="date">{d.from}</span> to <span class="date">{d.to}</span> (UTC days, whole
            {" "}
            {d.bucket}s for the lifecycle).
          </p>
          <form method="get" action="/analytics/lifecycle" class="controls card">
            <label>
              From <input type="date" name="from" value={d.from} />
            </label>
            <label>
              To <input type="date" name="to" value={d.to} />
            </label>
            <label>
              Event <input name="event" value={d.event ?? ""} placeholder="any" />
            </label>
            <label>
              Lifecycle bucket
              <select name="bucket">
                {["day", "week", "month"].map((b) => (
                  <option value={b} selected={b === d.bucket}>{b}</option>
                ))}
              </select>
            </label>
            <label>
              Stickiness period
              <select name="period">
                {["week", "month"].map((p) => (
                  <option value={p} selected={p === d.period}>{p}</option>
                ))}
              </select>
            </label>
            <label>
              Top <input type="number" name="top" min="1" max="1000" value={d.top} />
            </label>
            <button class="primary" type="submit">Show</button>
          </form>
          <section class="card">
            <h2>Lifecycle</h2>
            <Chart
              type="bar"
              title="Lifecycle per bucket"
              labels={data.buckets.map((b) => b.start)}
              datasets={LIFECYCLE_STATUSES.map((s) => ({
                label: s.label,
                data: data.buckets.map((b) => b[s.key]),
                color: s.color,
              }))}
              stacked
            />
            <LifecycleTable buckets={data.buckets} />
            <p>
              <a href={`/api/v1/analytics/lifecycle.csv?${q}`}>Download CSV</a>
            </p>
          </section>
          <div class="grid2">
            <section class="card">
              <h2>
                Stickiness <small>active days per {d.period}</small>
              </h2>
              <Chart
                type="bar"
                title={`Persons by active days per ${d.period}`}
                labels={all.map((r) => String(r.days))}
                datasets={[{ label: "Persons", data: all.map((r) => r.persons), color: "#1d4ed8" }]}
              />
              <StickinessTable rows={data.stickiness} period={d.period} />
              <p>
                <a href={`/api/v1/analytics/stickiness.csv?${q}`}>Download CSV</a>
              </p>
            </section>
            <section class="card">
              <h2>Feature adoption</h2>
              <AdoptionTable rows={data.adoption} />
              <p>
                <a href={`/api/v1/analytics/adoption.csv?${q}`}>Download CSV</a>
              </p>
            </section>
          </div>
        </>,
      ),
    );
  } catch (error) {
    if (error instanceof ParamError) return badRequest(c, error, "/analytics/lifecycle");
    throw error;
  }
});

export default pages;
