import assert from "node:assert/strict";
import { createSharedSuiteApp, createUser } from "../../tests/support/app.ts";
import { parseCsv } from "../../tests/support/browser.ts";

const t = await createSharedSuiteApp();
const sam = await createUser(t.db, "sam@revenue.test", true);
const olive = await createUser(t.db, "olive@revenue.test");
// Olive pays 20 EUR, then 30 EUR; the rate to USD is 1.5 from 40 days ago.
await t.db.query(
  `insert into public.subscriptions (user_id, plan, status, amount_cents, currency, started_at, canceled_at)
   values ($1, 'basic', 'canceled', 2000, 'EUR', now() - interval '30 days', now() - interval '10 days'),
          ($1, 'pro', 'active', 3000, 'EUR', now() - interval '10 days', null)`,
  [olive],
);
await t.db.query(
  `insert into analytics.exchange_rates values ('EUR', 1.5, current_date - 40)`,
);

async function get(path: string, userId: string | null = sam) {
  const headers: Record<string, string> = userId
    ? { authorization: `Bearer ${await t.token(userId)}` }
    : {};
  return await t.app.request(path, { headers });
}

const PATHS = [
  "/api/v1/analytics/revenue",
  "/api/v1/analytics/revenue.csv",
  "/api/v1/analytics/revenue/churn.csv",
  "/api/v1/analytics/revenue/trials.csv",
  "/api/v1/analytics/revenue/rates",
];

Deno.test("revenue answers 401 to strangers, 403 to non-superusers, no-store to superusers", async () => {
  for (const path of PATHS) {
    assert.equal((await get(path, null)).status, 401, path);
    assert.equal((await get(path, olive)).status, 403, path);
    const res = await get(path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("cache-control"), "private, no-store", path);
    await res.body?.cancel();
  }
});

Deno.test("revenue: bad parameters get 400 naming the parameter", async () => {
  const cases: Array<[string, string]> = [
    ["revenue?from=2026-13-01", "from"],
    ["revenue?to=yesterday", "to"],
    ["revenue?from=2026-03-02&to=2026-03-01", "from"],
    ["revenue?from=2020-01-01&to=2026-03-01", "from"],
    ["revenue.csv?from=2026-02-30", "from"],
    ["revenue?from=9999-06-01&to=9999-06-02", "from"],
  ];
  for (const [path, field] of cases) {
    const res = await get(`/api/v1/analytics/${path}`);
    assert.equal(res.status, 400, path);
    const body = await res.json();
    assert.equal(body.error, "invalid_parameter", path);
    assert.equal(body.field, field, path);
  }
});

Deno.test("the revenue API gives what the SQL functions give, JSON and CSV", async () => {
  const json = await (await get("/api/v1/analytics/revenue")).json();
  const { from, to } = json.range;
  assert.equal(json.currency, "USD");
  const sql = await t.db.query<{ day: string; mrr: number; expansion: number }>(
    `select day::text, mrr::float8, expansion_mrr::float8 as expansion
       from analytics.mrr_movements($1::date, $2::date)`,
    [from, to],
  );
  assert.deepEqual(json.days.map((d: { day: string }) => d.day), sql.map((r) => r.day));
  assert.deepEqual(json.days.map((d: { mrr: number }) => d.mrr), sql.map((r) => r.mrr));
  assert.equal(json.days.at(-1).mrr, 45, "30 EUR at 1.5");
  assert.equal(sql.reduce((s, r) => s + r.expansion, 0), 15, "the upgrade is an expansion");
  const csv = parseCsv(
    await (await get(`/api/v1/analytics/revenue.csv?from=${from}&to=${to}`)).text(),
  );
  assert.equal(csv[0][0], "day");
  assert.equal(csv.length - 1, sql.length);
  const churn = parseCsv(await (await get("/api/v1/analytics/revenue/churn.csv")).text());
  assert.equal(churn.length - 1, json.churn.length);
  const trials = parseCsv(await (await get("/api/v1/analytics/revenue/trials.csv")).text());
  assert.equal(trials.length - 1, json.trials.length);
  const rates = await (await get("/api/v1/analytics/revenue/rates")).json();
  assert.deepEqual(rates.rates.map((r: { currency: string }) => r.currency), ["EUR"]);
});
