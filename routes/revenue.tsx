/**
 * The revenue page, `/analytics/revenue?from=&to=`: headline cards, stacked MRR movements
 * and the MRR line (each with its table), churn per month, trial conversion per cohort, CSV
 * links, and the exchange rates, which a superuser edits here
 * (`POST /analytics/revenue/rates`, same-origin and CSRF-checked, written as the viewer so
 * RLS decides). A bad range gets the 400 page naming the field.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ComponentChildren } from "preact";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import type { AppEnv } from "./_deps.ts";
import { Layout } from "../components/Layout.tsx";
import { BadAddress } from "../components/BadAddress.tsx";
import {
  ChurnTable,
  MOVEMENTS,
  MovementsTable,
  RatesSection,
  RevenueCards,
  TrialTable,
} from "../components/RevenueTables.tsx";
import { sendPage } from "./_page.ts";
import { asViewer, csrfMatches, csrfToken, siteOrigin } from "./_viewer.ts";
import { requireSuperuserPage } from "./_guards.tsx";
import { island } from "../hydration/render.ts";
import ReportChart from "../islands/ReportChart.tsx";
import { ParamError } from "../analytics/params.ts";
import { todayUtc } from "../analytics/days.ts";
import {
  deleteRate,
  parseRateForm,
  parseRevenueRange,
  readRates,
  readRevenue,
  revenueQuery,
  saveRate,
} from "../analytics/revenue.ts";

const Chart = island("ReportChart", ReportChart);

function shell(c: Context<AppEnv>, title: string, body: ComponentChildren) {
  const claims = c.var.viewer.claims;
  return (
    <Layout title={title} current="revenue" email={claims.email ?? claims.sub} csrf={csrfToken(c)}>
      {body}
    </Layout>
  );
}

function badRequest(c: Context<AppEnv>, error: ParamError) {
  const page = <BadAddress message={error.message} restartHref="/analytics/revenue" />;
  return sendPage(c, shell(c, "Bad request", page), 400);
}

const pages = new Hono<AppEnv>();
pages.use("/analytics/revenue", requireSuperuserPage());
pages.use("/analytics/revenue/*", requireSuperuserPage());

pages.get("/analytics/revenue", async (c) => {
  try {
    const range = parseRevenueRange(new URL(c.req.url).searchParams, todayUtc());
    const { report, rates } = await asViewer(c, async (tx) => ({
      report: await readRevenue(tx, range),
      rates: await readRates(tx),
    }));
    const q = revenueQuery(range);
    const cur = report.currency;
    const labels = report.days.map((d) => d.day);
    const unconverted = [
      ...new Set(report.days.flatMap((d) => Object.keys(d.unconverted))),
    ].sort();
    return sendPage(
      c,
      shell(
        c,
        "Revenue",
        <>
          <h1>Revenue</h1>
          <p class="muted">
            MRR in {cur} per UTC day from <span class="date">{range.from}</span> to{" "}
            <span class="date">{range.to}</span>, per customer: a plan change (a subscription ending
            as another of the same user starts) is an expansion or a contraction, not a churn.
            Yearly plans count 1/12 a month; trials count nothing until they pay.
          </p>
          <form method="get" action="/analytics/revenue" class="controls card">
            <label>
              From <input type="date" name="from" value={range.from} />
            </label>
            <label>
              To <input type="date" name="to" value={range.to} />
            </label>
            <button class="primary" type="submit">Show</button>
          </form>
          {unconverted.length > 0 && (
            <p class="card" id="unconverted-note">
              Subscriptions in {unconverted.join(", ")}{" "}
              have no exchange rate on some days: they are left out of the figures on those days and
              listed apart in the table ("Without a rate"). Add a rate below.
            </p>
          )}
          <RevenueCards days={report.days} churn={report.churn} currency={cur} />
          <section class="card">
            <h2>
              MRR movements <small>{cur} per day; contraction and churn below zero</small>
            </h2>
            <Chart
              type="bar"
              title="MRR movements per day"
              labels={labels}
              datasets={MOVEMENTS.map((m) => ({
                label: m.label,
                data: report.days.map((d) => d[m.key]),
                color: m.color,
              }))}
              stacked
            />
            <MovementsTable days={report.days} />
            <p>
              <a href={`/api/v1/analytics/revenue.csv?${q}`}>Download CSV</a>
            </p>
          </section>
          <section class="card" style="margin-top:12px">
            <h2>
              MRR <small>{cur} at the end of each day</small>
            </h2>
            <Chart
              type="line"
              title="MRR per day"
              labels={labels}
              datasets={[{ label: "MRR", data: report.days.map((d) => d.mrr), color: "#1d4ed8" }]}
            />
            <p class="hint">The numbers are in the movements table above (column MRR).</p>
          </section>
          <div class="grid2" style="margin-top:12px">
            <section class="card" style="overflow-x:auto">
              <h2>
                Churn <small>per month, against those paying at its start</small>
              </h2>
              <ChurnTable churn={report.churn} />
              <p>
                <a href={`/api/v1/analytics/revenue/churn.csv?${q}`}>Download CSV</a>
              </p>
            </section>
            <section class="card" style="overflow-x:auto">
              <h2>
                Trial conversion <small>by month of each customer's first trial</small>
              </h2>
              <TrialTable trials={report.trials} />
              <p>
                <a href={`/api/v1/analytics/revenue/trials.csv?${q}`}>Download CSV</a>
              </p>
            </section>
          </div>
          <RatesSection
            rates={rates}
            currency={cur}
            csrf={csrfToken(c)}
            back={q}
            canEdit={c.var.viewer.superuser}
          />
        </>,
      ),
    );
  } catch (error) {
    if (error instanceof ParamError) return badRequest(c, error);
    throw error;
  }
});

const sameOriginForm = csrf({ origin: (origin, c) => origin === siteOrigin(c) });
pages.post("/analytics/revenue/rates", bodyLimit({ maxSize: 16 * 1024 }), sameOriginForm);

pages.post("/analytics/revenue/rates", async (c) => {
  const form = await c.req.parseBody();
  if (!csrfMatches(c, form.csrf, c.var.viewer.sessionSecret)) {
    return c.text("This form has expired; reload the page.", 400);
  }
  // Back to the range the form was on (only its from and to, never another address).
  let back = "/analytics/revenue";
  try {
    const range = parseRevenueRange(new URLSearchParams(String(form.back ?? "")), todayUtc());
    back += `?${revenueQuery(range)}`;
  } catch { /* the default range */ }
  try {
    if (form.action === "delete") {
      const { currency, validFrom } = parseRateForm({ ...form, rate: "1" });
      await asViewer(c, (tx) => deleteRate(tx, currency, validFrom));
    } else {
      const rate = parseRateForm(form);
      await asViewer(c, (tx) => saveRate(tx, rate));
    }
  } catch (error) {
    if (error instanceof ParamError) return badRequest(c, error);
    if ((error as { code?: string }).code === "42501") {
      return c.text("Only superusers may change exchange rates.", 403);
    }
    throw error;
  }
  return c.redirect(`${back}#rates`, 303);
});

export default pages;
