import assert from "node:assert/strict";
import { createSharedSuiteApp, createSuiteApp, createUser } from "../../tests/support/app.ts";
import { parseCsv } from "../../tests/support/browser.ts";
import { startMigratedPostgres15 } from "../../tests/support/database.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "../../tests/support/postgres15.ts";

const t = await createSharedSuiteApp();
const sam = await createUser(t.db, "sam@trend-api.test", true);
const olive = await createUser(t.db, "olive@trend-api.test");
// Today: 4 tasks started (pro, pro, free, none), 2 completed in 100 and "300" ms.
await t.db.query(
  `insert into public.events (event_type, anonymous_id, payload, "timestamp")
   values ('task_started', 'v1', '{"plan": "pro"}', now()), ('task_started', 'v2', '{"plan": "pro"}', now()),
          ('task_started', 'v3', '{"plan": "free"}', now()), ('task_started', 'v4', '{}', now()),
          ('task_completed', 'v1', '{"plan": "pro", "duration_ms": 100}', now()),
          ('task_completed', 'v3', '{"plan": "free", "duration_ms": "300"}', now())`,
);
const missing = await missingPostgres15();

async function get(path: string, userId: string | null = sam) {
  const headers: Record<string, string> = userId
    ? { authorization: `Bearer ${await t.token(userId)}` }
    : {};
  return await t.app.request(path, { headers });
}

const DEF =
  "event1=task_started&event2=task_completed&math2=unique&formula=B/A*100&breakdown=plan&range=7";

Deno.test("GET /trend answers the series, the formula and the breakdown, as the signed-in superuser", async () => {
  const res = await get(`/api/v1/analytics/trend?${DEF}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "private, no-store");
  const body = await res.json();
  const total = (series: string, value: string) =>
    body.rows.filter((r: { series: string; breakdownValue: string }) =>
      r.series === series && r.breakdownValue === value
    ).reduce((a: number, r: { value: number | null }) => a + (r.value ?? 0), 0);
  assert.equal(total("A", "pro"), 2);
  assert.equal(total("A", "(none)"), 1);
  assert.equal(total("B", "free"), 1);
  assert.equal(total("formula", "pro"), 50);
});

Deno.test("GET /trend takes the definition as JSON too, with string numbers counted", async () => {
  const q = JSON.stringify({
    series: [{ event: "task_completed", math: "sum", property: "duration_ms" }],
    bucket: "week",
  });
  const res = await get(`/api/v1/analytics/trend?q=${encodeURIComponent(q)}`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.rows.reduce((a: number, r: { value: number }) => a + r.value, 0), 400);
});

Deno.test("GET /trend.csv is the same answer as a file", async () => {
  const res = await get(`/api/v1/analytics/trend.csv?${DEF}`);
  assert.equal(res.status, 200);
  const rows = parseCsv(await res.text());
  assert.deepEqual(rows[0], [
    "series",
    "label",
    "period",
    "bucket_index",
    "bucket_start",
    "breakdown_value",
    "value",
  ]);
  assert.ok(rows.some((r) => r[0] === "formula" && r[5] === "pro" && r[6] === "50"));
});

Deno.test("trends refuse strangers (401) and users who are not superusers (403)", async () => {
  for (const path of ["trend", "trend.csv"]) {
    assert.equal((await get(`/api/v1/analytics/${path}?${DEF}`, null)).status, 401, path);
    assert.equal((await get(`/api/v1/analytics/${path}?${DEF}`, olive)).status, 403, path);
  }
});

Deno.test("bad definitions get 400 naming the field", async () => {
  const cases: Array<[string, string]> = [
    ["event1=a&event2=b&math2=max", "series[2].math"],
    ["event1=a&formula=A/(B", "formula"],
    ["event1=a&math1=p90", "series[1].property"],
    ["event1=a&filter1=plan:like:x", "filter1"],
    ["event1=a&bucket=hour&range=30", "bucket"],
    ["q=not-json", "q"],
    ["range=7", "event1"],
    [
      `event1=a&breakdown=${encodeURIComponent("x'; drop table public.events; --")}&top=0`,
      "breakdown_top",
    ],
  ];
  for (const [query, field] of cases) {
    const res = await get(`/api/v1/analytics/trend?${query}`);
    assert.equal(res.status, 400, query);
    const body = await res.json();
    assert.equal(body.error, "invalid_parameter", query);
    assert.equal(body.field, field, `${query}: ${body.message}`);
  }
});

Deno.test({
  name: "a trend too broad for the statement timeout is a 503 saying so, not a 500",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    const { pg, db } = await startMigratedPostgres15();
    const app = await createSuiteApp({ db, config: { limits: { statementTimeoutMs: 50 } } });
    try {
      const admin = await createUser(db, "admin@trend-timeout.test", true);
      await db.query(
        `insert into public.events (event_type, anonymous_id, payload, "timestamp")
         select 'e', 'a' || (g % 5000), jsonb_build_object('k', g % 977, 'n', g), now() - (g % 2000) * interval '10 minutes'
           from generate_series(1, 300000) g`,
      );
      const q = JSON.stringify({
        series: [{ event: "e", math: "p90", property: "n" }, { event: "e", math: "unique" }],
        breakdown: "k",
        breakdown_top: 50,
      });
      const res = await app.app.request(`/api/v1/analytics/trend?q=${encodeURIComponent(q)}`, {
        headers: { authorization: `Bearer ${await app.token(admin)}` },
      });
      const body = await res.json();
      assert.equal(res.status, 503, JSON.stringify(body));
      assert.equal(body.error, "too_broad");
      assert.match(body.message, /too broad/);
    } finally {
      await app.close();
      await db.close();
      await pg.stop();
    }
  },
});
