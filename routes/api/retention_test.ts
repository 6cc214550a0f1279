import assert from "node:assert/strict";
import { createSharedSuiteApp, createUser } from "../../tests/support/app.ts";
import { parseCsv } from "../../tests/support/browser.ts";

const t = await createSharedSuiteApp();
const sam = await createUser(t.db, "sam@reports.test", true);
const olive = await createUser(t.db, "olive@reports.test");
await t.db.query(
  `insert into public.events (event_type, anonymous_id, "timestamp")
   select (array['page_view', 'feature_used', 'user_signup'])[1 + g % 3], 'v' || (g % 9),
          now() - g * interval '5 hours'
     from generate_series(1, 300) g`,
);
await t.db.query("select analytics.run_daily_aggregation()");

async function get(path: string, userId: string | null = sam) {
  const headers: Record<string, string> = userId
    ? { authorization: `Bearer ${await t.token(userId)}` }
    : {};
  return await t.app.request(path, { headers });
}

const REPORTS = ["retention", "lifecycle", "stickiness", "adoption"];

Deno.test("person reports answer 401 to strangers, 403 to non-superusers, no-store to superusers", async () => {
  for (const report of REPORTS) {
    for (const path of [`/api/v1/analytics/${report}`, `/api/v1/analytics/${report}.csv`]) {
      assert.equal((await get(path, null)).status, 401, path);
      assert.equal((await get(path, olive)).status, 403, path);
      const res = await get(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("cache-control"), "private, no-store", path);
      await res.body?.cancel();
    }
  }
});

Deno.test("person reports: bad parameters get 400 naming the parameter", async () => {
  const cases: Array<[string, string]> = [
    ["retention?period=year", "period"],
    ["retention?periods=0", "periods"],
    ["retention?periods=abc", "periods"],
    ["retention?from=2026-13-01", "from"],
    ["retention?start=" + "x".repeat(201), "start"],
    ["lifecycle?bucket=hour", "bucket"],
    ["lifecycle?from=2026-13-01&to=2026-12-01", "from"],
    ["lifecycle?from=2026-03-02&to=2026-03-01", "from"],
    ["stickiness?period=day", "period"],
    ["adoption?top=0", "top"],
    ["retention.csv?period=year", "period"],
  ];
  for (const [path, field] of cases) {
    const res = await get(`/api/v1/analytics/${path}`);
    assert.equal(res.status, 400, path);
    const body = await res.json();
    assert.equal(body.error, "invalid_parameter", path);
    assert.equal(body.field, field, path);
  }
});

Deno.test("a refusal by the SQL function is a 400 naming the URL parameter", async () => {
  // The URL allows dates up to 9999-12-30; analytics.retention refuses from_day after 9999-01-01.
  const res = await get("/api/v1/analytics/retention?from=9999-06-01");
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.field, "from");
  assert.match(body.message, /from_day/);
});

Deno.test("the API gives what the SQL functions give, JSON and CSV", async () => {
  const json = await (await get("/api/v1/analytics/retention?period=day&periods=10")).json();
  const [{ from }] = [json.definition];
  const sql = await t.db.query<{ retained: number }>(
    "select retained::int from analytics.retention($1::date, 10, 'day')",
    [from],
  );
  assert.deepEqual(
    json.cells.map((c: { retained: number }) => c.retained),
    sql.map((r) => r.retained),
  );
  const csv = parseCsv(
    await (await get("/api/v1/analytics/retention.csv?period=day&periods=10")).text(),
  );
  assert.deepEqual(csv[0], [
    "cohort_start",
    "cohort_size",
    "period_offset",
    "retained",
    "percentage",
  ]);
  assert.equal(csv.length - 1, sql.length);

  const lifecycle = await (await get("/api/v1/analytics/lifecycle?range=7&bucket=day")).json();
  const rows = await t.db.query<{ n: number }>(
    `select count(*)::int as n from analytics.lifecycle(current_date - 6, current_date)`,
  );
  assert.equal(lifecycle.buckets.length * 4, rows[0].n);
  const adoption = await (await get("/api/v1/analytics/adoption?range=30&top=2")).json();
  assert.equal(adoption.rows.length, 2);
  const top2 = await t.db.query<{ event_type: string }>(
    "select event_type from analytics.feature_adoption(current_date - 29, current_date, 2)",
  );
  assert.deepEqual(
    adoption.rows.map((r: { eventType: string }) => r.eventType),
    top2.map((r) => r.event_type),
  );
  const sticky = parseCsv(await (await get("/api/v1/analytics/stickiness.csv?range=30")).text());
  assert.deepEqual(sticky[0], ["period_start", "days", "persons"]);
});
