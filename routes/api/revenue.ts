/**
 * Revenue over the JSON API, as the signed-in user (RLS decides):
 * `GET /api/v1/analytics/revenue?from=&to=` (MRR movements per day, churn per month, trial
 * conversion per cohort, the reporting currency), `/revenue.csv` (the days),
 * `/revenue/churn.csv`, `/revenue/trials.csv`, and `/revenue/rates` (the exchange rates).
 * A bad parameter is a 400 `{"error": "invalid_parameter", "field", "message"}`. Rates are
 * written from the page (`POST /analytics/revenue/rates`, CSRF-checked) or in SQL.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../_deps.ts";
import { requireSuperuserApi } from "../_guards.tsx";
import { asViewer } from "../_viewer.ts";
import { todayUtc } from "../../analytics/days.ts";
import { csvLine } from "../../analytics/csv.ts";
import { parseRevenueRange, readRates, readRevenue } from "../../analytics/revenue.ts";

const revenue = new Hono<AppEnv>();
for (const path of ["/revenue", "/revenue.csv", "/revenue/*"]) {
  revenue.use(path, requireSuperuserApi());
  revenue.use(path, async function notCached(c, next) {
    await next();
    c.header("cache-control", "private, no-store");
  });
}

function report(c: Context<AppEnv>) {
  const range = parseRevenueRange(new URL(c.req.url).searchParams, todayUtc());
  return asViewer(c, (tx) => readRevenue(tx, range));
}

function csv(c: Context<AppEnv>, name: string, header: string[], rows: unknown[][]) {
  const body = csvLine(header) + rows.map((r) => csvLine(r)).join("");
  return c.body(body, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="beacon-${name}.csv"`,
  });
}

revenue.get("/revenue", async (c) => c.json(await report(c)));

revenue.get("/revenue.csv", async (c) => {
  const r = await report(c);
  return csv(
    c,
    `revenue-${r.range.from}-${r.range.to}`,
    [
      "day",
      "currency",
      "new_mrr",
      "expansion_mrr",
      "contraction_mrr",
      "churned_mrr",
      "reactivation_mrr",
      "net_new_mrr",
      "fx_adjustment",
      "mrr",
      "arr",
      "paying_customers",
      "new_customers",
      "churned_customers",
      "reactivated_customers",
      "arpu",
      "unconverted",
    ],
    r.days.map((d) => [
      d.day,
      d.currency,
      d.newMrr,
      d.expansionMrr,
      d.contractionMrr,
      d.churnedMrr,
      d.reactivationMrr,
      d.netNewMrr,
      d.fxAdjustment,
      d.mrr,
      d.arr,
      d.payingCustomers,
      d.newCustomers,
      d.churnedCustomers,
      d.reactivatedCustomers,
      d.arpu,
      Object.keys(d.unconverted).length ? JSON.stringify(d.unconverted) : "",
    ]),
  );
});

revenue.get("/revenue/churn.csv", async (c) => {
  const r = await report(c);
  return csv(
    c,
    `revenue-churn-${r.range.from}-${r.range.to}`,
    [
      "month",
      "customers_at_start",
      "churned_customers",
      "customer_churn_rate",
      "mrr_at_start",
      "churned_mrr",
      "contraction_mrr",
      "expansion_mrr",
      "revenue_churn_rate",
      "net_revenue_churn_rate",
    ],
    r.churn.map((m) => [
      m.month,
      m.customersAtStart,
      m.churnedCustomers,
      m.customerChurnRate,
      m.mrrAtStart,
      m.churnedMrr,
      m.contractionMrr,
      m.expansionMrr,
      m.revenueChurnRate,
      m.netRevenueChurnRate,
    ]),
  );
});

revenue.get("/revenue/trials.csv", async (c) => {
  const r = await report(c);
  return csv(
    c,
    `trial-conversion-${r.range.from}-${r.range.to}`,
    [
      "cohort_month",
      "trials",
      "converted",
      "converted_in_trial",
      "converted_late",
      "still_trialing",
      "conversion_rate",
      "median_days_to_convert",
    ],
    r.trials.map((t) => [
      t.cohortMonth,
      t.trials,
      t.converted,
      t.convertedInTrial,
      t.convertedLate,
      t.stillTrialing,
      t.conversionRate,
      t.medianDaysToConvert,
    ]),
  );
});

revenue.get("/revenue/rates", async (c) => {
  const rates = await asViewer(c, (tx) => readRates(tx));
  return c.json({ rates });
});

export default revenue;
