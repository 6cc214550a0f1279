import assert from "node:assert/strict";
import { createTestApp, createUser } from "../../tests/support/app.ts";
import { parseCsv } from "../../tests/support/browser.ts";

const t = await createTestApp();
const sam = await createUser(t.db, "sam@api.test", true);
const olive = await createUser(t.db, "olive@api.test");
await t.db.query(
  `insert into public.events (event_type, anonymous_id, payload, "timestamp")
   select 'page_view', 'v' || (g % 7), jsonb_build_object('n', g), now() - g * interval '1 hour'
     from generate_series(1, 240) g`,
);
await t.db.query("select analytics.run_daily_aggregation()");

async function get(path: string, userId: string | null = sam) {
  const headers: Record<string, string> = userId
    ? { authorization: `Bearer ${await t.token(userId)}` }
    : {};
  return await t.app.request(path, { headers });
}

Deno.test("the API answers 401 to strangers and 403 to users who are not superusers", async () => {
  for (
    const path of [
      "/api/v1/analytics/summary",
      "/api/v1/analytics/timeseries",
      "/api/v1/analytics/events",
    ]
  ) {
    assert.equal((await get(path, null)).status, 401, path);
    const forbidden = await get(path, olive);
    assert.equal(forbidden.status, 403, path);
    assert.equal((await forbidden.json()).error, "forbidden");
  }
});

Deno.test("bad parameters get 400 naming the parameter", async () => {
  const cases: Array<[string, string]> = [
    ["/api/v1/analytics/timeseries?metric=nope", "metric"],
    ["/api/v1/analytics/timeseries?bucket=hour", "bucket"],
    ["/api/v1/analytics/timeseries?range=12", "range"],
    ["/api/v1/analytics/timeseries?from=2026-02-30&to=2026-03-01", "from"],
    ["/api/v1/analytics/timeseries?from=2026-03-02&to=2026-03-01", "from"],
    ["/api/v1/analytics/breakdown?top=0", "top"],
    ["/api/v1/analytics/events?user_id=bob", "user_id"],
    ["/api/v1/analytics/events?before=garbage", "before"],
    ["/api/v1/analytics/events?limit=5000", "limit"],
  ];
  for (const [path, field] of cases) {
    const res = await get(path);
    assert.equal(res.status, 400, path);
    const body = await res.json();
    assert.equal(body.error, "invalid_parameter");
    assert.equal(body.field, field, path);
  }
});

Deno.test("summary, timeseries and breakdown give what the SQL functions give", async () => {
  const summary = await (await get("/api/v1/analytics/summary?range=7")).json();
  const [sql] = await t.db.query<Record<string, string | number>>(
    "select * from analytics.summary()",
  );
  assert.deepEqual(
    Object.fromEntries(Object.entries(summary.current).map(([k, v]) => [k, Number(v)])),
    Object.fromEntries(Object.entries(sql).map(([k, v]) => [k, Number(v)])),
  );
  const series =
    await (await get("/api/v1/analytics/timeseries?metric=events&range=30&bucket=day&compare=1"))
      .json();
  assert.equal(series.series.length, 30);
  assert.equal(series.previous.length, 30);
  const total = series.series.reduce((sum: number, p: { value: number }) => sum + p.value, 0);
  const [{ n }] = await t.db.query<{ n: number }>(
    `select count(*)::int as n from public.events where "timestamp" >= (current_date - 29)::timestamp at time zone 'UTC'`,
  );
  assert.equal(total, n);
  const breakdown = await (await get("/api/v1/analytics/breakdown?range=90")).json();
  assert.equal(
    breakdown.types.find((x: { eventType: string }) => x.eventType === "page_view").events,
    240,
  );
});

Deno.test("explorer pages are stable while new events arrive", async () => {
  const first = await (await get("/api/v1/analytics/events?limit=100")).json();
  assert.equal(first.events.length, 100);
  await t.db.query(
    `insert into public.events (event_type, anonymous_id) select 'late', 'x' from generate_series(1, 30)`,
  );
  const second =
    await (await get(`/api/v1/analytics/events?limit=100&before=${encodeURIComponent(first.next)}`))
      .json();
  const [expected] = await t.db.query<{ ids: string[] }>(
    `select array_agg(id::text order by "timestamp" desc, id desc) as ids from (
       select id, "timestamp" from public.events where event_type <> 'late' order by "timestamp" desc, id desc limit 200) e`,
  );
  assert.deepEqual(
    [...first.events, ...second.events].map((e: { id: string }) => e.id),
    expected.ids,
  );
});

Deno.test("the events CSV quotes commas, quotes, newlines and UTF-8 correctly", async () => {
  const payload = { text: 'he said "hi", then\nleft', emoji: "🚀 ünïcödé" };
  await t.db.query(
    `insert into public.events (event_type, anonymous_id, payload) values ('tricky,type', 'a "quoted" id', $1::text::jsonb)`,
    [JSON.stringify(payload)],
  );
  const res = await get("/api/v1/analytics/events.csv?type=tricky,type");
  assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
  const rows = parseCsv(await res.text());
  assert.equal(rows.length, 2);
  assert.equal(rows[1][3], "tricky,type");
  assert.equal(rows[1][5], 'a "quoted" id');
  assert.deepEqual(JSON.parse(rows[1][6]), payload);
});

Deno.test({
  name: "close the test database",
  fn: () => t.close(),
  sanitizeResources: false,
  sanitizeOps: false,
});
