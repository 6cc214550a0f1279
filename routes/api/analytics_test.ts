import assert from "node:assert/strict";
import { createSharedSuiteApp, createUser } from "../../tests/support/app.ts";
import { parseCsv } from "../../tests/support/browser.ts";

const t = await createSharedSuiteApp();
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

Deno.test("what a superuser reads is never cached: private, no-store on JSON and CSV", async () => {
  for (const path of ["summary", "timeseries?metric=events", "breakdown", "events", "events.csv"]) {
    const res = await get(`/api/v1/analytics/${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("cache-control"), "private, no-store", path);
    await res.body?.cancel();
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

Deno.test("the events API serves its largest page, limit=1000, with a cursor only when older events exist", async () => {
  await t.db.query(
    `insert into public.events (event_type, anonymous_id, "timestamp")
     select 'bulk', 'b', now() - g * interval '1 second' from generate_series(1, 1000) g`,
  );
  const full = await get("/api/v1/analytics/events?type=bulk&limit=1000");
  assert.equal(full.status, 200);
  const page = await full.json();
  assert.equal(page.events.length, 1000);
  assert.equal(page.next, null, "exactly 1000 events: no older page");
  const short = await (await get("/api/v1/analytics/events?type=bulk&limit=999")).json();
  assert.equal(short.events.length, 999);
  assert.notEqual(short.next, null);
  const rest = await (await get(
    `/api/v1/analytics/events?type=bulk&limit=1000&before=${encodeURIComponent(short.next)}`,
  )).json();
  assert.equal(rest.events.length, 1);
  assert.equal(rest.next, null);
});

Deno.test("NUL in a parameter gives 400 naming it, on the JSON API and before any CSV is sent", async () => {
  const uuid = "0b6a1f9e-3c1d-4e7a-9a57-2f1f5b2d8c11";
  const cases: Array<[string, string]> = [
    ["/api/v1/analytics/events?type=%00", "type"],
    ["/api/v1/analytics/events?anonymous_id=a%00b", "anonymous_id"],
    [`/api/v1/analytics/events?before=2026-11-26T10:00:00Z%00_${uuid}`, "before"],
    ["/api/v1/analytics/events.csv?type=%00", "type"],
    ["/api/v1/analytics/events.csv?anonymous_id=a%00b", "anonymous_id"],
    ["/api/v1/analytics/timeseries.csv?metric=events&bucket=day%00", "bucket"],
    ["/api/v1/analytics/timeseries?metric=events&compare=%00", "compare"],
  ];
  for (const [path, field] of cases) {
    const res = await get(path);
    assert.equal(res.status, 400, path);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/, path);
    const body = await res.json();
    assert.equal(body.error, "invalid_parameter", path);
    assert.equal(body.field, field, path);
  }
});

Deno.test("dates outside the years 1900 to 9999 give 400 naming the parameter", async () => {
  const uuid = "0b6a1f9e-3c1d-4e7a-9a57-2f1f5b2d8c11";
  const cases: Array<[string, string]> = [
    [`/api/v1/analytics/events?before=275760-09-13_${uuid}`, "before"],
    [`/api/v1/analytics/events.csv?before=275760-09-13_${uuid}`, "before"],
    [`/api/v1/analytics/events?before=0001-01-01T00:00:00Z_${uuid}`, "before"],
    ["/api/v1/analytics/events?from=0000-01-01", "from"],
    ["/api/v1/analytics/events.csv?to=9999-12-31", "to"],
    ["/api/v1/analytics/timeseries?from=0001-01-01&to=0001-01-02", "from"],
    ["/api/v1/analytics/summary?from=1899-12-31&to=1900-01-01", "from"],
  ];
  for (const [path, field] of cases) {
    const res = await get(path);
    assert.equal(res.status, 400, path);
    const body = await res.json();
    assert.equal(body.error, "invalid_parameter", path);
    assert.equal(body.field, field, path);
  }
});

Deno.test("an events CSV export that fails after its first page is aborted, not ended like a whole file", async () => {
  await t.db.query(
    `insert into public.events (event_type, anonymous_id, "timestamp")
     select 'csv_abort', 'c', now() - g * interval '1 second' from generate_series(1, 1200) g`,
  );
  const res = await get("/api/v1/analytics/events.csv?type=csv_abort");
  assert.equal(res.status, 200);
  // The next page's query fails: the viewer loses the right to run it mid-export.
  await t.db.query(
    "revoke execute on function analytics.events_page(text, uuid, text, timestamptz, timestamptz, timestamptz, uuid, integer) from authenticated",
  );
  try {
    await assert.rejects(() => res.text());
  } finally {
    await t.db.query(
      "grant execute on function analytics.events_page(text, uuid, text, timestamptz, timestamptz, timestamptz, uuid, integer) to authenticated",
    );
  }
  const whole = await get("/api/v1/analytics/events.csv?type=csv_abort");
  assert.equal(parseCsv(await whole.text()).length, 1201);
});

Deno.test("an events CSV export whose first page fails is an error status, not a 200", async () => {
  await t.db.query(
    "revoke execute on function analytics.events_page(text, uuid, text, timestamptz, timestamptz, timestamptz, uuid, integer) from authenticated",
  );
  try {
    const res = await get("/api/v1/analytics/events.csv");
    assert.notEqual(res.status, 200);
    await res.body?.cancel();
  } finally {
    await t.db.query(
      "grant execute on function analytics.events_page(text, uuid, text, timestamptz, timestamptz, timestamptz, uuid, integer) to authenticated",
    );
  }
});

Deno.test("CSV exports neutralise text cells that start with = + - @ tab or CR, and keep numbers", async () => {
  const formulas = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\tTAB",
    "\rCR",
  ];
  for (const [i, text] of formulas.entries()) {
    await t.db.query(
      `insert into public.events (event_type, anonymous_id, "timestamp") values ($1, $2, now() - interval '1 minute' * $3::int)`,
      [text, `anon${i}`, i],
    );
  }
  for (const [i, text] of formulas.entries()) {
    const res = await get(`/api/v1/analytics/events.csv?anonymous_id=anon${i}`);
    const rows = parseCsv(await res.text());
    assert.equal(rows.length, 2, text);
    assert.equal(rows[1][3], `'${text}`, `event_type ${JSON.stringify(text)}`);
  }
  const series = parseCsv(
    await (await get("/api/v1/analytics/timeseries.csv?metric=events&range=7")).text(),
  );
  assert.ok(series.slice(1).every((row) => /^\d+$/.test(row[1])), "counts are plain numbers");
});
