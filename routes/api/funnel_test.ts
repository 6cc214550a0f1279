import assert from "node:assert/strict";
import { createSharedSuiteApp, createUser } from "../../tests/support/app.ts";
import { parseCsv } from "../../tests/support/browser.ts";

const t = await createSharedSuiteApp();
const sam = await createUser(t.db, "sam@funnel-api.test", true);
const olive = await createUser(t.db, "olive@funnel-api.test");
// Visitors v0..v9 view a page; the even ones click an hour later, v0 and v4 buy (plan pro).
await t.db.query(
  `insert into public.events (event_type, anonymous_id, payload, "timestamp")
   select 'page_view', 'v' || g, jsonb_build_object('src', case when g < 6 then 'ads' else 'blog' end), now() - interval '2 days'
     from generate_series(0, 9) g
   union all
   select 'click', 'v' || g, '{}', now() - interval '2 days' + interval '1 hour' from generate_series(0, 9, 2) g
   union all
   select 'buy', 'v' || g, '{"plan": "pro"}', now() - interval '2 days' + interval '3 hours' from unnest(array[0, 4]) g`,
);

async function get(path: string, userId: string | null = sam) {
  const headers: Record<string, string> = userId
    ? { authorization: `Bearer ${await t.token(userId)}` }
    : {};
  return await t.app.request(path, { headers });
}

const STEPS = "step=page_view&step=click&step=buy&filter=3:plan:eq:pro&range=7";

Deno.test("GET /funnel answers persons, conversion and times per step, as the signed-in superuser", async () => {
  const res = await get(`/api/v1/analytics/funnel?${STEPS}&breakdown=src`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "private, no-store");
  const body = await res.json();
  assert.deepEqual(body.steps.map((s: { persons: number }) => s.persons), [10, 5, 2]);
  assert.deepEqual(
    body.steps.map((s: { conversionFromPrevious: number }) => s.conversionFromPrevious),
    [1, 0.5, 0.4],
  );
  assert.equal(body.steps[1].medianSeconds, 3600);
  assert.deepEqual(
    body.breakdown.filter((r: { step: number }) => r.step === 1).map((
      r: { breakdownValue: string; persons: number },
    ) => [r.breakdownValue, r.persons]),
    [["ads", 6], ["blog", 4]],
  );
  assert.deepEqual(body.named, ["lead-to-customer", "trial-to-paid"]);
});

Deno.test("GET /funnel.csv is the same answer as a file", async () => {
  const res = await get(`/api/v1/analytics/funnel.csv?${STEPS}`);
  assert.equal(res.status, 200);
  const rows = parseCsv(await res.text());
  assert.deepEqual(rows.map((r) => [r[0], r[1], r[2], r[3]]), [
    ["breakdown_value", "step", "event_type", "persons"],
    ["(all)", "1", "page_view", "10"],
    ["(all)", "2", "click", "5"],
    ["(all)", "3", "buy", "2"],
  ]);
});

Deno.test("GET /funnel/dropoffs lists who reached step N-1 but not N", async () => {
  const res = await get(`/api/v1/analytics/funnel/dropoffs?${STEPS}&dropped_at=2`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.persons.map((p: { anonymousId: string }) => p.anonymousId).sort(), [
    "v1",
    "v3",
    "v5",
    "v7",
    "v9",
  ]);
});

Deno.test("funnels refuse strangers (401) and users who are not superusers (403)", async () => {
  for (const path of ["funnel", "funnel.csv", "funnel/dropoffs"]) {
    assert.equal((await get(`/api/v1/analytics/${path}?${STEPS}`, null)).status, 401, path);
    assert.equal((await get(`/api/v1/analytics/${path}?${STEPS}`, olive)).status, 403, path);
  }
});

Deno.test("bad definitions get 400 naming the parameter", async () => {
  const cases: Array<[string, string]> = [
    ["", "step"],
    ["step=a", "step"],
    [Array.from({ length: 11 }, () => "step=a").join("&"), "step"],
    ["step=a&step=b&filter=1:plan:like:x", "filter"],
    ["step=a&step=b&filter=3:plan:eq:x", "filter"],
    ["step=a&step=b&filter=1:n:gt:many", "filter"],
    ["step=a&step=b&window=-1d", "window"],
    ["step=a&step=b&window=400d", "window"],
    ["step=a&step=b&from=2026-02-01&to=2026-01-01", "from"],
    ["step=a&step=b&from=2024-01-01&to=2026-01-01", "from"],
    ["step=a&step=b&top=0", "top"],
    ["funnel=nope", "funnel"],
  ];
  for (const [query, field] of cases) {
    const res = await get(`/api/v1/analytics/funnel?${query}`);
    assert.equal(res.status, 400, query);
    const body = await res.json();
    assert.equal(body.error, "invalid_parameter", query);
    assert.equal(body.field, field, query);
  }
  const dropoffs = await get(`/api/v1/analytics/funnel/dropoffs?${STEPS}&dropped_at=1`);
  assert.equal((await dropoffs.json()).field, "dropped_at");
});

Deno.test("a named funnel opens by name and matches analytics.named_funnels()", async () => {
  const res = await get("/api/v1/analytics/funnel?funnel=trial-to-paid");
  assert.equal(res.status, 200);
  const body = await res.json();
  const [sql] = await t.db.query<{ steps: string; w: string }>(
    "select steps::text as steps, extract(epoch from conversion_window)::text as w from analytics.named_funnels() where name = 'trial-to-paid'",
  );
  assert.deepEqual(
    JSON.parse(sql.steps).map((s: { event: string }) => s.event),
    body.definition.steps.map((s: { event: string }) => s.event),
  );
  assert.equal(Number(sql.w), 30 * 86400);
  assert.equal(body.definition.window, "30d");
});
